/**
 * The SDK's producer against the real Worker (inside workerd): batching of unawaited sends, idempotent retries of
 * a request whose answer was lost, Kafka's key partitioning, and failures that stay with the record that caused them.
 */

import fc from "fast-check";
import { LosslessNumber, parse as parseLossless, stringify as stringifyLossless } from "lossless-json";
import { describe, expect, it } from "vitest";
import { murmur2 as clientMurmur2, partitionForKey, Tributary, TributaryError } from "../../client/index.ts";
import { estimateBytes } from "../../client/record-size.ts";
import { murmur2 as brokerMurmur2 } from "../../src/shared/partitioner.ts";
import { uniqueTopic } from "../support/names.ts";
import { isProduce, wiredClient } from "../support/sdk.ts";
import { ADMIN_TOKEN, BASE, createTopic, fetchRecords, highWatermarks, json, produce, workerFetch } from "../support/worker.ts";

// The first test of a file also pays for starting the Worker and its objects.
describe("SDK producer", { timeout: 60_000 }, () => {
	it("batches unawaited sends into few requests, in order", async () => {
		const topic = uniqueTopic("batch");
		await createTopic(topic, 1);
		const { client, sent } = wiredClient();
		const producer = client.producer();
		const count = 1_500;
		const sends = Array.from({ length: count }, (_, i) => producer.send(topic, { value: { i } }));
		const written = await Promise.all(sends);
		expect(written.map((w) => w.offset)).toEqual(Array.from({ length: count }, (_, i) => i));
		expect(written.every((w) => w.topic === topic && w.partition === 0)).toBe(true);
		const produces = sent.filter(isProduce);
		expect(produces.length).toBeGreaterThanOrEqual(2); // 1 000 records per request at most
		expect(produces.length).toBeLessThanOrEqual(3);
		expect(JSON.parse(produces[0]?.body ?? "{}")).toMatchObject({ epoch: expect.any(Number), sequence: 0 });
		await producer.close();
		const read = await fetchRecords(topic, 0, "max_records=2000");
		expect(read.records.map((r) => (r.value as { i: number }).i)).toEqual(Array.from({ length: count }, (_, i) => i));
	});

	it("retries a request whose answer was lost without writing it twice", async () => {
		const topic = uniqueTopic("lost");
		await createTopic(topic, 3);
		const { client, sent, dropAnswer } = wiredClient();
		const producer = client.producer({ lingerMs: 20 });
		dropAnswer(isProduce);
		const sends = Array.from({ length: 30 }, (_, i) => producer.send(topic, { key: `order-${i}`, value: i }));
		const written = await Promise.all(sends);
		await producer.flush();
		// Every produce request that reached the broker was sent twice at most, and the lost one twice exactly.
		const bodies = sent.filter(isProduce).map((r) => r.body);
		expect(bodies.length).toBe(new Set(bodies).size + 1);
		expect((await highWatermarks(topic)).reduce((sum, w) => sum + w, 0)).toBe(30);
		const positions = new Set(written.map((w) => `${w.partition}/${w.offset}`));
		expect(positions.size).toBe(30);
	});

	it("puts a key where Kafka's Java client would (and where the broker does)", async () => {
		const topic = uniqueTopic("keys");
		await createTopic(topic, 7);
		const { client } = wiredClient();
		const producer = client.producer();
		const keys = ["foobar", "21", "order-42", "héllo ✓", ""];
		const written = await Promise.all(keys.map((key) => producer.send(topic, { key, value: 1 })));
		// The broker's own choice, for records it partitions itself.
		const plain = await json<{ offsets: { partition: number }[] }>("POST", `/v1/topics/${topic}/records`, 200, {
			body: { records: keys.map((key) => ({ key, value: 2 })) },
		});
		expect(written.map((w) => w.partition)).toEqual(plain.offsets.map((o) => o.partition));
		// Kafka's own test vectors (Java client): "foobar" → 6 and "21" → 0 of 12 partitions.
		expect(partitionForKey(new TextEncoder().encode("foobar"), 12)).toBe(6);
		expect(partitionForKey(new TextEncoder().encode("21"), 12)).toBe(0);
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => clientMurmur2(bytes) === brokerMurmur2(bytes)),
			{ numRuns: 500 },
		);
		await producer.close();
	});

	it("fails only the record the broker refused; its batch-mates are written", async () => {
		const topic = uniqueTopic("bad");
		await createTopic(topic, 1, { "max.message.bytes": 2048 });
		const { client } = wiredClient();
		const producer = client.producer({ lingerMs: 20 });
		const good1 = producer.send(topic, { value: "a" });
		const bad = producer.send(topic, { value: "x".repeat(4096) });
		const good2 = producer.send(topic, { value: "b" });
		// A value JSON cannot carry fails at send, before any request.
		await expect(producer.send(topic, { value: { n: 10n } })).rejects.toBeInstanceOf(TypeError);
		await expect(bad).rejects.toMatchObject({ code: "record_too_large", status: 413, retriable: false });
		expect((await good1).offset).toBe(0);
		expect((await good2).offset).toBe(1);
		// flush() reports the first failure since the last flush (even of sends nobody awaited), once.
		await expect(producer.flush()).rejects.toBeInstanceOf(TypeError);
		await producer.flush();
		await producer.close();
		await expect(producer.send(topic, { value: "late" })).rejects.toMatchObject({ code: "closed" });
	});

	it("reports an unawaited send refused by a closed producer at the next flush(), as any unawaited send's failure", async () => {
		const topic = uniqueTopic("closed");
		await createTopic(topic, 1);
		const { client } = wiredClient();
		const producer = client.producer();
		await producer.close();
		// A loop that sends without awaiting and then flushes must not lose its records unseen.
		for (const value of ["a", "b"]) producer.send(topic, { value });
		await expect(producer.flush()).rejects.toMatchObject({ code: "closed" });
		expect((await fetchRecords(topic, 0)).records).toEqual([]);
	});

	it("lets close() answer for the sends made before it, not for one refused while it flushes", async () => {
		const topic = uniqueTopic("closing");
		await createTopic(topic, 1);
		const { client } = wiredClient();
		const producer = client.producer();
		const before = producer.send(topic, { value: "before" });
		const closing = producer.close();
		const late = producer.send(topic, { value: "late" });
		await expect(late).rejects.toMatchObject({ code: "closed" });
		await expect(closing).resolves.toBeUndefined();
		expect(await before).toMatchObject({ offset: 0 });
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["before"]);
		// Once closed, a refused send is reported by the next flush(), as the test above shows.
		producer.send(topic, { value: "after" }).catch(() => {});
		await expect(producer.flush()).rejects.toMatchObject({ code: "closed" });
	});

	it("keeps send order when a refused record's batch-mates go back behind batches already queued", async () => {
		const topic = uniqueTopic("requeue");
		await createTopic(topic, 1, { "max.message.bytes": 2048 });
		const { client, sent } = wiredClient();
		// Small batches, so while the first is in flight the next ones are ready (and serialised) behind it.
		const producer = client.producer({ batchRecords: 10 });
		const count = 60;
		const refused = new Set([3, 27]);
		const sends = Array.from({ length: count }, (_, i) => producer.send(topic, { value: refused.has(i) ? "x".repeat(4096) : i }));
		const outcomes = await Promise.allSettled(sends);
		await producer.flush().catch(() => {});
		for (const i of refused) expect(outcomes[i]).toMatchObject({ status: "rejected", reason: { code: "record_too_large" } });
		const kept = Array.from({ length: count }, (_, i) => i).filter((i) => !refused.has(i));
		const offsets = kept.map((i) => (outcomes[i] as PromiseFulfilledResult<{ offset: number }>).value.offset);
		expect(offsets).toEqual(kept.map((_, n) => n));
		const read = await fetchRecords(topic, 0, "max_records=100");
		expect(read.records.map((r) => r.value)).toEqual(kept);
		expect(sent.filter(isProduce).length).toBeGreaterThanOrEqual(count / 10);
		await producer.close();
	});

	it("writes many batches of many partitions once each and in send order, with an answer lost midway", async () => {
		const topic = uniqueTopic("order");
		await createTopic(topic, 4);
		const { client, sent, dropAnswer } = wiredClient();
		const producer = client.producer({ batchRecords: 25 });
		let produces = 0;
		// The fifth produce request is served and its answer lost: it is sent again, with its sequence numbers.
		dropAnswer((r) => isProduce(r) && ++produces === 5);
		const count = 1_000;
		// Keyless sends go to a sticky partition that moves on with each full batch; keyed ones follow their key.
		const sends = Array.from({ length: count }, (_, i) =>
			producer.send(topic, i % 2 === 0 ? { value: i } : { key: `k${i % 9}`, value: i }),
		);
		await producer.flush();
		const written = await Promise.all(sends);
		const bodies = sent.filter(isProduce).map((r) => r.body);
		expect(produces).toBe(5);
		expect(bodies.length).toBeGreaterThan(count / 25);
		expect(bodies.length).toBe(new Set(bodies).size + 1);
		const described = await json<{ partitions: { partition: number; high_watermark: number }[] }>("GET", `/v1/topics/${topic}`, 200);
		expect(described.partitions.reduce((sum, p) => sum + p.high_watermark, 0)).toBe(count);
		for (const { partition, high_watermark } of described.partitions) {
			const mine = written.map((w, i) => ({ ...w, i })).filter((w) => w.partition === partition);
			expect(mine.map((w) => w.offset)).toEqual(mine.map((_, n) => n));
			const read = await fetchRecords(topic, partition, "max_records=1000");
			expect(read.records.map((r) => r.value)).toEqual(mine.map((w) => w.i));
			expect(read.records.length).toBe(high_watermark);
		}
		await producer.close();
	});

	it("rejects sends to a missing topic with the API's error", async () => {
		const { client } = wiredClient();
		const producer = client.producer();
		const error = await producer.send("no-such-topic", { value: 1 }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TributaryError);
		expect(error).toMatchObject({ code: "topic_not_found", status: 404, retriable: false });
		await expect(producer.flush()).rejects.toMatchObject({ code: "topic_not_found" });
	});

	it("sends binary keys and values as base64 and reads them back as bytes", async () => {
		const topic = uniqueTopic("bin");
		await createTopic(topic, 2);
		const { client } = wiredClient();
		const producer = client.producer();
		const value = new Uint8Array([0, 1, 2, 255]);
		const w = await producer.send(topic, { key: new Uint8Array([9, 9]), value, headers: { source: "test" } });
		const read = await client.fetch(topic, w.partition, { offset: w.offset });
		expect(read.records[0]?.value).toEqual(value);
		expect(read.records[0]?.key).toEqual(new Uint8Array([9, 9]));
		expect(read.records[0]?.headers).toEqual([{ key: "source", value: "test" }]);
		await producer.close();
	});
});

