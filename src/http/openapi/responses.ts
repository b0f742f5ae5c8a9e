/**
 * @module
 * Response bodies of every `/v1` route, as zod schemas. Requests are validated by the schemas in schemas.ts and
 * the route modules; responses are described here, and the contract tests (test/http/openapi-contract.test.ts)
 * check real responses of every route against the document generated from these, so neither drifts unseen.
 */

import { z } from "zod";
import { OPERATIONS } from "../../auth/acl.ts";
import { OFFSET_RESETS, STRATEGIES } from "../../group/types.ts";
import { LOCATION_HINTS } from "../../topic/types.ts";

const Int = z.number().int();
const Offset = Int.min(0);

export const ErrorResponse = z.object({
	error: z
		.object({
			code: z.string().describe("Machine-readable error code, e.g. topic_not_found"),
			message: z.string(),
			retriable: z.boolean().describe("Whether the same request may succeed if retried"),
		})
		.catchall(z.unknown())
		.describe("Recovery fields (high_watermark, retry_after_ms, …) sit next to code and message"),
});

const TopicSummary = z.object({ name: z.string(), partitions: Int, config: z.record(z.string(), z.unknown()) });

/** A listing's page: `next_cursor` is passed back as `?cursor=` for the next page; null on the last. */
const NextCursor = z.string().nullable();

export const TopicList = z.object({ topics: z.array(TopicSummary), next_cursor: NextCursor });
export const TopicCreated = TopicSummary;
export const TopicDescription = z.object({
	name: z.string(),
	config: z.record(z.string(), z.unknown()),
	location_hint: z.enum(LOCATION_HINTS).nullable().describe("The location hint the topic was created with"),
	partitions: z.array(
		z.object({
			partition: Int,
			log_start_offset: Offset,
			local_log_start_offset: Offset.describe("First offset held in the partition's own storage; below it, in R2"),
			high_watermark: Offset,
			bytes: Int.min(0).describe("Bytes of records stored locally (in the partition's own storage)"),
			remote_bytes: Int.min(0).describe("Bytes of the partition's segments in R2 (tiered storage)"),
			records: Int.min(0).describe("Records stored locally"),
		}),
	),
});

const Position = z.object({ partition: Int, offset: Offset, timestamp: Int });
export const ProduceResult = z.object({ offsets: z.array(Position) });
export const InboundResult = Position;

const RecordHeader = z.object({ key: z.string(), value: z.string().nullable() });
const FetchedRecord = z.object({
	partition: Int,
	offset: Offset,
	timestamp: Int,
	key: z.unknown(),
	value: z.unknown(),
	headers: z.array(RecordHeader),
	key_encoding: z.enum(["base64"]).optional(),
	value_encoding: z.enum(["base64"]).optional(),
});

export const FetchResult = z.object({
	records: z.array(FetchedRecord),
	high_watermark: Offset,
	log_start_offset: Offset,
	next_offset: Offset,
});
export const OffsetResult = z.object({ offset: Offset });

const Filter = z.object({ keys: z.array(z.string()).optional(), headers: z.record(z.string(), z.string()).optional() }).nullable();
const Start = z.union([z.enum(["earliest", "latest"]), z.object({ offset: Offset }), z.object({ timestamp: Int })]);
export const Subscription = z.object({
	id: z.string(),
	topic: z.string(),
	url: z.string(),
	status: z.enum(["active", "paused", "disabled"]),
	disabled_reason: z.string().nullable(),
	start: Start,
	batch_max_records: Int,
	batch_max_wait_ms: Int,
	max_attempts: Int,
	retry_schedule_ms: z.array(Int),
	filter: Filter,
	dead_letter_topic: z.string(),
	created_at: Int,
	updated_at: Int,
	secret: z.string().optional().describe("Signing secret: only on create and on rotation"),
	partitions: z
		.array(
			z.object({
				partition: Int,
				next_offset: Offset,
				pending: z
					.object({
						webhook_id: z.string(),
						first_offset: Offset,
						last_offset: Offset,
						record_count: Int,
						attempts: Int,
						next_attempt_at: Int,
						last_error: z.string().nullable(),
					})
					.nullable(),
			}),
		)
		.optional(),
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
			response_status: Int.nullable(),
			latency_ms: Int,
			error: z.string().nullable(),
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
	strategy: z.enum(STRATEGIES).nullable(),
	members: z.array(
		z.object({
			member_id: z.string(),
			instance_id: z.string().nullable(),
			topics: z.array(z.string()).optional(),
			topic_pattern: z.string().optional(),
			session_timeout_ms: Int,
			auto_offset_reset: z.enum(OFFSET_RESETS),
			assignment: z.array(TopicPartition),
		}),
	),
	offsets: z.array(
		z.object({
			topic: z.string(),
			partition: Int,
			committed: Offset.nullable(),
			metadata: z.string().nullable(),
			high_watermark: Offset,
			lag: Offset.nullable().describe("High watermark minus committed; null until the group commits"),
		}),
	),
});
export const Joined = z.object({ member_id: z.string(), generation: Int, assignment: z.array(TopicPartition) });
export const Heartbeat = z.object({ generation: Int, assignment: z.array(TopicPartition) });
export const Polled = z.object({
	records: z.array(FetchedRecord.extend({ topic: z.string() })),
	generation: Int,
	assignment: z.array(TopicPartition),
});
export const Committed = z.object({ generation: Int, offsets: z.array(TopicPartition.extend({ offset: Offset })) });
export const ResetResult = z.object({ group: z.string(), offsets: z.array(TopicPartition.extend({ offset: Offset })) });

export const ProducerIdentity = z.object({ producer_id: Int.min(1), epoch: Int.min(0) });

const AclEntry = z.object({ resource: z.string(), operations: z.array(z.enum(OPERATIONS)) });
const Key = z.object({
	id: z.string(),
	name: z.string(),
	acl: z.array(AclEntry),
	quotas: z.record(z.string(), Int),
	created_at_ms: Int,
});
export const KeyList = z.object({ keys: z.array(Key), next_cursor: NextCursor });
export const KeyCreated = Key.extend({ secret: z.string().describe("Shown once: store it now") });
export const AnonymousGrant = z.object({ acl: z.array(AclEntry), quotas: z.record(z.string(), Int) });
