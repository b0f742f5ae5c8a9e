/**
 * @module
 * The produce body's fast path. A well-formed `{"records":[…]}` is checked by hand, field by field, against the
 * same rules as `ProduceBody` in `schemas.ts`, without the copies a schema library makes of every record. Anything
 * the fast path is not sure of — another top-level field, an unknown or out-of-range field, malformed JSON, a
 * number in a key or value that may need its digits kept — answers `null`, and the caller takes the schema path,
 * which gives the same records or the error a user should see. So the fast path never decides what is refused.
 */

import { isBase64 } from "../shared/base64.ts";
import { isPlainObject, jsonShapeProblem, mayHoldUnsafeNumber } from "../shared/json.ts";
import {
	HEADER_KEY_LENGTH_MAX,
	JSON_DEPTH_MAX,
	JSON_OBJECT_FIELDS_MAX,
	PARTITIONS_MAX,
	PRODUCE_RECORDS_MAX,
	PRODUCER_SEQUENCE_MAX,
	RECORD_HEADERS_MAX,
	TIMESTAMP_MS_MAX,
} from "../shared/limits.ts";
import { encodeTailFromText, type RecordHeader, type ValueEncoding } from "../shared/record-codec.ts";
import type { ProduceInput } from "../topic/produce.ts";
import { type FieldText, oneRecordTexts, type RecordTexts, recordTexts } from "./produce-body-text.ts";
import { PLAIN_INTEGER, plainProduceBody } from "./stream-record-text.ts";

const RECORD_FIELDS = new Set(["key", "value", "headers", "partition", "timestamp", "key_encoding", "value_encoding"]);

/** Whether `value` (a parsed JSON value) holds a number anywhere; iterative, the shape is already bounded. */
function holdsNumber(value: unknown): boolean {
	if (typeof value === "number") return true;
	if (value === null || typeof value !== "object") return false;
	const stack: object[] = [value];
	while (stack.length > 0) {
		const item = stack.pop() as object;
		for (const child of Array.isArray(item) ? item : Object.values(item)) {
			if (typeof child === "number") return true;
			if (child !== null && typeof child === "object") stack.push(child);
		}
	}
	return false;
}

function encodingOf(value: unknown): ValueEncoding | null {
	if (value === undefined || value === "json") return "json";
	return value === "base64" ? "base64" : null;
}

function headersOf(value: unknown): readonly RecordHeader[] | null {
	if (value === undefined) return [];
	if (!Array.isArray(value) || value.length > RECORD_HEADERS_MAX) return null;
	for (const header of value) {
		if (!isPlainObject(header)) return null;
		let fields = 0;
		for (const name in header) {
			if (name !== "key" && name !== "value") return null;
			fields++;
		}
		if (fields !== 2 || typeof header.key !== "string" || header.key.length > HEADER_KEY_LENGTH_MAX) return null;
		if (header.value !== null && typeof header.value !== "string") return null;
	}
	return value as RecordHeader[];
}

function encodedOk(data: unknown, encoding: ValueEncoding): boolean {
	return encoding === "json" || data === null || data === undefined || (typeof data === "string" && isBase64(data));
}

/** Whether a key's or value's text (see produce-body-text.ts) is the parsed one's: a cross-check of the walk. */
function textMatches(field: FieldText, parsed: unknown): boolean {
	return field.length < 0 ? parsed === null : typeof parsed === "string" && parsed.length === field.length;
}

/**
 * The record encoded from the body's own texts of its key and value when both are canonical; bytes counted only
 * when the body is not ASCII or headers were parsed (a header's `\u` escape may widen it).
 */
function encodedFrom(record: ProduceInput, texts: RecordTexts | null, asciiBody: boolean): ProduceInput["encoded"] {
	if (texts === null || texts.key === null || texts.value === null) return undefined;
	if (!textMatches(texts.key, record.key) || !textMatches(texts.value, record.value)) return undefined;
	const tail = encodeTailFromText(record, texts.key.json, texts.value.json);
	return { tail, bytes: asciiBody && record.headers.length === 0 ? tail.length : null };
}

/**
 * One record, or null if any field is unusual; `numbers.seen` is set when its key or value holds a number. Encoded
 * from `texts` where they allow (see `encodedFrom`) into the record as first built: adding the encoding by a spread
 * into a new object cost about 1 µs a record (measured on 100 × 1 KiB), as much as finding the texts.
 */
function recordOf(value: unknown, numbers: { seen: boolean }, texts: RecordTexts | null, asciiBody: boolean): ProduceInput | null {
	if (!isPlainObject(value) || !("value" in value)) return null;
	for (const name in value) if (!RECORD_FIELDS.has(name)) return null;
	const keyEncoding = encodingOf(value.key_encoding);
	const valueEncoding = encodingOf(value.value_encoding);
	if (keyEncoding === null || valueEncoding === null) return null;
	if (!encodedOk(value.key, keyEncoding) || !encodedOk(value.value, valueEncoding)) return null;
	const headers = headersOf(value.headers);
	if (headers === null) return null;
	const partition = value.partition;
	if (
		partition !== undefined &&
		!(Number.isSafeInteger(partition) && (partition as number) >= 0 && (partition as number) < PARTITIONS_MAX)
	) {
		return null;
	}
	const timestamp = value.timestamp;
	if (
		timestamp !== undefined &&
		timestamp !== null &&
		!(Number.isSafeInteger(timestamp) && (timestamp as number) >= 0 && (timestamp as number) <= TIMESTAMP_MS_MAX)
	) {
		return null;
	}
	if (!numbers.seen && (holdsNumber(value.key) || holdsNumber(value.value))) numbers.seen = true;
	const record: { -readonly [K in keyof ProduceInput]: ProduceInput[K] } = {
		key: value.key ?? null,
		value: value.value,
		headers,
		timestampMs: (timestamp as number | null | undefined) ?? null,
		keyEncoding,
		valueEncoding,
		partition: (partition as number | undefined) ?? null,
		encoded: undefined,
	};
	record.encoded = encodedFrom(record, texts, asciiBody);
	return record;
}

