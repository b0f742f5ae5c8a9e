/**
 * Kafka's DeleteRecords (`POST /v1/topics/{topic}/partitions/{p}/delete-records`): the log start moves at once and
 * durably; retention, run by the partition's alarm (never by sleeping), deletes the batches and remote segments
 * that lie wholly below it, in bounded steps.
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { appendOutcome } from "../../src/shared/append-answer.ts";
import { RETENTION_BATCHES_PER_STEP } from "../../src/shared/limits.ts";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { offloadBatches, produceBatches } from "../support/tiering.ts";
import { createTopic, expectError, fetchRecords, json, produce } from "../support/worker.ts";

const deleteRecords = (topic: string, partition = 0) => `/v1/topics/${topic}/partitions/${partition}/delete-records`;

async function deleteBefore(topic: string, beforeOffset: number, partition = 0): Promise<number> {
	const answer = await json<{ log_start_offset: number }>("POST", deleteRecords(topic, partition), 200, {
		body: { before_offset: beforeOffset },
	});
	return answer.log_start_offset;
}

/** The stored batches' and remote segments' first offsets, oldest first. */
async function stored(topic: string): Promise<{ batches: number[]; segments: number[] }> {
	return runInDurableObject(await partitionStub(topic), (_, state) => {
		const bases = (table: string) =>
			state.storage.sql
				.exec<{ b: number }>(`SELECT base_offset AS b FROM ${table} ORDER BY base_offset`)
				.toArray()
				.map((r) => r.b);
		return { batches: bases("batches"), segments: bases("remote_segments") };
	});
}

/**
 * `count` stored batches of one record each. All but the first (an HTTP produce, which configures the partition) are
 * appended inside the object, one awaited at a time so none joins another's commit group: five hundred produce
 * requests through the edge would spend seconds proving nothing this test checks.
 */
async function appendBatchesInside(topic: string, count: number): Promise<void> {
	await produce(topic, [{ value: "v0" }]);
	const meta = await topicRegistry(env).getTopic(topic);
	if (!meta.ok) throw new Error(`topic ${topic} missing`);
	const { topicId, configVersion } = meta.value;
	await runInDurableObject(await partitionStub(topic), async (instance: PartitionLog) => {
		for (let i = 1; i < count; i++) {
			const tail = `"key":null,"value":"v${i}","headers":[]}`;
			const records = [{ timestampMs: null, tail, bytes: tail.length, keyId: null, tombstone: false }];
			expect(appendOutcome(await instance.append({ topicId, configVersion, records }))).toMatchObject({
				ok: true,
				value: { baseOffset: i },
			});
		}
	});
}

/** When the partition believes its alarm is set for (read synchronously, before the runtime may run it). */
function alarmBelieved(instance: PartitionLog): number | null {
	return (instance as unknown as { lifecycle: { alarmAtMs: number | null } }).lifecycle.alarmAtMs;
}

