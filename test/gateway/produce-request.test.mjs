/**
 * A Produce request as a Kafka broker judges it before writing: an `acks` other than -1, 0 or 1 is answered with
 * INVALID_REQUIRED_ACKS for every partition, and a partition's data holding more than one record batch with
 * INVALID_RECORD (Produce v3+ carries exactly one batch per partition), with nothing written in either case. The
 * handler runs against a stand-in for Tributary that records every produce it is asked for.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { produce } from "../../gateway/handlers/records.js";
import { PRODUCE_RECORDS_MAX, WORKER_REQUESTS_AT_ONCE_MAX } from "../../gateway/limits.js";
import { COMPRESSION, crc32c, encodeBatch } from "../../gateway/protocol/record-batch.js";
import { TopicList } from "../../gateway/topic-list.js";
import { inFlight } from "./lib/in-flight.mjs";

/** Bytes of a batch before its records (baseOffset … recordCount). */
const BATCH_OVERHEAD_BYTES = 61;

/**
 * A request context whose Tributary answers every produce with offsets from 0, and records what it was sent; every
 * topic's timestamp type is CreateTime. As the Worker, it refuses a produce of more than PRODUCE_RECORDS_MAX records
 * with its schema's 400 (after recording it).
 */
function context(version = 9) {
	/** @type {{ topic: string, body: any }[]} */
	const produced = [];
	const tributary = {
		credentials: { authorization: null },
		async topicConfig() {
			return { status: 200, body: { name: "message.timestamp.type", value: "CreateTime" } };
		},
		/** @param {string} topic @param {number} _partition @param {Buffer} body */
		async produce(topic, _partition, body) {
			const parsed = JSON.parse(body.toString("utf8"));
			produced.push({ topic, body: parsed });
			if (parsed.records.length > PRODUCE_RECORDS_MAX) {
				const message = `records: must hold at most ${PRODUCE_RECORDS_MAX} items`;
				return { status: 400, body: { error: { code: "invalid_request", message, retriable: false } } };
			}
			return { status: 200, body: { offsets: parsed.records.map((/** @type {any} */ _, i) => ({ partition: 0, offset: i })) } };
		},
	};
	return {
		ctx: /** @type {any} */ ({
			tributary,
			session: { topicList: new TopicList() },
			version,
			advertised: { host: "h", port: 1 },
			log: () => {},
		}),
		produced,
	};
}

/** One batch of `values`, offsets from 0. @param {string[]} values */
function batch(values) {
	return encodeBatch(values.map((value, offset) => ({ offset, timestamp: 1_700_000_000_000, key: null, value, headers: [] })));
}

/** @param {number} acks @param {Buffer} records */
function request(acks, records) {
	return { transactionalId: null, acks, timeoutMs: 1_000, topicData: [{ name: "t", partitionData: [{ index: 0, records }] }] };
}

test("Produce with acks other than -1, 0 or 1 is INVALID_REQUIRED_ACKS for every partition, and nothing is written", async () => {
	for (const acks of [2, -2, 5]) {
		const { ctx, produced } = context();
		const answer = /** @type {any} */ (await produce(request(acks, await batch(["a"])), ctx));
		assert.notEqual(answer, null, `acks=${acks} is answered`);
		assert.deepEqual(
			answer.responses[0].partitionResponses.map((/** @type {any} */ p) => [p.index, p.errorCode]),
			[[0, KAFKA.INVALID_REQUIRED_ACKS]],
			`acks=${acks}`,
		);
		assert.deepEqual(produced, [], `acks=${acks} wrote nothing`);
	}
	for (const acks of [-1, 1]) {
		const { ctx, produced } = context();
		const answer = /** @type {any} */ (await produce(request(acks, await batch(["a"])), ctx));
		assert.equal(answer.responses[0].partitionResponses[0].errorCode, KAFKA.NONE, `acks=${acks}`);
		assert.equal(produced.length, 1, `acks=${acks} wrote its batch`);
	}
});

test("a partition's data with two record batches is INVALID_RECORD and neither batch is written (all or nothing)", async () => {
	const { ctx, produced } = context();
	const two = Buffer.concat([await batch(["first"]), await batch(["second", "third"])]);
	const answer = /** @type {any} */ (await produce(request(-1, two), ctx));
	const [partition] = answer.responses[0].partitionResponses;
	assert.equal(partition.errorCode, KAFKA.INVALID_RECORD);
	assert.equal(partition.baseOffset, -1);
	assert.match(partition.errorMessage, /exactly one record batch per partition/);
	assert.deepEqual(produced, []);
});

test("one batch per partition is one produce of all its records", async () => {
	const { ctx, produced } = context();
	const answer = /** @type {any} */ (await produce(request(1, await batch(["x", "y", "z"])), ctx));
	assert.deepEqual(answer.responses[0].partitionResponses[0], {
		index: 0,
		errorCode: KAFKA.NONE,
		baseOffset: 0,
		logAppendTimeMs: -1,
		logStartOffset: -1,
	});
	assert.deepEqual(
		produced.map((p) => p.body.records.map((/** @type {any} */ r) => r.value)),
		[["x", "y", "z"]],
	);
});

test("a partition's data holding no record batch is INVALID_RECORD (not the retriable CORRUPT_MESSAGE), and nothing is written", async () => {
	const { ctx, produced } = context();
	for (const records of [Buffer.alloc(0), null]) {
		const answer = /** @type {any} */ (await produce(request(-1, /** @type {any} */ (records)), ctx));
		assert.equal(answer.responses[0].partitionResponses[0].errorCode, KAFKA.INVALID_RECORD, String(records));
	}
	assert.deepEqual(produced, []);
});

