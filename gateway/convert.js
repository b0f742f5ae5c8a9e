// @ts-check
/**
 * @module
 * Records between Kafka's bytes and Tributary's JSON. Bytes that are valid UTF-8 travel as JSON strings, so
 * an HTTP reader sees a Kafka producer's text as text (and kcat prints an HTTP producer's strings verbatim);
 * other bytes travel as base64 (`key_encoding`/`value_encoding`). A JSON value produced over HTTP reaches a
 * Kafka consumer as its JSON text. Header values are strings in Tributary, so a header value that is not
 * UTF-8 cannot be carried: the batch is refused rather than altered. Also Kafka's sentinels for a log's two ends.
 */

import { isUtf8 } from "node:buffer";
import { TIMESTAMP_MS_MAX } from "./limits.js";

/**
 * Kafka's sentinels for a log's ends, as Tributary's `at` (`GET …/offsets?at=`): ListOffsets' timestamps -2 and -1,
 * and the offsets kafkajs' `admin.resetOffsets` commits, which a Kafka broker stores and consumers then resolve.
 * @type {ReadonlyMap<number, "earliest" | "latest">}
 */
export const LOG_END_AT = new Map([
	[-2, "earliest"],
	[-1, "latest"],
]);

/** A record Tributary cannot store as sent (Kafka's INVALID_RECORD). */
export class RecordError extends Error {}

/**
 * UTF-8 bytes as a "byte string": one character per byte (latin1), or null when they are not UTF-8. A produce body
 * is built from these and written back one byte per character, which gives exactly the UTF-8 of the same body
 * built from decoded text: JSON.stringify escapes only `"`, `\`, characters below U+0020 and lone surrogates, so
 * the bytes of a wider character (0x80 and up) pass through as they were, and valid UTF-8 holds no surrogate.
 * Copying bytes into a one-byte string and back skips decoding every key and value, measuring the body's UTF-8
 * length and encoding it again, and JSON.stringify runs on one-byte strings only.
 *
 * Tried and dropped: writing the body's bytes directly, each key and value escaped by a JS loop over its bytes (one
 * pass counting what needs escaping, one writing): 470 to 550 µs for 100 × 1 KiB printable values (with quotes and
 * backslashes, as real JSON values have) against 370 to 380 µs for this, JSON.stringify's escaping being native.
 * Tried again with the same load, CPU per call in one process (load 8 to 11), three runs each: a table-driven loop measuring then
 * writing into one exact Buffer, 801 to 827 µs against 425 to 463 (four times fewer GCs did not make up for it); each
 * record's text concatenated around JSON.stringify of each field, 418 to 512 against 374 to 411. Per 100 values,
 * escaping natively in other ways costs more than JSON.stringify's 270 to 308 µs: replace(/["\\]/g) after a test for
 * control characters 491 to 536, indexOf for `"` and `\` copying the runs between them 424 to 448.
 * @param {Uint8Array} bytes
 */
function byteString(bytes) {
	if (!isUtf8(bytes)) return null;
	// A batch's fields are Buffers already (views of the frame): a new view per field cost as much as the copy.
	return Buffer.isBuffer(bytes)
		? bytes.toString("latin1")
		: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/**
 * Tributary's JSON produce body for one Kafka batch's records bound for `partition`, as UTF-8: with the batch's
 * producer id, epoch and base sequence when it is idempotent. Throws RecordError for a record Tributary cannot
 * store as sent.
 * @param {import("./protocol/record-batch.js").KafkaRecord[]} records
 * @param {number} partition
 * @param {{ producerId: number, epoch: number, sequence: number } | null} producer
 */
export function produceBody(records, partition, producer) {
	/** @type {Record<string, unknown>} */
	const body = { records: records.map((record) => toProduceRecord(record, partition)) };
	if (producer !== null) Object.assign(body, { producer_id: producer.producerId, epoch: producer.epoch, sequence: producer.sequence });
	return Buffer.from(JSON.stringify(body), "latin1");
}

/**
 * One Tributary produce record, its texts as byte strings (see `byteString`), for a Kafka record bound for
 * `partition`.
 * @param {import("./protocol/record-batch.js").KafkaRecord} record @param {number} partition
 */
function toProduceRecord(record, partition) {
	/** @type {Record<string, unknown>} */
	const out = { partition };
	if (record.key !== null) putBytes(out, "key", record.key);
	if (record.value === null) out.value = null;
	else putBytes(out, "value", record.value);
	if (record.headers.length > 0) {
		out.headers = record.headers.map((h) => {
			const key = Buffer.from(h.key, "utf8").toString("latin1");
			if (h.value === null) return { key, value: null };
			const value = byteString(h.value);
			if (value === null) throw new RecordError(`header "${h.key}" has a value that is not UTF-8; Tributary headers are text`);
			return { key, value };
		});
	}
	if (record.timestamp >= 0 && record.timestamp <= TIMESTAMP_MS_MAX) out.timestamp = record.timestamp;
	else if (record.timestamp !== -1) throw new RecordError(`timestamp ${record.timestamp} is out of range`);
	return out;
}

/** @param {Record<string, unknown>} out @param {"key" | "value"} field @param {Buffer} bytes */
function putBytes(out, field, bytes) {
	const text = byteString(bytes);
	if (text !== null) {
		out[field] = text;
		return;
	}
	out[field] = bytes.toString("base64");
	out[`${field}_encoding`] = "base64";
}

/**
 * A fetched key or value as a batch field: text stays text (the batch writes its UTF-8 bytes in place), base64
 * becomes bytes, and a JSON value its JSON text.
 * @param {unknown} data @param {string | undefined} encoding
 * @returns {import("./protocol/record-batch.js").FieldBytes}
 */
export function toField(data, encoding) {
	if (data === null || data === undefined) return null;
	if (encoding === "base64") return Buffer.from(/** @type {string} */ (data), "base64");
	if (typeof data === "string") return data;
	return JSON.stringify(data);
}

/** Shared by every record without headers; never written to. @type {{ key: string, value: string | null }[]} */
const NO_HEADERS = [];

/**
 * A fetched Tributary record as a record for a Kafka batch.
 * @param {any} record `{offset, timestamp, key, value, headers, key_encoding?, value_encoding?}`
 * @returns {import("./protocol/record-batch.js").OutgoingRecord}
 */
export function toKafkaRecord(record) {
	const headers = record.headers;
	return {
		offset: record.offset,
		timestamp: record.timestamp,
		key: toField(record.key, record.key_encoding),
		value: toField(record.value, record.value_encoding),
		headers:
			headers === undefined || headers.length === 0 ? NO_HEADERS : headers.map((/** @type {any} */ h) => ({ key: h.key, value: h.value })),
	};
}
