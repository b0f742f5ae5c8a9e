/**
 * @module
 * Stream bodies to records and back. One append is one record: a byte stream's body is its value (a string when
 * it is valid UTF-8, so `/v1` consumers read text as text; base64 otherwise), and a JSON stream's body becomes the
 * JSON array of the messages it carried (a single value is one message; an array is flattened one level, so `[]`
 * carries none). Reads concatenate bytes, or gather a JSON stream's messages into one array. Pure.
 */

import type { RecordEnds, Utf8Parts } from "../../../partition/types.ts";
import { assert } from "../../../shared/assert.ts";
import { base64Decode } from "../../../shared/base64.ts";
import { concatBytes, utf8Encoder } from "../../../shared/bytes.ts";
import { err, ok, type Result } from "../../../shared/errors.ts";
import { parseJsonExact, utf8ByteLength } from "../../../shared/json.ts";
import {
	type EncodedRecord,
	encodeTail,
	RECORD_SEPARATOR,
	RECORD_SEPARATOR_UTF8,
	STORED_RECORD_START,
	type ValueEncoding,
} from "../../../shared/record-codec.ts";
import { recordEnds } from "../../../shared/record-scan.ts";
import { isJsonContentType } from "../../../shared/stream-rules.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

function record(value: unknown, valueEncoding: ValueEncoding): EncodedRecord {
	const tail = encodeTail({ key: null, value, headers: [], timestampMs: null, keyEncoding: "json", valueEncoding });
	return { timestampMs: null, tail, bytes: utf8ByteLength(tail), keyId: null, tombstone: false };
}

function base64(bytes: Uint8Array): string {
	let binary = "";
	for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return btoa(binary);
}

/** The messages of a JSON body: a value is one, an array is its elements. Numbers keep their digits, as on `/v1`. */
export function jsonMessages(bytes: Uint8Array): Result<unknown[]> {
	let parsed: unknown;
	try {
		parsed = parseJsonExact(lenientUtf8.decode(bytes));
	} catch {
		return err("invalid_json", "the body is not valid JSON");
	}
	return ok(Array.isArray(parsed) ? parsed : [parsed]);
}

/**
 * The record an append body becomes; null when it carries nothing (an empty body, or `[]` on a JSON stream).
 * `emptyArrayAllowed`: a create may start a JSON stream with `[]`; an append may not send it.
 */
export function bodyRecord(contentType: string, bytes: Uint8Array, emptyArrayAllowed: boolean): Result<EncodedRecord | null> {
	if (bytes.byteLength === 0) return ok(null);
	if (isJsonContentType(contentType)) {
		const messages = jsonMessages(bytes);
		if (!messages.ok) return messages;
		if (messages.value.length === 0) {
			return emptyArrayAllowed ? ok(null) : err("invalid_request", "an empty JSON array appends nothing: send at least one value");
		}
		return ok(record(messages.value, "json"));
	}
	try {
		return ok(record(strictUtf8.decode(bytes), "json"));
	} catch {
		return ok(record(base64(bytes), "base64"));
	}
}

/** A stored record's payload: the bytes of a byte stream's append, or the messages of a JSON stream's. */
export interface Payload {
	readonly offset: number;
	readonly bytes: Uint8Array;
	readonly messages: readonly unknown[];
}

interface StoredValue {
	readonly offset: number;
	readonly value: unknown;
	readonly value_encoding?: ValueEncoding;
}

/** The payloads of stored JSON lines (see record-codec.ts), including records produced through `/v1`. */
export function payloads(lines: string, json: boolean): Payload[] {
	if (lines.length === 0) return [];
	return lines.split(RECORD_SEPARATOR).map((line) => payloadOf(line, json));
}

function payloadOf(line: string, json: boolean): Payload {
	const stored = JSON.parse(line) as StoredValue;
	const { value } = stored;
	if (json) return { offset: stored.offset, bytes: new Uint8Array(), messages: Array.isArray(value) ? value : [value] };
	let bytes: Uint8Array;
	if (stored.value_encoding === "base64" && typeof value === "string") bytes = base64Decode(value);
	else if (typeof value === "string") bytes = utf8Encoder.encode(value);
	else bytes = value === null || value === undefined ? new Uint8Array() : utf8Encoder.encode(JSON.stringify(value));
	return { offset: stored.offset, bytes, messages: [] };
}

/** A byte stream's read body from its stored lines: the bytes one after another. */
function bytesReadBody(lines: string): Uint8Array {
	return concatBytes(payloads(lines, false).map((p) => p.bytes));
}

/**
 * A stored record as a JSON stream's append writes it (`record`: no key, no headers, JSON encodings), as UTF-8:
 * `{"partition":N,"offset":N,"timestamp":N,"key":null,"value":` (each literal here followed by digits), its
 * value, then `TAIL_BYTES`.
 */
