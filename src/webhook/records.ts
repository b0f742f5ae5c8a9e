/**
 * @module
 * Records of a batch as the partition stores them (one JSON object per line, see `record-codec.ts`): filtering
 * for a subscription, and the produce input that puts a batch into a dead-letter topic.
 */

import { parseJsonExact, utf8ByteLength } from "../shared/json.ts";
import { RECORD_HEADERS_MAX } from "../shared/limits.ts";
import { encodeTail, RECORD_SEPARATOR, type RecordHeader, type StoredRecord } from "../shared/record-codec.ts";
import type { ProduceInput } from "../topic/produce.ts";
import type { RecordFilter } from "./types.ts";

export function splitLines(records: string): string[] {
	return records.length === 0 ? [] : records.split(RECORD_SEPARATOR);
}

/** Whether a stored record passes a subscription's filter. */
export function matches(filter: RecordFilter, line: string): boolean {
	const record = JSON.parse(line) as StoredRecord;
	if (filter.keys !== undefined && !(typeof record.key === "string" && filter.keys.includes(record.key))) return false;
	for (const [name, value] of Object.entries(filter.headers ?? {})) {
		if (!record.headers.some((h) => h.key === name && h.value === value)) return false;
	}
	return true;
}

/** Prefix of the headers a dead-lettered record carries about where it came from and why it failed. */
export const DEAD_LETTER_HEADER_PREFIX = "tributary-dlq-";

export interface DeadLetterContext {
	readonly topic: string;
	readonly subscriptionId: string;
	readonly attempts: number;
	readonly lastError: string | null;
}

/**
 * The records of a batch as they go to the dead-letter topic: same key, value and time, provenance in headers.
 * With `maxMessageBytes` (the dead-letter topic's limit, learnt from its refusal), a record the provenance would
 * take past it goes without the receiver's error text, and if that is still too much, as it was written (it fit
 * its own topic): a record must always have somewhere to go, or its lane would stop at it for good. With
 * `appendTime` (the dead-letter topic's `message.timestamp.*.max.ms` refused a record's own time) every copy takes
 * the time it is written instead; its offset in its own topic, in the headers, still leads back to the original.
 */
export function deadLetterInputs(
	records: string,
	context: DeadLetterContext,
	maxMessageBytes?: number,
	appendTime = false,
): ProduceInput[] {
	return splitLines(records).map((line) => {
		const record = parseJsonExact(line) as StoredRecord;
		const provenance: RecordHeader[] = [
			{ key: `${DEAD_LETTER_HEADER_PREFIX}topic`, value: context.topic },
			{ key: `${DEAD_LETTER_HEADER_PREFIX}partition`, value: String(record.partition) },
			{ key: `${DEAD_LETTER_HEADER_PREFIX}offset`, value: String(record.offset) },
			{ key: `${DEAD_LETTER_HEADER_PREFIX}subscription`, value: context.subscriptionId },
			{ key: `${DEAD_LETTER_HEADER_PREFIX}attempts`, value: String(context.attempts) },
			{ key: `${DEAD_LETTER_HEADER_PREFIX}error`, value: context.lastError },
		];
		// The record's own headers first, trimmed so the provenance always fits the per-record header limit.
		const own = record.headers.slice(0, RECORD_HEADERS_MAX - provenance.length);
		const copy = (headers: RecordHeader[]): ProduceInput => ({
			key: record.key,
			value: record.value,
			headers,
			timestampMs: appendTime ? null : record.timestamp,
			keyEncoding: record.key_encoding ?? "json",
			valueEncoding: record.value_encoding ?? "json",
			partition: 0,
		});
		const full = copy([...own, ...provenance]);
		if (maxMessageBytes === undefined) return full;
		const fits = (input: ProduceInput) => utf8ByteLength(encodeTail(input)) <= maxMessageBytes;
		return [full, copy([...own, ...provenance.slice(0, -1)])].find(fits) ?? copy([...record.headers]);
	});
}

export { DEAD_LETTER_TOPIC_PREFIX, deadLetterTopicName } from "../shared/dead-letter-topic.ts";
