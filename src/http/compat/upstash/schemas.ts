/**
 * @module
 * What the Upstash Kafka REST API accepts, as `@upstash/kafka` 1.3.5 and Upstash's docs send it.
 * Bodies are parsed like Upstash's server does: unknown fields are ignored (the client spreads a caller's
 * options into the body), but every field we read is checked for type and range, so bad input is a 400.
 */

import * as z from "zod/mini";
import {
	FETCH_WAIT_MS_MAX,
	GROUP_SUBSCRIPTION_TOPICS_MAX,
	HEADER_KEY_LENGTH_MAX,
	PARTITIONS_MAX,
	PRODUCE_RECORDS_MAX,
	RECORD_HEADERS_MAX,
	SESSION_TIMEOUT_MS_MAX,
	SESSION_TIMEOUT_MS_MIN,
	TIMESTAMP_MS_MAX,
} from "../../../shared/limits.ts";
import { digits, eachPartitionOnce, GroupId, int, PartitionParam, shortString, TopicName } from "../../schemas.ts";
import { UPSTASH_PARTITIONS_PER_REQUEST_MAX } from "./limits.ts";

/** Consumer group and instance ids: the rule `/v1/groups` uses, so they are safe in a path and an object name. */
export const ConsumerId = GroupId;

export const InstancePath = z.object({ group: ConsumerId, instance: ConsumerId });
// Schemas that add to another are built from its `shape` rather than with `z.extend`: the same schema, and zod's
// extend (with the helpers it copies shapes with) stays out of the Worker's bundle, about 0.3 KiB gzipped.
export const ConsumeTopicPath = z.object({ ...InstancePath.shape, topic: TopicName });
export const ProduceTopicPath = z.object({ topic: TopicName });
export const ProducePathMessage = z.object({ topic: TopicName, message: z.string() });
export const ProduceQuery = z.object({ key: z.optional(shortString(HEADER_KEY_LENGTH_MAX)) });

const Partition = int(0, PARTITIONS_MAX - 1);
const Offset = int(0, Number.MAX_SAFE_INTEGER);

/** `timeout` (ms) of fetch and consume; above Tributary's long-poll ceiling it is lowered to it. */
const Timeout = z.pipe(
	int(0, Number.MAX_SAFE_INTEGER),
	z.transform((ms: number) => Math.min(ms, FETCH_WAIT_MS_MAX)),
);

const Header = z.object({ key: shortString(HEADER_KEY_LENGTH_MAX), value: z.string() });

/** One message as `/produce/{topic}` takes it. Upstash's `value` is a string: the client JSON-encodes objects. */
export const UpstashMessage = z.object({
	value: z.string(),
	key: z.optional(z.string()),
	partition: z.optional(Partition),
	timestamp: z.optional(int(0, TIMESTAMP_MS_MAX)),
	headers: z.optional(z.array(Header).check(z.maxLength(RECORD_HEADERS_MAX))),
});

/** One message as `/produce` takes it: the same with its topic. */
export const UpstashTopicMessage = z.object({ ...UpstashMessage.shape, topic: TopicName });

function oneOrMany<S extends z.core.$ZodType>(item: S, max: number) {
	return z.union([
		z.array(item).check(z.minLength(1, "send at least one"), z.maxLength(max)),
		z.pipe(
			item,
			z.transform((one: z.output<S>) => [one]),
		),
	]);
}

export const ProduceBody = oneOrMany(UpstashTopicMessage, PRODUCE_RECORDS_MAX);
/** `/produce/{topic}`: a message may name a topic too (copied from a `/produce` body); the route holds it to the path's. */
export const ProduceTopicBody = oneOrMany(z.object({ ...UpstashMessage.shape, topic: z.optional(z.string()) }), PRODUCE_RECORDS_MAX);

export const TopicPartitionBody = z.object({ topic: TopicName, partition: Partition });
export const TopicPartitionOffsetBody = z.object({ ...TopicPartitionBody.shape, offset: Offset });

