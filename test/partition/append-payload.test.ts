/**
 * The edge hands a partition its share of a produce as one `EncodedBatch` payload; objects inside the log (and
 * older callers) still pass an array of records. Both must store the very same rows, and a partition written
 * the old way must read back as before: the stored format did not change, only how records travel to it.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { appendOutcome } from "../../src/shared/append-answer.ts";
import { compactionKeyId, type EncodedRecord, encodeBatch, encodeTail } from "../../src/shared/record-codec.ts";
import { partitionObjectName } from "../../src/topic/types.ts";
import { uniqueTopic } from "../support/names.ts";
import { createTopic, fetchRecords, produce } from "../support/worker.ts";

async function topicOf(name: string) {
	const meta = await env.TOPIC_REGISTRY.getByName("global").getTopic(name);
	if (!meta.ok) throw new Error(`topic ${name} missing`);
	return meta.value;
}

/** Recent timestamps: older ones would leave the log at the next retention pass. */
const T0 = Date.now();

const SENT = [
	{ key: "k-1", value: { text: "é ✓ \u2028", n: [1, 2.5] }, headers: [{ key: "h", value: "x" }], timestamp: T0 + 1 },
	{ key: null, value: 'plain "quoted" \\ text\n', timestamp: T0 + 2 },
	{ key: "k-2", value: null, timestamp: T0 + 3 },
];

/** The records of SENT as the edge encodes them. */
function encodedRecords(): EncodedRecord[] {
	return SENT.map((r) => {
		const tail = encodeTail({
			key: r.key,
			value: r.value,
			headers: r.headers ?? [],
			timestampMs: r.timestamp,
			keyEncoding: "json",
			valueEncoding: "json",
		});
		return {
			timestampMs: r.timestamp,
			tail,
			bytes: new TextEncoder().encode(tail).byteLength,
			keyId: compactionKeyId(r.key, "json"),
			tombstone: r.value === null,
		};
	});
}

async function storedRows(topic: string) {
	const meta = await topicOf(topic);
	const stub = env.PARTITION_LOG.getByName(partitionObjectName(meta.topicId, 0));
	return runInDurableObject(stub, (_, state) =>
		state.storage.sql.exec("SELECT base_offset, last_offset, record_count, bytes, records FROM batches ORDER BY base_offset").toArray(),
	);
}

/** A topic whose partition holds one configuring record, then SENT appended straight to the object by `append`. */
async function appendedDirectly(payload: "records" | "batch") {
	const topic = uniqueTopic(`payload-${payload}`);
	await createTopic(topic);
	await produce(topic, [{ value: "first", timestamp: T0 }]);
	const meta = await topicOf(topic);
	const stub = env.PARTITION_LOG.getByName(partitionObjectName(meta.topicId, 0));
	await runInDurableObject(stub, async (instance: PartitionLog) => {
		const base = { topicId: meta.topicId, configVersion: meta.configVersion };
		const records = encodedRecords();
		const result = appendOutcome(
			await instance.append(payload === "records" ? { ...base, records } : { ...base, batch: encodeBatch(records) }),
		);
		if (!("ok" in result) || !result.ok) throw new Error(`append failed: ${JSON.stringify(result)}`);
		expect(result.value.baseOffset).toBe(1);
	});
	return topic;
}

describe("append payloads", () => {
	it("stores the same rows whether the records come as an array or as one batch payload, and as the edge stores them", async () => {
		const viaRecords = await appendedDirectly("records");
		const viaBatch = await appendedDirectly("batch");
		const viaEdge = uniqueTopic("payload-edge");
		await createTopic(viaEdge);
		await produce(viaEdge, [{ value: "first", timestamp: T0 }]);
		await produce(viaEdge, SENT);
		const rows = await storedRows(viaRecords);
		expect(rows).toHaveLength(2);
		expect(await storedRows(viaBatch)).toEqual(rows);
		expect(await storedRows(viaEdge)).toEqual(rows);
	});

	it("reads a partition written through the array payload exactly as one written through the edge", async () => {
		const old = await appendedDirectly("records");
		const fetched = await fetchRecords(old, 0, "offset=0&max_records=10");
		expect(fetched.records.map((r) => [r.offset, r.key, r.value, r.timestamp])).toEqual([
			[0, null, "first", T0],
			...SENT.map((r, i) => [i + 1, r.key, r.value, r.timestamp]),
		]);
		expect(fetched.records[1]?.headers).toEqual([{ key: "h", value: "x" }]);
		// Partial batches (a read starting inside a stored batch) split the same lines.
		const inside = await fetchRecords(old, 0, "offset=2&max_records=1");
		expect(inside.records.map((r) => r.offset)).toEqual([2]);
		expect(inside.next_offset).toBe(3);
	});
});
