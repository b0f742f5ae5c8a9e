/**
 * @module
 * `/v1/groups`: consumer groups. Members join, poll, heartbeat, commit and leave; anyone with the admin
 * token lists, describes (with lag), resets offsets of, and deletes groups. Schemas for every path parameter and
 * body are here; each body is strict, so a misspelt field is a 400 rather than silently ignored.
 */

import type { Context } from "hono";
import * as z from "zod/mini";
import { allowsEvery, groupResource, topicResource } from "../../auth/acl.ts";
import { patternProblem } from "../../group/subscription.ts";
import { type JoinRequest, OFFSET_RESETS, type OffsetCommit, STRATEGIES } from "../../group/types.ts";
import { bare, unwrap } from "../../shared/errors.ts";
import { utf8ByteLength } from "../../shared/json.ts";
import {
	AUTO_COMMIT_INTERVAL_MS_MAX,
	COMMIT_METADATA_BYTES_MAX,
	FETCH_BYTES_DEFAULT,
	FETCH_BYTES_MAX,
	FETCH_RECORDS_DEFAULT,
	FETCH_RECORDS_MAX,
	FETCH_WAIT_MS_MAX,
	GROUP_PARTITIONS_MAX,
	GROUP_SUBSCRIPTION_TOPICS_MAX,
	MEMBER_ID_LENGTH_MAX,
	PARTITIONS_MAX,
	REBALANCE_TIMEOUT_MS_MAX,
	SESSION_TIMEOUT_MS_DEFAULT,
	SESSION_TIMEOUT_MS_MAX,
	SESSION_TIMEOUT_MS_MIN,
	TOPIC_PATTERN_LENGTH_MAX,
} from "../../shared/limits.ts";
import { groupCoordinator, groupDirectory } from "../../shared/stubs.ts";
import { may, requireAccess } from "../access.ts";
import type { AppEnv } from "../app-env.ts";
import { parseJson, queryOf, readText, requireJson, validate } from "../body.ts";
import { clientGone } from "../client-gone.ts";
import { fastCommitBody, fastPollBody } from "../group/body-fast-path.ts";
import { POLL_LAYOUTS, type PollOptions, pollGroup } from "../group/consume.ts";
import { commitOffsets, commitStandalone, describeGroup, resolveReset } from "../group/group-offsets.ts";
import { Hono } from "../hono.ts";
import { reportFetchedBytes } from "../middleware/quotas.ts";
import { eachPartitionOnce, GroupId, int, KAFKA_NAME_PATTERN, listQuery, nextCursor, plainName, TopicName } from "../schemas.ts";

const MemberId = z
	.string()
	.check(
		z.minLength(1),
		z.maxLength(MEMBER_ID_LENGTH_MAX),
		z.regex(KAFKA_NAME_PATTERN, "member ids use only letters, digits, '.', '_' and '-'"),
	);

/**
 * A static member's instance id (KIP-345's group.instance.id). Named on a heartbeat, poll or commit, the call is
 * fenced (`fenced_instance`) when another member holds the instance: a restart of it replaced this one.
 */
const InstanceId = z.nullish(GroupId);

/*
 * Tried and dropped: checking the poll's and the commit's path parameters by hand (as body-fast-path.ts does the
 * bodies), the schema taken only for what the check is not sure of. `validate(MemberPath)` costs ~2.7 µs a call and
 * `validate(GroupPath)` ~2.4 in Node against ~0.1 by hand, so ~5 µs per poll + commit request: ~0.01 µs a record at
 * 500 records a poll. bench:ab group-4m-4p-commit-request, 6 rounds: −0.22 µs a record (−0.29 to +0.23, lower in 5
 * of 6) of ~9, inside that shape's A/A spread (−0.60 to +0.31), and twenty times what the check could save.
 */
export const GroupPath = z.object({ group: GroupId });
/** Groups are listed by id: a cursor is the last group's id. */
export const GroupsQuery = listQuery(["string"]);
export const MemberPath = z.object({ group: GroupId, member: MemberId });
/**
 * Leaving with `auto_commit=false` leaves as a Kafka consumer with auto-commit off closes: what the member's last
 * poll returned is not committed. A client that stops mid-poll, or lost a poll's answer, commits what it handed out
 * itself; committing the rest of that poll on leaving would skip records nobody saw. What earlier polls returned,
 * confirmed by the next one, is committed either way.
 */
