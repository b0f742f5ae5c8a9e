/**
 * The gateway's produce path: a Kafka batch's records become Tributary's JSON produce body byte for byte as
 * JSON.stringify writes it from their decoded text (the body is built from byte strings, one character per byte,
 * so this pins that trick), and a socket's chunks become the same frames however they are cut.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { produceBody, RecordError } from "../../gateway/convert.js";
import { FrameBuffer, splitFrames } from "../../gateway/frames.js";
import { TIMESTAMP_MS_MAX } from "../../gateway/limits.js";
import { ProtocolError } from "../../gateway/protocol/io.js";

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
console.log(`# fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay)`);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text of UTF-8 bytes, or null. @param {Uint8Array} bytes */
function textOf(bytes) {
	try {
		return strictUtf8.decode(bytes);
	} catch {
		return null;
	}
}

/** The produce record as the gateway wrote it from decoded text: the reference the byte-string body must equal. */
function referenceRecord(record, partition) {
	const out = { partition };
	const put = (field, bytes) => {
		const text = textOf(bytes);
		if (text !== null) out[field] = text;
		else Object.assign(out, { [field]: Buffer.from(bytes).toString("base64"), [`${field}_encoding`]: "base64" });
	};
	if (record.key !== null) put("key", record.key);
	if (record.value === null) out.value = null;
	else put("value", record.value);
	if (record.headers.length > 0)
		out.headers = record.headers.map((h) => ({ key: h.key, value: h.value === null ? null : textOf(h.value) }));
	if (record.timestamp !== -1) out.timestamp = record.timestamp;
	return out;
}

/** Bytes that are often text with what JSON must escape (quotes, backslashes, control characters, wide characters), sometimes not UTF-8. */
const fieldBytes = fc.oneof(
	fc
		.string({ unit: fc.constantFrom("a", '"', "\\", "\n", "\u0001", "\u001f", "\u007f", "é", "€", "😀", "\uFEFF", "/") })
		.map((s) => Buffer.from(s)),
	fc.string({ unit: "binary" }).map((s) => Buffer.from(s)),
	fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b)),
);
const textBytes = fc.string({ unit: "binary" }).map((s) => Buffer.from(s));
const kafkaRecord = fc.record({
	offsetDelta: fc.nat(),
	timestamp: fc.oneof(fc.constant(-1), fc.nat({ max: 2 ** 45 })),
	key: fc.option(fieldBytes),
	value: fc.option(fieldBytes),
	headers: fc.array(fc.record({ key: fc.string({ unit: "binary" }), value: fc.option(textBytes) }), { maxLength: 3 }),
});

test("fuzz: a batch's produce body is JSON.stringify of its records' text, byte for byte", () => {
	const producer = fc.option(fc.record({ producerId: fc.nat(), epoch: fc.nat({ max: 32767 }), sequence: fc.nat() }));
	fc.assert(
		fc.property(fc.array(kafkaRecord, { minLength: 1, maxLength: 8 }), fc.nat({ max: 999 }), producer, (records, partition, p) => {
			const reference = { records: records.map((r) => referenceRecord(r, partition)) };
			if (p !== null) Object.assign(reference, { producer_id: p.producerId, epoch: p.epoch, sequence: p.sequence });
			assert.deepEqual(produceBody(records, partition, p), Buffer.from(JSON.stringify(reference)));
		}),
		{ seed: SEED, numRuns: 2_000 },
	);
});

test("a header value that is not UTF-8, or a timestamp out of range, is refused as a RecordError", () => {
	const record = { offsetDelta: 0, timestamp: -1, key: null, value: Buffer.from("v"), headers: [] };
	const notText = { ...record, headers: [{ key: "h", value: Buffer.from([0xff]) }] };
	assert.throws(() => produceBody([notText], 0, null), RecordError);
	assert.throws(() => produceBody([{ ...record, timestamp: TIMESTAMP_MS_MAX + 1 }], 0, null), RecordError);
	assert.throws(() => produceBody([{ ...record, timestamp: -2 }], 0, null), RecordError);
});

test("fuzz: frames come out of a FrameBuffer the same however the stream is cut into chunks", () => {
	fc.assert(
		fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (payloads, cuts) => {
			const stream = Buffer.concat(payloads.flatMap((p) => [sizePrefix(p.length), Buffer.from(p)]));
			const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
			const chunks = [0, ...at].map((start, i) => stream.subarray(start, at[i] ?? stream.length));
			const buffer = new FrameBuffer();
			const frames = chunks.flatMap((chunk) => buffer.push(chunk));
			assert.deepEqual(
				frames.map((f) => [...f]),
				payloads.map((p) => [...p]),
			);
			assert.equal(buffer.bytes, 0);
			assert.deepEqual(
				frames.map((f) => [...f]),
				splitFrames(stream).frames.map((f) => [...f]),
			);
		}),
		{ seed: SEED, numRuns: 1_000 },
	);
});

test("a FrameBuffer joins a frame's chunks once, when the frame is complete, not at every chunk", () => {
	const payload = Buffer.alloc(3_000, 7);
	const stream = Buffer.concat([sizePrefix(payload.length), payload]);
	const buffer = new FrameBuffer();
	for (const start of [0, 1_000, 2_000]) assert.deepEqual(buffer.push(stream.subarray(start, start + 1_000)), []);
	assert.equal(buffer.chunks.length, 3);
	assert.deepEqual(buffer.push(stream.subarray(3_000)), [payload]);
	assert.equal(buffer.chunks.length, 0);
});

test("a FrameBuffer refuses a size out of range as soon as the size is complete", () => {
	const buffer = new FrameBuffer();
	assert.deepEqual(buffer.push(Buffer.from([0xff, 0xff])), []);
	assert.throws(() => buffer.push(Buffer.from([0xff, 0xff])), ProtocolError);
});

/** @param {number} size */
function sizePrefix(size) {
	const prefix = Buffer.alloc(4);
	prefix.writeInt32BE(size);
	return prefix;
}
