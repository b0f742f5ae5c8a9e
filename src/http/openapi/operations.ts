/**
 * @module
 * What the OpenAPI document says about each route: the same zod schemas that validate its path, query and body
 * (imported from where the routes use them), and its response bodies (responses.ts). Keyed by the route table's
 * keys, so the compiler asks for an entry for every `/v1` route and the document lists exactly the routes that
 * exist.
 */

import * as z from "zod/mini";
import type { RouteKey } from "../route-table.ts";
import { AnonymousBody, AnonymousPatchBody } from "../routes/anonymous.ts";
import {
	CommitBody,
	GroupPath,
	GroupsQuery,
	HeartbeatBody,
	JoinBody,
	LeaveQuery,
	MemberPath,
	PollBody,
	ResetBody,
} from "../routes/groups.ts";
import { CreateKeyBody, KeyPath, KeysQuery, QuotasBody, QuotasPatchBody } from "../routes/keys.ts";
import { NdjsonStreamQuery, ProduceStreamQuery } from "../routes/produce-stream.ts";
import { SubscriptionsQuery } from "../routes/subscriptions.ts";
import { TopicsQuery } from "../routes/topics.ts";
import {
	CreateSubscriptionBody,
	CreateTopicBody,
	DeleteRecordsBody,
	DeliveriesQuery,
	FetchQuery,
	InboundWebhookQuery,
	InitProducerBody,
	OffsetsQuery,
	PartitionPath,
	ProduceBody,
	ReplayBody,
	StreamQuery,
	SubscriptionPath,
	TopicPath,
	UpdateSubscriptionBody,
	UpdateTopicBody,
} from "../schemas.ts";
import * as R from "./responses.ts";

/** Routes the document covers: every `/v1` route, and `/metrics`. */
export type DocumentedRoute = Extract<RouteKey, `${string} /v1${string}`> | "GET /metrics";

export interface Operation {
	readonly summary: string;
	readonly tag: "topics" | "records" | "subscriptions" | "groups" | "producers" | "keys" | "metrics";
	readonly path?: z.core.$ZodType;
	/** An object schema (possibly piped into a transform): each property is one query parameter. */
	readonly query?: z.core.$ZodType;
	readonly headers?: readonly { readonly name: string; readonly description: string }[];
	/**
	 * The JSON body; `optional` when an empty body counts as `{}`. Whether it is a JSON Merge Patch, also taken as
	 * `application/merge-patch+json`, is the route table's `mergePatch`, which the reader follows too.
	 */
	readonly body?: { readonly schema: z.core.$ZodType; readonly optional?: boolean };
	/** Other request media types accepted, as a string schema with a description. */
	readonly otherMedia?: Readonly<Record<string, string>>;
	/** Success status → its JSON body schema, or `null` for no content. */
	readonly responses: Readonly<Record<number, z.core.$ZodType | null>>;
	/** Other success media types (text, streams), described. */
	readonly responseMedia?: Readonly<Record<string, string>>;
	/** Headers every success answer carries: name → description. */
	readonly responseHeaders?: Readonly<Record<string, string>>;
	/** Error statuses the operation names apart from any 4XX: status → when. */
	readonly errors?: Readonly<Record<number, string>>;
}

const IDEMPOTENCY_KEY = {
	name: "Idempotency-Key",
	description: "Makes a retried produce land once: the same key with the same body answers the first offsets",
};

/**
 * A member call's 409s: `unknown_member`, and the fence on its `instance_id` (a static member's, as its join gave it:
 * KIP-345's group.instance.id), as a Kafka broker's FENCED_INSTANCE_ID.
 */
const MEMBER_CONFLICT =
	"`unknown_member` when the group has no such member (its session ran out, it left, or a restart of its instance " +
	"replaced it): join again. `fenced_instance` when the call's `instance_id` (optional, in the body, a leave's in its query: the static member's instance id, as " +
	"its join named it) is held by another member: a restart of the instance (a join with it and no member_id) " +
	"replaced this member, which should stop, not join again; one no member holds is `unknown_member`. Without `instance_id` such a member is `unknown_member`";
