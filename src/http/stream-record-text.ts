/**
 * @module
 * A streamed message that is one plain record — `{"partition":0,"value":"…"}`, with at most `partition`, `key`,
 * `value`, `timestamp` and `headers` (each `{"key":…,"value":…}`), strings without `\u` or `\/` escapes — read from
 * its text alone, without `JSON.parse`.
 * `JSON.parse` of a 1 KiB value with a few dozen escapes costs about 3 µs (measured in Node 20), as much as the
 * rest of the edge's work on a message, and the stored record needs only the value's text (which is already what
 * `JSON.stringify` would write: see produce-body-text.ts), so the parsed value is made only if something asks.
 * A produce body of such records alone, `{"records":[…]}` (the usual batch), is read the same way: in workerd,
 * 113 µs per body of 100 × 1 KiB against 140 µs for `JSON.parse` alone and 227 µs for the parse, the text walk and
 * the checks of produce-fast-path.ts together (CPU of the workerd process, medians of 5 × 3,000 bodies).
 *
 * The reader is strict and answers null for anything else — another field, a number in a key or value, an escape
 * it does not take, a repeated field, a control character, a surrogate anywhere — and the caller then takes the
 * `JSON.parse` path, which gives the same record or the error a user should see. So it never decides what is
 * refused, and whatever it accepts is valid JSON that `JSON.parse` reads as the record it returns.
 */

import { HEADER_KEY_LENGTH_MAX, PARTITIONS_MAX, PRODUCE_RECORDS_MAX, RECORD_HEADERS_MAX, TIMESTAMP_MS_MAX } from "../shared/limits.ts";
import { encodeTailFromText, type ProducedRecord, type RecordHeader } from "../shared/record-codec.ts";
import type { ProduceInput } from "../topic/produce.ts";

/**
 * Characters the reader leaves to `JSON.parse`: control characters (raw, they are invalid inside a JSON string, and
 * outside one only JSON whitespace, which the reader does not take beside the space) and surrogates (a lone one is
 * written back by `JSON.stringify` as an escape, so its text would not be canonical; pairs are merely rare).
 * One test of the whole body is about half a `JSON.parse` of it (Node 20, 100 × 1 KiB: 81-169 µs against 159-233 on a
 * loaded machine), the largest single item of the plain reader; a `charCodeAt` loop over the same text, tried in its
 * place, took 341-416 µs, and the ASCII body's surrogates cannot be skipped for less: the regex stays. In workerd the
 * same test is 36-46 µs a body (JSON.parse 150-160); without the surrogates, 36 as well (V8 drops them for a one-byte
 * text). Nor does `JSON.stringify` of the body tell it sooner (its length would, against the quotes and backslashes
 * the walk counts): 58 µs (medians of 5 runs of 5,000, same run).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const LEFT_TO_PARSE = /[\u0000-\u001f\ud800-\udfff]/;
/**
 * An integer field's text: no sign, fraction, exponent or leading zero, at most 15 digits, so `JSON.parse` and the
 * schema path's exact parser read the same safe integer from it.
 */
export const PLAIN_INTEGER = /^(?:0|[1-9]\d{0,14})$/;

/** `,`, `}` and the space: what ends a number or literal here. */
const SCALAR_ENDS = new Set([0x2c, 0x7d, 0x20]);

type Field = "partition" | "key" | "value" | "timestamp";
/** Each field's text as the message wrote it; undefined until read. */
type FieldTexts = Record<Field, string | undefined>;

/** What `encodeTailFromText` reads of a plain record besides its texts: no headers, JSON encodings. */
const PLAIN: ProducedRecord = { key: null, value: null, headers: [], timestampMs: null, keyEncoding: "json", valueEncoding: "json" };

/**
 * A record read from its text; its value is parsed from `valueJson` on first use (storing it never asks). A class,
 * not an object literal with a getter: V8 builds such a literal in its runtime, about 1 µs each (measured). Tried
 * and dropped: one shared empty `headers` list for all of them (with produce's check of headers skipped when there
 * are none and the partition's empty tombstone `Set` not built): bench:ab produce-1c-1p −0.77 µs/record of ~40
 * (−1.29 to +1.12, lower in 5 of 6 rounds, load 6-11), then −0.10 (−1.41 to +0.85, 4 of 6, load 8-9), against an A/A
 * run's −1.69 (−4.32 to +0.89, load 10-14). The edge's small objects are ~400 bytes a record of the ~5.4 KB the
 * isolate allocates; the share's and the row's joins are ~2.2 KB of it (`bench:profile` with PROFILE_HEAP=1, batch).
 */
export class StreamedRecord implements ProduceInput {
	readonly keyEncoding = "json";
	readonly valueEncoding = "json";
	#value: unknown;
	#parsed = false;

