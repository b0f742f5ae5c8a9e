/**
 * @module
 * Schemas for every path parameter, query string and body the edge accepts. Numbers in query strings are
 * digit strings checked for range here, so negative, fractional, huge or NaN values are a 400, never a 500.
 *
 * Written with `zod/mini`, zod's functional API: the same engine and messages as `zod`, but a bundler keeps only
 * the functions used (a namespace import, never `import { z }`, which keeps them all), so the Worker stays small.
 */

import * as z from "zod/mini";
import { isBase64 } from "../shared/base64.ts";
import { DELETE_TO_HIGH_WATERMARK } from "../shared/delete-records.ts";
import {
	CURSOR_LENGTH_MAX,
	FETCH_BYTES_MAX,
	FETCH_RECORDS_MAX,
	FETCH_WAIT_MS_MAX,
	GROUP_ID_LENGTH_MAX,
	HEADER_KEY_LENGTH_MAX,
	IDEMPOTENCY_KEY_LENGTH_MAX,
	LIST_PAGE_LIMIT_MAX,
	PARTITIONS_MAX,
	PRODUCE_RECORDS_MAX,
	PRODUCER_SEQUENCE_MAX,
	RECORD_HEADERS_MAX,
	SSE_KEEPALIVE_MS_MIN,
	TIMESTAMP_MS_MAX,
	TOPIC_NAME_LENGTH_MAX,
	TOPIC_PARTITIONS_DEFAULT,
	TRANSACTIONAL_ID_LENGTH_MAX,
	WEBHOOK_ATTEMPTS_MAX,
	WEBHOOK_BATCH_RECORDS_DEFAULT,
	WEBHOOK_BATCH_RECORDS_MAX,
	WEBHOOK_BATCH_WAIT_MS_MAX,
	WEBHOOK_DELIVERIES_PAGE_MAX,
	WEBHOOK_FILTER_TERMS_MAX,
	WEBHOOK_RETRY_DELAY_MS_MAX,
	WEBHOOK_RETRY_SCHEDULE_LENGTH_MAX,
	WEBHOOK_URL_LENGTH_MAX,
} from "../shared/limits.ts";
import { decodeCursor, encodeCursor, type Page, type PageRequest } from "../shared/page.ts";
import type { ProduceInput } from "../topic/produce.ts";
import { LOCATION_HINTS } from "../topic/types.ts";
import { jsonRecord } from "./json-record.ts";

/** Kafka's name charset, for topics and for ids that end up in paths and Durable Object names. */
export const KAFKA_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

/**
 * A number `parseJsonExact` kept as its digits (a record value needs them) is, in any other field, the double
 * nearest them, as `JSON.parse` reads it: so it is out of range rather than "not a number", and a field means the
 * same whatever else the body holds. Past a double's range (`1e400`) there is none: it stays as sent, and the
 * field's message names it.
 */
const rawAsNumber = z.transform((value: number): number => {
	if (!JSON.isRawJSON(value)) return value;
	const nearest = Number(JSON.stringify(value));
	return Number.isFinite(nearest) ? nearest : value;
});

/**
 * An integer from `min` to `max` (a JSON number). The bounds are checked before integrality: `z.int()` refuses a
 * number past a double's integers as over the largest safe integer, and the first issue is the one a 400 names, so
 * a partition of 1e20 is "at most 255", its own bound.
 */
export function int(min: number, max: number) {
	return z.pipe(rawAsNumber, z.number().check(z.minimum(min), z.maximum(max), z.int()));
}

/** A string of at most `lengthMax` characters. */
export function shortString(lengthMax: number) {
	return z.string().check(z.maxLength(lengthMax));
}

/** A name of Kafka's charset, 1 to `lengthMax` characters, and not "." or "..". */
function kafkaName(lengthMax: number, charsetMessage: string, dotsMessage: string) {
	return z.string().check(
		z.minLength(1),
		z.maxLength(lengthMax),
		z.regex(KAFKA_NAME_PATTERN, charsetMessage),
		z.refine((name) => name !== "." && name !== "..", dotsMessage),
	);
}