const HEAD_LITERALS = [STORED_RECORD_START, ',"offset":', ',"timestamp":'].map((literal) => utf8Encoder.encode(literal));
const KEY_NULL_VALUE = utf8Encoder.encode(',"key":null,"value":');
const TAIL_BYTES = utf8Encoder.encode(',"headers":[]}');
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/** The position past `literal` if `bytes` hold it at `at` (before `end`), else -1. */
function literalAt(bytes: Uint8Array, at: number, end: number, literal: Uint8Array): number {
	if (at < 0 || at + literal.length > end) return -1;
	for (let k = 0; k < literal.length; k++) if (bytes[at + k] !== literal[k]) return -1;
	return at + literal.length;
}

/** Where the value of the stored record `bytes[from, end)` starts if an append wrote it (`HEAD_LITERALS`), else -1. */
function appendedValueAt(bytes: Uint8Array, from: number, end: number): number {
	let at = from;
	for (const literal of HEAD_LITERALS) {
		at = literalAt(bytes, at, end, literal);
		if (at < 0) return -1;
		const digits = at;
		while (at < end && (bytes[at] as number) >= 0x30 && (bytes[at] as number) <= 0x39) at++;
		if (at === digits) return -1;
	}
	return literalAt(bytes, at, end, KEY_NULL_VALUE);
}

/** Whether `bytes` hold JSON whitespace only (what an empty array may hold between its brackets). */
function blank(bytes: Uint8Array): boolean {
	for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
	return true;
}

/**
 * The messages of the stored record `part[from, end)` for a JSON stream's read body. An appended record's value
 * is the JSON text of an array of its messages, written by `JSON.stringify` (or, produced through `/v1`, as the
 * producer wrote it): its elements' bytes are taken as they stand, the brackets dropped (the view pushed as it
 * is), where parsing each record and writing each message again cost most of a read. Any other record (a key,
 * headers, a value that is not an array) is parsed as `payloads` does.
 */
function pushMessages(pieces: Uint8Array[], part: Uint8Array, from: number, end: number): void {
	const valueAt = appendedValueAt(part, from, end);
	const tailAt = end - TAIL_BYTES.length;
	if (valueAt >= 0 && tailAt >= valueAt + 2 && literalAt(part, tailAt, end, TAIL_BYTES) === end) {
		if (part[valueAt] === OPEN_BRACKET && part[tailAt - 1] === CLOSE_BRACKET) {
			const elements = part.subarray(valueAt + 1, tailAt - 1);
			// `[]` (or `[ ]` as a producer wrote it) carries no message.
			if (!blank(elements)) pieces.push(elements);
			return;
		}
	}
	for (const message of payloadOf(lenientUtf8.decode(part.subarray(from, end)), true).messages) {
		pieces.push(utf8Encoder.encode(JSON.stringify(message)));
	}
}

/**
 * A read's body from its stored records as UTF-8 parts (`PartitionLog.streamReadUtf8`): a byte stream's bytes one
 * after another, or a JSON stream's messages (those `payloads` holds) in one JSON array. An appended record's
 * messages are copied from the parts once, into the body: no text is made of them, on either side of the RPC.
 * `ends`: where each part's records end, as the partition answered (a part without is scanned).
 */
export function readBodyUtf8(parts: Utf8Parts, ends: RecordEnds | undefined, json: boolean): Uint8Array {
	if (!json) return bytesReadBody(parts.map((part) => lenientUtf8.decode(part)).join(RECORD_SEPARATOR));
	const pieces: Uint8Array[] = [];
	for (const [j, part] of parts.entries()) {
		if (part.byteLength === 0) continue;
		const partEnds = ends?.[j] ?? recordEnds(part);
		assert(partEnds.at(-1) === part.byteLength, "codec part ends");
		let from = 0;
		for (const end of partEnds) {
			assert(end > from, "codec record end");
			pushMessages(pieces, part, from, end);
			from = end + RECORD_SEPARATOR_UTF8.length;
		}
	}
	let size = 2 + Math.max(0, pieces.length - 1);
	for (const piece of pieces) size += piece.byteLength;
	const out = new Uint8Array(size);
	out[0] = OPEN_BRACKET;
	let at = 1;
	for (const [i, piece] of pieces.entries()) {
		if (i > 0) out[at++] = COMMA;
		out.set(piece, at);
		at += piece.byteLength;
	}
	out[at++] = CLOSE_BRACKET;
	assert(at === size, "JSON read body");
	return out;
}

/** One SSE data event's payload: a JSON array of the append's messages, its text, or its base64. */
export function eventPayload(part: Payload, mode: "json" | "text" | "base64"): string {
	if (mode === "json") return `[${part.messages.map((m) => JSON.stringify(m)).join(",")}]`;
	return mode === "text" ? lenientUtf8.decode(part.bytes) : base64(part.bytes);
}

/** The first `count` bytes or messages of a payload, as a record (a fork at a sub-offset inside an append). */
export function truncatedRecord(part: Payload, json: boolean, count: number): EncodedRecord {
	if (json) return record(part.messages.slice(0, count), "json");
	const bytes = part.bytes.subarray(0, count);
	try {
		return record(strictUtf8.decode(bytes), "json");
	} catch {
		return record(base64(bytes), "base64");
	}
}

/** A payload as a record again, as stored (a fork copies its source's records). */
export function payloadRecord(part: Payload, json: boolean): EncodedRecord {
	return truncatedRecord(part, json, json ? part.messages.length : part.bytes.byteLength);
}