export const LeaveQuery = z.object({ auto_commit: z.optional(z.enum(["true", "false"])), instance_id: InstanceId });

const Offset = int(0, Number.MAX_SAFE_INTEGER);
const Partition = z.strictObject({ topic: TopicName, partition: int(0, PARTITIONS_MAX - 1) });

/** A number above `max` is lowered to it: limits a server may cap rather than refuse (as the fetch query does). */
function capped(min: number, max: number) {
	return z.pipe(
		int(min, Number.MAX_SAFE_INTEGER),
		z.transform((n: number) => Math.min(n, max)),
	);
}

export const JoinBody = z
	.strictObject({
		topics: z.optional(z.array(TopicName).check(z.minLength(1), z.maxLength(GROUP_SUBSCRIPTION_TOPICS_MAX))),
		topic_pattern: z.optional(plainName(TOPIC_PATTERN_LENGTH_MAX)),
		session_timeout_ms: z.optional(int(SESSION_TIMEOUT_MS_MIN, SESSION_TIMEOUT_MS_MAX)),
		instance_id: InstanceId,
		member_id: z.optional(MemberId),
		strategy: z.nullish(z.enum(STRATEGIES)),
		auto_offset_reset: z.optional(z.enum(OFFSET_RESETS)),
		rejoins: z.optional(z.boolean()),
		rebalance_timeout_ms: z.optional(capped(1, REBALANCE_TIMEOUT_MS_MAX)),
	})
	.check(
		z.superRefine((body, ctx) => {
			if ((body.topics === undefined) === (body.topic_pattern === undefined)) {
				ctx.addIssue({ code: "custom", path: ["topics"], message: "give exactly one of topics or topic_pattern" });
			}
			const problem = body.topic_pattern === undefined ? null : patternProblem(body.topic_pattern);
			if (problem !== null) ctx.addIssue({ code: "custom", path: ["topic_pattern"], message: problem });
		}),
	);

const CommitOffset = z.strictObject({
	topic: TopicName,
	partition: int(0, PARTITIONS_MAX - 1),
	offset: Offset,
	// Kafka's metadata is any string, but it is stored as UTF-8: a lone surrogate, which has no UTF-8 form, would not read back.
	metadata: z.nullish(
		z.string().check(
			z.refine((m) => utf8ByteLength(m) <= COMMIT_METADATA_BYTES_MAX, `metadata may be at most ${COMMIT_METADATA_BYTES_MAX} bytes`),
			z.refine((m) => m.isWellFormed(), "may not hold lone surrogates"),
		),
	),
});

/** Offsets to commit, each partition once; a member's commit may name none (`CommitBody`). */
const OffsetsToCommit = z.array(CommitOffset).check(z.maxLength(GROUP_PARTITIONS_MAX), eachPartitionOnce());
const CommitOffsets = OffsetsToCommit.check(z.minLength(1));

/**
 * A member's commit, fenced by its generation; or, with neither `member_id` nor `generation`, Kafka's standalone
 * commit (a consumer that assigns itself partitions, an admin setting a group's offsets), stored only while the group
 * has no members. A member's commit of no offset is judged (member, generation) and commits nothing: the Kafka
 * gateway asks it for a commit whose every partition a broker refuses alone (metadata too large), which a broker
 * judges by its commit rule first.
 */
export const CommitBody = z
	.strictObject({
		member_id: z.optional(MemberId),
		generation: z.optional(Offset),
		offsets: OffsetsToCommit,
		instance_id: InstanceId,
	})
	.check(
		z.refine(
			(body) => (body.member_id === undefined) === (body.generation === undefined),
			"member_id and generation go together: both (a member's commit) or neither (a commit while the group has no members)",
		),
		z.refine((body) => body.member_id !== undefined || body.offsets.length > 0, "a commit with no member_id names an offset"),
	);