/**
 * A free-form name that is stored and echoed (an API key's name, a `transactional_id`): 1 to `lengthMax`
 * characters, none a control character (NUL ends a C string, a newline splits a header or log line) and none a lone
 * surrogate (it has no UTF-8 form, so it would not read back as sent).
 */
export function plainName(lengthMax: number) {
	return z
		.string()
		.check(z.minLength(1), z.maxLength(lengthMax), z.regex(/^[^\p{Cc}\p{Cs}]*$/u, "may not hold control characters or lone surrogates"));
}

/** Kafka's legal topic names: `[a-zA-Z0-9._-]`, 1–249 characters, and not "." or "..". */
export const TopicName = kafkaName(
	TOPIC_NAME_LENGTH_MAX,
	"topic names use only letters, digits, '.', '_' and '-'",
	"a topic may not be named '.' or '..'",
);

/** Whether `name` passes `kafkaName(lengthMax, …)`, checked without the schema (the fast paths). */
function isKafkaName(name: string, lengthMax: number): boolean {
	return name.length <= lengthMax && KAFKA_NAME_PATTERN.test(name) && name !== "." && name !== "..";
}

/** Whether `name` passes `TopicName`, checked without the schema: for the produce route, which checks one per request. */
export const isTopicName = (name: string): boolean => isKafkaName(name, TOPIC_NAME_LENGTH_MAX);

/** Group and instance ids: Kafka's topic-name charset, so they are safe in a path and in a Durable Object name. */
export const GroupId = kafkaName(
	GROUP_ID_LENGTH_MAX,
	"group ids use only letters, digits, '.', '_' and '-'",
	"a group id may not be '.' or '..'",
);

/** Whether `value` passes `GroupId` (a group or instance id), checked without the schema: for the group fast paths. */
export const isGroupId = (value: unknown): value is string => typeof value === "string" && isKafkaName(value, GROUP_ID_LENGTH_MAX);

/** Digits a query or path integer may have: as many as the largest safe integer, so enough for any offset or time in ms. */
const DIGITS_MAX = 16;
const Digits = z
	.string()
	.check(z.regex(new RegExp(`^\\d{1,${DIGITS_MAX}}$`), `must be a non-negative integer of at most ${DIGITS_MAX} digits`));

/** A non-negative integer given as a digit string (query and path parameters). */
export function digits(max: number) {
	return z.pipe(Digits, z.transform(Number)).check(z.refine((n) => n <= max, `must be at most ${max}`));
}

/** A non-negative integer given as a JSON number or a digit string (body fields). */
export function count(min: number, max: number) {
	return z.pipe(z.union([z.number(), z.pipe(z.string().check(z.regex(/^\d{1,16}$/)), z.transform(Number))]), int(min, max));
}

/**
 * A check that a list of offsets names each topic-partition once: a commit of two offsets for one partition has no
 * meaning, so it is refused with the index of the repeat.
 */
export function eachPartitionOnce<T extends { readonly topic: string; readonly partition: number }>() {
	return z.superRefine<T[]>((offsets, ctx) => {
		const seen = new Set<string>();
		offsets.forEach((o, i) => {
			const key = `${o.topic}/${o.partition}`;
			if (seen.has(key)) ctx.addIssue({ code: "custom", path: [i], message: `${key} appears twice` });
			seen.add(key);
		});
	});
}

/** Like `digits`, but a value above `max` is lowered to it: limits a server may cap rather than refuse. */
export function cappedDigits(max: number) {
	return z.pipe(
		Digits,
		z.transform((n: string) => Math.min(Number(n), max)),
	);
}

/** `cappedDigits(max)`, and at least `min`. */
function cappedDigitsFrom(min: number, max: number) {
	return z.pipe(cappedDigits(max), z.number().check(z.minimum(min, `must be at least ${min}`)));
}

export const PartitionParam = digits(PARTITIONS_MAX - 1);

