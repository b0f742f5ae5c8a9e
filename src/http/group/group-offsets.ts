/**
 * @module
 * The edge's half of `GET /v1/groups/{group}` (committed offsets joined with each partition's high watermark,
 * giving lag), of `POST /v1/groups/{group}/offsets` (a commit, bounds-checked where the coordinator cannot vouch
 * for it) and of `POST /v1/groups/{group}/offsets/reset` (resolving "earliest", "latest", a time or an
 * offset to one offset per partition before the coordinator stores them).
 */

import { comparePartitions, keyOf } from "../../group/assignors.ts";
import { commitResultOf } from "../../group/commit-answer.ts";
import type { CommitRequest, CommittedOffset, GroupDescription, OffsetCommit, SubscribedTopic, TopicPartition } from "../../group/types.ts";
import { assert } from "../../shared/assert.ts";
import { err, missingMethod, ok, type Result } from "../../shared/errors.ts";
import { type LogPosition, resolvePosition } from "../../shared/log-reader.ts";
import { groupCoordinator, partitionLog } from "../../shared/stubs.ts";
import { checkPartition, describeTopic, invalidate } from "../../topic/topic-cache.ts";

export interface PartitionLag {
	readonly topic: string;
	readonly partition: number;
	readonly committed: number | null;
	readonly metadata: string | null;
	readonly high_watermark: number;
	/** Null while the group has no commit for the partition, as Kafka's tools show "-". */
	readonly lag: number | null;
}

export type ResetTarget = LogPosition;

/** The group as the coordinator describes it, plus committed offset, high watermark and lag per partition. */
export async function describeGroup(
	env: Env,
	groupId: string,
): Promise<Result<{ description: GroupDescription; offsets: PartitionLag[] }>> {
	const described = await groupCoordinator(env, groupId).describe(groupId);
	if (!described.ok) return described;
	const description = described.value;
	const topics = await knownTopics(env, description);
	const committed = new Map(description.committed.map((c) => [keyOf(c), c]));
	const partitions = new Map<string, TopicPartition>();
	for (const t of topics.values())
		for (let p = 0; p < t.partitions; p++) partitions.set(keyOf({ topic: t.topic, partition: p }), { topic: t.topic, partition: p });
	const listed = [...partitions.values()].sort(comparePartitions);
	const offsets = await Promise.all(
		listed.map((tp) => partitionLag(env, topics.get(tp.topic) as SubscribedTopic, tp, committed.get(keyOf(tp)) ?? null)),
	);
	return ok({ description, offsets });
}

/** Subscribed topics, plus the topics that only have commits (looked up; those deleted since are left out). */
async function knownTopics(env: Env, description: GroupDescription): Promise<Map<string, SubscribedTopic>> {
	const topics = new Map(description.topics.map((t) => [t.topic, t]));
	const others = [...new Set(description.committed.map((c) => c.topic))].filter((t) => !topics.has(t));
	const metas = await Promise.all(others.map((name) => describeTopic(env, name)));
	for (const meta of metas) {
		if (meta.ok) topics.set(meta.value.name, { topic: meta.value.name, topicId: meta.value.topicId, partitions: meta.value.partitions });
	}
	return topics;
}

async function partitionLag(
	env: Env,
	topic: SubscribedTopic,
	tp: TopicPartition,
	committed: CommittedOffset | null,
): Promise<PartitionLag> {
	const offsets = await partitionLog(env, topic.topicId, tp.partition).offsets();
	// With nothing committed there is no lag to speak of: a `latest` member would read none of the log.
	return {
		topic: tp.topic,
		partition: tp.partition,
		committed: committed?.offset ?? null,
		metadata: committed?.metadata ?? null,
		high_watermark: offsets.highWatermark,
		lag: committed === null ? null : Math.max(0, offsets.highWatermark - committed.offset),
	};
}

/**
 * Commits a member's offsets. The coordinator vouches for offsets up to the member's read positions, so a
 * consumer committing what it polled costs one call; any other offset is checked against its partition first
 * (`checkCommitBounds`) and the commit is sent again.
 */
export async function commitOffsets(env: Env, groupId: string, request: CommitRequest): Promise<Result<{ generation: number }>> {
	const coordinator = groupCoordinator(env, groupId);
	const first = commitResultOf(await coordinator.commit(groupId, request, false, true));
	if (!first.ok) return first;
	let outcome = first.value;
	if (!outcome.committed) {
		const unverified = new Set(outcome.unverified.map(keyOf));
		const bounds = await checkCommitBounds(
			env,
			request.offsets.filter((o) => unverified.has(keyOf(o))),
		);
		if (!bounds.ok) return bounds;
		const second = commitResultOf(await coordinator.commit(groupId, request, true, true));
		if (!second.ok) return second;
		outcome = second.value;
	}
	assert(outcome.committed, "commit judged");
	return ok({ generation: outcome.generation });
}

