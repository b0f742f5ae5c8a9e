/**
 * What follows a group's commit (`PartitionLog.afterAppend`), when one of its steps throws: the append is answered
 * (its records are stored: a producer told otherwise would write them twice), and every other step still runs. A
 * quiet partition may see no next append to catch up at: a long poll would wait its whole wait, the appended bytes
 * would be missing from the metrics for good, and no alarm would come for retention.
 */

import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { series } from "../../src/metrics/catalog.ts";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import type { ReadAnswer } from "../../src/partition/types.ts";
import type { Result } from "../../src/shared/errors.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { openTail } from "../support/tail.ts";
import { throwOnce } from "../support/throw-once.ts";
import { call, createTopic, fetchRecords, produce } from "../support/worker.ts";

/** The parts of PartitionLog these tests replace or read (private; tests only). */
interface AfterCommitParts {
	readonly hot: { committed(batches: unknown): void };
	load(): void;
	readonly followers: { committed(): void };
	readonly metrics: { readonly figures: () => { readonly counters?: Record<string, number> } };
}

/**
 * A new topic whose partition holds `before` records (read once, so the batch cache's window holds them), `breakStep`
 * applied to its object, and a long poll waiting there for the next record: `woken()` says whether it has answered.
 */
async function partitionWithWaitingRead(breakStep: (parts: AfterCommitParts) => void, before: readonly unknown[] = []) {
	const topic = uniqueTopic();
	await createTopic(topic);
	if (before.length > 0) {
		await produce(
			topic,
			before.map((value) => ({ value })),
		);
		expect((await fetchRecords(topic, 0, "offset=0")).records.map((r) => r.value)).toEqual(before);
	}
	const topicId = await topicIdOf(topic);
	const stub = await partitionStub(topic);
	let answered = false;
	// A read answered by the time the produce is was woken by the commit: its wait only bounds one that was not.
	const waitMs = 20_000;
	const reading = await runInDurableObject(stub, (instance: PartitionLog) => {
		breakStep(instance as unknown as AfterCommitParts);
		const read = instance.read({ topicId, offset: before.length, maxRecords: 10, maxBytes: 1 << 20, waitMs });
		return {
			read: read.then((answer) => {
				answered = true;
				return answer;
			}),
		};
	});
	return { topic, stub, reading: reading.read as Promise<Result<ReadAnswer>>, woken: () => answered };
}

/** Bytes stored in the partition's batches, the bytes its metrics say it appended, and its alarm. */
async function afterState(stub: Awaited<ReturnType<typeof partitionStub>>, topic: string) {
	return runInDurableObject(stub, async (instance: PartitionLog, state) => {
		const stored = state.storage.sql.exec<{ bytes: number }>("SELECT SUM(bytes) AS bytes FROM batches").one().bytes;
		const counters = (instance as unknown as AfterCommitParts).metrics.figures().counters ?? {};
		const appended = counters[series("tributary_partition_bytes_appended_total", { topic, partition: "0" })];
		return { stored, appended, alarmMs: await state.storage.getAlarm() };
	});
}

describe("after a commit, a step that throws", () => {
	afterEach(() => vi.restoreAllMocks());

	it("in the batch cache: the waiting long poll is woken with the record, its bytes counted, retention's alarm set", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { topic, stub, reading, woken } = await partitionWithWaitingRead((parts) => throwOnce(parts.hot, "committed"));
		expect((await produce(topic, [{ value: 1 }])).offsets[0]?.offset).toBe(0);
		expect(logged.mock.calls.map(String)).toContain("after a commit: Error: committed broke");
		expect.soft(woken(), "long poll woken").toBe(true);
		const { stored, appended, alarmMs } = await afterState(stub, topic);
		expect(stored).toBeGreaterThan(0);
		expect.soft(appended, "bytes appended, in the metrics").toBe(stored);
		expect.soft(alarmMs, "alarm").not.toBeNull();
		expect(await reading).toMatchObject({ ok: true, value: { recordCount: 1, nextOffset: 1, highWatermark: 1 } });
	});

	it("in pushing tails and poking watchers: the produce is answered, retention's alarm is still set, offsets stay dense", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { topic, stub, reading } = await partitionWithWaitingRead((parts) => throwOnce(parts.followers, "committed"));
		const response = await call("POST", `/v1/topics/${topic}/records`, { body: { records: [{ value: 1 }, { value: 2 }] } });
		expect(response.status).toBe(200);
		expect(((await response.json()) as { offsets: { offset: number }[] }).offsets.map((o) => o.offset)).toEqual([0, 1]);
		expect(logged.mock.calls.map(String)).toContain("after a commit: Error: committed broke");
		expect(await reading).toMatchObject({ ok: true, value: { recordCount: 2 } });
		expect((await afterState(stub, topic)).alarmMs).not.toBeNull();
		expect((await produce(topic, [{ value: 3 }])).offsets[0]?.offset).toBe(2);
		const read = await fetchRecords(topic, 0, "offset=0");
		expect(read.records.map((r) => r.value)).toEqual([1, 2, 3]);
		expect(read.high_watermark).toBe(3);
	});

	it("in the batch cache, and then the rebuild from storage too: the produce is answered, the long poll woken, reads dense", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { topic, reading, woken } = await partitionWithWaitingRead(
			(parts) => {
				throwOnce(parts.hot, "committed");
				// As a storage failure would, before the rebuild has forgotten the cache the broken step left short.
				throwOnce(parts, "load");
			},
			[1],
		);
		const response = await call("POST", `/v1/topics/${topic}/records`, { body: { records: [{ value: 2 }, { value: 3 }] } });
		expect(response.status).toBe(200);
		expect(((await response.json()) as { offsets: { offset: number }[] }).offsets.map((o) => o.offset)).toEqual([1, 2]);
		expect(logged.mock.calls.map(String)).toContain("after a commit: Error: committed broke");
		expect(logged.mock.calls.map(String)).toContain("rebuilding from storage: Error: load broke");
		expect.soft(woken(), "long poll woken").toBe(true);
		expect(await reading).toMatchObject({ ok: true, value: { recordCount: 2, nextOffset: 3, highWatermark: 3 } });
		expect((await produce(topic, [{ value: 4 }])).offsets[0]?.offset).toBe(3);
		const read = await fetchRecords(topic, 0, "offset=0");
		expect(read.records.map((r) => [r.offset, r.value])).toEqual([
			[0, 1],
			[1, 2],
			[2, 3],
			[3, 4],
		]);
		expect(read.high_watermark).toBe(4);
	});

	it("in the batch cache: an open WebSocket tail is still pushed the record", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const topic = uniqueTopic();
		await createTopic(topic);
		const tail = await openTail(topic, "?offset=0");
		const stub = await partitionStub(topic);
		await runInDurableObject(stub, (instance: PartitionLog) => throwOnce((instance as unknown as AfterCommitParts).hot, "committed"));
		await produce(topic, [{ value: 1 }]);
		expect(logged.mock.calls.map(String)).toContain("after a commit: Error: committed broke");
		// Where each tail's next message starts, as its push left it before the produce was answered.
		const nextOffsets = await runInDurableObject(stub, (_, state) =>
			state.getWebSockets().map((ws) => (ws.deserializeAttachment() as { next: number }).next),
		);
		expect(nextOffsets).toEqual([1]);
		await tail.until(() => tail.values().length >= 1);
		expect(tail.values()).toEqual([1]);
		tail.ws.close(1000, "done");
	});
});