describe("SDK retries", { timeout: 30_000 }, () => {
	it("waits out a real 429 from a key's request quota (Retry-After) and succeeds", async () => {
		const topic = uniqueTopic("quota");
		await createTopic(topic, 1);
		const key = await json<{ secret: string }>("POST", "/v1/keys", 201, {
			body: {
				name: "slow-reader",
				acl: [{ resource: `topic:${topic}`, operations: ["describe"] }],
				quotas: { requests_per_sec: 2 },
			},
		});
		const { client, sent } = wiredClient({ token: key.secret });
		const calls = 6;
		const described = await Promise.all(Array.from({ length: calls }, () => client.topics.describe(topic)));
		expect(described.every((d) => d.name === topic)).toBe(true);
		// Some calls were refused with 429 and sent again.
		expect(sent.length).toBeGreaterThan(calls);
	});
});

describe("SDK stream", { timeout: 30_000 }, () => {
	it("follows a partition live over SSE, from an offset, until break", async () => {
		const topic = uniqueTopic("sse");
		await createTopic(topic, 1);
		const { client } = wiredClient();
		const producer = client.producer({ lingerMs: 0 });
		await producer.send(topic, { value: "before-0" });
		await producer.send(topic, { value: "before-1" });
		const seen: unknown[] = [];
		for await (const record of client.stream(topic, 0, { offset: 1 })) {
			seen.push(record.value);
			// Records appended while the stream is open arrive on it.
			if (record.offset === 1) await producer.send(topic, { value: "live-2", headers: { h: "1" } });
			if (record.offset === 2) {
				expect(record.headers).toEqual([{ key: "h", value: "1" }]);
				break;
			}
		}
		expect(seen).toEqual(["before-1", "live-2"]);
		await producer.close();
		await expect(
			(async () => {
				for await (const _ of client.stream("no-such-topic", 0)) break;
			})(),
		).rejects.toMatchObject({ code: "topic_not_found", status: 404 });
	});
});

