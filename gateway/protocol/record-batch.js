// @ts-check
/**
 * @module
 * Kafka record batches, magic v2 (KIP-98): the only on-wire record format of Produce v3+ and Fetch v4+.
 * Decoding checks the CRC-32C and every length; gzip is inflated with node:zlib, snappy (raw or in the Java
 * client's xerial framing) with snappyjs, both under one size cap. lz4 and zstd are refused: no pure-JS decoder
 * on npm caps what a hostile frame header makes it allocate.
 * Encoding builds one batch per fetched partition (uncompressed; gzip and snappy for tests).
 */

import { promisify } from "node:util";
import { gunzip as gunzipCallback, gzip as gzipCallback } from "node:zlib";
import snappy from "snappyjs";
import { ProtocolError, Reader, Writer } from "./io.js";

const gunzip = promisify(gunzipCallback);
const gzip = promisify(gzipCallback);

export const MAGIC_V2 = 2;
/** Bytes of a batch header after `batchLength` up to and including the record count. */
const BATCH_HEADER_BYTES = 49;
/** The offset in a batch at which the CRC-covered part starts (attributes). */
const CRC_START = 21;
/** A decompressed batch may hold at most this much: the Worker refuses larger requests anyway. */
export const INFLATED_BYTES_MAX = 16 * 1024 * 1024;
/** No timestamp: Kafka's NO_TIMESTAMP. */
export const NO_TIMESTAMP = -1;

export const COMPRESSION = /** @type {const} */ ({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });

/** CRC-32C (Castagnoli), slicing-by-8 over eight 256-entry tables, as record batches v2 require. */
const CRC32C_TABLES = (() => {
	const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
		tables[0][n] = c >>> 0;
	}
	for (let n = 0; n < 256; n++) {
		for (let t = 1; t < 8; t++) tables[t][n] = (tables[t - 1][n] >>> 8) ^ tables[0][tables[t - 1][n] & 0xff];
	}
	return tables;
})();