/** A commit's 409s beyond the member's (`MEMBER_CONFLICT`), also a poll's carrying one. */
const COMMIT_CONFLICT =
	"`rebalance_in_progress` when its generation is over (poll or heartbeat for the new assignment), " +
	"`partition_not_assigned` for a partition the member does not own";

/** Optimistic concurrency on a grant, a key's or anonymous's (RFC 9110 §8.8.3, §13.1.1). */
const GRANT_ETAG = { ETag: "The grant's entity tag as stored now: send it as If-Match to change this grant only" };
const IF_MATCH_GRANT = {
	headers: [
		{
			name: "If-Match",
			description:
				"Answers or changes the grant only while its ETag is one of these (or *), else 412, or a change the grant already is " +
				"(its repeat after a lost answer), answered 200 (RFC 9110 §13.1.1); a weak tag never matches",
		},
	],
	responseHeaders: GRANT_ETAG,
	errors: { 412: "`precondition_failed`: the grant changed since the If-Match's ETag was read; read it again" },
};

export const OPERATIONS: Readonly<Record<DocumentedRoute, Operation>> = {
	"GET /v1/topics": {
		summary: "List topics the caller may describe, a page at a time",
		tag: "topics",
		query: TopicsQuery,
		responses: { 200: R.TopicList },
	},
	"POST /v1/topics": { summary: "Create a topic", tag: "topics", body: { schema: CreateTopicBody }, responses: { 201: R.TopicCreated } },
	"GET /v1/topics/:topic": {
		summary: "Describe a topic: config and each partition's offsets",
		tag: "topics",
		path: TopicPath,
		responses: { 200: R.TopicDescription },
	},
	"PATCH /v1/topics/:topic": {
		summary: "Change a topic's config or add partitions",
		tag: "topics",
		path: TopicPath,
		body: { schema: UpdateTopicBody },
		responses: { 200: R.TopicCreated },
	},
	"DELETE /v1/topics/:topic": { summary: "Delete a topic and its records", tag: "topics", path: TopicPath, responses: { 204: null } },
	"POST /v1/topics/:topic/records": {
		summary: "Produce records (acknowledged once written)",
		tag: "records",
		path: TopicPath,
		headers: [IDEMPOTENCY_KEY],
		body: { schema: ProduceBody },
		otherMedia: { "application/x-ndjson": "One record object per line (the records of a JSON body), no options" },
		responses: { 200: R.ProduceResult },
	},
	"GET /v1/topics/:topic/records/stream": {
		summary:
			"Open a WebSocket produce stream: one JSON message in, one report out, in order (Upgrade: websocket); with reports=array, each message back is a JSON array of the reports of consecutive messages, in order; with checks=message, each message is held to a POST …/records's key, ACL and quota checks (429 quota_exceeded in its report, nothing written)",
		tag: "records",
		path: TopicPath,
		query: ProduceStreamQuery,
		headers: [{ name: "Upgrade", description: "websocket" }],
		responses: { 101: null },
	},
	"POST /v1/topics/:topic/records/stream": {
		summary:
			"Stream records as NDJSON: one report line per message line, written as each is acknowledged; with checks=message, each message is held to a POST …/records's key, ACL and quota checks",
		tag: "records",
		path: TopicPath,
		query: NdjsonStreamQuery,
		otherMedia: {
			"application/x-ndjson":
				'One message per line: a record ({"key","value",…} as in a produce body) or {"records":[…]} with optional producer_id, epoch and sequence; a message\'s records land in one partition',
		},
		responses: { 200: null },
		responseMedia: {
			"application/x-ndjson":
				'One line per message, in order: {"offsets":[{partition,offset,timestamp}]} or {"error":{code,message,retriable,…}}',
		},
	},
	"GET /v1/topics/:topic/partitions/:partition/records": {
		summary: "Fetch records of a partition from an offset (long-poll with wait_ms; SSE or WebSocket tail on request)",
		tag: "records",
		path: PartitionPath,
		query: z.extend(FetchQuery, z.pick(StreamQuery, { keepalive_ms: true }).shape),
		responses: { 200: R.FetchResult },
		responseMedia: {
			"text/event-stream": "With Accept: text/event-stream: one event per record (id: its offset), resumable with Last-Event-ID",
		},
	},
	"GET /v1/topics/:topic/partitions/:partition/offsets": {
		summary: "Look up an offset: earliest, latest, the first at or after a timestamp (ms), or the record with the largest timestamp",
		tag: "records",
		path: PartitionPath,
		query: OffsetsQuery,
		responses: { 200: R.OffsetResult },
	},
	"POST /v1/topics/:topic/partitions/:partition/delete-records": {
		summary: "Delete a partition's records before an offset (Kafka's DeleteRecords; -1: all): answers the new log start",
		tag: "records",
		path: PartitionPath,
		body: { schema: DeleteRecordsBody },
		responses: { 200: R.LogStartResult },
	},
	"POST /v1/topics/:topic/webhook": {
		summary: "Produce any request body as one record (inbound webhook)",
		tag: "records",
		path: TopicPath,
		query: InboundWebhookQuery,
		otherMedia: { "*/*": "Any body: JSON is stored as JSON, other bodies as text or base64" },
		responses: { 200: R.InboundResult },
	},
	"POST /v1/topics/:topic/subscriptions": {
		summary: "Subscribe a URL to a topic's records (webhook)",
		tag: "subscriptions",
		path: TopicPath,
		body: { schema: CreateSubscriptionBody },
		responses: { 201: R.Subscription },
	},
	"GET /v1/topics/:topic/subscriptions": {
		summary: "List a topic's webhook subscriptions, a page at a time",
		tag: "subscriptions",
		path: TopicPath,
		query: SubscriptionsQuery,
		responses: { 200: R.SubscriptionList },
	},
	"GET /v1/topics/:topic/subscriptions/:id": {
		summary: "Describe a subscription and its per-partition progress",
		tag: "subscriptions",
		path: SubscriptionPath,
		responses: { 200: R.Subscription },
	},
	"PATCH /v1/topics/:topic/subscriptions/:id": {
		summary: "Change, pause or resume a subscription, or rotate its secret",
		tag: "subscriptions",
		path: SubscriptionPath,
		body: { schema: UpdateSubscriptionBody },
		responses: { 200: R.Subscription },
	},
	"DELETE /v1/topics/:topic/subscriptions/:id": {
		summary: "Delete a subscription",
		tag: "subscriptions",
		path: SubscriptionPath,
		responses: { 204: null },
	},
	"POST /v1/topics/:topic/subscriptions/:id/replay": {
		summary: "Move a subscription back (or forward) to an offset or a time",
		tag: "subscriptions",
		path: SubscriptionPath,
		body: { schema: ReplayBody },
		responses: { 200: R.ReplayResult },
	},
	"GET /v1/topics/:topic/subscriptions/:id/deliveries": {
		summary: "Recent delivery attempts, newest first",
		tag: "subscriptions",
		path: SubscriptionPath,
		query: DeliveriesQuery,
		responses: { 200: R.DeliveryList },
	},
	"GET /v1/groups": {
		summary: "List consumer groups the caller may describe, a page at a time",
		tag: "groups",
		query: GroupsQuery,
		responses: { 200: R.GroupList },
	},
	"GET /v1/groups/:group": {
		summary: "Describe a group: members, assignment, committed offsets and lag",
		tag: "groups",
		path: GroupPath,
		responses: { 200: R.GroupDescription },
	},
	"DELETE /v1/groups/:group": { summary: "Delete an empty group", tag: "groups", path: GroupPath, responses: { 204: null } },
	"POST /v1/groups/:group/members": {
		summary: "Join a group (rebalances at once)",
		tag: "groups",
		path: GroupPath,
		body: { schema: JoinBody },
		responses: { 200: R.Joined },
	},
	"POST /v1/groups/:group/members/:member/poll": {
		summary: "Poll the member's partitions (heartbeat; optional auto-commit, or a commit carried with the poll)",
		tag: "groups",
		path: MemberPath,
		body: { schema: PollBody, optional: true },
		responses: { 200: R.Polled },
		errors: { 409: `${MEMBER_CONFLICT}. With a carried \`commit\`: ${COMMIT_CONFLICT}` },
	},
	"POST /v1/groups/:group/members/:member/heartbeat": {
		summary: "Keep a member's session alive",
		tag: "groups",
		path: MemberPath,
		body: { schema: HeartbeatBody, optional: true },
		responses: { 200: R.Heartbeat },
		errors: { 409: MEMBER_CONFLICT },
	},
	"DELETE /v1/groups/:group/members/:member": {
		summary: "Leave a group (auto_commit=false: without committing the last poll's records)",
		tag: "groups",
		path: MemberPath,
		query: LeaveQuery,
		responses: { 204: null },
		errors: { 409: MEMBER_CONFLICT },
	},
	"POST /v1/groups/:group/offsets": {
		summary: "Commit offsets (fenced by member and generation; without them, only while the group has no members)",
		tag: "groups",
		path: GroupPath,
		body: { schema: CommitBody },
		responses: { 200: R.Committed },
		errors: {
			409:
				`${MEMBER_CONFLICT}; ${COMMIT_CONFLICT}. Without member_id (a standalone commit): \`group_not_empty\` while ` +
				"the group has members, `fenced_instance` when its `instance_id` is held by one, `unknown_member` when by none",
		},
	},
	"POST /v1/groups/:group/offsets/reset": {
		summary: "Reset a group's offsets for a topic",
		tag: "groups",
		path: GroupPath,
		body: { schema: ResetBody },
		responses: { 200: R.ResetResult },
	},
	"POST /v1/producers": {
		summary: "Get an idempotent producer id and epoch",
		tag: "producers",
		body: { schema: InitProducerBody, optional: true },
		responses: { 200: R.ProducerIdentity },
	},
	"GET /v1/keys": {
		summary: "List API keys, oldest first, a page at a time",
		tag: "keys",
		query: KeysQuery,
		responses: { 200: R.KeyList },
	},
	"POST /v1/keys": {
		summary: "Create an API key (its secret is shown once)",
		tag: "keys",
		body: { schema: CreateKeyBody },
		responses: { 201: R.KeyCreated },
	},
	"GET /v1/keys/:id": {
		summary: "One API key, as the listing shows it (never its secret)",
		tag: "keys",
		path: KeyPath,
		responses: { 200: R.Key },
		...IF_MATCH_GRANT,
	},
	"DELETE /v1/keys/:id": { summary: "Delete an API key", tag: "keys", path: KeyPath, responses: { 204: null } },
	"PUT /v1/keys/:id/quotas": {
		summary: "Replace an API key's quotas (all of them; the key's next request is held to them)",
		tag: "keys",
		path: KeyPath,
		body: { schema: QuotasBody },
		responses: { 200: R.Key },
		...IF_MATCH_GRANT,
	},
	"PATCH /v1/keys/:id/quotas": {
		summary: "Change some of an API key's quotas at once (JSON Merge Patch: a rate sets one, null removes it, others are kept)",
		tag: "keys",
		path: KeyPath,
		body: { schema: QuotasPatchBody },
		responses: { 200: R.Key },
		...IF_MATCH_GRANT,
	},
	"GET /v1/anonymous": {
		summary: "What a request without credentials may do (nothing until an admin grants it)",
		tag: "keys",
		responses: { 200: R.AnonymousGrant },
		...IF_MATCH_GRANT,
	},
	"PUT /v1/anonymous": {
		summary: "Replace the anonymous principal's ACL and quotas",
		tag: "keys",
		body: { schema: AnonymousBody },
		responses: { 200: R.AnonymousGrant },
		...IF_MATCH_GRANT,
	},
	"PATCH /v1/anonymous": {
		summary:
			"Change part of the anonymous principal's grant (JSON Merge Patch: a quota's rate sets it, null removes it, others are kept; `acl`, an array, is replaced whole when given)",
		tag: "keys",
		body: { schema: AnonymousPatchBody },
		responses: { 200: R.AnonymousGrant },
		...IF_MATCH_GRANT,
	},
	"GET /metrics": {
		summary: "Every figure in the Prometheus text format (admin, or describe on cluster)",
		tag: "metrics",
		responses: { 200: null },
		responseMedia: { "text/plain": "Prometheus text exposition format, version 0.0.4" },
	},
};
