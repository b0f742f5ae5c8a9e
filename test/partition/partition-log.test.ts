import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AssertionError } from "../../src/shared/assert.ts";
import { STORED_BATCH_BYTES_TARGET } from "../../src/shared/limits.ts";
import { breakNextWrite } from "../support/break-write.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { call, createTopic, fetchRecords, json, produce } from "../support/worker.ts";

/** A new topic whose partition 0 holds one record, its partition's stub, and its metadata as the registry has it. */
async function topicWithOneRecord() {
	const topic = uniqueTopic();
	await createTopic(topic);
	await produce(topic, [{ value: 1 }]);
	const stub = await partitionStub(topic, 0);
	const found = await env.TOPIC_REGISTRY.getByName("global").getTopic(topic);
	if (!found.ok) throw new Error("missing");
	return { topic, stub, meta: found };
}

async function storedBatches(topic: string, partition: number) {
	const stub = await partitionStub(topic, partition);
	return runInDurableObject(stub, (_, state) =>
		state.storage.sql
			.exec<{ base_offset: number; last_offset: number; record_count: number; bytes: number }>(
				"SELECT base_offset, last_offset, record_count, bytes FROM batches ORDER BY base_offset",
			)
			.toArray(),
	);
}

describe("PartitionLog storage", () => {
	it("stores one row per produce request, not one per record", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(
			topic,
			Array.from({ length: 100 }, (_, i) => ({ value: i })),
		);
		await produce(
			topic,
			Array.from({ length: 50 }, (_, i) => ({ value: i })),
		);
		const batches = await storedBatches(topic, 0);
		expect(batches.map((b) => [b.base_offset, b.last_offset, b.record_count])).toEqual([
			[0, 99, 100],
			[100, 149, 50],
		]);
	});

	it("splits a large produce into ~1 MiB batches and reads across them", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const value = "v".repeat(100 * 1024);
		const count = 30; // ~3 MiB
		await produce(
			topic,
			Array.from({ length: count }, (_, i) => ({ key: `${i}`, value })),
		);
		const batches = await storedBatches(topic, 0);
		expect(batches.length).toBeGreaterThanOrEqual(3);
		for (const batch of batches) expect(batch.bytes).toBeLessThanOrEqual(STORED_BATCH_BYTES_TARGET);
		expect(batches.reduce((n, b) => n + b.record_count, 0)).toBe(count);
		for (let i = 1; i < batches.length; i++) expect(batches[i]?.base_offset).toBe((batches[i - 1]?.last_offset ?? -2) + 1);
		const fetched = await fetchRecords(topic, 0, "offset=5&max_records=1000&max_bytes=16777216");
		expect(fetched.records.map((r) => r.key)).toEqual(Array.from({ length: count - 5 }, (_, i) => `${i + 5}`));
		expect(fetched.records.every((r) => r.value === value)).toBe(true);
	});

	it("keeps offsets dense under many concurrent producers to one partition", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const producers = 20;
		const perProducer = 5;
		const responses = await Promise.all(
			Array.from({ length: producers * perProducer }, (_, i) =>
				produce(topic, [
					{ key: `p${i % producers}`, value: `${i}-a`, partition: 0 },
					{ key: `p${i % producers}`, value: `${i}-b`, partition: 0 },
				]),
			),
		);
		const offsets = responses.flatMap((r) => r.offsets.map((o) => o.offset)).sort((a, b) => a - b);
		expect(offsets).toEqual(Array.from({ length: producers * perProducer * 2 }, (_, i) => i));
		// Each request's two records are adjacent: a request is appended atomically.
		for (const r of responses) expect((r.offsets[1]?.offset ?? 0) - (r.offsets[0]?.offset ?? 0)).toBe(1);
		const fetched = await fetchRecords(topic, 0, "offset=0&max_records=1000");
		expect(fetched.records.map((r) => r.offset)).toEqual(offsets);
		const byOffset = new Map(fetched.records.map((r) => [r.offset, r.value]));
		responses.forEach((r, i) => {
			expect(byOffset.get(r.offsets[0]?.offset ?? -1)).toBe(`${i}-a`);
			expect(byOffset.get(r.offsets[1]?.offset ?? -1)).toBe(`${i}-b`);
		});
	});

	it("rebuilds high watermark, log start and timestamps from SQLite after the objects are evicted", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2, { "retention.ms": -1 });
		await produce(topic, [
			{ value: "a", partition: 1, timestamp: 1000 },
			{ value: "b", partition: 1, timestamp: 5000 },
			{ value: "c", partition: 1 },
		]);
		const before = await fetchRecords(topic, 1, "offset=0");
		const describedBefore = await json<{ partitions: { bytes: number }[] }>("GET", `/v1/topics/${topic}`, 200);
		expect(describedBefore.partitions[1]?.bytes).toBeGreaterThan(0);
		// vitest-pool-workers 0.15 has no evictDurableObject; abortAllDurableObjects drops every instance but keeps storage.
		await abortAllDurableObjects();
		const after = await fetchRecords(topic, 1, "offset=0");
		expect(after).toEqual(before);
		// Stored bytes are rebuilt from SQLite too.
		expect((await json<{ partitions: unknown[] }>("GET", `/v1/topics/${topic}`, 200)).partitions).toEqual(describedBefore.partitions);
		expect(after.high_watermark).toBe(3);
		expect(await json("GET", `/v1/topics/${topic}/partitions/1/offsets?at=4000`, 200)).toEqual({ offset: 1 });
		const next = await produce(topic, [{ value: "d", partition: 1 }]);
		expect(next.offsets[0]?.offset).toBe(3);
		const described = await json<{ partitions: unknown[] }>("GET", `/v1/topics/${topic}`, 200);
		expect(described.partitions).toMatchObject([
			{ partition: 0, log_start_offset: 0, high_watermark: 0, bytes: 0, records: 0 },
			{ partition: 1, log_start_offset: 0, high_watermark: 4, records: 4 },
		]);
	});

	it("answers a fresh append over RPC as text when asked, a replayed one and an earlier edge's as objects", async () => {
		const { stub, meta } = await topicWithOneRecord();
		const tail = '"key":null,"value":2,"headers":[]}';
		const request = {
			topicId: meta.value.topicId,
			configVersion: meta.value.configVersion,
			records: [{ timestampMs: null, tail, bytes: tail.length, keyId: null, tombstone: false }],
			idempotency: { key: "answer-form", requestHash: "h" },
			textAnswer: true,
		};
		expect(await stub.append(request)).toMatch(/^1 \d+$/);
		expect(await stub.append(request)).toMatchObject({ ok: true, value: { baseOffset: 1, duplicate: true } });
		// An edge of the version before asks for nothing and reads an object.
		const { textAnswer: _, ...earlier } = { ...request, idempotency: null };
		expect(await stub.append(earlier)).toMatchObject({ ok: true, value: { baseOffset: 2, duplicate: false } });
	});

	it("refuses appends to a deleted partition even from a stale caller", async () => {
		const { topic, stub, meta } = await topicWithOneRecord();
		expect((await call("DELETE", `/v1/topics/${topic}`)).status).toBe(204);
		const result = await stub.append({
			topicId: meta.value.topicId,
			configVersion: 1,
			records: [{ timestampMs: null, tail: '"key":null,"value":1,"headers":[]}', bytes: 32, keyId: null, tombstone: false }],
		});
		expect(result).toMatchObject({ ok: false, error: { code: "topic_not_found" } });
	});
});