describe("SDK producer buffer", { timeout: 60_000 }, () => {
	// About 1 KiB of JSON each, so a 16 KiB buffer holds 15 of them at most.
	const padded = (i: number) => `${i}:`.padEnd(1_000, ".");

	it("holds at most bufferBytes of sends: the rest wait for room and are written once each, in send order", async () => {
		const topic = uniqueTopic("buffer");
		await createTopic(topic, 3);
		const { client, sent, dropAnswer } = wiredClient();
		const bufferBytes = 16 * 1024;
		const producer = client.producer({ bufferBytes });
		let produces = 0;
		// An answer lost while sends wait: its batch is sent again, keeping its room until it is answered.
		dropAnswer((r) => isProduce(r) && ++produces === 3);
		const count = 400;
		const record = (i: number) => (i % 3 === 0 ? { value: padded(i) } : { key: `k${i % 5}`, value: padded(i) });
		// Half sent at once without awaiting anything (most wait for room), half in a loop that awaits room first.
		const sends = Array.from({ length: count / 2 }, (_, i) => producer.send(topic, record(i)));
		for (let i = count / 2; i < count; i++) {
			await producer.ready();
			sends.push(producer.send(topic, record(i)));
			expect(producer.bufferedBytes).toBeLessThanOrEqual(bufferBytes);
		}
		await producer.flush();
		const written = await Promise.all(sends);
		expect(producer.bufferedBytes).toBe(0);
		// No request carried more than the buffer holds: sends entered it only as earlier ones were answered.
		const batches = sent.filter(isProduce).map((r) => (JSON.parse(r.body) as { records: unknown[] }).records.length);
		expect(Math.max(...batches)).toBeLessThanOrEqual(Math.floor(bufferBytes / 1_000));
		expect(batches.length).toBeGreaterThan(count / 16);
		for (let partition = 0; partition < 3; partition++) {
			const mine = written.map((w, i) => ({ ...w, i })).filter((w) => w.partition === partition);
			expect(mine.map((w) => w.offset)).toEqual(mine.map((_, n) => n));
			const read = await fetchRecords(topic, partition, "max_records=1000");
			expect(read.records.map((r) => r.value)).toEqual(mine.map((w) => padded(w.i)));
		}
		await producer.close();
	});

	it("refuses a send that waited maxBlockMs for room with buffer_full; what got in is written, in order", async () => {
		const topic = uniqueTopic("blocked");
		await createTopic(topic, 1);
		const { client, hold } = wiredClient();
		// Room for exactly seven of these records.
		const bufferBytes = 7 * (estimateBytes({ value: padded(0) }) as number);
		const producer = client.producer({ bufferBytes, maxBlockMs: 50, lingerMs: 0 });
		// The partition count and the producer id are known first, so each send below is let in or waits at once.
		expect((await producer.send(topic, { value: "first" })).offset).toBe(0);
		// While produce answers are held, no room frees: what waits is refused once it has waited maxBlockMs.
		const release = hold(isProduce);
		const sends = Array.from({ length: 20 }, (_, i) => producer.send(topic, { value: padded(i) }));
		expect(producer.bufferedBytes).toBe(bufferBytes);
		const refused = { code: "buffer_full", status: 0, retriable: true, details: { buffer_bytes: bufferBytes, max_block_ms: 50 } };
		await expect(producer.ready()).rejects.toMatchObject(refused);
		await expect(sends[19]).rejects.toMatchObject(refused);
		release();
		const outcomes = await Promise.allSettled(sends);
		for (const outcome of outcomes.slice(7)) expect(outcome).toMatchObject({ status: "rejected", reason: refused });
		expect(outcomes.slice(0, 7).map((o) => (o as PromiseFulfilledResult<{ offset: number }>).value.offset)).toEqual([1, 2, 3, 4, 5, 6, 7]);
		await expect(producer.flush()).rejects.toMatchObject({ code: "buffer_full" });
		// Room again: the next send goes straight in, after what was written.
		await producer.ready();
		expect((await producer.send(topic, { value: "after" })).offset).toBe(8);
		// A record bigger than the whole buffer could never get in: refused at once.
		await expect(producer.send(topic, { value: "x".repeat(bufferBytes) })).rejects.toMatchObject({ code: "record_too_large", status: 0 });
		await producer.flush().catch(() => {});
		const read = await fetchRecords(topic, 0, "max_records=100");
		expect(read.records.map((r) => r.value)).toEqual(["first", ...Array.from({ length: 7 }, (_, i) => padded(i)), "after"]);
		await producer.close();
	});

	it("refuses a buffer option out of range", () => {
		const { client } = wiredClient();
		expect(() => client.producer({ bufferBytes: 0 })).toThrow(TributaryError);
		expect(() => client.producer({ maxBlockMs: -1 })).toThrow(/maxBlockMs/);
	});
});

