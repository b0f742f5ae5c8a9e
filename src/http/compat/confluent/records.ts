/**
 * @module
 * Confluent REST v3 produce records, as pure mapping: the request schemas (`ProduceRequest`, a
 * `records:batch` entry), their translation into Tributary's wire-independent `ProducedRecord`, and the
 * delivery report. Shapes follow Confluent's published API reference (docs.confluent.io/cloud/current/api.html,
 * "Records (v3)", and confluentinc/kafka-rest `api/v3/openapi.yaml`).
 *
 * Keys and values are `{type, data}`: BINARY is padded base64 bytes (stored with Tributary's base64 encoding),
 * STRING a string, JSON any JSON value. Without a type, Confluent asks the topic's Schema Registry subject;
 * Tributary has no registry and takes the data as JSON. Header values are base64 bytes; Tributary's headers hold
 * text, so they must decode to UTF-8 (400 otherwise).
 */

import * as z from "zod/mini";
import { base64Decode, isBase64 } from "../../../shared/base64.ts";
import { utf8ByteLength } from "../../../shared/json.ts";
import { HEADER_KEY_LENGTH_MAX, PARTITIONS_MAX, RECORD_HEADERS_MAX, TIMESTAMP_MS_MAX } from "../../../shared/limits.ts";
import { utf8 } from "../../../shared/partitioner.ts";
import type { ProducedRecord, RecordHeader } from "../../../shared/record-codec.ts";
import { int } from "../../schemas.ts";
import { BATCH_ID_LENGTH_MAX, CLUSTER_ID } from "./limits.ts";

export const DATA_TYPES = ["BINARY", "JSON", "STRING"] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** `{type, data}` of a key or value; schema fields (`subject`, `schema_id`, …) are refused: there is no registry. */
const ProduceRequestData = z.optional(
	z.nullable(
		z.strictObject({
			type: z.optional(z.enum(DATA_TYPES, { message: 'type must be "BINARY", "JSON" or "STRING" (schemas are not supported)' })),
			data: z.optional(z.unknown()),
		}),
	),
);

type RequestData = z.output<typeof ProduceRequestData>;

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A header value's text: base64 that decodes to UTF-8, or null when it does not. */
function headerText(base64: string): string | null {
	if (!isBase64(base64)) return null;
	try {
		return fatalUtf8.decode(base64Decode(base64));
	} catch {
		return null;
	}
}

const ProduceRequestHeader = z.strictObject({
	name: z.string().check(z.maxLength(HEADER_KEY_LENGTH_MAX)),
	value: z.optional(z.nullable(z.string().check(z.refine((v) => headerText(v) !== null, "header values are padded base64 of UTF-8 text")))),
});

