// @ts-check
/**
 * @module
 * Kafka record batches, magic v2 (KIP-98): the only on-wire record format of Produce v3+ and Fetch v4+.
 * Decoding checks the CRC-32C and every length; the records of a compressed batch (gzip, snappy, lz4, zstd) are
 * inflated under one size cap (compression.js).
 * Encoding builds one batch per fetched partition (uncompressed; compressed for tests).
 */

import { crc32c as nativeCrc32c } from "@node-rs/crc32";
import { COMPRESSION, deflate, inflate } from "./compression.js";
import { BatchError } from "./inflated.js";
import { ProtocolError, Reader, Writer } from "./io.js";

export { COMPRESSION, INFLATED_BYTES_MAX } from "./compression.js";
export { BatchError } from "./inflated.js";

export const MAGIC_V2 = 2;
/** Bytes of a batch header after `batchLength` up to and including the record count. */
const BATCH_HEADER_BYTES = 49;
/** The offset in a batch at which the CRC-covered part starts (attributes). */
const CRC_START = 21;
/** The attributes' bits that name the compression codec. */
const COMPRESSION_BITS = 0x07;
/** The attributes' bit of a batch whose timestamps are the broker's append time (LogAppendTime). */
const LOG_APPEND_TIME_BIT = 0x08;
/** No timestamp: Kafka's NO_TIMESTAMP. */
export const NO_TIMESTAMP = -1;

/**
 * CRC-32C (Castagnoli), as record batches v2 require: @node-rs/crc32 runs the CPU's CRC32 instructions, about
 * fourteen times faster than a slicing-by-8 table in JS, and every fetched or produced byte passes through it.
 * @param {Uint8Array} bytes
 */
export function crc32c(bytes) {
	return nativeCrc32c(bytes) >>> 0;
}

/**
 * @typedef {object} KafkaRecord
 * @property {number} offsetDelta
 * @property {number} timestamp ms, or -1
 * @property {Buffer | null} key
 * @property {Buffer | null} value
 * @property {{ key: string, value: Buffer | null }[]} headers
 */

/**
 * @typedef {object} Batch
 * @property {number} baseOffset
 * @property {number} attributes
 * @property {number} lastOffsetDelta
 * @property {number} baseTimestamp
 * @property {number} maxTimestamp
 * @property {number} producerId
 * @property {number} producerEpoch
 * @property {number} baseSequence
 * @property {KafkaRecord[]} records
 */

/**
 * Every batch in a Produce partition's `records` bytes.
 * @param {Buffer} bytes
 * @returns {Promise<Batch[]>}
 */
export async function decodeBatches(bytes) {
	const batches = [];
	const reader = new Reader(bytes);
	while (reader.remaining > 0) {
		if (reader.remaining < 12) throw new BatchError("corrupt", "trailing bytes after the last batch");
		const start = reader.offset;
		reader.int64();
		const batchLength = reader.int32();
		if (batchLength < BATCH_HEADER_BYTES || batchLength > reader.remaining)
			throw new BatchError("corrupt", `batch length ${batchLength} out of range`);
		batches.push(await decodeBatch(bytes.subarray(start, start + 12 + batchLength)));
		reader.offset = start + 12 + batchLength;
	}
	return batches;
}

/**
 * The codec of the first batch in `bytes`, read from its attributes without checking or inflating anything (null when
 * too short to have them): Kafka judges a Produce's compression by its first batch before reading it.
 * @param {Buffer} bytes
 */
export function firstBatchCompression(bytes) {
	return bytes.length < CRC_START + 2 ? null : bytes.readInt16BE(CRC_START) & COMPRESSION_BITS;
}