/**
 * A listing's query string: `limit` (at most `LIST_PAGE_LIMIT_MAX`, also the default; more is lowered to it) and
 * the `cursor` a previous page answered as `next_cursor`, whose key has the types of `shape`.
 */
export function listQuery(shape: readonly ("string" | "number")[]) {
	return z.pipe(
		z.object({
			limit: z.optional(cappedDigitsFrom(1, LIST_PAGE_LIMIT_MAX)),
			cursor: z.optional(shortString(CURSOR_LENGTH_MAX)),
		}),
		z.transform((query, ctx): PageRequest => {
			const after = query.cursor === undefined || query.cursor === "" ? null : decodeCursor(query.cursor, shape);
			if (after === null && query.cursor !== undefined && query.cursor !== "") {
				ctx.issues.push({
					code: "custom",
					path: ["cursor"],
					message: "not a cursor this listing answered as next_cursor",
					input: query.cursor,
				});
				return z.NEVER;
			}
			return { after, limit: query.limit ?? LIST_PAGE_LIMIT_MAX };
		}),
	);
}

/** What a listing answers besides its items: where the next page starts, or null after the last. */
export function nextCursor(page: Page<unknown>): { next_cursor: string | null } {
	return { next_cursor: page.next === null ? null : encodeCursor(page.next) };
}

export const TopicPath = z.object({ topic: TopicName });
export const PartitionPath = z.object({ topic: TopicName, partition: PartitionParam });

const TopicConfig = jsonRecord(z.string(), z.unknown());

export const CreateTopicBody = z.strictObject({
	name: TopicName,
	partitions: z._default(z.optional(count(1, PARTITIONS_MAX)), TOPIC_PARTITIONS_DEFAULT),
	config: z.optional(TopicConfig),
	location_hint: z.optional(z.enum(LOCATION_HINTS, { error: `location_hint must be one of ${LOCATION_HINTS.join(", ")}` })),
});

export const UpdateTopicBody = z.strictObject({
	partitions: z.optional(count(1, PARTITIONS_MAX)),
	config: z.optional(TopicConfig),
});

const Encoding = z._default(z.optional(z.enum(["json", "base64"])), "json");

const RecordHeader = z.strictObject({
	key: shortString(HEADER_KEY_LENGTH_MAX),
	value: z.nullable(z.string()),
});

export const ProduceRecordBody = z
	.strictObject({
		key: z.optional(z.unknown()),
		value: z.unknown(),
		headers: z.optional(z.array(RecordHeader).check(z.maxLength(RECORD_HEADERS_MAX))),
		partition: z.optional(int(0, PARTITIONS_MAX - 1)),
		timestamp: z.optional(z.nullable(int(0, TIMESTAMP_MS_MAX))),
		key_encoding: Encoding,
		value_encoding: Encoding,
	})
	.check(
		z.superRefine((record, ctx) => {
			if (record.value === undefined) ctx.addIssue({ code: "custom", path: ["value"], message: "value is required (null for none)" });
			for (const field of ["key", "value"] as const) {
				const encoding = record[`${field}_encoding`];
				const data = record[field];
				if (encoding === "base64" && data !== null && data !== undefined && (typeof data !== "string" || !isBase64(data))) {
					ctx.addIssue({ code: "custom", path: [field], message: `${field}_encoding is base64 but ${field} is not padded base64` });
				}
			}
		}),
	);

/** A validated produce record as the wire-format-free input `produce` takes (the /v1 body and the produce stream). */
export function toProduceInput(record: z.output<typeof ProduceRecordBody>): ProduceInput {
	return {
		key: record.key ?? null,
		value: record.value,
		headers: record.headers ?? [],
		timestampMs: record.timestamp ?? null,
		keyEncoding: record.key_encoding,
		valueEncoding: record.value_encoding,
		partition: record.partition ?? null,
	};
}

export const NonNegative = int(0, Number.MAX_SAFE_INTEGER);
/** An idempotent producer's sequence: Kafka's int32, which wraps to 0 after its highest (the partition counts so). */
export const ProducerSequence = int(0, PRODUCER_SEQUENCE_MAX);