/** `plain`'s records as one zstd frame of raw blocks (what libzstd writes for incompressible input), length and CRC made right. */
function asZstd(/** @type {Buffer} */ plain) {
	const body = plain.subarray(BATCH_OVERHEAD_BYTES);
	const block = Buffer.alloc(3);
	block.writeUIntLE((body.length << 3) | 1, 0, 3);
	// Frame header: magic, no content size, single segment off, a window of 128 KiB.
	const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3]), block, body]);
	const batch = Buffer.concat([plain.subarray(0, BATCH_OVERHEAD_BYTES), frame]);
	batch.writeInt32BE(batch.length - 12, 8);
	batch.writeInt16BE(COMPRESSION.zstd, 21);
	batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
	return batch;
}

test("a zstd batch in Produce v3-v6 is UNSUPPORTED_COMPRESSION_TYPE and nothing is written (zstd needs v7+, KIP-110); v7+ takes it", async () => {
	const zstd = asZstd(await batch(["squeezed"]));
	for (const version of [3, 4, 5, 6]) {
		const { ctx, produced } = context(version);
		const answer = /** @type {any} */ (await produce(request(-1, zstd), ctx));
		const [partition] = answer.responses[0].partitionResponses;
		assert.equal(partition.errorCode, KAFKA.UNSUPPORTED_COMPRESSION_TYPE, `v${version}`);
		assert.match(partition.errorMessage, new RegExp(`version ${version} .*ZStandard`));
		assert.deepEqual(produced, [], `v${version} wrote nothing`);
	}
	for (const version of [7, 9]) {
		const { ctx, produced } = context(version);
		const answer = /** @type {any} */ (await produce(request(-1, zstd), ctx));
		assert.equal(answer.responses[0].partitionResponses[0].errorCode, KAFKA.NONE, `v${version}`);
		assert.deepEqual(
			produced.map((p) => p.body.records.map((/** @type {any} */ r) => r.value)),
			[["squeezed"]],
		);
	}
});

test("a batch of more records than one Tributary produce takes is RECORD_LIST_TOO_LARGE (not INVALID_TOPIC_EXCEPTION) and is not sent; the cap itself is written", async () => {
	const { ctx, produced } = context();
	const values = Array.from({ length: PRODUCE_RECORDS_MAX + 1 }, (_, i) => String(i));
	const answer = /** @type {any} */ (await produce(request(-1, await batch(values)), ctx));
	const [partition] = answer.responses[0].partitionResponses;
	assert.deepEqual([partition.errorCode, partition.baseOffset], [KAFKA.RECORD_LIST_TOO_LARGE, -1]);
	assert.equal(
		partition.errorMessage,
		`The batch holds ${PRODUCE_RECORDS_MAX + 1} records, more than the ${PRODUCE_RECORDS_MAX} one append takes.`,
	);
	assert.deepEqual(produced, []);
	const full = /** @type {any} */ (await produce(request(-1, await batch(values.slice(1))), ctx));
	assert.equal(full.responses[0].partitionResponses[0].errorCode, KAFKA.NONE);
	assert.deepEqual(
		produced.map((p) => p.body.records.length),
		[PRODUCE_RECORDS_MAX],
	);
});

test("a Produce to many partitions sends the Worker at most WORKER_REQUESTS_AT_ONCE_MAX produces at a time; each partition's result and error in its place", async () => {
	const partitions = 128;
	const calls = inFlight();
	const { ctx, produced } = context();
	const { produce: produceNow } = ctx.tributary;
	// Partition p answers base offset 1000·p; every fifth is refused as a key without write on it.
	ctx.tributary.produce = (/** @type {string} */ topic, /** @type {number} */ index, /** @type {Buffer} */ body) =>
		calls.answer(async () => {
			const answer = await produceNow(topic, index, body);
			const { partition } = JSON.parse(body.toString("utf8")).records[0];
			if (partition % 5 === 0) return { status: 403, body: { error: { code: "forbidden", message: `no write on ${partition}` } } };
			return {
				...answer,
				body: { offsets: answer.body.offsets.map((/** @type {any} */ o) => ({ ...o, offset: 1_000 * partition + o.offset })) },
			};
		});
	const topicData = await Promise.all(
		["a", "b"].map(async (name) => ({
			name,
			partitionData: await Promise.all(
				Array.from({ length: partitions }, async (_, index) => ({ index, records: await batch([`${index}`]) })),
			),
		})),
	);
	const answer = /** @type {any} */ (await produce({ transactionalId: null, acks: -1, timeoutMs: 1_000, topicData }, ctx));
	assert.deepEqual(
		answer.responses.map((/** @type {any} */ t) =>
			t.partitionResponses.map((/** @type {any} */ p) => [t.name, p.index, p.errorCode, p.baseOffset, p.errorMessage]),
		),
		topicData.map((t) =>
			t.partitionData.map(({ index }) =>
				index % 5 === 0
					? [t.name, index, KAFKA.TOPIC_AUTHORIZATION_FAILED, -1, `no write on ${index}`]
					: [t.name, index, KAFKA.NONE, 1_000 * index, undefined],
			),
		),
	);
	assert.equal(produced.length, 2 * partitions);
	assert.ok(calls.counts.max <= WORKER_REQUESTS_AT_ONCE_MAX, `${calls.counts.max} produces at once`);
	assert.ok(calls.counts.max > 1, "the produces still overlap");
});