export const PollBody = z.strictObject({
	max_records: z.optional(capped(1, FETCH_RECORDS_MAX)),
	max_bytes: z.optional(capped(1, FETCH_BYTES_MAX)),
	wait_ms: z.optional(capped(0, FETCH_WAIT_MS_MAX)),
	auto_commit: z.optional(z.boolean()),
	// Kafka's auto.commit.interval.ms: what earlier polls returned is committed at the first poll this long after the
	// last auto-commit (0, the default: at every poll).
	auto_commit_interval_ms: z.optional(capped(0, AUTO_COMMIT_INTERVAL_MS_MAX)),
	// Commits with the poll (as Kafka's consumer commits within its poll loop): one request instead of two.
	commit: z.optional(z.strictObject({ generation: Offset, offsets: CommitOffsets })),
	// "partitions": records grouped under their partition, as Kafka's fetch answers (and the cheaper body to build).
	layout: z.optional(z.enum(POLL_LAYOUTS)),
	// Kafka's seek and pause, on partitions the member owns: read positions to move first, partitions not to read.
	seek: z.optional(
		z.array(z.strictObject({ ...Partition.shape, offset: Offset })).check(z.maxLength(GROUP_PARTITIONS_MAX), eachPartitionOnce()),
	),
	paused: z.optional(z.array(Partition).check(z.maxLength(GROUP_PARTITIONS_MAX))),
	instance_id: InstanceId,
});

export const ResetBody = z.strictObject({
	topic: TopicName,
	to: z.union([z.enum(["earliest", "latest"]), z.strictObject({ timestamp: Offset }), z.strictObject({ offset: Offset })]),
});

export const HeartbeatBody = z.strictObject({ instance_id: InstanceId });

/**
 * A JSON body that may be absent (`{}` then); present, it must be JSON and match `schema`. `fast`, when given,
 * answers what `schema` would for the plain bodies it knows, and null for the rest (see body-fast-path.ts).
 */
async function optionalBody<S extends z.core.$ZodType>(
	request: Request,
	schema: S,
	fast?: (value: unknown) => z.output<S> | null,
): Promise<z.output<S>> {
	requireJson(request);
	const text = await readText(request);
	const value = text.trim() === "" ? {} : parseJson(text);
	return fast?.(value) ?? validate(schema, value);
}

function toOffsetCommit(o: z.output<typeof CommitOffset>): OffsetCommit {
	return { topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata ?? null };
}

function toJoinRequest(body: z.output<typeof JoinBody>): JoinRequest {
	return {
		subscription:
			body.topics !== undefined
				? { topics: [...new Set(body.topics)], pattern: null }
				: { topics: null, pattern: body.topic_pattern as string },
		sessionTimeoutMs: body.session_timeout_ms ?? SESSION_TIMEOUT_MS_DEFAULT,
		instanceId: body.instance_id ?? null,
		memberId: body.member_id,
		strategy: body.strategy ?? null,
		autoOffsetReset: body.auto_offset_reset ?? "latest",
		rejoins: body.rejoins,
		rebalanceTimeoutMs: body.rebalance_timeout_ms,
	};
}

/** A key may join only with topics it may consume; a pattern may match any topic, so it needs `topic:*`. */
function requireSubscriptionRights(c: Context<AppEnv>, body: z.output<typeof JoinBody>): void {
	for (const topic of body.topics ?? []) requireAccess(c, topicResource(topic), "consume");
	const principal = c.var.principal;
	if (body.topic_pattern !== undefined && principal.kind !== "admin" && !allowsEvery(principal.key.acl, "topic", "consume")) {
		requireAccess(c, topicResource("*"), "consume");
	}
}