/** The exactly-once fields the fast path takes beside `records` (a `sequences` map, or any other member, is the schema's). */
const FAST_FIELDS = new Set(["producer_id", "epoch", "sequence", "expected_offset"]);

export type FastFields = Partial<Record<"producer_id" | "epoch" | "sequence" | "expected_offset", number>>;

/**
 * The exactly-once fields, from the walk's source texts, when they keep the schema's rules (plain non-negative
 * integers, a producer id from 1, a sequence an int32; producer_id, epoch and sequence all or none); otherwise null:
 * the schema decides.
 */
function fieldsOf(texts: Map<string, string>): FastFields | null {
	const fields: FastFields = {};
	for (const [name, source] of texts) {
		if (!FAST_FIELDS.has(name) || !PLAIN_INTEGER.test(source)) return null;
		fields[name as keyof FastFields] = Number(source);
	}
	const producer = [fields.producer_id, fields.epoch, fields.sequence].filter((v) => v !== undefined).length;
	const sequenceOutOfRange = (fields.sequence ?? 0) > PRODUCER_SEQUENCE_MAX;
	return fields.producer_id === 0 || producer % 3 !== 0 || sequenceOutOfRange ? null : fields;
}

/**
 * The records of a JSON produce body `{"records":[…]}`, and its exactly-once fields (`producer_id`, `epoch`,
 * `sequence`, `expected_offset`) when they are plain integers, or null: then validate it with the schema.
 * Numbers in keys and values keep their digits only on the schema path's exact parser, so a body holding any is
 * let through here only when its text has no digit run that parser would keep. A body of plain records alone (the
 * usual batch: see stream-record-text.ts) is read from its text without `JSON.parse`.
 */
export function fastProduceBody(text: string, declaredBytes: number | null = null): { records: ProduceInput[]; fields: FastFields } | null {
	const ascii = isAsciiBody(text, declaredBytes);
	const plain = plainProduceBody(text, ascii, FAST_FIELDS);
	if (plain !== null) {
		const fields = fieldsOf(plain.fields);
		return fields === null ? null : { records: plain.records, fields };
	}
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		return null;
	}
	if (!isPlainObject(body)) return null;
	const raw = body.records;
	if (!Array.isArray(raw) || raw.length === 0 || raw.length > PRODUCE_RECORDS_MAX) return null;
	if (jsonShapeProblem(body, JSON_DEPTH_MAX, JSON_OBJECT_FIELDS_MAX) !== null) return null;
	const found = recordTexts(text);
	// Members beside `records` are read from the walk's source texts only.
	const fields = found === null ? (Object.keys(body).length === 1 ? {} : null) : fieldsOf(found.fields);
	if (fields === null) return null;
	const numbers = { seen: false };
	const texts = found !== null && found.records.length === raw.length ? found.records : null;
	const records: ProduceInput[] = new Array(raw.length);
	for (let i = 0; i < raw.length; i++) {
		const record = recordOf(raw[i], numbers, texts?.[i] ?? null, ascii);
		if (record === null) return null;
		records[i] = record;
	}
	if (numbers.seen && mayHoldUnsafeNumber(text)) return null;
	return { records, fields };
}

/** The records of a JSON produce body whose only field is `records`, or null (see `fastProduceBody`). */
export function fastProduceRecords(text: string, declaredBytes: number | null = null): ProduceInput[] | null {
	const body = fastProduceBody(text, declaredBytes);
	return body !== null && Object.keys(body.fields).length === 0 ? body.records : null;
}

/**
 * One record given on its own (a streamed message), already parsed from its `text` by `JSON.parse`, or null: then
 * validate it with the schema, as for `fastProduceRecords`. Encoded from its own text where that is canonical;
 * `asciiText`: the text is all ASCII, so the encoded size is its length.
 */
export function fastProduceRecord(value: unknown, text: string, asciiText = false): ProduceInput | null {
	if (jsonShapeProblem(value, JSON_DEPTH_MAX, JSON_OBJECT_FIELDS_MAX) !== null) return null;
	const numbers = { seen: false };
	const record = recordOf(value, numbers, oneRecordTexts(text), asciiText);
	return record === null || (numbers.seen && mayHoldUnsafeNumber(text)) ? null : record;
}

/**
 * Whether `text`, a body of `declaredBytes` UTF-8 bytes, is all ASCII: its bytes equal its UTF-16 units only then
 * (a BOM the decoder dropped, or any wider character, makes the bytes more), unless the decoder replaced invalid
 * bytes one for one by U+FFFD, which is looked for.
 */
export function isAsciiBody(text: string, declaredBytes: number | null): boolean {
	return declaredBytes === text.length && !text.includes("\uFFFD");
}

/**
 * Whether every string in `text`, a body of `declaredBytes` UTF-8 bytes, is ASCII once parsed: the body is (bytes
 * equal UTF-16 units only when every character is one byte) and no `\u` escape can make a wider character. Then
 * an encoded record's UTF-8 size is its length, and nothing needs counting.
 */
export function parsesToAscii(text: string, declaredBytes: number | null): boolean {
	return isAsciiBody(text, declaredBytes) && !text.includes("\\u");
}
