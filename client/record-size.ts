/**
 * @module
 * How big a record's JSON is, without making it: the producer fills batches by estimated bytes and measures a
 * batch exactly only when it could be over the broker's request limit.
 */

import type { ProducerRecord } from "./records.ts";

/**
 * UTF-8 length of `text`, counted only when it could be over `limit` (a character is at most 3 bytes): under
 * that, its UTF-16 length stands in.
 */
export function utf8LengthUpTo(text: string, limit: number): number {
	if (text.length * 3 <= limit) return text.length;
	let bytes = 0;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c < 0x80) bytes += 1;
		else if (c < 0x800) bytes += 2;
		else if (c >= 0xd800 && c <= 0xdbff) {
			bytes += 4;
			i++;
		} else bytes += 3;
	}
	return bytes;
}

/** Per-record JSON overhead (field names, partition, punctuation) in the estimate. */
const RECORD_OVERHEAD_BYTES = 48;

/**
 * JSON bytes of a record, estimated without serialising it (escapes not counted; batches are measured exactly
 * when they are made). Null when the value must be serialised to be measured (objects, arrays).
 */
export function estimateBytes(record: ProducerRecord): number | null {
	const size = (data: unknown): number | null => {
		if (data === undefined || data === null) return 4;
		if (typeof data === "string") return data.length + 2;
		if (data instanceof Uint8Array) return Math.ceil(data.length / 3) * 4 + 30;
		if (typeof data === "number" || typeof data === "boolean") return 24;
		return null;
	};
	const key = size(record.key);
	const value = size(record.value);
	if (key === null || value === null) return null;
	let headers = 0;
	if (record.headers !== undefined) headers = JSON.stringify(record.headers).length;
	return key + value + headers + RECORD_OVERHEAD_BYTES;
}