export const groupRoutes = new Hono<AppEnv>()
	.get("/", async (c) => {
		const page = bare(await groupDirectory(c.env).listPage(validate(GroupsQuery, queryOf(c.req.url))));
		const visible = page.items.filter(({ group }) => may(c, groupResource(group), "describe"));
		return c.json({ groups: visible.map(({ group, state, members }) => ({ group, state, members })), ...nextCursor(page) });
	})
	.get("/:group", async (c) => {
		const { group } = validate(GroupPath, c.req.param());
		const { description: d, offsets } = unwrap(await describeGroup(c.env, group));
		// Describing a group is not describing its topics: a key sees only the topic names it may describe itself.
		const visible = (topic: string) => may(c, topicResource(topic), "describe");
		const members = d.members.map((m) => ({
			member_id: m.memberId,
			instance_id: m.instanceId,
			...(m.subscription.topics !== null ? { topics: m.subscription.topics.filter(visible) } : { topic_pattern: m.subscription.pattern }),
			session_timeout_ms: m.sessionTimeoutMs,
			auto_offset_reset: m.autoOffsetReset,
			assignment: m.assignment.filter((tp) => visible(tp.topic)),
		}));
		const shown = offsets.filter((o) => visible(o.topic));
		return c.json({ group, state: d.state, generation: d.generation, strategy: d.strategy, members, offsets: shown });
	})
	.delete("/:group", async (c) => {
		const { group } = validate(GroupPath, c.req.param());
		unwrap(await groupCoordinator(c.env, group).deleteGroup(group));
		return c.body(null, 204);
	})
	.post("/:group/members", async (c) => {
		const { group } = validate(GroupPath, c.req.param());
		const body = await optionalBody(c.req.raw, JoinBody);
		requireSubscriptionRights(c, body);
		const joined = unwrap(await groupCoordinator(c.env, group).join(group, toJoinRequest(body)));
		return c.json({ member_id: joined.memberId, generation: joined.generation, assignment: joined.assignment });
	})
	.post("/:group/members/:member/poll", async (c) => {
		const { group, member } = validate(MemberPath, c.req.param());
		const body = await optionalBody(c.req.raw, PollBody, fastPollBody);
		for (const topic of new Set(body.commit?.offsets.map((o) => o.topic))) requireAccess(c, topicResource(topic), "consume");
		const options: PollOptions = {
			maxRecords: body.max_records ?? FETCH_RECORDS_DEFAULT,
			maxBytes: body.max_bytes ?? FETCH_BYTES_DEFAULT,
			waitMs: body.wait_ms ?? 0,
			// Kafka's enable.auto.commit, Confluent's REST consumers and Upstash all default to committing.
			autoCommit: body.auto_commit ?? true,
			autoCommitIntervalMs: body.auto_commit_interval_ms ?? 0,
			// Another member's subscription may put a topic this key may not read in its assignment.
			mayConsume: (topic) => may(c, topicResource(topic), "consume"),
			commit: body.commit === undefined ? null : { generation: body.commit.generation, offsets: body.commit.offsets.map(toOffsetCommit) },
			steering: body.seek || body.paused ? { seek: body.seek ?? [], paused: body.paused ?? [] } : null,
			instanceId: body.instance_id,
			end: clientGone(c),
		};
		const page = unwrap(await pollGroup(c.env, group, member, options, body.layout));
		reportFetchedBytes(c, page.bytes);
		return c.body(page.body, 200, { "Content-Type": "application/json" });
	})
	.post("/:group/members/:member/heartbeat", async (c) => {
		const { group, member } = validate(MemberPath, c.req.param());
		const body = await optionalBody(c.req.raw, HeartbeatBody);
		return c.json(unwrap(await groupCoordinator(c.env, group).heartbeat(group, member, body.instance_id)));
	})
	.delete("/:group/members/:member", async (c) => {
		const { group, member } = validate(MemberPath, c.req.param());
		const { auto_commit, instance_id } = validate(LeaveQuery, queryOf(c.req.url), "query");
		unwrap(await groupCoordinator(c.env, group).leave(group, member, auto_commit !== "false", instance_id));
		return c.body(null, 204);
	})
	.post("/:group/offsets/reset", async (c) => {
		const { group } = validate(GroupPath, c.req.param());
		const body = await optionalBody(c.req.raw, ResetBody);
		requireAccess(c, topicResource(body.topic), "describe");
		const offsets = unwrap(await resolveReset(c.env, body.topic, body.to));
		unwrap(await groupCoordinator(c.env, group).resetOffsets(group, offsets, null, null, true));
		return c.json({ group, offsets });
	})
	.post("/:group/offsets", async (c) => {
		const { group } = validate(GroupPath, c.req.param());
		const body = await optionalBody(c.req.raw, CommitBody, fastCommitBody);
		for (const topic of new Set(body.offsets.map((o) => o.topic))) requireAccess(c, topicResource(topic), "consume");
		const offsets = body.offsets.map(toOffsetCommit);
		if (body.member_id === undefined || body.generation === undefined) {
			unwrap(await commitStandalone(c.env, group, offsets, body.instance_id));
			return c.json({ generation: -1, offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })) });
		}
		const view = unwrap(
			await commitOffsets(c.env, group, { memberId: body.member_id, generation: body.generation, offsets, instanceId: body.instance_id }),
		);
		return c.json({ generation: view.generation, offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })) });
	});