/** @param {Uint8Array} bytes */
export function crc32c(bytes) {
	const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC32C_TABLES;
	let crc = 0xffffffff;
	let i = 0;
	const fast = bytes.length - (bytes.length % 8);
	for (; i < fast; i += 8) {
		const a = (crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
		crc =
			t7[a & 0xff] ^
			t6[(a >>> 8) & 0xff] ^
			t5[(a >>> 16) & 0xff] ^
			t4[a >>> 24] ^
			t3[bytes[i + 4]] ^
			t2[bytes[i + 5]] ^
			t1[bytes[i + 6]] ^
			t0[bytes[i + 7]];
	}
	for (; i < bytes.length; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}

/** A record batch that cannot be accepted as sent (maps to Kafka's CORRUPT_MESSAGE or UNSUPPORTED_COMPRESSION_TYPE). */
export class BatchError extends Error {
	/** @param {"corrupt" | "unsupported_compression" | "unsupported_format"} kind @param {string} message */
	constructor(kind, message) {
		super(message);
		this.kind = kind;
	}
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
	const body = await inflate(attributes & 0x07, bytes.subarray(reader.offset));
	const records = decodeRecords(body, count, header.baseTimestamp);
	return { ...header, records };
}

/** @param {number} compression @param {Buffer} data */
async function inflate(compression, data) {
	switch (compression) {
		case COMPRESSION.none:
			return data;
		case COMPRESSION.gzip:
			try {
				return await gunzip(data, { maxOutputLength: INFLATED_BYTES_MAX });
			} catch (error) {
				throw new BatchError("corrupt", `gzip: ${/** @type {Error} */ (error).message}`);
			}
		case COMPRESSION.snappy:
			return attempt("snappy", () => unsnappy(data));
		default:
			throw new BatchError("unsupported_compression", `compression codec ${compression} is not supported (none, gzip and snappy are)`);
	}
}

/** @param {string} codec @param {() => Buffer} inflateNow */
function attempt(codec, inflateNow) {
	try {
		return inflateNow();
	} catch (error) {
		if (error instanceof BatchError) throw error;
		throw new BatchError("corrupt", `${codec}: ${/** @type {Error} */ (error).message}`);
	}
}

/** The Java client's snappy framing (snappy-java's "xerial" stream): magic, version, compat, then sized chunks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/** @param {Buffer} data */
function unsnappy(data) {
	if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
		return Buffer.from(snappy.uncompress(data, INFLATED_BYTES_MAX));
	}
	const reader = new Reader(data, XERIAL_HEADER_BYTES);
	const chunks = [];
	let total = 0;
	while (reader.remaining > 0) {
		const chunk = snappy.uncompress(reader.raw(reader.int32()), INFLATED_BYTES_MAX - total);
		total += chunk.length;
		chunks.push(Buffer.from(chunk));
	}
	return Buffer.concat(chunks, total);
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
 * One uncompressed batch of fetched records (or gzip/snappy when asked). Offsets may have gaps (compaction): each
 * record carries its own delta, and `lastOffset` may run past the last record so the client moves on. Records
 * are written straight into the batch (their lengths computed first), and the header last.
 * @param {{ offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: { key: string, value: Buffer | null }[] }[]} records
 * @param {{ lastOffset?: number, compression?: number }} [options]
 */
export async function encodeBatch(records, options = {}) {
	if (records.length === 0) throw new Error("a batch needs at least one record");
	const baseOffset = records[0].offset;
	const baseTimestamp = records[0].timestamp;
	let maxTimestamp = baseTimestamp;
	const w = new Writer(BATCH_OVERHEAD_BYTES + estimatedBytes(records));
	w.offset = BATCH_OVERHEAD_BYTES;
	for (const r of records) {
		if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
		writeRecord(w, r, r.timestamp - baseTimestamp, r.offset - baseOffset);
	}
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
		.int16(compression)
		.int32(lastOffset - baseOffset)
		.int64(baseTimestamp)
		.int64(maxTimestamp);
	header.int64(-1).int16(-1).int32(-1).int32(records.length);
	batch.set(header.done(), 0);
	batch.writeUInt32BE(crc32c(batch.subarray(CRC_START)), 17);
	return batch;
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

/** @param {Uint8Array | null} bytes */
function varBytesLength(bytes) {
	return bytes === null ? 1 : varintBytes(bytes.length) + bytes.length;
}

/**
 * @param {Writer} w
 * @param {{ key: Buffer | null, value: Buffer | null, headers: { key: string, value: Buffer | null }[] }} r
 * @param {number} timestampDelta @param {number} offsetDelta
 */
function writeRecord(w, r, timestampDelta, offsetDelta) {
	const timestamp = new Writer(10).varlong(timestampDelta).done();
	const headerKeys = r.headers.map((h) => Buffer.from(h.key, "utf8"));
	let length =
		1 + timestamp.length + varintBytes(offsetDelta) + varBytesLength(r.key) + varBytesLength(r.value) + varintBytes(r.headers.length);
	r.headers.forEach((h, i) => {
		length += varBytesLength(headerKeys[i]) + varBytesLength(h.value);
	});
	w.varint(length).int8(0).raw(timestamp).varint(offsetDelta);
	writeVarBytes(w, r.key);
	writeVarBytes(w, r.value);
	w.varint(r.headers.length);
	r.headers.forEach((h, i) => {
		writeVarBytes(w, headerKeys[i]);
		writeVarBytes(w, h.value);
	});
}

/**
 * Room for every record's bytes plus its varints, so the body is written without regrowing.
 * @param {{ key: Buffer | null, value: Buffer | null, headers: { key: string, value: Buffer | null }[] }[]} records
 */
function estimatedBytes(records) {
	let bytes = 0;
	for (const r of records) {
		bytes += 32 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
		for (const h of r.headers) bytes += 10 + h.key.length * 3 + (h.value?.length ?? 0);
	}
	return bytes;
}

/** @param {number} compression @param {Buffer} bytes */
async function deflate(compression, bytes) {
	if (compression === COMPRESSION.gzip) return gzip(bytes);
	if (compression === COMPRESSION.snappy) return Buffer.from(snappy.compress(bytes));
	if (compression !== COMPRESSION.none) throw new Error(`cannot compress with codec ${compression}`);
	return bytes;
}

/** @param {Writer} w @param {Uint8Array | null} bytes */
function writeVarBytes(w, bytes) {
	if (bytes === null) {
		w.varint(-1);
		return;
	}
	w.varint(bytes.length).raw(bytes);
}