/** @param {Buffer} bytes exactly one batch */
async function decodeBatch(bytes) {
	const reader = new Reader(bytes);
	const baseOffset = reader.int64();
	reader.int32(); // batchLength, checked by the caller
	reader.int32(); // partitionLeaderEpoch
	const magic = reader.int8();
	if (magic !== MAGIC_V2) throw new BatchError("unsupported_format", `record batch magic ${magic}: only v2 is supported`);
	const crc = reader.uint32();
	if (crc32c(bytes.subarray(CRC_START)) !== crc) throw new BatchError("corrupt", "record batch CRC-32C mismatch");
	const attributes = reader.int16();
	const header = {
		baseOffset,
		attributes,
		lastOffsetDelta: reader.int32(),
		baseTimestamp: reader.int64(),
		maxTimestamp: reader.int64(),
		producerId: reader.int64(),
		producerEpoch: reader.int16(),
		baseSequence: reader.int32(),
	};
	const count = reader.int32();
	if ((attributes & 0x10) !== 0) throw new BatchError("unsupported_format", "transactional batches are not supported");
	if ((attributes & 0x20) !== 0) throw new BatchError("unsupported_format", "control batches are not accepted from producers");
	const body = await inflate(attributes & COMPRESSION_BITS, bytes.subarray(reader.offset));
	const records = decodeRecords(body, count, header.baseTimestamp);
	return { ...header, records };
}

/** @param {Buffer} body @param {number} count @param {number} baseTimestamp */
function decodeRecords(body, count, baseTimestamp) {
	if (count < 0 || count > body.length) throw new BatchError("corrupt", `record count ${count} out of range`);
	const reader = new Reader(body);
	/** @type {KafkaRecord[]} */
	const records = [];
	try {
		for (let i = 0; i < count; i++) {
			const length = reader.varint();
			if (length < 0 || length > reader.remaining) throw new ProtocolError("record length out of range");
			const record = new Reader(body, reader.offset, reader.offset + length);
			reader.offset += length;
			record.int8(); // attributes: unused in v2
			const timestampDelta = record.varlong();
			const offsetDelta = record.varint();
			const key = varBytes(record);
			const value = varBytes(record);
			const headerCount = record.varint();
			if (headerCount < 0 || headerCount > record.remaining) throw new ProtocolError("header count out of range");
			const headers = [];
			for (let h = 0; h < headerCount; h++) {
				const keyBytes = varBytes(record);
				if (keyBytes === null) throw new ProtocolError("null header key");
				headers.push({ key: new Reader(keyBytes).text(keyBytes.length), value: varBytes(record) });
			}
			if (record.remaining !== 0) throw new ProtocolError("bytes left at the end of a record");
			records.push({
				offsetDelta,
				timestamp: baseTimestamp === NO_TIMESTAMP ? NO_TIMESTAMP : baseTimestamp + timestampDelta,
				key,
				value,
				headers,
			});
		}
	} catch (error) {
		if (error instanceof ProtocolError) throw new BatchError("corrupt", error.message);
		throw error;
	}
	if (reader.remaining !== 0) throw new BatchError("corrupt", "bytes left after the last record");
	return records;
}

/** @param {Reader} reader */
function varBytes(reader) {
	const length = reader.varint();
	if (length < 0) return null;
	return reader.raw(length);
}

/** Bytes of a batch before its records: baseOffset … recordCount. */
const BATCH_OVERHEAD_BYTES = 61;

/**
 * A key, value or header value as a batch carries it: text (written as its UTF-8 bytes, never copied into a
 * Buffer of its own first), bytes, or null.
 * @typedef {string | Uint8Array | null} FieldBytes
 * @typedef {{ offset: number, timestamp: number, key: FieldBytes, value: FieldBytes, headers: { key: string, value: FieldBytes }[] }} OutgoingRecord
 */

/**
 * One batch of fetched records, uncompressed (or compressed when a test asks). Offsets may have gaps (compaction):
 * each record carries its own delta, and `lastOffset` may run past the last record so the client moves on.
 * Every field's length is measured first, so the batch is one exact allocation written front to back.
 * @param {OutgoingRecord[]} records
 * @param {{ lastOffset?: number, compression?: number, logAppendTime?: boolean }} [options] `logAppendTime`: mark the
 * batch's timestamps as the broker's append time
 */