	constructor(
		readonly key: unknown,
		readonly valueJson: string,
		readonly timestampMs: number | null,
		readonly partition: number | null,
		readonly encoded: ProduceInput["encoded"],
		readonly headers: readonly RecordHeader[],
	) {}

	get value(): unknown {
		if (!this.#parsed) {
			this.#value = JSON.parse(this.valueJson);
			this.#parsed = true;
		}
		return this.#value;
	}

	/** This record with its partition chosen, its value still unparsed (a spread would parse it). */
	withPartition(partition: number): StreamedRecord {
		return new StreamedRecord(this.key, this.valueJson, this.timestampMs, partition, this.encoded, this.headers);
	}
}

/**
 * The record of `text` when it is a plain record (see the module), or null. `ascii`: the text is all ASCII, so the
 * encoded record's UTF-8 size is its length.
 */
export function plainStreamRecord(text: string, ascii: boolean): StreamedRecord | null {
	if (LEFT_TO_PARSE.test(text)) return null;
	const at = { pos: spaces(text, 0) };
	const record = readPlainRecord(text, at, ascii);
	return record !== null && at.pos === text.length ? record : null;
}

/**
 * The records of a produce body that is `{"records":[…]}`, each a plain record (see the module), read from its text
 * alone, with the source text of each other member when it is named in `fieldNames` and its value is a run of
 * digits (an idempotent producer's `producer_id`, `epoch` and `sequence`; the caller checks their values), or null:
 * then `JSON.parse` and the fast path's checks decide (produce-fast-path.ts). `ascii`: the body is all ASCII. One
 * pass of `LEFT_TO_PARSE` covers the whole body, and no value is parsed, so the body's 100 KiB of values are never
 * turned into strings that are then encoded again. A member named twice is left to `JSON.parse` (which keeps the last).
 */
export function plainProduceBody(
	text: string,
	ascii: boolean,
	fieldNames: ReadonlySet<string> = NO_FIELDS,
): { records: StreamedRecord[]; fields: Map<string, string> } | null {
	if (LEFT_TO_PARSE.test(text)) return null;
	let pos = spaces(text, 0);
	if (text.charCodeAt(pos) !== 0x7b) return null;
	pos = spaces(text, pos + 1);
	let records: StreamedRecord[] | null = null;
	const fields = new Map<string, string>();
	for (;;) {
		if (text.startsWith(RECORDS_NAME, pos)) {
			if (records !== null) return null;
			const at = { pos: pos + RECORDS_NAME.length };
			records = plainRecordArray(text, at, ascii);
			if (records === null) return null;
			pos = at.pos;
		} else {
			const field = plainIntegerMember(text, pos, fieldNames);
			if (field === null || fields.has(field.name)) return null;
			fields.set(field.name, field.digits);
			pos = field.end;
		}
		pos = spaces(text, pos);
		if (text.charCodeAt(pos) === 0x2c) {
			pos = spaces(text, pos + 1);
			continue;
		}
		if (text.charCodeAt(pos) !== 0x7d || spaces(text, pos + 1) !== text.length) return null;
		return records === null ? null : { records, fields };
	}
}

const NO_FIELDS: ReadonlySet<string> = new Set();
/** The one member of a plain produce body that holds records, as written (its name needs no escape). */
const RECORDS_NAME = '"records"';

/**
 * The array of plain records after a member's name at `at.pos` (`: [ … ]`), between 1 and PRODUCE_RECORDS_MAX of
 * them, or null; on success `at.pos` is past its `]`.
 */
function plainRecordArray(text: string, at: { pos: number }, ascii: boolean): StreamedRecord[] | null {
	let pos = spaces(text, at.pos);
	if (text.charCodeAt(pos) !== 0x3a) return null;
	pos = spaces(text, pos + 1);
	if (text.charCodeAt(pos) !== 0x5b) return null;
	at.pos = spaces(text, pos + 1);
	const records: StreamedRecord[] = [];
	for (;;) {
		const record = readPlainRecord(text, at, ascii);
		if (record === null || records.length === PRODUCE_RECORDS_MAX) return null;
		records.push(record);
		if (text.charCodeAt(at.pos) !== 0x2c) break;
		at.pos = spaces(text, at.pos + 1);
	}
	if (text.charCodeAt(at.pos) !== 0x5d) return null;
	at.pos++;
	return records;
}

/**
 * The member at `pos` when its name is one of `names` (written without escapes) and its value a run of digits
 * ended by `,`, `}` or a space: its name, its digits as written and where they end; otherwise null. Whether the
 * digits make a value the schema takes (no leading zero, a safe integer) is the caller's to check.
 */
