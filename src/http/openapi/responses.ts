/**
 * @module
 * Response bodies of every `/v1` route, as zod/mini schemas. Requests are validated by the schemas in schemas.ts and
 * the route modules; responses are described here, and the contract tests (test/http/openapi-contract.test.ts)
 * check real responses of every route against the document generated from these, so neither drifts unseen.
 */

import * as z from "zod/mini";
import { OPERATIONS } from "../../auth/acl.ts";
import { OFFSET_RESETS, STRATEGIES } from "../../group/types.ts";
import { LOCATION_HINTS } from "../../topic/types.ts";

const Int = z.number().check(z.int());
const Offset = z.number().check(z.int(), z.minimum(0));
/** `schema` with a description, which the OpenAPI document shows. */
const described = <S extends z.ZodMiniType>(schema: S, description: string): S => schema.check(z.describe(description));

export const ErrorResponse = z.object({
	error: described(
		z.catchall(
			z.object({
				code: described(z.string(), "Machine-readable error code, e.g. topic_not_found"),
				message: z.string(),
				retriable: described(z.boolean(), "Whether the same request may succeed if retried"),
			}),
			z.unknown(),
		),
		"Recovery fields (high_watermark, retry_after_ms, …) sit next to code and message",
	),
});

const TopicId = described(z.string(), "New each time a topic of this name is created (Kafka's topic id)");
const TopicSummary = z.object({ name: z.string(), topic_id: TopicId, partitions: Int, config: z.record(z.string(), z.unknown()) });

/** A listing's page: `next_cursor` is passed back as `?cursor=` for the next page; null on the last. */
const NextCursor = z.nullable(z.string());

export const TopicList = z.object({ topics: z.array(TopicSummary), next_cursor: NextCursor });
export const TopicCreated = TopicSummary;
export const TopicDescription = z.object({
	name: z.string(),
	topic_id: TopicId,
	config: z.record(z.string(), z.unknown()),
	location_hint: described(z.nullable(z.enum(LOCATION_HINTS)), "The location hint the topic was created with"),
	partitions: z.array(
		z.object({
			partition: Int,
			log_start_offset: Offset,
			local_log_start_offset: described(Offset, "First offset held in the partition's own storage; below it, in R2"),
			high_watermark: Offset,
			bytes: described(z.number().check(z.int(), z.minimum(0)), "Bytes of records stored locally (in the partition's own storage)"),
			remote_bytes: described(z.number().check(z.int(), z.minimum(0)), "Bytes of the partition's segments in R2 (tiered storage)"),
			records: described(z.number().check(z.int(), z.minimum(0)), "Records stored locally"),
			remote_records: described(z.number().check(z.int(), z.minimum(0)), "Records in the partition's segments in R2 (tiered storage)"),
		}),
	),
});

const Position = z.object({ partition: Int, offset: Offset, timestamp: Int });
export const ProduceResult = z.object({ offsets: z.array(Position) });
export const InboundResult = Position;

const RecordHeader = z.object({ key: z.string(), value: z.nullable(z.string()) });
const FetchedRecord = z.object({
	partition: Int,
	offset: Offset,
	timestamp: Int,
	key: z.unknown(),
	value: z.unknown(),
	headers: z.array(RecordHeader),
	key_encoding: z.optional(z.enum(["base64"])),
	value_encoding: z.optional(z.enum(["base64"])),
});

export const FetchResult = z.object({
	records: z.array(FetchedRecord),
	high_watermark: Offset,
	log_start_offset: Offset,
	next_offset: Offset,
});
export const OffsetResult = z.object({
	offset: z.union([Offset, z.literal(-1)]),
	timestamp: z.optional(
		described(
			Int,
			"With at=max_timestamp: the record's timestamp (-1, and offset -1, in an empty log, or once the record that set the maximum is removed)",
		),
	),
});
export const LogStartResult = z.object({ log_start_offset: described(Offset, "The partition's new log start (low watermark)") });

