import { describe, expect, it } from "vitest";
import { partitionForKey, utf8 } from "../../src/shared/partitioner.ts";
import { untilWaiting, waitingReads } from "../support/long-poll.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { call, createTopic, expectError, fetchRecords, json, produce } from "../support/worker.ts";

describe("produce and fetch", () => {
	it("round-trips strings, JSON values, nulls, headers and timestamps exactly", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		const records = [
			{
				key: "k",
				value: "plain string",
				headers: [
					{ key: "h", value: "1" },
					{ key: "h", value: "2" },
					{ key: "n", value: null },
				],
			},
			{ key: { id: 7 }, value: { nested: [1, "two", { three: null }], unicode: "한국어 ✓ \u0000 \n" }, timestamp: 1_700_000_000_000 },
			{ value: null },
			{ value: 12.5 },
			{ value: true },
			{ value: "" },
			{ value: ["a", ["b"]] },
		];
		const produced = await produce(topic, records);
		expect(produced.offsets.map((o) => o.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
		expect(produced.offsets[1]?.timestamp).toBe(1_700_000_000_000);
		const fetched = await fetchRecords(topic, 0, "offset=0");
		expect(fetched.high_watermark).toBe(7);
		expect(fetched.next_offset).toBe(7);
		expect(fetched.log_start_offset).toBe(0);
		fetched.records.forEach((record, i) => {
			const sent = records[i] as (typeof records)[number] & { key?: unknown; headers?: unknown; timestamp?: number };
			expect(record).toEqual({
				partition: 0,
				offset: i,
				timestamp: produced.offsets[i]?.timestamp,
				key: sent.key ?? null,
				value: sent.value,
				headers: sent.headers ?? [],
			});
		});
	});

	it("keeps the digits of numbers a double cannot hold", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const body = '{"records":[{"value":{"id":12345678901234567890,"small":1,"big":1e400,"precise":0.10000000000000000555}}]}';
		const response = await call("POST", `/v1/topics/${topic}/records`, { raw: body, headers: { "Content-Type": "application/json" } });
		expect(response.status).toBe(200);
		const fetched = await call("GET", `/v1/topics/${topic}/partitions/0/records?offset=0`);
		const text = await fetched.text();
		expect(text).toContain('"value":{"id":12345678901234567890,"small":1,"big":1e400,"precise":0.10000000000000000555}');
	});

	it("stores a negative zero and a decimal of seventeen digits as sent, in JSON and NDJSON bodies", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const record = '{"key":-0,"value":{"zero":-0,"also":[-0.0],"decimal":1234567890.1234567891,"short":123456789012345.6789}}';
		for (const [body, type] of [
			[`{"records":[${record}]}`, "application/json"],
			[`${record}\n`, "application/x-ndjson"],
		] as const) {
			const response = await call("POST", `/v1/topics/${topic}/records`, { raw: body, headers: { "Content-Type": type } });
			expect(response.status, await response.text()).toBe(200);
		}
		const text = await (await call("GET", `/v1/topics/${topic}/partitions/0/records?offset=0`)).text();
		const stored = '"key":-0,"value":{"zero":-0,"also":[-0.0],"decimal":1234567890.1234567891,"short":123456789012345.6789}';
		expect(text.split(stored)).toHaveLength(3);
	});

	it("says which number a field cannot take, and never answers 500 for one a double cannot hold", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const timestamp = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			raw: '{"records":[{"value":1,"timestamp":1e400}]}',
			headers: { "Content-Type": "application/json" },
		});
		expect(timestamp.message).toMatch(/^records\[0\]\.timestamp: .*1e400/);
		expect(timestamp.message).not.toContain("object");
		// A number a double holds, spelled otherwise than JavaScript writes it, is that number: its range is checked.
		const spelled = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			raw: '{"records":[{"value":1,"timestamp":1e308}]}',
			headers: { "Content-Type": "application/json" },
		});
		expect(spelled.message).toMatch(/^records\[0\]\.timestamp: must be at most/);
		for (const body of [
			`{"name":"${topic}-a","config":{"retention.ms":1e400}}`,
			`{"name":"${topic}-b","partitions":12345678901234567890}`,
		]) {
			const error = await expectError("POST", "/v1/topics", 400, "invalid_request", {
				raw: body,
				headers: { "Content-Type": "application/json" },
			});
			expect(error.message).toMatch(/1e400|12345678901234567890/);
		}
	});

	it("carries binary as base64 with an explicit encoding, and hashes the decoded key bytes", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 7);
		const keyBytes = new Uint8Array([0xff, 0x00, 0x80, 0x7f]);
		const key = btoa(String.fromCharCode(...keyBytes));
		const produced = await produce(topic, [{ key, key_encoding: "base64", value: "AAEC/w==", value_encoding: "base64" }]);
		const partition = produced.offsets[0]?.partition as number;
		expect(partition).toBe(partitionForKey(keyBytes, 7));
		const fetched = await fetchRecords(topic, partition, "offset=0");
		expect(fetched.records[0]).toMatchObject({ key, value: "AAEC/w==", key_encoding: "base64", value_encoding: "base64" });
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			body: { records: [{ value: "not base64!", value_encoding: "base64" }] },
		});
	});

	it("routes keys with Kafka's murmur2 partitioner, and one request's null keys to one partition", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 6);
		const keys = Array.from({ length: 40 }, (_, i) => `order-${i}`);
		const produced = await produce(
			topic,
			keys.map((key) => ({ key, value: key })),
		);
		produced.offsets.forEach((position, i) => {
			expect(position.partition).toBe(partitionForKey(utf8(keys[i] as string), 6));
		});
		const unkeyed = await produce(
			topic,
			Array.from({ length: 10 }, (_, i) => ({ value: i })),
		);
		expect(new Set(unkeyed.offsets.map((o) => o.partition)).size).toBe(1);
		const explicit = await produce(topic, [{ key: "order-1", value: "x", partition: 5 }]);
		expect(explicit.offsets[0]?.partition).toBe(5);
	});

	it("answers offsets in request order across partitions", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 3);
		const produced = await produce(topic, [
			{ value: "a", partition: 2 },
			{ value: "b", partition: 0 },
			{ value: "c", partition: 2 },
			{ value: "d", partition: 1 },
			{ value: "e", partition: 2 },
		]);
		expect(produced.offsets.map((o) => [o.partition, o.offset])).toEqual([
			[2, 0],
			[0, 0],
			[2, 1],
			[1, 0],
			[2, 2],
		]);
		const fetched = await fetchRecords(topic, 2, "offset=1");
		expect(fetched.records.map((r) => [r.offset, r.value])).toEqual([
			[1, "c"],
			[2, "e"],
		]);
	});

	it("accepts NDJSON, one record per line", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const lines = Array.from({ length: 250 }, (_, i) => JSON.stringify({ key: `k${i}`, value: { i } }));
		const response = await call("POST", `/v1/topics/${topic}/records`, {
			raw: `${lines.join("\n")}\n\n`,
			headers: { "Content-Type": "application/x-ndjson" },
		});
		expect(response.status).toBe(200);
		const body = (await response.json()) as { offsets: unknown[] };
		expect(body.offsets).toHaveLength(250);
		const fetched = await fetchRecords(topic, 0, "offset=0&max_records=1000");
		expect(fetched.records.map((r) => r.value)).toEqual(lines.map((_, i) => ({ i })));
		const bad = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_json", {
			raw: `${lines[0]}\n{"value":`,
			headers: { "Content-Type": "application/x-ndjson" },
		});
		expect(bad.message).toContain("line 2");
		expect((await fetchRecords(topic, 0, "offset=0&max_records=1000")).high_watermark).toBe(250);
	});

	it("pages with max_records and max_bytes, always returning at least one record", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(
			topic,
			Array.from({ length: 30 }, (_, i) => ({ value: `${i}`.padStart(100, "x") })),
		);
		const seen: number[] = [];
		let offset = 0;
		for (let page = 0; page < 10 && offset < 30; page++) {
			const fetched = await fetchRecords(topic, 0, `offset=${offset}&max_records=7`);
			expect(fetched.records.length).toBeLessThanOrEqual(7);
			seen.push(...fetched.records.map((r) => r.offset));
			offset = fetched.next_offset;
		}
		expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i));
		const tiny = await fetchRecords(topic, 0, "offset=3&max_bytes=1");
		expect(tiny.records.map((r) => r.offset)).toEqual([3]);
		expect(tiny.next_offset).toBe(4);
		const some = await fetchRecords(topic, 0, "offset=0&max_bytes=400");
		expect(some.records.length).toBeGreaterThanOrEqual(1);
		expect(some.records.length).toBeLessThan(30);
		expect(some.next_offset).toBe(some.records.length);
	});

	it("answers a fetch's exact bytes: the partition's records as stored, between the envelope, for any page", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		// Batches of several records, some not ASCII (two-, three- and four-byte characters), as group commits store them.
		for (let batch = 0; batch < 4; batch++) {
			await produce(
				topic,
				Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: i % 2 === 0 ? `é€😀 ${batch}.${i}` : "v".repeat(40 + i) })),
			);
		}
		const topicId = await topicIdOf(topic);
		const stub = await partitionStub(topic);
		// Whole batches, a start inside one, cuts by records and by bytes, and the high watermark.
		for (const [offset, maxRecords, maxBytes] of [
			[0, 500, 1 << 20],
			[3, 500, 1 << 20],
			[2, 7, 1 << 20],
			[6, 500, 200],
			[19, 1, 1],
			[20, 500, 1 << 20],
		] as const) {
			const text = await stub.read({ topicId, offset, maxRecords, maxBytes, waitMs: 0 });
			if (!text.ok || "remote" in text.value) throw new Error(`read at ${offset}: ${JSON.stringify(text)}`);
			const { records, highWatermark, logStartOffset, nextOffset } = text.value;
			const expected = `{"records":[${records}],"high_watermark":${highWatermark},"log_start_offset":${logStartOffset},"next_offset":${nextOffset}}`;
			const response = await call(
				"GET",
				`/v1/topics/${topic}/partitions/0/records?offset=${offset}&max_records=${maxRecords}&max_bytes=${maxBytes}`,
			);
			expect(response.status).toBe(200);
			expect(response.headers.get("Content-Type")).toBe("application/json");
			const body = new Uint8Array(await response.arrayBuffer());
			expect(body, `page at ${offset}`).toEqual(new TextEncoder().encode(expected));
		}
	});

	it("returns an empty list at the high watermark and 416 outside the log", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: 1 }, { value: 2 }]);
		expect(await fetchRecords(topic, 0, "offset=2")).toEqual({ records: [], high_watermark: 2, log_start_offset: 0, next_offset: 2 });
		const error = await expectError("GET", `/v1/topics/${topic}/partitions/0/records?offset=3`, 416, "offset_out_of_range");
		expect(error).toMatchObject({ log_start_offset: 0, high_watermark: 2 });
		await expectError("GET", `/v1/topics/${topic}/partitions/0/records?offset=9007199254740991`, 416, "offset_out_of_range");
	});

	it("fetches from the log start when no offset is given", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: "first" }]);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["first"]);
	});

	it("long-polls: a waiting fetch is woken by an append", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const waiting = fetchRecords(topic, 0, "offset=0&wait_ms=30000");
		await untilWaiting(topic, 0);
		await produce(topic, [{ value: "wake up" }]);
		expect(await waitingReads(topic, 0), "the append woke the waiting fetch").toBe(0);
		const fetched = await waiting;
		expect(fetched.records.map((r) => r.value)).toEqual(["wake up"]);
	});

	it("long-poll with nothing appended returns empty after wait_ms", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const fetched = await fetchRecords(topic, 0, "offset=0&wait_ms=20");
		expect(fetched.records).toEqual([]);
	});

	it("looks up offsets: earliest, latest, and by timestamp", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 }); // 1970 timestamps would otherwise expire at once
		await produce(topic, [
			{ value: "a", timestamp: 1000 },
			{ value: "b", timestamp: 2000 },
		]);
		await produce(topic, [
			{ value: "c", timestamp: 1500 },
			{ value: "d", timestamp: 3000 },
		]);
		const at = (q: string) => json<{ offset: number }>("GET", `/v1/topics/${topic}/partitions/0/offsets?at=${q}`, 200);
		expect(await at("earliest")).toEqual({ offset: 0 });
		expect(await at("latest")).toEqual({ offset: 4 });
		expect(await at("0")).toEqual({ offset: 0 });
		expect(await at("1001")).toEqual({ offset: 1 });
		expect(await at("2000")).toEqual({ offset: 1 });
		expect(await at("2001")).toEqual({ offset: 3 });
		expect(await at("3001")).toEqual({ offset: 4 });
		await expectError("GET", `/v1/topics/${topic}/partitions/0/offsets?at=yesterday`, 400, "invalid_request");
		await expectError("GET", `/v1/topics/${topic}/partitions/0/offsets`, 400, "invalid_request");
	});

	it("looks up the max timestamp (Kafka's MAX_TIMESTAMP): the first record with the log's largest timestamp, -1 in an empty log", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2, { "retention.ms": -1 });
		await produce(topic, [
			{ value: "a", timestamp: 1000, partition: 0 },
			{ value: "b", timestamp: 3000, partition: 0 },
		]);
		await produce(topic, [
			{ value: "c", timestamp: 3000, partition: 0 },
			{ value: "d", timestamp: 2000, partition: 0 },
		]);
		const at = (partition: number) =>
			json<{ offset: number; timestamp: number }>("GET", `/v1/topics/${topic}/partitions/${partition}/offsets?at=max_timestamp`, 200);
		expect(await at(0)).toEqual({ offset: 1, timestamp: 3000 });
		expect(await at(1)).toEqual({ offset: -1, timestamp: -1 });
	});

	it("404s a partition the topic does not have", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const error = await expectError("GET", `/v1/topics/${topic}/partitions/2/records`, 404, "partition_not_found");
		expect(error.partitions).toBe(2);
		await expectError("GET", `/v1/topics/${topic}/partitions/2/offsets?at=latest`, 404, "partition_not_found");
		await expectError("POST", `/v1/topics/${topic}/records`, 404, "partition_not_found", {
			body: { records: [{ value: 1, partition: 2 }] },
		});
	});
});