function plainIntegerMember(text: string, pos: number, names: ReadonlySet<string>): { name: string; digits: string; end: number } | null {
	if (text.charCodeAt(pos) !== 0x22) return null;
	const close = text.indexOf('"', pos + 1);
	if (close < 0) return null;
	const name = text.slice(pos + 1, close);
	if (!names.has(name)) return null;
	let start = spaces(text, close + 1);
	if (text.charCodeAt(start) !== 0x3a) return null;
	start = spaces(text, start + 1);
	let end = start;
	for (let c = text.charCodeAt(end); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++end));
	if (end === start || !SCALAR_ENDS.has(text.charCodeAt(end))) return null;
	return { name, digits: text.slice(start, end), end };
}

/**
 * The field whose name is `text` from `start` to `end`, or null. Compared in place rather than sliced and looked up:
 * the name is then the literal, so the field's text is stored under a name V8 already knows (this runs for every
 * field of every record).
 */
function fieldNamed(text: string, start: number, end: number): Field | "headers" | null {
	switch (end - start) {
		case 3:
			return text.startsWith("key", start) ? "key" : null;
		case 5:
			return text.startsWith("value", start) ? "value" : null;
		case 7:
			return text.startsWith("headers", start) ? "headers" : null;
		case 9:
			if (text.startsWith("partition", start)) return "partition";
			return text.startsWith("timestamp", start) ? "timestamp" : null;
		default:
			return null;
	}
}

/**
 * The plain record whose `{` is at `at.pos`, or null; on success `at.pos` is past its `}` and the spaces after it.
 * The caller has ruled out `LEFT_TO_PARSE` characters for the whole text.
 */
function readPlainRecord(text: string, at: { pos: number }, ascii: boolean): StreamedRecord | null {
	const texts: FieldTexts = { partition: undefined, key: undefined, value: undefined, timestamp: undefined };
	let headers: RecordHeader[] | undefined;
	let pos = at.pos;
	if (text.charCodeAt(pos) !== 0x7b) return null;
	pos = spaces(text, pos + 1);
	while (text.charCodeAt(pos) === 0x22) {
		const nameEnd = text.indexOf('"', pos + 1);
		if (nameEnd < 0) return null;
		const name = fieldNamed(text, pos + 1, nameEnd);
		if (name === null || (name === "headers" ? headers : texts[name]) !== undefined) return null;
		pos = spaces(text, nameEnd + 1);
		if (text.charCodeAt(pos) !== 0x3a) return null;
		pos = spaces(text, pos + 1);
		let end: number;
		if (name === "headers") {
			headers = [];
			end = plainHeaders(text, pos, headers);
		} else {
			end = text.charCodeAt(pos) === 0x22 ? canonicalStringEnd(text, pos) : scalarEnd(text, pos);
			texts[name] = text.slice(pos, end);
		}
		if (end < 0) return null;
		pos = spaces(text, end);
		if (text.charCodeAt(pos) !== 0x2c) break;
		pos = spaces(text, pos + 1);
		if (text.charCodeAt(pos) !== 0x22) return null;
	}
	if (text.charCodeAt(pos) !== 0x7d) return null;
	at.pos = spaces(text, pos + 1);
	return recordOf(texts, headers ?? [], ascii);
}

/**
 * Reads the headers array at `pos` into `headers` when each is `{"key":…,"value":…}` (in that order, as the SDK writes
 * them) of canonical strings (see `canonicalStringEnd`; the value may be null), at most RECORD_HEADERS_MAX of them,
 * each key at most HEADER_KEY_LENGTH_MAX characters as the schema counts; answers the position past its `]`, or -1
 * (then `JSON.parse` and the schema decide). Each string is short and parsed on its own. An ASCII body's header is
 * then ASCII, so the encoded record's size is still its length. Against the `JSON.parse` path such records took
 * before: bench:ab produce-keyed-1c-1p −2.71 µs/record of ~63 (−3.43 to −0.09, lower in 6 of 6, load 8-14), an A/A
 * run +0.58 (−1.47 to +4.05, 2 of 6); produce-1c-1p −0.44 (−2.88 to +0.82, 4 of 6): plain bodies no slower.
 */