export const FetchBody = z
	.object({
		topic: z.optional(TopicName),
		partition: z.optional(Partition),
		offset: z.optional(Offset),
		topicPartitionOffsets: z.optional(z.array(TopicPartitionOffsetBody).check(z.maxLength(UPSTASH_PARTITIONS_PER_REQUEST_MAX))),
		timeout: z.optional(Timeout),
	})
	.check(
		z.superRefine((body, ctx) => {
			if ((body.topic === undefined) !== (body.partition === undefined)) {
				ctx.addIssue({ code: "custom", path: ["partition"], message: "give topic and partition together" });
			}
			if (body.topic === undefined && (body.topicPartitionOffsets ?? []).length === 0) {
				ctx.addIssue({ code: "custom", path: ["topic"], message: "give topic and partition, or topicPartitionOffsets" });
			}
		}),
	);

/** A consume body: one topic or several (the client sends `topic` for one), and how long to wait. */
export const ConsumeBody = z
	.object({
		topic: z.optional(TopicName),
		topics: z.optional(z.array(TopicName).check(z.minLength(1), z.maxLength(GROUP_SUBSCRIPTION_TOPICS_MAX))),
		timeout: z.optional(Timeout),
	})
	.check(z.refine((body) => (body.topic === undefined) !== (body.topics === undefined), "give exactly one of topic or topics"));

/** `/consume/{group}/{instance}/{topic}`: the topic is in the path; the body, if any, may only set a timeout. */
export const ConsumeTopicBody = z.object({ timeout: z.optional(Timeout) });

/** The same timeout in the query string, as Upstash's GET form gives it (`?timeout=10000`). */
export const ConsumeTopicQuery = z.object({
	timeout: z.optional(
		z.pipe(
			digits(Number.MAX_SAFE_INTEGER),
			z.transform((ms: number) => Math.min(ms, FETCH_WAIT_MS_MAX)),
		),
	),
});

/** The consumer settings Upstash takes as headers; absent ones take Kafka's defaults. */
export const ConsumeHeaders = z.object({
	"kafka-enable-auto-commit": z.optional(z.enum(["true", "false"])),
	"kafka-auto-commit-interval": z.optional(digits(Number.MAX_SAFE_INTEGER)),
	"kafka-auto-offset-reset": z.optional(z.enum(["earliest", "latest", "none"])),
	// Kafka's bounds for a session, as a join through /v1 has them.
	"kafka-session-timeout-ms": z.optional(
		digits(SESSION_TIMEOUT_MS_MAX).check(z.refine((ms) => ms >= SESSION_TIMEOUT_MS_MIN, `must be at least ${SESSION_TIMEOUT_MS_MIN}`)),
	),
});

/** Explicit offsets to commit: one or several; no body at all (or an empty array) commits what the instance consumed. */
export const CommitBody = oneOrMany(TopicPartitionOffsetBody, UPSTASH_PARTITIONS_PER_REQUEST_MAX).check(eachPartitionOnce());

export const TopicPartitionsBody = oneOrMany(TopicPartitionBody, UPSTASH_PARTITIONS_PER_REQUEST_MAX);

/** `/offsets/{timestamp}`: `earliest`, `latest` or epoch milliseconds. */
export const OffsetsPath = z.object({
	timestamp: z.union([z.enum(["earliest", "latest"]), digits(Number.MAX_SAFE_INTEGER)]),
});

/** `/webhook?topic=`: the topic, and optionally the record's key and partition. */
export const WebhookQuery = z.object({
	topic: TopicName,
	key: z.optional(shortString(HEADER_KEY_LENGTH_MAX)),
	partition: z.optional(PartitionParam),
});

export type UpstashMessageInput = z.output<typeof UpstashMessage>;
export type TopicPartitionOffsetInput = z.output<typeof TopicPartitionOffsetBody>;