describe("DeleteRecords", () => {
	it("moves the log start at once and durably; reads below it are out of range; the alarm deletes the batches below", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		await produceBatches(topic, 4, 3); // batches at 0, 3, 6, 9
		const topicId = await topicIdOf(topic);
		await runInDurableObject(await partitionStub(topic), async (instance: PartitionLog) => {
			const before = Date.now();
			expect(await instance.deleteRecords(topicId, 7)).toEqual({ ok: true, value: { logStartOffset: 7 } });
			// Retention's alarm is due now (the batches at 0 and 3 lie wholly below the log start); the runtime may run it.
			expect(alarmBelieved(instance)).toBeGreaterThanOrEqual(before);
			expect(alarmBelieved(instance)).toBeLessThanOrEqual(Date.now());
		});
		const error = await expectError("GET", `/v1/topics/${topic}/partitions/0/records?offset=6`, 416, "offset_out_of_range");
		expect(error).toMatchObject({ log_start_offset: 7, high_watermark: 12 });
		// A read from the log start begins inside the batch that holds it.
		const fetched = await fetchRecords(topic, 0);
		expect(fetched.log_start_offset).toBe(7);
		expect(fetched.records.map((r) => r.offset)).toEqual([7, 8, 9, 10, 11]);
		expect(await json("GET", `/v1/topics/${topic}/partitions/0/offsets?at=earliest`, 200)).toEqual({ offset: 7 });
		// A seek by time never answers below the log start, though the batches below are still stored.
		expect(await json("GET", `/v1/topics/${topic}/partitions/0/offsets?at=0`, 200)).toEqual({ offset: 7 });
		await abortAllDurableObjects();
		expect((await fetchRecords(topic, 0)).log_start_offset).toBe(7);
		await runDurableObjectAlarm(await partitionStub(topic));
		expect((await stored(topic)).batches).toEqual([6, 9]);
		expect(await json("GET", `/v1/topics/${topic}`, 200)).toMatchObject({
			partitions: [{ partition: 0, log_start_offset: 7, local_log_start_offset: 7, high_watermark: 12 }],
		});
		// Offsets stay dense after it.
		expect((await produce(topic, [{ value: "next" }])).offsets[0]?.offset).toBe(12);
		await abortAllDurableObjects();
		expect((await fetchRecords(topic, 0)).records.map((r) => r.offset)).toEqual([7, 8, 9, 10, 11, 12]);
	});

	it("reports the local log start never below the log start (Kafka's local log start is at or past it)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		await produceBatches(topic, 3, 2); // batches at 0, 2, 4
		const topicId = await topicIdOf(topic);
		await runInDurableObject(await partitionStub(topic), async (instance: PartitionLog) => {
			expect(await instance.deleteRecords(topicId, 3)).toEqual({ ok: true, value: { logStartOffset: 3 } });
			// Synchronously, before retention's alarm may run: every batch is still stored, yet nothing below 3 is readable.
			expect(instance.offsets()).toMatchObject({ logStartOffset: 3, localLogStartOffset: 3 });
		});
		// Retention then deletes the batch at 0; the one at 2 holds offset 3, so it stays.
		await runDurableObjectAlarm(await partitionStub(topic));
		expect((await stored(topic)).batches).toEqual([2, 4]);
		expect(await json("GET", `/v1/topics/${topic}`, 200)).toMatchObject({
			partitions: [{ log_start_offset: 3, local_log_start_offset: 3, high_watermark: 6 }],
		});
	});

	it("seeks by time from the log start: a stored record below it never stands for the first one as recent", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		// Out-of-order producer timestamps: offset 1 is recent, 2 and 3 are old, 4 (the next batch) is recent again.
		const at = (timestamp: number) => ({ value: timestamp, timestamp });
		await produce(topic, [at(1_000), at(5_000), at(1_000), at(1_000)]);
		await produce(topic, [at(5_000)]);
		expect(await deleteBefore(topic, 2)).toBe(2);
		expect((await stored(topic)).batches).toEqual([0, 4]);
		// The first offset at or past the log start whose timestamp reaches 5000 is 4, not the log start 2 (timestamp 1000).
		expect(await json("GET", `/v1/topics/${topic}/partitions/0/offsets?at=5000`, 200)).toEqual({ offset: 4 });
		expect(await json("GET", `/v1/topics/${topic}/partitions/0/offsets?at=1000`, 200)).toEqual({ offset: 2 });
		expect(await json("GET", `/v1/topics/${topic}/partitions/0/offsets?at=6000`, 200)).toEqual({ offset: 5 });
	});

	it("takes -1 for the high watermark, and is a no-op below the log start (answering it)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produceBatches(topic, 2, 2);
		expect(await deleteBefore(topic, 3)).toBe(3);
		expect(await deleteBefore(topic, 1)).toBe(3);
		expect(await deleteBefore(topic, 3)).toBe(3);
		expect(await deleteBefore(topic, -1)).toBe(4);
		await runDurableObjectAlarm(await partitionStub(topic));
		expect(await stored(topic)).toEqual({ batches: [], segments: [] });
		expect(await fetchRecords(topic, 0)).toEqual({ records: [], high_watermark: 4, log_start_offset: 4, next_offset: 4 });
		expect((await produce(topic, [{ value: "next" }])).offsets[0]?.offset).toBe(4);
	});

	it("answers an empty partition's log start for 0 and -1", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		expect(await deleteBefore(topic, 0, 1)).toBe(0);
		expect(await deleteBefore(topic, -1, 1)).toBe(0);
		await expectError("POST", deleteRecords(topic, 1), 416, "offset_out_of_range", { body: { before_offset: 1 } });
	});

	it("refuses past the high watermark, unknown topics and partitions, bad bodies, and compacted topics", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: 1 }, { value: 2 }]);
		const past = await expectError("POST", deleteRecords(topic), 416, "offset_out_of_range", { body: { before_offset: 3 } });
		expect(past).toMatchObject({ log_start_offset: 0, high_watermark: 2 });
		await expectError("POST", deleteRecords(uniqueTopic()), 404, "topic_not_found", { body: { before_offset: 0 } });
		await expectError("POST", deleteRecords(topic, 1), 404, "partition_not_found", { body: { before_offset: 0 } });
		for (const body of [{ before_offset: -2 }, { before_offset: 1.5 }, { before_offset: "1" }, {}, { before_offset: 1, x: 1 }]) {
			await expectError("POST", deleteRecords(topic), 400, "invalid_request", { body });
		}
		await expectError("GET", deleteRecords(topic), 405, "method_not_allowed");
		const compacted = uniqueTopic();
		await createTopic(compacted, 1, { "cleanup.policy": "compact" });
		await produce(compacted, [{ key: "k", value: 1 }]);
		await expectError("POST", deleteRecords(compacted), 409, "policy_violation", { body: { before_offset: 1 } });
		const both = uniqueTopic();
		await createTopic(both, 1, { "cleanup.policy": "compact,delete" });
		await produce(both, [{ key: "k", value: 1 }]);
		expect(await deleteBefore(both, 1)).toBe(1);
	});

	it("needs admin on the topic (Kafka: DELETE), which nobody holds on _audit", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: 1 }]);
		const consumer = await createKey([{ resource: `topic:${topic}`, operations: ["produce", "consume"] }]);
		const admin = await createKey([{ resource: `topic:${topic}`, operations: ["admin"] }]);
		const body = { before_offset: 1 };
		await expectError("POST", deleteRecords(topic), 403, "forbidden", { body, token: consumer.secret });
		await json("POST", deleteRecords(topic), 200, { body, token: admin.secret });
		await expectError("POST", deleteRecords("_audit"), 403, "forbidden", { body: { before_offset: 0 } });
	});

	it("deletes in bounded steps: one alarm run takes at most RETENTION_BATCHES_PER_STEP batches and sets the alarm again", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		const batches = RETENTION_BATCHES_PER_STEP + 2;
		await appendBatchesInside(topic, batches);
		const topicId = await topicIdOf(topic);
		await runInDurableObject(await partitionStub(topic), async (instance: PartitionLog, state) => {
			expect(state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM batches").one().n).toBe(batches);
			expect(await instance.deleteRecords(topicId, batches - 1)).toEqual({ ok: true, value: { logStartOffset: batches - 1 } });
			// Its synchronous part runs before its first await: the runtime's alarm cannot come first.
			await instance.alarm();
			expect(state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM batches").one().n).toBe(2);
			expect(alarmBelieved(instance)).toBeLessThanOrEqual(Date.now());
		});
		await runDurableObjectAlarm(await partitionStub(topic)); // (the runtime may already have run it: it was due now)
		expect((await stored(topic)).batches).toEqual([batches - 1]);
	});

	it("drops remote segments wholly below the log start, then the local batches below it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1, "remote.storage.enable": true, "local.retention.ms": -1 });
		await produceBatches(topic, 8, 2); // batches at 0, 2, …, 14
		expect(await offloadBatches(topic, 8, 2)).toBe(8); // segments [0, 4), [4, 8); local from 8
		expect((await stored(topic)).segments).toEqual([0, 4]);
		// Into the second segment: the first is dropped, the second stays (it holds offset 5 on).
		expect(await deleteBefore(topic, 5)).toBe(5);
		expect((await fetchRecords(topic, 0, "max_records=2")).records.map((r) => r.offset)).toEqual([5, 6]);
		// A seek by time answers no offset below the log start, though the segment's batch holds one.
		expect(await json("GET", `/v1/topics/${topic}/partitions/0/offsets?at=0`, 200)).toEqual({ offset: 5 });
		await runDurableObjectAlarm(await partitionStub(topic));
		expect(await stored(topic)).toMatchObject({ segments: [4], batches: [8, 10, 12, 14] });
		// Past the local log start: every segment goes, then the local batches below 11.
		expect(await deleteBefore(topic, 11)).toBe(11);
		await runDurableObjectAlarm(await partitionStub(topic));
		expect(await stored(topic)).toEqual({ segments: [], batches: [10, 12, 14] });
		expect(await json("GET", `/v1/topics/${topic}`, 200)).toMatchObject({
			partitions: [{ log_start_offset: 11, local_log_start_offset: 11, remote_bytes: 0, remote_records: 0, high_watermark: 16 }],
		});
		await abortAllDurableObjects();
		expect((await fetchRecords(topic, 0)).records.map((r) => r.offset)).toEqual([11, 12, 13, 14, 15]);
	});
});