const Filter = z.nullable(z.object({ keys: z.optional(z.array(z.string())), headers: z.optional(z.record(z.string(), z.string())) }));
const Start = z.union([z.enum(["earliest", "latest"]), z.object({ offset: Offset }), z.object({ timestamp: Int })]);
export const Subscription = z.object({
	id: z.string(),
	topic: z.string(),
	url: z.string(),
	status: z.enum(["active", "paused", "disabled"]),
	disabled_reason: z.nullable(z.string()),
	start: Start,
	batch_max_records: Int,
	batch_max_wait_ms: Int,
	max_attempts: Int,
	retry_schedule_ms: z.array(Int),
	filter: Filter,
	dead_letter_topic: z.string(),
	created_at: Int,
	updated_at: Int,
	secret: described(z.optional(z.string()), "Signing secret: only on create and on rotation"),
	partitions: z.optional(
		z.array(
			z.object({
				partition: Int,
				next_offset: Offset,
				pending: z.nullable(
					z.object({
						webhook_id: z.string(),
						first_offset: Offset,
						last_offset: Offset,
						record_count: Int,
						attempts: Int,
						next_attempt_at: Int,
						last_error: z.nullable(z.string()),
					}),
				),
			}),
		),
	),
});
export const SubscriptionList = z.object({ subscriptions: z.array(Subscription), next_cursor: NextCursor });
export const ReplayResult = z.object({ partitions: z.array(z.object({ partition: Int, offset: Offset })) });
export const DeliveryList = z.object({
	deliveries: z.array(
		z.object({
			id: Int,
			partition: Int,
			webhook_id: z.string(),
			first_offset: Offset,
			last_offset: Offset,
			record_count: Int,
			attempt: Int,
			outcome: z.enum(["delivered", "failed", "gone", "dead_lettered", "skipped"]),
			response_status: z.nullable(Int),
			latency_ms: Int,
			error: z.nullable(z.string()),
			at: Int,
		}),
	),
});

const TopicPartition = z.object({ topic: z.string(), partition: Int });
const GroupState = z.enum(["empty", "stable"]);
export const GroupList = z.object({
	groups: z.array(z.object({ group: z.string(), state: GroupState, members: Int })),
	next_cursor: NextCursor,
});
export const GroupDescription = z.object({
	group: z.string(),
	state: GroupState,
	generation: Int,
	strategy: z.nullable(z.enum(STRATEGIES)),
	members: z.array(
		z.object({
			member_id: z.string(),
			instance_id: z.nullable(z.string()),
			topics: z.optional(z.array(z.string())),
			topic_pattern: z.optional(z.string()),
			session_timeout_ms: Int,
			auto_offset_reset: z.enum(OFFSET_RESETS),
			assignment: z.array(TopicPartition),
		}),
	),
	offsets: z.array(
		z.object({
			topic: z.string(),
			partition: Int,
			committed: z.nullable(Offset),
			metadata: z.nullable(z.string()),
			high_watermark: Offset,
			lag: described(z.nullable(Offset), "High watermark minus committed; null until the group commits"),
		}),
	),
});
export const Joined = z.object({ member_id: z.string(), generation: Int, assignment: z.array(TopicPartition) });
export const Heartbeat = z.object({ generation: Int, assignment: z.array(TopicPartition) });
/** A poll's answer, in the layout it asked for: one list of records with their topics, or one entry a partition. */
export const Polled = z.union([
	z.object({
		records: z.array(z.extend(FetchedRecord, { topic: z.string() })),
		generation: Int,
		assignment: z.array(TopicPartition),
	}),
	z.object({
		partitions: z.array(z.extend(TopicPartition, { records: z.array(FetchedRecord) })),
		generation: Int,
		assignment: z.array(TopicPartition),
	}),
]);
export const Committed = z.object({ generation: Int, offsets: z.array(z.extend(TopicPartition, { offset: Offset })) });
export const ResetResult = z.object({ group: z.string(), offsets: z.array(z.extend(TopicPartition, { offset: Offset })) });

export const ProducerIdentity = z.object({
	producer_id: z.number().check(z.int(), z.minimum(1)),
	epoch: z.number().check(z.int(), z.minimum(0)),
});

const AclEntry = z.object({ resource: z.string(), operations: z.array(z.enum(OPERATIONS)) });
export const Key = z.object({
	id: z.string(),
	name: z.string(),
	acl: z.array(AclEntry),
	quotas: z.record(z.string(), Int),
	created_at_ms: Int,
});
export const KeyList = z.object({ keys: z.array(Key), next_cursor: NextCursor });
export const KeyCreated = z.extend(Key, { secret: described(z.string(), "Shown once: store it now") });
export const AnonymousGrant = z.object({ acl: z.array(AclEntry), quotas: z.record(z.string(), Int) });