/**
 * What `POST …/records` and a stream's `{"records":[…]}` message both take: the records, and an idempotent producer
 * (from POST /v1/producers) with the first sequence of those records.
 */
export const BATCH_FIELDS = {
	records: z.array(ProduceRecordBody).check(z.minLength(1, "records must hold at least one record"), z.maxLength(PRODUCE_RECORDS_MAX)),
	producer_id: z.optional(int(1, Number.MAX_SAFE_INTEGER)),
	epoch: z.optional(NonNegative),
	sequence: z.optional(ProducerSequence),
};

export const ProduceBody = z
	.strictObject({
		...BATCH_FIELDS,
		sequences: z.optional(jsonRecord(z.string().check(z.regex(/^\d{1,4}$/, "keys are partition numbers")), ProducerSequence)),
		/** Conditional append: the offset the first record must get. */
		expected_offset: z.optional(NonNegative),
	})
	.check(
		z.superRefine((body, ctx) => {
			const idempotent =
				body.producer_id !== undefined || body.epoch !== undefined || body.sequence !== undefined || body.sequences !== undefined;
			if (!idempotent) return;
			if (body.producer_id === undefined || body.epoch === undefined) {
				ctx.addIssue({ code: "custom", path: ["producer_id"], message: "an idempotent produce needs producer_id and epoch" });
			}
			if ((body.sequence === undefined) === (body.sequences === undefined)) {
				ctx.addIssue({ code: "custom", path: ["sequence"], message: "an idempotent produce needs exactly one of sequence or sequences" });
			}
		}),
	);

/** `Idempotency-Key`: printable ASCII, as Stripe and the IETF draft use it. */
export const IdempotencyKey = z
	.string()
	.check(
		z.minLength(1),
		z.maxLength(IDEMPOTENCY_KEY_LENGTH_MAX),
		z.regex(/^[\x21-\x7e]+$/, "Idempotency-Key must be printable ASCII without spaces"),
	);

export const InitProducerBody = z.strictObject({
	transactional_id: z.optional(plainName(TRANSACTIONAL_ID_LENGTH_MAX)),
});

export const FetchQuery = z.object({
	offset: z.optional(digits(Number.MAX_SAFE_INTEGER)),
	max_records: z.optional(cappedDigitsFrom(1, FETCH_RECORDS_MAX)),
	max_bytes: z.optional(cappedDigitsFrom(1, FETCH_BYTES_MAX)),
	wait_ms: z.optional(cappedDigits(FETCH_WAIT_MS_MAX)),
});

/** DeleteRecords: the partition's log start moves up to `before_offset`; -1 is the high watermark, as in Kafka. */
export const DeleteRecordsBody = z.strictObject({ before_offset: int(DELETE_TO_HIGH_WATERMARK, Number.MAX_SAFE_INTEGER) });

export const OffsetsQuery = z.object({
	at: z.union([
		z.enum(["earliest", "latest", "max_timestamp"]),
		z.pipe(z.string().check(z.regex(/^\d{1,16}$/, "must be a time in ms (epoch milliseconds)")), z.transform(Number)),
	]),
});

/** Streaming reads (SSE and WebSocket tail): where to start and how often to send keep-alives. */
export const StreamQuery = z.object({
	offset: z.optional(digits(Number.MAX_SAFE_INTEGER)),
	keepalive_ms: z.optional(cappedDigitsFrom(SSE_KEEPALIVE_MS_MIN, FETCH_WAIT_MS_MAX)),
});

/** `Last-Event-ID`: the offset of the last event a reconnecting SSE client saw. */
export const LastEventId = digits(Number.MAX_SAFE_INTEGER - 1);

/** Webhook subscriptions. */
export const SubscriptionId = z.string().check(z.regex(/^sub_[0-9a-f]{20}$/, "subscription ids look like sub_ followed by 20 hex digits"));
export const SubscriptionPath = z.object({ topic: TopicName, id: SubscriptionId });

const Position = int(0, Number.MAX_SAFE_INTEGER);

