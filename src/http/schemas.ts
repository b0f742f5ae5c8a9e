/**
 * @module
 * Schemas for every path parameter, query string and body the edge accepts. Numbers in query strings are
 * digit strings checked for range here, so negative, fractional, huge or NaN values are a 400, never a 500.
 */

import { z } from "zod";
import {
	FETCH_BYTES_MAX,
	FETCH_RECORDS_MAX,
	FETCH_WAIT_MS_MAX,
	GROUP_ID_LENGTH_MAX,
	HEADER_KEY_BYTES_MAX,
	IDEMPOTENCY_KEY_LENGTH_MAX,
	LIST_PAGE_LIMIT_MAX,
	PARTITIONS_MAX,
	PRODUCE_RECORDS_MAX,
	RECORD_HEADERS_MAX,
	SSE_KEEPALIVE_MS_MIN,
	TIMESTAMP_MS_MAX,
	TOPIC_NAME_LENGTH_MAX,
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
import { CURSOR_LENGTH_MAX, decodeCursor, encodeCursor, type Page, type PageRequest } from "../shared/page.ts";
import { isBase64 } from "../shared/record-codec.ts";
import { LOCATION_HINTS } from "../topic/types.ts";

/** Kafka's name charset, for topics and for ids that end up in paths and Durable Object names. */
export const KAFKA_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

/** A name of Kafka's charset, 1 to `lengthMax` characters, and not "." or "..". */
function kafkaName(lengthMax: number, charsetMessage: string, dotsMessage: string) {
	return z
		.string()
		.min(1)
		.max(lengthMax)
		.regex(KAFKA_NAME_PATTERN, charsetMessage)
		.refine((name) => name !== "." && name !== "..", dotsMessage);
}

/** Kafka's legal topic names: `[a-zA-Z0-9._-]`, 1–249 characters, and not "." or "..". */
export const TopicName = kafkaName(
	TOPIC_NAME_LENGTH_MAX,
	"topic names use only letters, digits, '.', '_' and '-'",
	"a topic may not be named '.' or '..'",
);

/** Group and instance ids: Kafka's topic-name charset, so they are safe in a path and in a Durable Object name. */
export const GroupId = kafkaName(
	GROUP_ID_LENGTH_MAX,
	"group ids use only letters, digits, '.', '_' and '-'",
	"a group id may not be '.' or '..'",
);

/** A non-negative integer given as a digit string (query and path parameters). */
export function digits(max: number) {
	return z
		.string()
		.regex(/^\d{1,16}$/, "must be a non-negative integer")
		.transform(Number)
		.refine((n) => n <= max, `must be at most ${max}`);
}

/** A non-negative integer given as a JSON number or a digit string (body fields). */
export function count(min: number, max: number) {
	return z
		.union([
			z.number(),
			z
				.string()
				.regex(/^\d{1,16}$/)
				.transform(Number),
		])
		.pipe(z.number().int().min(min).max(max));
}

/** Like `digits`, but a value above `max` is lowered to it: limits a server may cap rather than refuse. */
export function cappedDigits(max: number) {
	return z
		.string()
		.regex(/^\d{1,16}$/, "must be a non-negative integer")
		.transform((n) => Math.min(Number(n), max));
}

export const PartitionParam = digits(PARTITIONS_MAX - 1);

/**
 * A listing's query string: `limit` (at most `LIST_PAGE_LIMIT_MAX`, also the default; more is lowered to it) and
 * the `cursor` a previous page answered as `next_cursor`, whose key has the types of `shape`.
 */
export function listQuery(shape: readonly ("string" | "number")[]) {
	return z
		.object({
			limit: cappedDigits(LIST_PAGE_LIMIT_MAX).pipe(z.number().min(1, "must be at least 1")).optional(),
			cursor: z.string().max(CURSOR_LENGTH_MAX).optional(),
		})
		.transform((query, ctx): PageRequest => {
			const after = query.cursor === undefined || query.cursor === "" ? null : decodeCursor(query.cursor, shape);
			if (after === null && query.cursor !== undefined && query.cursor !== "") {
				ctx.addIssue({ code: "custom", path: ["cursor"], message: "not a cursor this listing answered as next_cursor" });
				return z.NEVER;
			}
			return { after, limit: query.limit ?? LIST_PAGE_LIMIT_MAX };
		});
}

/** What a listing answers besides its items: where the next page starts, or null after the last. */
export function nextCursor(page: Page<unknown>): { next_cursor: string | null } {
	return { next_cursor: page.next === null ? null : encodeCursor(page.next) };
}

export const TopicPath = z.object({ topic: TopicName });
export const PartitionPath = z.object({ topic: TopicName, partition: PartitionParam });

export const CreateTopicBody = z.strictObject({
	name: TopicName,
	partitions: count(1, PARTITIONS_MAX).optional().default(1),
	config: z.record(z.string(), z.unknown()).optional(),
	location_hint: z.enum(LOCATION_HINTS, { error: `location_hint must be one of ${LOCATION_HINTS.join(", ")}` }).optional(),
});

export const UpdateTopicBody = z.strictObject({
	partitions: count(1, PARTITIONS_MAX).optional(),
	config: z.record(z.string(), z.unknown()).optional(),
});

const Encoding = z.enum(["json", "base64"]).optional().default("json");

const RecordHeader = z.strictObject({
	key: z.string().max(HEADER_KEY_BYTES_MAX),
	value: z.string().nullable(),
});

export const ProduceRecordBody = z
	.strictObject({
		key: z.unknown().optional(),
		value: z.unknown(),
		headers: z.array(RecordHeader).max(RECORD_HEADERS_MAX).optional(),
		partition: z
			.number()
			.int()
			.min(0)
			.max(PARTITIONS_MAX - 1)
			.optional(),
		timestamp: z.number().int().min(0).max(TIMESTAMP_MS_MAX).nullable().optional(),
		key_encoding: Encoding,
		value_encoding: Encoding,
	})
	.superRefine((record, ctx) => {
		if (record.value === undefined) ctx.addIssue({ code: "custom", path: ["value"], message: "value is required (null for none)" });
		for (const field of ["key", "value"] as const) {
			const encoding = record[`${field}_encoding`];
			const data = record[field];
			if (encoding === "base64" && data !== null && data !== undefined && (typeof data !== "string" || !isBase64(data))) {
				ctx.addIssue({ code: "custom", path: [field], message: `${field}_encoding is base64 but ${field} is not padded base64` });
			}
		}
	});

const NonNegative = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const ProduceBody = z
	.strictObject({
		records: z.array(ProduceRecordBody).min(1, "records must hold at least one record").max(PRODUCE_RECORDS_MAX),
		/** Idempotent producer (from POST /v1/producers) and the first sequence of this request's records. */
		producer_id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
		epoch: NonNegative.optional(),
		sequence: NonNegative.optional(),
		sequences: z.record(z.string().regex(/^\d{1,4}$/, "keys are partition numbers"), NonNegative).optional(),
		/** Conditional append: the offset the first record must get. */
		expected_offset: NonNegative.optional(),
	})
	.superRefine((body, ctx) => {
		const idempotent =
			body.producer_id !== undefined || body.epoch !== undefined || body.sequence !== undefined || body.sequences !== undefined;
		if (!idempotent) return;
		if (body.producer_id === undefined || body.epoch === undefined) {
			ctx.addIssue({ code: "custom", path: ["producer_id"], message: "an idempotent produce needs producer_id and epoch" });
		}
		if ((body.sequence === undefined) === (body.sequences === undefined)) {
			ctx.addIssue({ code: "custom", path: ["sequence"], message: "an idempotent produce needs exactly one of sequence or sequences" });
		}
	});

/** `Idempotency-Key`: printable ASCII, as Stripe and the IETF draft use it. */
export const IdempotencyKey = z
	.string()
	.min(1)
	.max(IDEMPOTENCY_KEY_LENGTH_MAX)
	.regex(/^[\x21-\x7e]+$/, "Idempotency-Key must be printable ASCII without spaces");

export const InitProducerBody = z.strictObject({
	transactional_id: z.string().min(1).max(TRANSACTIONAL_ID_LENGTH_MAX).optional(),
});

export const FetchQuery = z.object({
	offset: digits(Number.MAX_SAFE_INTEGER).optional(),
	max_records: cappedDigits(FETCH_RECORDS_MAX).pipe(z.number().min(1, "must be at least 1")).optional(),
	max_bytes: cappedDigits(FETCH_BYTES_MAX).pipe(z.number().min(1, "must be at least 1")).optional(),
	wait_ms: cappedDigits(FETCH_WAIT_MS_MAX).optional(),
});

export const OffsetsQuery = z.object({
	at: z.union([
		z.enum(["earliest", "latest"]),
		z
			.string()
			.regex(/^\d{1,16}$/, "must be a time in ms (epoch milliseconds)")
			.transform(Number),
	]),
});

/** Streaming reads (SSE and WebSocket tail): where to start and how often to send keep-alives. */
export const StreamQuery = z.object({
	offset: digits(Number.MAX_SAFE_INTEGER).optional(),
	keepalive_ms: cappedDigits(FETCH_WAIT_MS_MAX)
		.pipe(z.number().min(SSE_KEEPALIVE_MS_MIN, `must be at least ${SSE_KEEPALIVE_MS_MIN}`))
		.optional(),
});

/** `Last-Event-ID`: the offset of the last event a reconnecting SSE client saw. */
export const LastEventId = digits(Number.MAX_SAFE_INTEGER - 1);

/** Webhook subscriptions. */
export const SubscriptionId = z.string().regex(/^sub_[0-9a-f]{20}$/, "subscription ids look like sub_ followed by 20 hex digits");
export const SubscriptionPath = z.object({ topic: TopicName, id: SubscriptionId });

const Position = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const StartPositionBody = z.union(
	[z.enum(["earliest", "latest"]), z.strictObject({ offset: Position }), z.strictObject({ timestamp: Position })],
	{ error: 'must be "earliest", "latest", {"offset": <offset>} or {"timestamp": <ms>}' },
);

const RetrySchedule = z.array(z.number().int().min(0).max(WEBHOOK_RETRY_DELAY_MS_MAX)).min(1).max(WEBHOOK_RETRY_SCHEDULE_LENGTH_MAX);

const SubscriptionFilter = z
	.strictObject({
		keys: z.array(z.string().max(HEADER_KEY_BYTES_MAX)).min(1).max(WEBHOOK_FILTER_TERMS_MAX).optional(),
		headers: z
			.record(z.string().max(HEADER_KEY_BYTES_MAX), z.string())
			.refine((h) => Object.keys(h).length <= WEBHOOK_FILTER_TERMS_MAX, `at most ${WEBHOOK_FILTER_TERMS_MAX} header conditions`)
			.optional(),
	})
	.nullable();

const SubscriptionSettingsFields = {
	url: z.string().min(1).max(WEBHOOK_URL_LENGTH_MAX),
	batch_max_records: count(1, WEBHOOK_BATCH_RECORDS_MAX),
	batch_max_wait_ms: count(0, WEBHOOK_BATCH_WAIT_MS_MAX),
	max_attempts: count(1, WEBHOOK_ATTEMPTS_MAX),
	retry_schedule_ms: RetrySchedule,
	filter: SubscriptionFilter,
};

export const CreateSubscriptionBody = z.strictObject({
	url: SubscriptionSettingsFields.url,
	start: StartPositionBody.optional().default("latest"),
	batch_max_records: SubscriptionSettingsFields.batch_max_records.optional().default(WEBHOOK_BATCH_RECORDS_DEFAULT),
	batch_max_wait_ms: SubscriptionSettingsFields.batch_max_wait_ms.optional().default(0),
	max_attempts: SubscriptionSettingsFields.max_attempts.optional(),
	retry_schedule_ms: SubscriptionSettingsFields.retry_schedule_ms.optional(),
	filter: SubscriptionSettingsFields.filter.optional().default(null),
});

export const UpdateSubscriptionBody = z
	.strictObject({
		url: SubscriptionSettingsFields.url.optional(),
		status: z.enum(["active", "paused"]).optional(),
		batch_max_records: SubscriptionSettingsFields.batch_max_records.optional(),
		batch_max_wait_ms: SubscriptionSettingsFields.batch_max_wait_ms.optional(),
		max_attempts: SubscriptionSettingsFields.max_attempts.optional(),
		retry_schedule_ms: SubscriptionSettingsFields.retry_schedule_ms.optional(),
		filter: SubscriptionSettingsFields.filter.optional(),
		rotate_secret: z.literal(true).optional(),
	})
	.refine((body) => Object.keys(body).length > 0, "name at least one field to change");

export const ReplayBody = z
	.strictObject({
		offset: z.union([Position, z.enum(["earliest", "latest"])]).optional(),
		timestamp: Position.optional(),
		partition: z
			.number()
			.int()
			.min(0)
			.max(PARTITIONS_MAX - 1)
			.optional(),
	})
	.refine((body) => (body.offset === undefined) !== (body.timestamp === undefined), "give exactly one of offset or timestamp");

export const DeliveriesQuery = z.object({
	limit: cappedDigits(WEBHOOK_DELIVERIES_PAGE_MAX).pipe(z.number().min(1, "must be at least 1")).optional(),
});

/** Inbound webhooks: an optional record key and partition in the query string. */
export const InboundWebhookQuery = z.object({
	key: z.string().max(HEADER_KEY_BYTES_MAX).optional(),
	partition: PartitionParam.optional(),
});
