/**
 * Tiered storage, read side: every read path returns across the local log start exactly what it returned while the
 * whole log was local — fetch, seek by time, group polls, SSE and WebSocket tails from an old offset, the Upstash
 * mount (read-compat.test.ts) and a webhook replay — and a reader whose segment vanished under it (retention) asks again.
 */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import type { TailSource } from "../../src/partition/tail.ts";
import { TAIL_RESUME_MS, TIMESTAMP_LOOKUP_BATCHES_MAX } from "../../src/shared/limits.ts";
import { readAcross } from "../../src/shared/log-reader.ts";
import { runDueAlarm } from "../support/alarm.ts";
import { join, type Polled } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { openSse } from "../support/sse.ts";
import { dispatcherStub, partitionStub, topicIdOf } from "../support/stubs.ts";
import { openTail } from "../support/tail.ts";
import { everyRecord, expectDense, limitPartitionBytes, offloadBatches, produceBatches } from "../support/tiering.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { call, createTopic, type FetchResponse, fetchRecords, json, produce } from "../support/worker.ts";

const receiver = useReceiver();

/** A topic of `requests` stored batches of `perRequest` records, and every record as fetched while all local. */
async function filledTopic(requests = 12, perRequest = 4, timestampMs?: (i: number) => number) {
	const topic = uniqueTopic("tier");
	await createTopic(topic);
	const count = await produceBatches(topic, requests, perRequest, timestampMs);
	const all = await everyRecord(topic);
	expect(all).toHaveLength(count);
	return { topic, count, all };
}

describe("fetch across the local log start", () => {
	it("returns, for every start offset and limit, what the all-local log returned", async () => {
		const { topic, count, all } = await filledTopic();
		const queries: string[] = [];
		for (const offset of [0, 1, 4, 11, 26, 27, 28, count]) {
			for (const maxRecords of [1, 5, 500]) queries.push(`offset=${offset}&max_records=${maxRecords}`);
		}
		const before = new Map<string, FetchResponse>();
		for (const q of queries) before.set(q, await fetchRecords(topic, 0, q));
		const localStart = await offloadBatches(topic, 30);
		expect(localStart).toBe(28); // batches of 4: seven of them (offsets 0–27) now remote, in three segments
		const described = await json<{ partitions: { local_log_start_offset?: number }[] }>("GET", `/v1/topics/${topic}`, 200);
		expect(described.partitions[0]?.local_log_start_offset ?? 28).toBe(28);
		for (const q of queries) {
			const after = await fetchRecords(topic, 0, q);
			expect(after, q).toEqual(before.get(q));
		}
		// The default fetch from the log start: everything, in order, once.
		const whole = await fetchRecords(topic, 0, "offset=0");
		expect(whole.records).toEqual(all);
		expectDense(whole.records, 0, count);
	});

	it("cuts remote batches by max_bytes like local ones, always returning at least one record", async () => {
		const { topic, count } = await filledTopic(10, 3);
		const queries = [0, 1, 13, 26].flatMap((o) => [1, 150, 1_000].map((b) => `offset=${o}&max_bytes=${b}`));
		const before = new Map<string, FetchResponse>();
		for (const q of queries) before.set(q, await fetchRecords(topic, 0, q));
		await offloadBatches(topic, 27, 2);
		for (const q of queries) {
			const after = await fetchRecords(topic, 0, q);
			expect(after.records.length, q).toBeGreaterThan(0);
			expect(after.records, q).toEqual(before.get(q)?.records.slice(0, after.records.length));
			expect(after.next_offset, q).toBe((after.records.at(-1)?.offset ?? -2) + 1);
		}
		expect((await fetchRecords(topic, 0, "offset=0")).records).toHaveLength(count);
	});

	it("answers 416 below the log start and reads from the log start by default", async () => {
		const { topic, all } = await filledTopic(6, 2);
		await offloadBatches(topic, 8);
		const page = await fetchRecords(topic, 0, "max_records=3");
		expect(page.records).toEqual(all.slice(0, 3));
		const past = await call("GET", `/v1/topics/${topic}/partitions/0/records?offset=99`);
		expect(past.status).toBe(416);
	});
});