describe("SDK compression", () => {
	it("asks a broker on this machine for uncompressed answers, and leaves fetch's default elsewhere", async () => {
		const topic = uniqueTopic("encoding");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "one" }]);
		const urls = ["http://127.0.0.1:8787", "http://localhost:8787", "http://[::1]:8787", "http://127.0.0.1.example.com", BASE];
		const asked: Array<string | null> = [];
		for (const url of urls) {
			const client = new Tributary({
				url,
				token: ADMIN_TOKEN,
				fetch: (request) => {
					asked.push(request.headers.get("Accept-Encoding"));
					return workerFetch(request);
				},
			});
			expect((await client.fetch(topic, 0)).records.map((r) => r.value)).toEqual(["one"]);
		}
		expect(asked).toEqual(["identity", "identity", "identity", null, null]);
	});
});

describe("SDK JSON codec", { timeout: 30_000 }, () => {
	it("with a lossless codec, writes and reads integers a double cannot hold exactly, and hashes such a key as the broker does", async () => {
		const topic = uniqueTopic("exact");
		await createTopic(topic, 8);
		const exactNumber = (text: string) => (String(Number(text)) === text ? Number(text) : new LosslessNumber(text));
		const codec = {
			parse: (text: string) => parseLossless(text, null, exactNumber),
			stringify: (v: unknown) => stringifyLossless(v) ?? "null",
		};
		const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: workerFetch, json: codec });
		const big = "12345678901234567891";
		const record = { key: { id: new LosslessNumber(big) }, value: { id: new LosslessNumber(big), small: 1.5 } };
		const written = await client.producer().send(topic, record);
		// The broker chose the same partition for the same key text sent over /v1 without one.
		const raw = `{"records":[{"key":{"id":${big}},"value":"by the broker"}]}`;
		const answer = await workerFetch(
			new Request(`${BASE}/v1/topics/${topic}/records`, {
				method: "POST",
				headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
				body: raw,
			}),
		);
		const placed = (await answer.json()) as { offsets: { partition: number }[] };
		expect(placed.offsets[0]?.partition).toBe(written.partition);
		const stored = await workerFetch(
			new Request(`${BASE}/v1/topics/${topic}/partitions/${written.partition}/records?offset=0`, {
				headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
			}),
		);
		expect(await stored.text()).toContain(`"value":{"id":${big},"small":1.5}`);
		const read = await client.fetch(topic, written.partition, { offset: 0 });
		expect(codec.stringify(read.records[0]?.value)).toBe(`{"id":${big},"small":1.5}`);
	});
});