export const StartPositionBody = z.union(
	[z.enum(["earliest", "latest"]), z.strictObject({ offset: Position }), z.strictObject({ timestamp: Position })],
	{ error: 'must be "earliest", "latest", {"offset": <offset>} or {"timestamp": <ms>}' },
);

const RetrySchedule = z.array(int(0, WEBHOOK_RETRY_DELAY_MS_MAX)).check(z.minLength(1), z.maxLength(WEBHOOK_RETRY_SCHEDULE_LENGTH_MAX));

const SubscriptionFilter = z.nullable(
	z.strictObject({
		keys: z.optional(z.array(shortString(HEADER_KEY_LENGTH_MAX)).check(z.minLength(1), z.maxLength(WEBHOOK_FILTER_TERMS_MAX))),
		headers: z.optional(
			jsonRecord(shortString(HEADER_KEY_LENGTH_MAX), z.string()).check(
				z.refine((h) => Object.keys(h).length <= WEBHOOK_FILTER_TERMS_MAX, `at most ${WEBHOOK_FILTER_TERMS_MAX} header conditions`),
			),
		),
	}),
);

const SubscriptionSettingsFields = {
	// A plain name: the URL parser percent-encodes a lone surrogate as U+FFFD and drops a tab or newline, so the URL
	// delivered to would not be the one sent, and the refusal would echo what has no UTF-8 form.
	url: plainName(WEBHOOK_URL_LENGTH_MAX),
	batch_max_records: count(1, WEBHOOK_BATCH_RECORDS_MAX),
	batch_max_wait_ms: count(0, WEBHOOK_BATCH_WAIT_MS_MAX),
	max_attempts: count(1, WEBHOOK_ATTEMPTS_MAX),
	retry_schedule_ms: RetrySchedule,
	filter: SubscriptionFilter,
};

export const CreateSubscriptionBody = z.strictObject({
	url: SubscriptionSettingsFields.url,
	start: z._default(z.optional(StartPositionBody), "latest"),
	batch_max_records: z._default(z.optional(SubscriptionSettingsFields.batch_max_records), WEBHOOK_BATCH_RECORDS_DEFAULT),
	batch_max_wait_ms: z._default(z.optional(SubscriptionSettingsFields.batch_max_wait_ms), 0),
	max_attempts: z.optional(SubscriptionSettingsFields.max_attempts),
	retry_schedule_ms: z.optional(SubscriptionSettingsFields.retry_schedule_ms),
	filter: z._default(z.optional(SubscriptionSettingsFields.filter), null),
});

export const UpdateSubscriptionBody = z
	.strictObject({
		url: z.optional(SubscriptionSettingsFields.url),
		status: z.optional(z.enum(["active", "paused"])),
		batch_max_records: z.optional(SubscriptionSettingsFields.batch_max_records),
		batch_max_wait_ms: z.optional(SubscriptionSettingsFields.batch_max_wait_ms),
		max_attempts: z.optional(SubscriptionSettingsFields.max_attempts),
		retry_schedule_ms: z.optional(SubscriptionSettingsFields.retry_schedule_ms),
		filter: z.optional(SubscriptionSettingsFields.filter),
		rotate_secret: z.optional(z.literal(true)),
	})
	.check(z.refine((body) => Object.keys(body).length > 0, "name at least one field to change"));

export const ReplayBody = z
	.strictObject({
		offset: z.optional(z.union([Position, z.enum(["earliest", "latest"])])),
		timestamp: z.optional(Position),
		partition: z.optional(int(0, PARTITIONS_MAX - 1)),
	})
	.check(z.refine((body) => (body.offset === undefined) !== (body.timestamp === undefined), "give exactly one of offset or timestamp"));

export const DeliveriesQuery = z.object({
	limit: z.optional(cappedDigitsFrom(1, WEBHOOK_DELIVERIES_PAGE_MAX)),
});

/** Inbound webhooks: an optional record key and partition in the query string. */
export const InboundWebhookQuery = z.object({
	key: z.optional(shortString(HEADER_KEY_LENGTH_MAX)),
	partition: z.optional(PartitionParam),
});