export async function encodeBatch(records, options = {}) {
	if (records.length === 0) throw new Error("a batch needs at least one record");
	const baseOffset = records[0].offset;
	const baseTimestamp = records[0].timestamp;
	let maxTimestamp = baseTimestamp;
	// Per record: its body length, then key, value and each header's key and value lengths (-1 for null).
	const lengths = [];
	let bodyBytes = 0;
	for (const r of records) {
		if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
		const length = recordLength(r, r.timestamp - baseTimestamp, r.offset - baseOffset, lengths);
		bodyBytes += varintBytes(length) + length;
	}
	// Not a buffer reused from batch to batch (which must wait until the socket has sent it): filling a fresh one
	// costs its page faults, 0.5 % of the gateway's CPU when consuming (perf: 23 of 4,211 samples), too little for it.
	const w = new Writer(BATCH_OVERHEAD_BYTES + bodyBytes);
	w.offset = BATCH_OVERHEAD_BYTES;
	let at = 0;
	for (const r of records) at = writeRecord(w, r, r.timestamp - baseTimestamp, r.offset - baseOffset, lengths, at);
	if (w.offset !== BATCH_OVERHEAD_BYTES + bodyBytes)
		throw new Error(`batch body is ${w.offset - BATCH_OVERHEAD_BYTES} bytes, measured ${bodyBytes}`);
	const compression = options.compression ?? COMPRESSION.none;
	let batch = w.done();
	if (compression !== COMPRESSION.none) {
		batch = Buffer.concat([batch.subarray(0, BATCH_OVERHEAD_BYTES), await deflate(compression, batch.subarray(BATCH_OVERHEAD_BYTES))]);
	}
	const lastOffset = Math.max(options.lastOffset ?? 0, records[records.length - 1].offset);
	const header = new Writer(BATCH_OVERHEAD_BYTES);
	header
		.int64(baseOffset)
		.int32(batch.length - 12)
		.int32(0)
		.int8(MAGIC_V2)
		.uint32(0);
	header
		.int16(options.logAppendTime ? compression | LOG_APPEND_TIME_BIT : compression)
		.int32(lastOffset - baseOffset)
		.int64(baseTimestamp)
		.int64(maxTimestamp);
	header.int64(-1).int16(-1).int32(-1).int32(records.length);
	batch.set(header.done(), 0);
	batch.writeUInt32BE(crc32c(batch.subarray(CRC_START)), 17);
	return batch;
}

/**
 * Fetched records of a topic whose partitions stamp them with their append time (`message.timestamp.type`
 * LogAppendTime), as batches marked so: one per run of records with the same timestamp, which is what one append
 * (a produce, or a group committed together) gives its records. A consumer gives every record of such a batch the
 * batch's max timestamp (Java's DefaultRecordBatch, librdkafka), so one batch across appends would move the earlier
 * records' times forward. Records written before the topic took LogAppendTime keep their own timestamps this way
 * too, though they are marked as append times (Tributary keeps no type per record).
 * @param {OutgoingRecord[]} records @param {number} lastOffset as `encodeBatch`'s, for the last batch
 */
export async function encodeAppendTimeBatches(records, lastOffset) {
	const batches = [];
	let start = 0;
	for (let i = 1; i <= records.length; i++) {
		if (i < records.length && records[i].timestamp === records[start].timestamp) continue;
		const last = i === records.length ? lastOffset : undefined;
		batches.push(await encodeBatch(records.slice(start, i), { lastOffset: last, logAppendTime: true }));
		start = i;
	}
	return batches.length === 1 ? batches[0] : Buffer.concat(batches);
}

/** Bytes of a zigzag varint. @param {number} v */
function varintBytes(v) {
	let u = ((v << 1) ^ (v >> 31)) >>> 0;
	let n = 1;
	while (u >= 0x80) {
		u >>>= 7;
		n++;
	}
	return n;
}