function plainHeaders(text: string, pos: number, headers: RecordHeader[]): number {
	pos = past(text, pos, "[");
	if (text.charCodeAt(pos) === 0x5d) return pos + 1;
	for (;;) {
		const keyAt = past(text, past(text, past(text, pos, "{"), '"key"'), ":");
		const keyEnd = text.charCodeAt(keyAt) === 0x22 ? canonicalStringEnd(text, keyAt) : -1;
		const valueAt = past(text, past(text, past(text, keyEnd, ","), '"value"'), ":");
		const valueEnd = text.startsWith("null", valueAt)
			? valueAt + 4
			: text.charCodeAt(valueAt) === 0x22
				? canonicalStringEnd(text, valueAt)
				: -1;
		pos = past(text, valueEnd, "}");
		if (pos < 0 || headers.length === RECORD_HEADERS_MAX) return -1;
		const key: string = JSON.parse(text.slice(keyAt, keyEnd));
		if (key.length > HEADER_KEY_LENGTH_MAX) return -1;
		headers.push({ key, value: JSON.parse(text.slice(valueAt, valueEnd)) });
		if (text.charCodeAt(pos) !== 0x2c) return text.charCodeAt(pos) === 0x5d ? pos + 1 : -1;
		pos = spaces(text, pos + 1);
	}
}

/** Past `token` and the spaces around it from `pos`; -1 when it is not there (or `pos` is -1). */
function past(text: string, pos: number, token: string): number {
	if (pos < 0) return -1;
	pos = spaces(text, pos);
	return text.startsWith(token, pos) ? spaces(text, pos + token.length) : -1;
}

/** The record of the fields' texts, when each is one the schema takes as it stands; otherwise null. */
function recordOf(texts: Readonly<FieldTexts>, headers: readonly RecordHeader[], ascii: boolean): StreamedRecord | null {
	const valueJson = texts.value;
	const keyJson = texts.key ?? "null";
	if (valueJson === undefined || !stringOrNull(valueJson) || !stringOrNull(keyJson)) return null;
	const partitionText = texts.partition;
	const partition = partitionText === undefined ? null : plainInteger(partitionText, PARTITIONS_MAX - 1);
	if (partition === undefined) return null;
	const timestampText = texts.timestamp ?? "null";
	const timestampMs = timestampText === "null" ? null : plainInteger(timestampText, TIMESTAMP_MS_MAX);
	if (timestampMs === undefined) return null;
	// A key is short, and choosing a partition by it needs the parsed string.
	const key: unknown = keyJson === "null" ? null : JSON.parse(keyJson);
	const tail = encodeTailFromText(headers.length === 0 ? PLAIN : { ...PLAIN, headers }, keyJson, valueJson);
	const encoded = { tail, bytes: ascii ? tail.length : null, tombstone: valueJson === "null" };
	return new StreamedRecord(key, valueJson, timestampMs, partition, encoded, headers);
}

function stringOrNull(json: string): boolean {
	return json === "null" || json.charCodeAt(0) === 0x22;
}

/** The integer of a plain integer text up to `max`; undefined otherwise. */
function plainInteger(text: string, max: number): number | null | undefined {
	if (!PLAIN_INTEGER.test(text)) return undefined;
	const n = Number(text);
	return n <= max ? n : undefined;
}

/** Past the spaces from `pos` (the only whitespace taken: see `LEFT_TO_PARSE`). */
function spaces(text: string, pos: number): number {
	while (text.charCodeAt(pos) === 0x20) pos++;
	return pos;
}

/**
 * Past the string opening at `pos` when it is canonical (every escape one `JSON.stringify` writes, none `\u`);
 * -1 otherwise. Raw control characters were ruled out for the whole text. Slower on the bench's bodies (Node 20,
 * same runs): a `/["\\]/g` search per quote or backslash (about 1.7 times this), an unrolled sticky expression per
 * string (about the same), and one sticky expression over the whole body in place of `LEFT_TO_PARSE` that also
 * refuses every escape but the canonical ones, leaving this only the closing quote to find (about 1.3 times the two).
 */
function canonicalStringEnd(text: string, pos: number): number {
	let quote = text.indexOf('"', pos + 1);
	let backslash = text.indexOf("\\", pos + 1);
	while (backslash !== -1 && backslash < quote) {
		if (!canonicalEscape(text.charCodeAt(backslash + 1))) return -1;
		const next = backslash + 2;
		if (quote < next) quote = text.indexOf('"', next);
		backslash = text.indexOf("\\", next);
	}
	return quote < 0 ? -1 : quote + 1;
}

/**
 * Whether `c` may follow a backslash in a canonical string (`\u` and `\/` are valid, not canonical). A comparison
 * chain rather than a `Set`: it runs for every escape of every value (about 22 in 1 KiB of printable text).
 */
function canonicalEscape(c: number): boolean {
	return c === 0x22 || c === 0x5c || c === 0x6e || c === 0x74 || c === 0x72 || c === 0x62 || c === 0x66;
}

/** Past a scalar (a number or literal) at `pos`: up to the next `,`, `}` or space; -1 when there is none. */
function scalarEnd(text: string, pos: number): number {
	let end = pos;
	while (end < text.length && !SCALAR_ENDS.has(text.charCodeAt(end))) end++;
	return end === pos ? -1 : end;
}