describe("seek by timestamp across the local log start", () => {
	it("finds the same offset as when everything was local", async () => {
		const base = Date.now() - 60 * 60 * 1000; // within the default retention
		// Out-of-order timestamps inside batches: the running maximum, not the record order, is searched.
		const ts = (i: number) => base + i * 10 + (i % 3 === 0 ? 25 : 0);
		const { topic, count } = await filledTopic(10, 4, ts);
		const times = [0, base - 1, base, base + 5, base + 27, base + 100, base + 203, base + 290, base + 395, base + 1_000_000];
		const before = new Map<number, number>();
		for (const t of times)
			before.set(t, (await json<{ offset: number }>("GET", `/v1/topics/${topic}/partitions/0/offsets?at=${t}`, 200)).offset);
		await offloadBatches(topic, 24, 2);
		for (const t of times) {
			const after = await json<{ offset: number }>("GET", `/v1/topics/${topic}/partitions/0/offsets?at=${t}`, 200);
			expect(after.offset, `at=${t}`).toBe(before.get(t));
		}
		expect(before.get(base + 1_000_000)).toBe(count);
		expect(before.get(base + 27)).toBeLessThan(24); // the interesting answers lie in the remote part
	});
});

describe("seek by timestamp after size retention", () => {
	/**
	 * One record per batch; the first raises the running maximum, the rest are older but for the last. With `tiered`,
	 * every batch but the last goes to R2, one per segment. Retention then deletes the first batch (or segment).
	 */
	async function retainedTopic(tiered: boolean, deltasMs: number[]) {
		const base = Date.now() - 60 * 60 * 1000;
		const topic = uniqueTopic("tsr");
		await createTopic(topic);
		for (const d of deltasMs) await produce(topic, [{ value: d, timestamp: base + d }]);
		if (tiered) await offloadBatches(topic, deltasMs.length - 1, 1);
		const stub = await partitionStub(topic);
		const table = tiered ? "remote_segments" : "batches";
		const firstBytes = await runInDurableObject(
			stub,
			(_, state) => state.storage.sql.exec<{ bytes: number }>(`SELECT bytes FROM ${table} ORDER BY base_offset LIMIT 1`).one().bytes,
		);
		const described = await json<{ partitions: { bytes: number; remote_bytes?: number }[] }>("GET", `/v1/topics/${topic}`, 200);
		const totalBytes = (described.partitions[0]?.bytes ?? 0) + (described.partitions[0]?.remote_bytes ?? 0);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "retention.bytes": totalBytes - firstBytes } } });
		await runDurableObjectAlarm(stub);
		expect((await fetchRecords(topic, 0, "max_records=1")).log_start_offset).toBe(1);
		const at = async (deltaMs: number) =>
			(await json<{ offset: number }>("GET", `/v1/topics/${topic}/partitions/0/offsets?at=${base + deltaMs}`, 200)).offset;
		return { at };
	}

	it("answers the first record as recent, though the batch that raised the running maximum is gone", async () => {
		// Left after retention: 1@100, 2@200, 3@300, 4@350 (in R2 when tiered), 5@500 (local).
		const deltasMs = [900, 100, 200, 300, 350, 500];
		// Kafka's ListOffsets by time: the first offset whose timestamp is at or after the time, else the high watermark.
		const expected = [
			[50, 1],
			[250, 3],
			[400, 5],
			[600, 6],
		];
		for (const tiered of [false, true]) {
			const { at } = await retainedTopic(tiered, deltasMs);
			for (const [deltaMs, offset] of expected) expect(await at(deltaMs as number), `tiered ${tiered}, +${deltaMs}`).toBe(offset);
		}
	});

	it("walks as many batches as the local lookup, remote or local, and answers as it does past them", async () => {
		// The raiser, then more older batches than the walk reads, then a recent one: both stop at the bound.
		const deltasMs = [900, ...Array.from({ length: TIMESTAMP_LOOKUP_BATCHES_MAX + 2 }, () => 100), 950];
		const local = await retainedTopic(false, deltasMs);
		const remote = await retainedTopic(true, deltasMs);
		expect(await local.at(500)).toBe(1 + TIMESTAMP_LOOKUP_BATCHES_MAX);
		expect(await remote.at(500)).toBe(1 + TIMESTAMP_LOOKUP_BATCHES_MAX);
	});
});

describe("group polls across the local log start", () => {
	it("a member starting at earliest gets every record once, in order", async () => {
		const { topic, count, all } = await filledTopic();
		await offloadBatches(topic, 30);
		const group = uniqueGroup();
		const joined = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const member = joined.member_id;
		const got: unknown[] = [];
		for (let i = 0; i < 20 && got.length < count; i++) {
			const polled = await json<Polled>("POST", `/v1/groups/${group}/members/${member}/poll`, 200, { body: { max_records: 7 } });
			got.push(
				...polled.records.map(({ partition, offset, timestamp, key, value, headers }) => ({
					partition,
					offset,
					timestamp,
					key,
					value,
					headers,
				})),
			);
		}
		expect(got).toEqual(all);
	});
});

