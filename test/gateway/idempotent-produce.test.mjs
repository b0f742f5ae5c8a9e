/**
 * An idempotent Produce through the gateway across the top of Kafka's int32 sequence: a record batch's base sequence
 * goes to Tributary unchanged, its last sequence being (base + records − 1) modulo 2^31 as Kafka's
 * `DefaultRecordBatch.incrementSequence` makes it, so the batch's records must be exactly the ones its offset range
 * names; Tributary's duplicate answer is the original base offset, its refusals OUT_OF_ORDER_SEQUENCE_NUMBER. A batch
 * Kafka's LogValidator refuses before any sequence check (a negative base sequence with a producer id, a record count
 * that is not its offset range) is INVALID_RECORD, and nothing is sent. Batches are encoded by kafkajs' own record
 * batch encoder, frames go through the whole gateway, against a stand-in for Tributary that records every produce and
 * answers each with the next of the answers a test gives it (written from offset 0 when it gave none).
 */

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { beforeEach, test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { exchange } from "../e2e/lib/kafka.mjs";
import { gatewayOver, routeServer } from "./lib/stand-in.mjs";

const require = createRequire(import.meta.url);
const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js");
const Record = require("kafkajs/src/protocol/recordBatch/record/v0/index.js");
const Long = require("kafkajs/src/utils/long");

/** Kafka's Integer.MAX_VALUE, the highest sequence: the one after it is 0. */
const SEQUENCE_MAX = 2_147_483_647;
const PRODUCER = { producerId: 9, epoch: 0 };

/** @type {any[]} the produce bodies Tributary was sent, in order */
const sent = [];
/** @type {{ status: number, body: unknown }[]} the answers to the next produces, in order */
const answers = [];

const worker = routeServer((method, url, body) => {
	if (method === "POST" && url.pathname === "/v1/topics/t/records") {
		sent.push(body);
		// Unless a test said otherwise, written from offset 0, as a new producer's first batch is.
		return answers.shift() ?? written(body.records.map((/** @type {unknown} */ _, i) => i));
	}
	return { status: 200, body: { topics: [], next_cursor: null } };
});
const gateway = gatewayOver(worker);

beforeEach(() => {
	sent.length = 0;
	answers.length = 0;
});

/** Tributary's answer to a produce written at `offsets` (also its answer to a retry of one). @param {number[]} offsets */
const written = (offsets) => ({ status: 200, body: { offsets: offsets.map((offset) => ({ partition: 0, offset, timestamp: 1 })) } });

/** Tributary's refusal of a sequence it did not expect. @param {number} expected */
const outOfOrder = (expected) => ({
	status: 409,
	body: {
		error: { code: "out_of_order_sequence", message: `expected sequence ${expected}`, retriable: false, expected_sequence: expected },
	},
});

/**
 * An idempotent batch of `values` from `firstSequence`, as kafkajs encodes one; `lastOffsetDelta` defaults to the
 * last record's.
 * @param {number} firstSequence @param {string[]} values @param {number} [lastOffsetDelta]
 */
async function batch(firstSequence, values, lastOffsetDelta = values.length - 1) {
	const records = values.map((value, offsetDelta) => Record({ offsetDelta, timestampDelta: 0, key: null, value: Buffer.from(value) }));
	const encoded = await RecordBatch({
		firstTimestamp: 1,
		maxTimestamp: 1,
		lastOffsetDelta,
		producerId: Long.fromNumber(PRODUCER.producerId),
		producerEpoch: PRODUCER.epoch,
		firstSequence,
		records,
	});
	return encoded.buffer;
}

/** Produce v9 of `records` to t-0: the partition's [error code, base offset]. @param {Buffer} records */
async function produce(records) {
	const request = { transactionalId: null, acks: -1, timeoutMs: 1_000, topicData: [{ name: "t", partitionData: [{ index: 0, records }] }] };
	const [partition] = (await exchange(gateway.port, "Produce", 9, request)).responses[0].partitionResponses;
	return [partition.errorCode, partition.baseOffset];
}

test("a batch across the top of the sequence goes to Tributary at its base sequence; the one after starts at 2, a retry gets its offsets, a gap and an overlap are out of order", async () => {
	// 5 records from 2147483645: …645, …646, …647, 0, 1.
	const wrapping = await batch(SEQUENCE_MAX - 2, ["a", "b", "c", "d", "e"]);
	answers.push(written([0, 1, 2, 3, 4]), written([5]), written([0, 1, 2, 3, 4]), outOfOrder(3), outOfOrder(3));
	assert.deepEqual(await produce(wrapping), [KAFKA.NONE, 0]);
	assert.deepEqual(await produce(await batch(2, ["f"])), [KAFKA.NONE, 5]);
	assert.deepEqual(await produce(wrapping), [KAFKA.NONE, 0], "a duplicate is answered with its original base offset");
	assert.deepEqual(await produce(await batch(4, ["gap"])), [KAFKA.OUT_OF_ORDER_SEQUENCE_NUMBER, -1]);
	assert.deepEqual(await produce(await batch(1, ["x", "y", "z"])), [KAFKA.OUT_OF_ORDER_SEQUENCE_NUMBER, -1]);
	const { producerId: producer_id, epoch } = PRODUCER;
	assert.deepEqual(
		sent.map((body) => [body.producer_id, body.epoch, body.sequence, body.records.map((/** @type {any} */ r) => r.value)]),
		[
			[producer_id, epoch, SEQUENCE_MAX - 2, ["a", "b", "c", "d", "e"]],
			[producer_id, epoch, 2, ["f"]],
			[producer_id, epoch, SEQUENCE_MAX - 2, ["a", "b", "c", "d", "e"]],
			[producer_id, epoch, 4, ["gap"]],
			[producer_id, epoch, 1, ["x", "y", "z"]],
		],
	);
});

test("a batch whose record count is not its offset range is INVALID_RECORD (its last sequence would not be its last record's), and nothing is sent", async () => {
	// Kafka's LogValidator: "Inconsistent batch offset range [0, 4] and count of records 2".
	assert.deepEqual(await produce(await batch(SEQUENCE_MAX - 2, ["a", "b"], 4)), [KAFKA.INVALID_RECORD, -1]);
	assert.deepEqual(await produce(await batch(SEQUENCE_MAX, ["a", "b", "c"], 1)), [KAFKA.INVALID_RECORD, -1]);
	assert.deepEqual(sent, []);
});

test("an idempotent batch with a negative base sequence is INVALID_RECORD, and nothing is sent", async () => {
	// Kafka's LogValidator: "Invalid sequence number -1 in record batch with producerId 9".
	for (const firstSequence of [-1, -2_147_483_648]) {
		assert.deepEqual(await produce(await batch(firstSequence, ["a"])), [KAFKA.INVALID_RECORD, -1], `base sequence ${firstSequence}`);
	}
	assert.deepEqual(sent, []);
});

test("a batch with no records is INVALID_RECORD, as Kafka's LogValidator refuses a count or an offset range of 0, and nothing is sent", async () => {
	// "Invalid reported count for record batch: 0", and "Batch has an invalid offset range: [0, -1]".
	assert.deepEqual(await produce(await batch(0, [], 0)), [KAFKA.INVALID_RECORD, -1]);
	assert.deepEqual(await produce(await batch(0, [])), [KAFKA.INVALID_RECORD, -1]);
	assert.deepEqual(sent, []);
});
