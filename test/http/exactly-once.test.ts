/**
 * Exactly-once produce: idempotent producers (KIP-98), the Idempotency-Key header, and conditional appends.
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PRODUCER_SNAPSHOT_BYTES, PRODUCER_SNAPSHOT_ROWS } from "../../src/shared/limits.ts";
import { runDueAlarm } from "../support/alarm.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { call, createTopic, expectError, fetchRecords, highWatermarks, json, produce } from "../support/worker.ts";

interface Producer {
	producer_id: number;
	epoch: number;
}

const initProducer = (body?: unknown) => json<Producer>("POST", "/v1/producers", 200, body === undefined ? {} : { body });
const post = (topic: string, body: unknown, headers: Record<string, string> = {}) =>
	call("POST", `/v1/topics/${topic}/records`, { body, headers });

describe("idempotent producers", () => {
	it("hands out ids; a named producer keeps its id and bumps its epoch", async () => {
		const a = await initProducer();
		const b = await initProducer({});
		expect(b.producer_id).not.toBe(a.producer_id);
		expect(a.epoch).toBe(0);
		const name = `tx-${crypto.randomUUID()}`;
		const first = await initProducer({ transactional_id: name });
		const second = await initProducer({ transactional_id: name });
		expect(second).toEqual({ producer_id: first.producer_id, epoch: first.epoch + 1 });
		await expectError("POST", "/v1/producers", 400, "invalid_request", { body: { transactional_id: "" } });
		await expectError("POST", "/v1/producers", 400, "invalid_json", { raw: "{", headers: { "Content-Type": "application/json" } });
	});

	it("writes a retried sequence once and answers with the original offsets, also after eviction", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await initProducer();
		const body = { producer_id, epoch, sequence: 0, records: [{ value: "a" }, { value: "b" }] };
		const first = await post(topic, body);
		expect(first.status).toBe(200);
		const original = await first.json();
		const retry = await post(topic, body);
		expect(await retry.json()).toEqual(original);
		await abortAllDurableObjects();
		const afterEviction = await post(topic, body);
		expect(await afterEviction.json()).toEqual(original);
		const next = await post(topic, { producer_id, epoch, sequence: 2, records: [{ value: "c" }] });
		expect(((await next.json()) as { offsets: { offset: number }[] }).offsets[0]?.offset).toBe(2);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["a", "b", "c"]);
	});

	it("answers a retry of an older batch among the last five", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await initProducer();
		const answers = [];
		for (let sequence = 0; sequence < 3; sequence++) {
			answers.push(await (await post(topic, { producer_id, epoch, sequence, records: [{ value: sequence }] })).json());
		}
		expect(await (await post(topic, { producer_id, epoch, sequence: 1, records: [{ value: 1 }] })).json()).toEqual(answers[1]);
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(3);
	});

	it("names each batch in the row that holds it and saves the producers' snapshot every PRODUCER_SNAPSHOT_ROWS rows; a wake-up replays the rows since", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await initProducer();
		const send = (sequence: number) => post(topic, { producer_id, epoch, sequence, records: [{ value: sequence }] });
		const answers: unknown[] = [];
		// One request at a time: a group, and a row, each.
		for (let sequence = 0; sequence < PRODUCER_SNAPSHOT_ROWS - 1; sequence++) answers.push(await (await send(sequence)).json());
		// A stub of its own each time: one from before an eviction is gone with it.
		const stored = async () =>
			runInDurableObject(await partitionStub(topic), (_, state) => {
				const sql = state.storage.sql;
				return {
					saved: sql.exec<{ last_sequence: number }>("SELECT last_sequence FROM producer_state").toArray(),
					named: sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM batches WHERE producers IS NOT NULL").one().n,
					replayFrom: sql.exec("SELECT producers_replay_from AS f FROM partition_state").one().f,
				};
			});
		expect(await stored()).toEqual({ saved: [], named: PRODUCER_SNAPSHOT_ROWS - 1, replayFrom: 0 });
		// The state lives in memory and in the rows: an evicted partition replays them.
		await abortAllDurableObjects();
		const last = PRODUCER_SNAPSHOT_ROWS - 2;
		expect(await (await send(last)).json()).toEqual(answers[last]);
		expect(await (await send(last - 3)).json()).toEqual(answers[last - 3]);
		const gap = await expectError("POST", `/v1/topics/${topic}/records`, 409, "out_of_order_sequence", {
			body: { producer_id, epoch, sequence: last + 5, records: [{ value: "gap" }] },
		});
		expect(gap.expected_sequence).toBe(last + 1);
		// The row that makes PRODUCER_SNAPSHOT_ROWS saves the state, and nothing is left to replay.
		answers.push(await (await send(last + 1)).json());
		expect(await stored()).toEqual({ saved: [{ last_sequence: last + 1 }], named: PRODUCER_SNAPSHOT_ROWS, replayFrom: null });
		await abortAllDurableObjects();
		expect(await (await send(last + 1)).json()).toEqual(answers[last + 1]);
		expect((await post(topic, { producer_id, epoch, sequence: last + 2, records: [{ value: "next" }] })).status).toBe(200);
		expect((await fetchRecords(topic, 0, "max_records=1000")).high_watermark).toBe(PRODUCER_SNAPSHOT_ROWS + 1);
	});

	it("saves the producers' snapshot after PRODUCER_SNAPSHOT_ROWS rows of plain producers, also after an eviction", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await initProducer();
		const first = await (await post(topic, { producer_id, epoch, sequence: 0, records: [{ value: "idempotent" }] })).json();
		const replayFrom = async () =>
			runInDurableObject(await partitionStub(topic), (_, state) => ({
				from: state.storage.sql.exec("SELECT producers_replay_from AS f FROM partition_state").one().f,
				saved: state.storage.sql.exec("SELECT COUNT(*) AS n FROM producer_state").one().n,
			}));
		expect(await replayFrom()).toEqual({ from: 0, saved: 0 });
		// Woken with a row to replay, the partition is then written by plain producers only.
		await abortAllDurableObjects();
		for (let i = 1; i < PRODUCER_SNAPSHOT_ROWS; i++) {
			expect(await replayFrom()).toEqual({ from: 0, saved: 0 });
			await post(topic, { records: [{ value: `plain ${i}` }] });
		}
		expect(await replayFrom()).toEqual({ from: null, saved: 1 });
		expect(await (await post(topic, { producer_id, epoch, sequence: 0, records: [{ value: "idempotent" }] })).json()).toEqual(first);
	});

	it("saves the producers' snapshot once the rows since hold PRODUCER_SNAPSHOT_BYTES, however few they are", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await initProducer();
		// About a MiB a request: a few rows in all, far fewer than PRODUCER_SNAPSHOT_ROWS.
		const records = Array.from({ length: 8 }, (_, i) => ({ value: `${i}`.padEnd(128 * 1024 - 64, "x") }));
		const requests = Math.ceil(PRODUCER_SNAPSHOT_BYTES / (1024 * 1024));
		const saved = async () =>
			runInDurableObject(await partitionStub(topic), (_, state) => ({
				states: state.storage.sql.exec<{ last_sequence: number }>("SELECT last_sequence FROM producer_state").toArray(),
				rows: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM batches").one().n,
			}));
		for (let r = 0; r < requests; r++) {
			expect(await saved()).toMatchObject({ states: [] });
			expect((await post(topic, { producer_id, epoch, sequence: r * records.length, records })).status).toBe(200);
		}
		const after = await saved();
		expect(after.states).toEqual([{ last_sequence: requests * records.length - 1 }]);
		expect(after.rows).toBeLessThan(PRODUCER_SNAPSHOT_ROWS);
	});

	it("saves the producers' snapshot before retention deletes the rows that name their batches", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": 1000 });
		const { producer_id, epoch } = await initProducer();
		const old = Date.now() - 10_000;
		const answers: unknown[] = [];
		for (let sequence = 0; sequence < 3; sequence++) {
			answers.push(await (await post(topic, { producer_id, epoch, sequence, records: [{ value: sequence, timestamp: old }] })).json());
		}
		// The retention alarm is due at once (records 10 s old, 1 s retention): the log it left proves it ran.
		await runDueAlarm(await partitionStub(topic));
		expect(await fetchRecords(topic, 0)).toMatchObject({ records: [], log_start_offset: 3, high_watermark: 3 });
		await abortAllDurableObjects();
		// Every row is gone; the snapshot answers the retry and knows the next sequence.
		const retry = await post(topic, { producer_id, epoch, sequence: 2, records: [{ value: 2, timestamp: old }] });
		expect(await retry.json()).toEqual(answers[2]);
		await expectError("POST", `/v1/topics/${topic}/records`, 409, "out_of_order_sequence", {
			body: { producer_id, epoch, sequence: 5, records: [{ value: "gap" }] },
		});
		const next = await post(topic, { producer_id, epoch, sequence: 3, records: [{ value: 3 }] });
		expect(((await next.json()) as { offsets: { offset: number }[] }).offsets[0]?.offset).toBe(3);
	});

	it("refuses a gap in sequence (409 out_of_order_sequence) and writes nothing", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await initProducer();
		await post(topic, { producer_id, epoch, sequence: 0, records: [{ value: 1 }] });
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 409, "out_of_order_sequence", {
			body: { producer_id, epoch, sequence: 5, records: [{ value: 2 }] },
		});
		expect(error.expected_sequence).toBe(1);
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(1);
	});

	it("wraps a producer's sequence after 2147483647 to 0, as Kafka's int32 sequence does, and refuses one past it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await initProducer();
		const MAX = 2_147_483_647;
		const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ value: from + i }));
		const offsets = async (response: Response) =>
			((await response.json()) as { offsets: { offset: number }[] }).offsets.map((o) => o.offset);
		// 20 records from 2147483640: their sequences run up to 2147483647, then 0 to 11.
		const spanning = { producer_id, epoch, sequence: MAX - 7, records: values(0, 20) };
		expect(await offsets(await post(topic, spanning))).toEqual(values(0, 20).map((r) => r.value));
		expect(await offsets(await post(topic, spanning))).toEqual(values(0, 20).map((r) => r.value));
		// Its records from sequence 0 on, retried alone, are recognised at their own offsets.
		expect(await offsets(await post(topic, { producer_id, epoch, sequence: 0, records: values(8, 3) }))).toEqual([8, 9, 10]);
		const next = await post(topic, { producer_id, epoch, sequence: 12, records: values(20, 1) });
		expect(next.status).toBe(200);
		expect(await offsets(next)).toEqual([20]);
		const gap = await expectError("POST", `/v1/topics/${topic}/records`, 409, "out_of_order_sequence", {
			body: { producer_id, epoch, sequence: 14, records: values(21, 1) },
		});
		expect(gap.expected_sequence).toBe(13);
		// No sequence is above 2147483647, on either of the body's paths, for a known producer or a new one.
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			body: { producer_id, epoch, sequence: MAX + 1, records: values(21, 1) },
		});
		const fresh = await initProducer();
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			body: { ...fresh, sequence: MAX + 13, records: values(21, 1) },
		});
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			body: { ...fresh, sequences: { "0": MAX + 1 }, records: values(21, 1) },
		});
		// A batch that ends at 2147483647 is followed by one at 0.
		expect((await post(topic, { ...fresh, sequence: MAX - 1, records: values(100, 2) })).status).toBe(200);
		expect(await offsets(await post(topic, { ...fresh, sequence: 0, records: values(102, 1) }))).toEqual([23]);
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(24);
	});

	it("runs a producer started near the top across it: the next batch at 2, a retry answered with its offsets, a gap and an overlap refused", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await initProducer();
		const MAX = 2_147_483_647;
		const offsets = async (response: Response) =>
			((await response.json()) as { offsets: { offset: number }[] }).offsets.map((o) => o.offset);
		// An unknown producer may start anywhere: 5 records from 2147483645 are …645, …646, …647, 0 and 1.
		const wrapping = { producer_id, epoch, sequence: MAX - 2, records: ["a", "b", "c", "d", "e"].map((value) => ({ value })) };
		expect(await offsets(await post(topic, wrapping))).toEqual([0, 1, 2, 3, 4]);
		expect(await offsets(await post(topic, { producer_id, epoch, sequence: 2, records: [{ value: "f" }] }))).toEqual([5]);
		expect(await offsets(await post(topic, wrapping))).toEqual([0, 1, 2, 3, 4]);
		const gap = await expectError("POST", `/v1/topics/${topic}/records`, 409, "out_of_order_sequence", {
			body: { producer_id, epoch, sequence: 4, records: [{ value: "gap" }] },
		});
		expect(gap.expected_sequence).toBe(3);
		const overlap = await expectError("POST", `/v1/topics/${topic}/records`, 409, "out_of_order_sequence", {
			body: { producer_id, epoch, sequence: 1, records: ["x", "y", "z"].map((value) => ({ value })) },
		});
		expect(overlap.expected_sequence).toBe(3);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["a", "b", "c", "d", "e", "f"]);
	});

	it("fences an old epoch once the producer is re-initialised (409 fenced)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const name = `tx-${crypto.randomUUID()}`;
		const old = await initProducer({ transactional_id: name });
		await post(topic, { producer_id: old.producer_id, epoch: old.epoch, sequence: 0, records: [{ value: "old" }] });
		const current = await initProducer({ transactional_id: name });
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 409, "fenced", {
			body: { producer_id: old.producer_id, epoch: old.epoch, sequence: 1, records: [{ value: "zombie" }] },
		});
		expect(error.current_epoch).toBe(current.epoch);
		const ok = await post(topic, { producer_id: current.producer_id, epoch: current.epoch, sequence: 0, records: [{ value: "new" }] });
		expect(ok.status).toBe(200);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["old", "new"]);
	});

	it("takes per-partition sequences and checks they name exactly the partitions used", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 3);
		const { producer_id, epoch } = await initProducer();
		const records = [
			{ value: "p0", partition: 0 },
			{ value: "p2", partition: 2 },
		];
		const body = { producer_id, epoch, sequences: { "0": 0, "2": 0 }, records };
		const first = await (await post(topic, body)).json();
		expect(await (await post(topic, body)).json()).toEqual(first);
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			body: { producer_id, epoch, sequences: { "0": 1 }, records },
		});
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			body: { producer_id, epoch, sequence: 1, records },
		});
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(1);
		expect((await fetchRecords(topic, 2)).high_watermark).toBe(1);
	});

	it("a request over several partitions whose sequence one of them refuses writes no share", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 3);
		const { producer_id, epoch } = await initProducer();
		const records = (round: number) => [0, 1, 2].map((partition) => ({ value: `r${round}-p${partition}`, partition }));
		await post(topic, { producer_id, epoch, sequences: { "0": 0, "1": 0, "2": 0 }, records: records(0) });
		// Partitions 0 and 2 would take theirs; partition 1 expects sequence 1, not 7.
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 409, "out_of_order_sequence", {
			body: { producer_id, epoch, sequences: { "0": 1, "1": 7, "2": 1 }, records: records(1) },
		});
		expect(error.expected_sequence).toBe(1);
		for (const partition of [0, 1, 2]) expect((await fetchRecords(topic, partition)).high_watermark).toBe(1);
		// The same request with the right sequences is written whole, once.
		const fixed = { producer_id, epoch, sequences: { "0": 1, "1": 1, "2": 1 }, records: records(1) };
		const written = await (await post(topic, fixed)).json();
		expect(await (await post(topic, fixed)).json()).toEqual(written);
		for (const partition of [0, 1, 2]) expect((await fetchRecords(topic, partition)).high_watermark).toBe(2);
	});

	it("forgets a producer whose state expired (its next batch may start anywhere), though the partition had it in memory", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await initProducer();
		await post(topic, { producer_id, epoch, sequence: 0, records: [{ value: "a" }] });
		await expectError("POST", `/v1/topics/${topic}/records`, 409, "out_of_order_sequence", {
			body: { producer_id, epoch, sequence: 7, records: [{ value: "gap" }] },
		});
		const stub = await partitionStub(topic);
		// An alarm saves the producers' snapshot (until then the state is named in the batch rows only).
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		// Idle past producer.id.expiration.ms: the alarm's expiry run deletes the row.
		await runInDurableObject(stub, (_, state) => state.storage.sql.exec("UPDATE producer_state SET updated_at_ms = 0"));
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect((await post(topic, { producer_id, epoch, sequence: 7, records: [{ value: "b" }] })).status).toBe(200);
		await expectError("POST", `/v1/topics/${topic}/records`, 409, "out_of_order_sequence", {
			body: { producer_id, epoch, sequence: 9, records: [{ value: "gap" }] },
		});
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["a", "b"]);
	});

	it("refuses unknown producers and half-specified claims", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await expectError("POST", `/v1/topics/${topic}/records`, 409, "unknown_producer", {
			body: { producer_id: 987654321, epoch: 0, sequence: 0, records: [{ value: 1 }] },
		});
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", { body: { producer_id: 1, records: [{ value: 1 }] } });
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			body: { producer_id: 1, epoch: 0, sequence: 0, sequences: { "0": 0 }, records: [{ value: 1 }] },
		});
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(0);
	});
});

describe("Idempotency-Key", () => {
	it("returns the first response verbatim and writes nothing, across partitions and after eviction", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const body = { records: [{ key: "a", value: 1 }, { key: "b", value: 2 }, { value: "no key" }, { key: "c", value: 3 }] };
		const headers = { "Idempotency-Key": `order-${crypto.randomUUID()}` };
		const first = await post(topic, body, headers);
		const firstText = await first.text();
		expect(first.status).toBe(200);
		expect(first.headers.get("Idempotent-Replayed")).toBeNull();
		const again = await post(topic, body, headers);
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await again.text()).toBe(firstText);
		await abortAllDurableObjects();
		expect(await (await post(topic, body, headers)).text()).toBe(firstText);
		expect((await highWatermarks(topic)).reduce((n, w) => n + w, 0)).toBe(4);
		const other = await post(topic, body, { "Idempotency-Key": `other-${crypto.randomUUID()}` });
		expect(other.status).toBe(200);
		expect(await other.text()).not.toBe(firstText);
	});

	it("refuses a key reused for a request over other partitions (409) whose shares differ or are a part, and writes none of it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 3);
		const key = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
		const first = [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 1 },
		];
		const written = await post(topic, { records: first }, key);
		expect(written.status).toBe(200);
		for (const records of [
			// The first request and one record more, elsewhere: partition 0's share is the same as before.
			[...first, { value: "new", partition: 2 }],
			// A share of the first, alone.
			[{ value: "a", partition: 0 }],
			// Partition 0's share changed, partition 2's is new.
			[
				{ value: "x", partition: 0 },
				{ value: "y", partition: 2 },
			],
		]) {
			await expectError("POST", `/v1/topics/${topic}/records`, 409, "idempotency_key_reused", { body: { records }, headers: key });
		}
		const watermarks = await Promise.all([0, 1, 2].map(async (p) => (await fetchRecords(topic, p)).high_watermark));
		expect(watermarks).toEqual([1, 1, 0]);
		const replayed = await post(topic, { records: first }, key);
		expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await replayed.text()).toBe(await written.text());
	});

	it("writes a request anew once its key's window has passed, and answers retries of that one", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const headers = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
		await post(topic, { records: [{ value: "first" }] }, headers);
		// Older than the window, before any expiry run removed the row.
		const stub = await partitionStub(topic);
		await runInDurableObject(stub, (_, state) => state.storage.sql.exec("UPDATE idempotency_keys SET created_at_ms = 0"));
		const anew = await post(topic, { records: [{ value: "second" }] }, headers);
		expect(anew.headers.get("Idempotent-Replayed")).toBeNull();
		const answer = await anew.text();
		const retry = await post(topic, { records: [{ value: "second" }] }, headers);
		expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await retry.text()).toBe(answer);
		await expectError("POST", `/v1/topics/${topic}/records`, 409, "idempotency_key_reused", {
			body: { records: [{ value: "first" }] },
			headers,
		});
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["first", "second"]);
	});

	it("releases a key whose request was refused, so its retry is written", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const headers = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
		await expectError("POST", `/v1/topics/${topic}/records`, 409, "offset_mismatch", {
			body: { records: [{ value: "x" }], expected_offset: 3 },
			headers,
		});
		const written = await post(topic, { records: [{ value: "x" }], expected_offset: 0 }, headers);
		expect(written.status).toBe(200);
		expect(written.headers.get("Idempotent-Replayed")).toBeNull();
		const replayed = await post(topic, { records: [{ value: "x" }], expected_offset: 0 }, headers);
		expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(1);
	});

	it("refuses a key reused for a different request (409) and a malformed key (400)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const headers = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
		await post(topic, { records: [{ value: 1 }, { value: 2, timestamp: 5 }] }, headers);
		// The digest covers every record's value and timestamp, and their order.
		for (const records of [
			[{ value: 1 }, { value: 3, timestamp: 5 }],
			[{ value: 1 }, { value: 2, timestamp: 6 }],
			[{ value: 1 }, { value: 2 }],
			[{ value: 2, timestamp: 5 }, { value: 1 }],
			[{ value: 1, timestamp: 5 }, { value: 2 }],
		]) {
			await expectError("POST", `/v1/topics/${topic}/records`, 409, "idempotency_key_reused", { body: { records }, headers });
		}
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			body: { records: [{ value: 2 }] },
			headers: { "Idempotency-Key": "has space" },
		});
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(2);
	});
});

describe("conditional append (expected_offset)", () => {
	it("appends only at the expected offset and reports the high watermark on a mismatch", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const first = await produce(topic, [{ value: "e1", partition: 1 }]);
		expect(first.offsets[0]?.offset).toBe(0);
		const ok = await post(topic, {
			expected_offset: 1,
			records: [
				{ value: "e2", partition: 1 },
				{ value: "e3", partition: 1 },
			],
		});
		expect(ok.status).toBe(200);
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 409, "offset_mismatch", {
			body: { expected_offset: 1, records: [{ value: "stale", partition: 1 }] },
		});
		expect(error.high_watermark).toBe(3);
		expect((await fetchRecords(topic, 1)).records.map((r) => r.value)).toEqual(["e1", "e2", "e3"]);
	});

	it("needs every record in one partition", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			body: {
				expected_offset: 0,
				records: [
					{ value: 1, partition: 0 },
					{ value: 2, partition: 1 },
				],
			},
		});
	});

	it("lets only one of two racing writers win", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const results = await Promise.all(
			["writer-a", "writer-b", "writer-c"].map((writer) =>
				post(topic, { expected_offset: 0, records: [{ key: "stream", value: writer }] }),
			),
		);
		expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(1);
	});
});