describe("streaming reads from an old offset", () => {
	it("SSE sends the remote backlog, the local rest, then live records", async () => {
		const { topic, count, all } = await filledTopic();
		await offloadBatches(topic, 30);
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records?offset=2`);
		const backlog = await sse.records(count - 2);
		expect(backlog.map((e) => e.record)).toEqual(all.slice(2));
		expect(backlog.map((e) => e.id)).toEqual(all.slice(2).map((r) => String(r.offset)));
		await produce(topic, [{ value: "live" }]);
		const [live] = await sse.records(1);
		expect(live?.record).toMatchObject({ offset: count, value: "live" });
		await sse.close();
	});

	it("a WebSocket tail catches up from R2, then follows appends", async () => {
		const { topic, count, all } = await filledTopic();
		await offloadBatches(topic, 30);
		const tail = await openTail(topic, "?offset=1");
		await tail.until(() => tail.values().length >= count - 1);
		expect(tail.values()).toEqual(all.slice(1).map((r) => r.value));
		await produce(topic, [{ value: "live" }]);
		await tail.until(() => tail.values().length >= count);
		expect(tail.values().at(-1)).toBe("live");
		const offsets = tail.messages.flatMap((m) => m.records.map((r) => r.offset));
		expectDense(
			offsets.map((offset) => ({ offset })),
			1,
			count,
		);
		tail.ws.close(1000, "done");
	});

	it("a catch-up from R2 cut short (an eviction) resumes from the partition's alarm, with no append or ack to wake it", async () => {
		const { topic, count, all } = await filledTopic();
		await offloadBatches(topic, 30);
		const stub = await partitionStub(topic);
		// The tail's first read from R2 fails as it would on an evicted object: its background send ends, nothing sent.
		await runInDurableObject(stub, (instance: PartitionLog) => {
			// What the tails read through (followers.ts), so the next read of any tail fails.
			const followers = (instance as unknown as { followers: { tailLog: TailSource } }).followers;
			const source = followers.tailLog as { -readonly [K in keyof TailSource]: TailSource[K] };
			const readAcross = source.readAcross;
			source.readAcross = () => {
				source.readAcross = readAcross;
				return Promise.reject(new Error("evicted"));
			};
		});
		const before = Date.now();
		const tail = await openTail(topic, "?offset=0");
		const alarmAtMs = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
		expect(alarmAtMs).not.toBeNull();
		expect(alarmAtMs).toBeLessThanOrEqual(Date.now() + TAIL_RESUME_MS);
		expect(alarmAtMs).toBeGreaterThanOrEqual(before);
		expect(tail.values()).toEqual([]);
		// Due TAIL_RESUME_MS after the tail opened: a slow step lets workerd run it first. The catch-up proves a run.
		await runDueAlarm(stub);
		await tail.until(() => tail.values().length >= count);
		expect(tail.values()).toEqual(all.map((r) => r.value));
		tail.ws.close(1000, "done");
	});
});

describe("webhook replay from an old position", () => {
	it("delivers every record once, in order, from R2 and then the local log", { timeout: 120_000 }, async () => {
		const { topic, count, all } = await filledTopic();
		const sub = await json<{ id: string }>("POST", `/v1/topics/${topic}/subscriptions`, 201, {
			body: { url: "https://receiver.test/tier", start: "latest", batch_max_records: 5 },
		});
		await offloadBatches(topic, 30);
		await json("POST", `/v1/topics/${topic}/subscriptions/${sub.id}/replay`, 200, { body: { offset: 0 } });
		const dispatcher = await dispatcherStub(topic);
		for (let i = 0; i < 30 && receiver.at("/tier").flatMap((r) => r.json.records).length < count; i++) {
			await runInDurableObject(dispatcher, async (instance, state) => {
				instance.runMs = 300;
				instance.pollWaitMs = 50;
				await state.storage.setAlarm(Date.now() + 60 * 60 * 1000);
			});
			await runDurableObjectAlarm(dispatcher);
		}
		const delivered = receiver.at("/tier").flatMap((r) => r.json.records);
		expect(delivered.map((r) => r.offset)).toEqual(all.map((r) => r.offset));
		expect(delivered.map((r) => r.value)).toEqual(all.map((r) => r.value));
		await call("DELETE", `/v1/topics/${topic}/subscriptions/${sub.id}`);
		await call("DELETE", `/v1/topics/${topic}`);
	});
});

describe("after the partition's own offload", { timeout: 120_000 }, () => {
	it("fetch, seek and SSE read every record once across what the alarm moved to R2", async () => {
		const topic = uniqueTopic("tier");
		await createTopic(topic, 1, { "remote.storage.enable": true, "local.retention.bytes": 1 });
		const count = await produceBatches(topic, 10, 3);
		const all = await everyRecord(topic);
		const times = [all[0], all[4], all[13], all.at(-1)].map((r) => r?.timestamp ?? 0);
		const seeks = new Map<number, number>();
		for (const t of times)
			seeks.set(t, (await json<{ offset: number }>("GET", `/v1/topics/${topic}/partitions/0/offsets?at=${t}`, 200)).offset);
		await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => instance.alarm());
		const described = await json<{ partitions: { local_log_start_offset: number; remote_bytes: number }[] }>(
			"GET",
			`/v1/topics/${topic}`,
			200,
		);
		expect(described.partitions[0]?.local_log_start_offset).toBeGreaterThan(3);
		expect(described.partitions[0]?.remote_bytes).toBeGreaterThan(0);
		expect((await fetchRecords(topic, 0, "offset=0")).records).toEqual(all);
		expect(await everyRecord(topic, 0, 1)).toEqual(all);
		for (const t of times) {
			const after = await json<{ offset: number }>("GET", `/v1/topics/${topic}/partitions/0/offsets?at=${t}`, 200);
			expect(after.offset, `at=${t}`).toBe(seeks.get(t));
		}
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records?offset=0`);
		expect((await sse.records(count)).map((e) => e.record)).toEqual(all);
		await sse.close();
	});
});