describe("a group's write that rolls back (storage failing)", () => {
	afterEach(() => vi.restoreAllMocks());

	// workerd reports a Durable Object method's rejected promise as uncaught even when its caller catches it.
	it("answers its append a failure Result over RPC, not a rejection, and writes none of it", async () => {
		const { topic, stub, meta } = await topicWithOneRecord();
		const tail = '"key":null,"value":2,"headers":[]}';
		const request = {
			topicId: meta.value.topicId,
			configVersion: meta.value.configVersion,
			records: [{ timestampMs: null, tail, bytes: tail.length, keyId: null, tombstone: false }],
			textAnswer: true,
		};
		await breakNextWrite(topic);
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const refused = await stub.append(request).catch((cause: unknown) => `rejected: ${String(cause)}`);
		expect(refused).toEqual({
			ok: false,
			error: { code: "partition_unavailable", message: "partition 0 is unavailable; retry", details: { partition: 0 } },
		});
		expect.soft(logged.mock.calls.map(String).join("\n"), "the cause is logged").toContain("Error: rowsWritten broke");
		// Rolled back: the next append takes the offset the refused one would have had.
		expect(await stub.append(request)).toMatch(/^1 \d+$/);
		expect((await storedBatches(topic, 0)).map((b) => [b.base_offset, b.record_count])).toEqual([
			[0, 1],
			[1, 1],
		]);
	});

	it("a bug (a TypeError, a failed assertion) in the write is answered 500 internal: it fails again the same way, so no retry is invited", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: "first" }]);
		const answers: [number, string][] = [];
		for (const bug of [new TypeError("x is not a function"), new AssertionError("staged in transaction")]) {
			await breakNextWrite(topic, 0, bug);
			vi.spyOn(console, "error").mockImplementation(() => undefined);
			const refused = await call("POST", `/v1/topics/${topic}/records`, { body: { records: [{ value: "a" }] } });
			answers.push([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]);
		}
		expect(answers).toEqual([
			[500, "internal"],
			[500, "internal"],
		]);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["first"]);
	});

	it("in a /v1 produce spread over partitions, after another share was written: 503 partition_unavailable saying so", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		await produce(topic, [{ value: "first", partition: 1 }]);
		await breakNextWrite(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const records = [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 1 },
		];
		const refused = await call("POST", `/v1/topics/${topic}/records`, { body: { records } });
		expect(refused.status).toBe(503);
		expect(await refused.json()).toEqual({
			error: {
				code: "partition_unavailable",
				message: "partition 1 is unavailable; some of this request's records may have been written",
				retriable: true,
				partition: 1,
				request_id: refused.headers.get("X-Request-Id"),
			},
		});
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["a"]);
		expect((await fetchRecords(topic, 1)).records.map((r) => r.value)).toEqual(["first"]);
	});

	it("in a partition not yet configured: answered as every append there is, asking for the config; the edge's second append writes", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		// Partition 1 has never been written: it does not know its number, which a failure would name (as -1).
		await breakNextWrite(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const records = [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 1 },
		];
		expect((await call("POST", `/v1/topics/${topic}/records`, { body: { records } })).status).toBe(200);
		expect((await fetchRecords(topic, 1)).records.map((r) => r.value)).toEqual(["b"]);
	});
});