/**
 * Kafka's standalone commit (no member, no generation: a consumer that assigns itself partitions, an admin setting
 * a group's offsets), checked against the partitions' high watermarks as a member's is, then stored by the
 * coordinator only while the group has no members, as a Kafka broker stores a commit of generation -1 only for an
 * empty group (`group_not_empty` otherwise; naming an instance, as a broker's validateMember: `fenced_instance` when a
 * member holds it, `unknown_member` when none does). A bounds refusal goes to the coordinator too, without the
 * offsets (`refuseOffsets`), which answers those first (Kafka judges the group before the offsets): one more call,
 * only for a commit refused anyway. A coordinator of an earlier version (during a deploy) lacks that method: refused
 * so, the bounds refusal stands, as before the coordinator judged it. Any other failure may hide the
 * group's refusal, so it is 503 `unavailable`, to retry.
 */
export async function commitStandalone(
	env: Env,
	groupId: string,
	offsets: readonly OffsetCommit[],
	instanceId?: string | null,
): Promise<Result<void>> {
	const bounds = await checkCommitBounds(env, offsets);
	const coordinator = groupCoordinator(env, groupId);
	if (bounds.ok) return coordinator.resetOffsets(groupId, offsets, instanceId);
	const unavailable = err("unavailable", "the group's coordinator did not answer; retry");
	return coordinator.refuseOffsets(groupId, instanceId, bounds).then(
		// Its storage failed (answered as a Result): it wrote nothing, and did not judge the group.
		(judged) => (judged.ok || judged.error.code !== "service_unavailable" ? judged : unavailable),
		(cause: unknown) => {
			if (missingMethod(cause)) return bounds;
			console.error(`group ${groupId}: ${cause}`);
			return unavailable;
		},
	);
}

/**
 * Refuses a commit past a partition's high watermark (416 with the partition's bounds): such an offset names
 * records that do not exist, and the next poll would silently restart from the reset point. An offset below the
 * log start is accepted, as Kafka does (the next poll applies `auto_offset_reset`). A high watermark only grows
 * while the topic lives, so a commit checked here cannot become out of range before the coordinator stores it.
 */
export async function checkCommitBounds(
	env: Env,
	offsets: readonly { topic: string; partition: number; offset: number }[],
): Promise<Result<void>> {
	const results = await Promise.all(
		offsets.map(async (o): Promise<Result<void>> => {
			const meta = await describeTopic(env, o.topic);
			if (!meta.ok) return meta;
			const partition = checkPartition(meta.value, o.partition);
			if (!partition.ok) return partition;
			const { logStartOffset, highWatermark } = await partitionLog(env, meta.value.topicId, o.partition).offsets();
			if (o.offset <= highWatermark) return ok(undefined);
			return err(
				"offset_out_of_range",
				`offset ${o.offset} is past the end of ${o.topic}/${o.partition}: commit an offset from ${logStartOffset} to ${highWatermark} (the next offset to read)`,
				{ topic: o.topic, partition: o.partition, offset: o.offset, log_start_offset: logStartOffset, high_watermark: highWatermark },
			);
		}),
	);
	return results.find((r) => !r.ok) ?? ok(undefined);
}

/**
 * One offset per partition of `topic` for `to`. An explicit offset outside a partition's log is clamped into
 * it, as `kafka-consumer-groups --reset-offsets --to-offset` does.
 */
export async function resolveReset(
	env: Env,
	topic: string,
	to: ResetTarget,
): Promise<Result<{ topic: string; partition: number; offset: number }[]>> {
	const meta = await describeTopic(env, topic);
	if (!meta.ok) return meta;
	const { topicId, partitions } = meta.value;
	const resolved: { topic: string; partition: number; offset: number }[] = [];
	const results = await Promise.all(
		Array.from({ length: partitions }, async (_, partition): Promise<Result<number>> => {
			return resolvePosition(env, topicId, partition, to);
		}),
	);
	for (const [partition, result] of results.entries()) {
		if (!result.ok) {
			if (result.error.code === "topic_not_found") invalidate(topic);
			return result;
		}
		resolved.push({ topic, partition, offset: result.value });
	}
	return ok(resolved);
}