describe("more than partition_full's limit", { timeout: 120_000 }, () => {
	it("a partition holding more than its local limit reads every record back across R2", async () => {
		const topic = uniqueTopic("tier");
		await createTopic(topic, 1, { "remote.storage.enable": true, "local.retention.bytes": 1 });
		await produce(topic, [{ value: "seed" }]);
		const limitBytes = 12_000;
		const stub = await partitionStub(topic);
		const value = "z".repeat(1_000);
		for (let i = 0; i < 30; i++) {
			await limitPartitionBytes(topic, limitBytes);
			await produce(topic, [{ value: `${i}:${value}` }]);
			await runInDurableObject(stub, (instance: PartitionLog) => instance.alarm());
		}
		const described = await json<{ partitions: { bytes: number; remote_bytes: number; high_watermark: number }[] }>(
			"GET",
			`/v1/topics/${topic}`,
			200,
		);
		const partition = described.partitions[0];
		expect(partition?.high_watermark).toBe(31);
		expect((partition?.bytes ?? 0) + (partition?.remote_bytes ?? 0)).toBeGreaterThan(limitBytes);
		const read = await everyRecord(topic, 0, 7);
		expect(read.map((r) => r.value)).toEqual(["seed", ...Array.from({ length: 30 }, (_, i) => `${i}:${value}`)]);
		expectDense(read, 0, 31);
	});
});

describe("a segment deleted under a read", () => {
	it("is asked for again; the partition then answers from its new log start", async () => {
		const { topic, all } = await filledTopic(6, 2);
		await offloadBatches(topic, 12, 2);
		const stub = await partitionStub(topic);
		const request = { topicId: await topicIdOf(topic), offset: 0, maxRecords: 100, maxBytes: 1 << 20, waitMs: 0 };
		const stale = await stub.read(request);
		if (!stale.ok || !("remote" in stale.value)) throw new Error("expected a remote answer");
		// Retention drops the first segment (offsets 0–3) after the partition answered with it.
		await runInDurableObject(stub, async (instance, state) => {
			const row = state.storage.sql
				.exec<{ object_key: string }>("SELECT object_key FROM remote_segments ORDER BY base_offset LIMIT 1")
				.one();
			await env.SEGMENTS.delete(row.object_key);
			state.storage.sql.exec("DELETE FROM remote_segments WHERE base_offset = 0");
			state.storage.sql.exec("UPDATE partition_state SET log_start_offset = 4 WHERE id = 1");
			(instance as unknown as { load(): void }).load();
		});
		let calls = 0;
		const read = await readAcross(env.SEGMENTS, async (r) => (calls++ === 0 ? stale : stub.read(r)), request);
		// Asked again, the partition says offset 0 is gone: the reader's 416, from which a consumer resets to the log start.
		expect(calls).toBe(2);
		expect(read.ok ? null : read.error.code).toBe("offset_out_of_range");
		const rest = await fetchRecords(topic, 0, "offset=4");
		expect(rest.records).toEqual(all.slice(4));
		expect(rest.log_start_offset).toBe(4);
	});
});