/** Bytes of a zigzag varlong; deltas nearly always fit the 32-bit form. @param {number} v */
function varlongBytes(v) {
	if (v >= -0x40000000 && v < 0x40000000) return varintBytes(v);
	return new Writer(10).varlong(v).done().length;
}

/** @param {FieldBytes} field */
function fieldLength(field) {
	if (field === null) return -1;
	return typeof field === "string" ? Buffer.byteLength(field, "utf8") : field.length;
}

/** @param {number} length -1 for null */
function lengthPrefixed(length) {
	return length < 0 ? 1 : varintBytes(length) + length;
}

/**
 * A record's body length (Kafka's `length` varint), pushing its fields' lengths onto `lengths`.
 * @param {OutgoingRecord} r @param {number} timestampDelta @param {number} offsetDelta @param {number[]} lengths
 */
function recordLength(r, timestampDelta, offsetDelta, lengths) {
	const at = lengths.length;
	lengths.push(0);
	const keyLength = fieldLength(r.key);
	const valueLength = fieldLength(r.value);
	lengths.push(keyLength, valueLength);
	let length =
		1 +
		varlongBytes(timestampDelta) +
		varintBytes(offsetDelta) +
		lengthPrefixed(keyLength) +
		lengthPrefixed(valueLength) +
		varintBytes(r.headers.length);
	for (const h of r.headers) {
		const hk = Buffer.byteLength(h.key, "utf8");
		const hv = fieldLength(h.value);
		lengths.push(hk, hv);
		length += lengthPrefixed(hk) + lengthPrefixed(hv);
	}
	lengths[at] = length;
	return length;
}

/**
 * Writes one record whose lengths `recordLength` measured from `lengths[at]`; returns the index past them. The
 * batch's buffer was sized from those lengths, so the record is written straight into it, without the Writer's
 * per-call capacity checks (a 1,000-record page calls this a thousand times).
 * @param {Writer} w @param {OutgoingRecord} r @param {number} timestampDelta @param {number} offsetDelta
 * @param {number[]} lengths @param {number} at
 */
function writeRecord(w, r, timestampDelta, offsetDelta, lengths, at) {
	const b = w.buffer;
	let o = putVarint(b, w.offset, lengths[at]);
	b[o++] = 0; // attributes: unused in v2
	if (timestampDelta >= -0x40000000 && timestampDelta < 0x40000000) o = putVarint(b, o, timestampDelta);
	else {
		w.offset = o;
		o = w.varlong(timestampDelta).offset;
	}
	o = putVarint(b, o, offsetDelta);
	o = putField(b, o, r.key, lengths[at + 1]);
	o = putField(b, o, r.value, lengths[at + 2]);
	o = putVarint(b, o, r.headers.length);
	let next = at + 3;
	for (const h of r.headers) {
		o = putField(b, o, h.key, lengths[next]);
		o = putField(b, o, h.value, lengths[next + 1]);
		next += 2;
	}
	w.offset = o;
	return next;
}

/** Writes a zigzag varint at `o`; returns the offset past it. @param {Buffer} b @param {number} o @param {number} v */
function putVarint(b, o, v) {
	let u = ((v << 1) ^ (v >> 31)) >>> 0;
	while (u >= 0x80) {
		b[o++] = (u & 0x7f) | 0x80;
		u >>>= 7;
	}
	b[o++] = u;
	return o;
}

/**
 * Writes a length-prefixed field at `o`, text as UTF-8; returns the offset past it.
 * @param {Buffer} b @param {number} o @param {FieldBytes} field @param {number} length measured by fieldLength
 */
function putField(b, o, field, length) {
	if (field === null) return putVarint(b, o, -1);
	o = putVarint(b, o, length);
	if (typeof field !== "string") b.set(field, o);
	else {
		const written = b.write(field, o, length, "utf8");
		if (written !== length) throw new Error(`wrote ${written} UTF-8 bytes, measured ${length}`);
	}
	return o + length;
}