/** RFC 3339 date-time, as Confluent's `format: date-time`; the offset is required. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Whether the calendar date exists: `Date.parse` rolls 2021-02-30 over into March instead of refusing it. */
function isCalendarDate(text: string): boolean {
	const [year, month, day] = text.slice(0, 10).split("-").map(Number) as [number, number, number];
	const date = new Date(Date.UTC(year, month - 1, day));
	return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const Timestamp = z
	.pipe(
		z
			.string()
			.check(
				z.regex(DATE_TIME, "timestamp is an RFC 3339 date-time such as 2021-02-05T19:14:42Z"),
				z.refine(isCalendarDate, "timestamp names a day that does not exist"),
			),
		z.transform((text: string) => Date.parse(text.toUpperCase())),
	)
	.check(z.refine((ms) => Number.isFinite(ms) && ms >= 0 && ms <= TIMESTAMP_MS_MAX, "timestamp must be a real date from 1970 on"));

const recordFields = {
	partition_id: z.optional(z.nullable(int(0, PARTITIONS_MAX - 1))),
	headers: z.optional(z.nullable(z.array(ProduceRequestHeader).check(z.maxLength(RECORD_HEADERS_MAX)))),
	key: ProduceRequestData,
	value: ProduceRequestData,
	timestamp: z.optional(z.nullable(Timestamp)),
};

/** BINARY data must be padded base64, STRING data a string; null or absent data is a null key or value. */
function checkData(record: { key?: RequestData; value?: RequestData }, ctx: z.core.$RefinementCtx): void {
	for (const field of ["key", "value"] as const) {
		const given = record[field];
		if (given === null || given === undefined || given.data === null || given.data === undefined) continue;
		const data = given.data;
		if (given.type === "BINARY" && (typeof data !== "string" || !isBase64(data))) {
			ctx.addIssue({ code: "custom", path: [field, "data"], message: `${field} is BINARY but its data is not a padded base64 string` });
		}
		if (given.type === "STRING" && typeof data !== "string") {
			ctx.addIssue({ code: "custom", path: [field, "data"], message: `${field} is STRING but its data is not a string` });
		}
	}
}

/** One record of `POST …/records` (one of the concatenated objects of a streamed body). */
export const ProduceRequest = z.strictObject(recordFields).check(z.superRefine(checkData));
export type ProduceRequest = z.output<typeof ProduceRequest>;

/** Confluent checks batch ids before anything else: a bad or repeated id refuses the whole batch. */
export const BatchEntryId = z
	.string()
	.check(
		z.minLength(1),
		z.maxLength(BATCH_ID_LENGTH_MAX),
		z.regex(/^[0-9a-zA-Z_-]+$/, `entry ids are 1 to ${BATCH_ID_LENGTH_MAX} of [0-9a-zA-Z_-]`),
	);

/** One entry of `POST …/records:batch`: a record plus its id. */
export const ProduceBatchEntry = z.strictObject({ id: BatchEntryId, ...recordFields }).check(z.superRefine(checkData));

/** The `{type, size}` Confluent reports for a key or value. */
export interface ReportData {
	readonly type: DataType;
	readonly size: number;
}

/** A validated record, ready for `produce`: what to store, what to hash, and what to report. */
export interface V3Record {
	readonly record: ProducedRecord;
	/** `partition_id` as given; null lets the key (or the request's sticky choice) decide. */
	readonly partition: number | null;
	/** The key's serialized bytes, which Kafka's default partitioner hashes; null without a key. */
	readonly keyBytes: Uint8Array | null;
	readonly key: ReportData | null;
	readonly value: ReportData | null;
}

/** Decoded length of padded base64, without decoding. */
function base64ByteLength(s: string): number {
	const padding = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
	return (s.length / 4) * 3 - padding;
}

interface Converted {
	readonly data: unknown;
	readonly encoding: "json" | "base64";
	/** The bytes a Kafka serializer of this type writes; null for a null key or value. */
	readonly bytes: () => Uint8Array | null;
	readonly report: ReportData | null;
}

/** One key or value: how Tributary stores it, and what Confluent would have serialized (size, hashed bytes). */
function convert(given: RequestData): Converted {
	if (given === null || given === undefined) return { data: null, encoding: "json", bytes: () => null, report: null };
	const type: DataType = given.type ?? "JSON";
	const data = given.data ?? null;
	if (data === null) return { data: null, encoding: "json", bytes: () => null, report: { type, size: 0 } };
	switch (type) {
		case "BINARY": {
			const text = data as string;
			return { data: text, encoding: "base64", bytes: () => base64Decode(text), report: { type, size: base64ByteLength(text) } };
		}
		case "STRING": {
			const text = data as string;
			return { data: text, encoding: "json", bytes: () => utf8(text), report: { type, size: utf8ByteLength(text) } };
		}
		case "JSON": {
			// Confluent's JSON serializer writes the value's JSON text: a string key is hashed with its quotes. A string
			// is stored as that text too: Tributary gives a Kafka reader a string's own characters, so stored as the
			// string it would lose its quotes, and the same key would hash to one partition and read as another's.
			const text = JSON.stringify(data);
			const stored = typeof data === "string" ? text : data;
			return { data: stored, encoding: "json", bytes: () => utf8(text), report: { type, size: utf8ByteLength(text) } };
		}
	}
}

function headersOf(request: ProduceRequest): RecordHeader[] {
	return (request.headers ?? []).map((h) => {
		const value = h.value === null || h.value === undefined ? null : headerText(h.value);
		return { key: h.name, value };
	});
}

/** A validated v3 record as Tributary's `ProducedRecord`, with what partitioning and the report need. */
export function toV3Record(request: ProduceRequest): V3Record {
	const key = convert(request.key);
	const value = convert(request.value);
	return {
		record: {
			key: key.data,
			value: value.data,
			headers: headersOf(request),
			timestampMs: request.timestamp ?? null,
			keyEncoding: key.encoding,
			valueEncoding: value.encoding,
		},
		partition: request.partition_id ?? null,
		keyBytes: key.bytes(),
		key: key.report,
		value: value.report,
	};
}

/** Where a record landed, as `produce` reports it. */
export interface Landed {
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
}

/** Confluent's delivery report for a record that was written (`error_code` 200). */
export function deliveryReport(topic: string, landed: Landed, record: V3Record) {
	return {
		error_code: 200,
		cluster_id: CLUSTER_ID,
		topic_name: topic,
		partition_id: landed.partition,
		offset: landed.offset,
		timestamp: new Date(landed.timestamp).toISOString(),
		key: record.key,
		value: record.value,
	};
}
