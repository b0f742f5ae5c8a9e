/**
 * @module
 * Upstash consumer instances on Tributary's consumer groups. An Upstash REST server keeps a Kafka
 * consumer per (group, instance) in its memory, so clients must come back to the same server. Here an instance
 * is a *static member* (KIP-345, `instance_id`) of the group's `GroupCoordinator`, which holds its assignment,
 * positions and commits in SQLite: any isolate can serve any call.
 *
 * The member id of an instance is looked up in the coordinator (`describe`) and cached per isolate only to save
 * that lookup: a stale entry is answered `unknown_member`, and the call looks up again once. An instance joins
 * on its first consume; consuming other topics later joins again with the new subscription (a rebalance). Its
 * settings are those of the consume that made it, as an Upstash consumer's: later requests need not repeat them.
 */

import { commitResultOf } from "../../../group/commit-answer.ts";
import type { AutoCommitSettings, CommittedOffset, OffsetReset } from "../../../group/types.ts";
import { assert } from "../../../shared/assert.ts";
import { err, ok, type Result } from "../../../shared/errors.ts";
import { groupCoordinator } from "../../../shared/stubs.ts";
import { type PollOptions, pollGroup } from "../../group/consume.ts";
import { UPSTASH_INSTANCE_CACHE_MAX } from "./limits.ts";
import { subscriptionOf } from "./mapping.ts";

/** An instance's member and the auto-commit settings it was made with (null: made through /v1, its polls say). */
interface Instance {
	readonly memberId: string;
	readonly autoCommit: AutoCommitSettings | null;
}

interface KnownInstance extends Instance {
	/** The subscription the member joined with (sorted), or null when only looked up for a commit. */
	readonly topics: string | null;
}

const known = new Map<string, KnownInstance>();

function cacheKey(group: string, instance: string): string {
	return `${group}\u0000${instance}`;
}

function remember(group: string, instance: string, entry: KnownInstance): void {
	if (known.size >= UPSTASH_INSTANCE_CACHE_MAX) known.clear(); // bounded memory; a miss only costs a lookup
	known.set(cacheKey(group, instance), entry);
}

/** Drops an instance from this isolate's cache (after it was removed, or answered `unknown_member`). */
export function forgetInstance(group: string, instance: string): void {
	known.delete(cacheKey(group, instance));
}

/** The instance's member as the coordinator knows it, with the topics it subscribes to; null if it has none. */
async function lookUp(env: Env, group: string, instance: string): Promise<Result<KnownInstance | null>> {
	const described = await groupCoordinator(env, group).describe(group);
	if (!described.ok) return described.error.code === "group_not_found" ? ok(null) : described;
	const member = described.value.members.find((m) => m.instanceId === instance);
	if (member === undefined) return ok(null);
	const topics = member.subscription.topics === null ? null : subscriptionOf(member.subscription.topics).join(",");
	return ok({ memberId: member.memberId, topics, autoCommit: member.autoCommit });
}

function noSuchInstance(group: string, instance: string): Result<never> {
	return err("not_found", `consumer instance "${instance}" is not in group "${group}": consume first (it may have timed out)`, {
		group,
		instance,
	});
}

/** The member id of an instance that must exist already (commit), from the cache or the coordinator. */
async function existingMember(env: Env, group: string, instance: string): Promise<Result<string>> {
	const cached = known.get(cacheKey(group, instance));
	if (cached !== undefined) return ok(cached.memberId);
	const found = await lookUp(env, group, instance);
	if (!found.ok) return found;
	if (found.value === null) return noSuchInstance(group, instance);
	remember(group, instance, found.value);
	return ok(found.value.memberId);
}

/** The member of an instance subscribed to the request's topics, joining (or re-joining with a new subscription) if needed. */
async function memberFor(env: Env, group: string, instance: string, request: ConsumeRequest): Promise<Result<Instance>> {
	const wanted = subscriptionOf(request.topics);
	const key = wanted.join(",");
	const cached = known.get(cacheKey(group, instance));
	if (cached !== undefined && cached.topics === key) return ok(cached);
	const found = await lookUp(env, group, instance);
	if (!found.ok) return found;
	if (found.value !== null && found.value.topics === key) {
		remember(group, instance, found.value);
		return ok(found.value);
	}
	// Settings apply when an instance is created, as an Upstash consumer's do: a later reset header does not rejoin.
	const joined = await groupCoordinator(env, group).join(group, {
		subscription: { topics: wanted, pattern: null },
		sessionTimeoutMs: request.sessionTimeoutMs,
		instanceId: instance,
		strategy: null,
		autoOffsetReset: request.autoOffsetReset,
		autoCommit: request.autoCommit,
	});
	if (!joined.ok) return joined;
	const made = { memberId: joined.value.memberId, topics: key, autoCommit: request.autoCommit };
	remember(group, instance, made);
	return ok(made);
}

/**
 * Runs `call` for the instance's member; if the member is gone (timed out, removed, replaced by a join on another
 * isolate), looks the instance up once more and retries.
 */
async function withMember<M, T>(
	group: string,
	instance: string,
	resolve: () => Promise<Result<M>>,
	call: (member: M) => Promise<Result<T>>,
): Promise<Result<T>> {
	for (let attempt = 0; ; attempt++) {
		const member = await resolve();
		if (!member.ok) return member;
		const result = await call(member.value);
		// A group deleted through /v1 since this isolate cached the member is gone too: join again.
		const gone = !result.ok && (result.error.code === "unknown_member" || result.error.code === "group_not_found");
		if (!gone || attempt > 0) return result;
		forgetInstance(group, instance);
	}
}

export interface ConsumeRequest {
	readonly topics: readonly string[];
	/** These three are the instance's when this consume creates it (its headers); later consumes keep them. */
	readonly autoOffsetReset: OffsetReset;
	readonly sessionTimeoutMs: number;
	readonly autoCommit: AutoCommitSettings;
	readonly poll: Omit<PollOptions, "autoCommit" | "autoCommitIntervalMs">;
}

/**
 * One consume: the instance's poll laid out by partition, as `pollGroup` answers it with `layout` "partitions"
 * (`{"partitions":[{"topic","partition","records":[…]}…],"generation","assignment"}`): the messages need each
 * record's topic, which this layout gives once per partition instead of spliced into every record.
 */
export function consume(env: Env, group: string, instance: string, request: ConsumeRequest): Promise<Result<string>> {
	return withMember(
		group,
		instance,
		() => memberFor(env, group, instance, request),
		async ({ memberId, autoCommit }) => {
			// An instance made through /v1 has no settings of its own: this request's headers say.
			const { enabled, intervalMs } = autoCommit ?? request.autoCommit;
			const poll = { ...request.poll, autoCommit: enabled, autoCommitIntervalMs: intervalMs, readWhole: true };
			const polled = await pollGroup(env, group, memberId, poll, "partitions");
			return polled.ok ? ok(await new Response(polled.value.body).text()) : polled;
		},
	);
}

/**
 * Commits explicit offsets for the instance, in the generation it is in now. A rebalance between reading the
 * generation and committing is retried once with the new one; a partition the instance does not own is refused.
 */
export function commitOffsets(
	env: Env,
	group: string,
	instance: string,
	offsets: readonly CommittedOffset[],
): Promise<Result<{ generation: number }>> {
	const coordinator = groupCoordinator(env, group);
	return withMember(
		group,
		instance,
		() => existingMember(env, group, instance),
		async (memberId) => {
			for (let attempt = 0; ; attempt++) {
				const view = await coordinator.heartbeat(group, memberId);
				if (!view.ok) return view;
				// The route checked every offset against its partition's bounds before this.
				const committed = commitResultOf(
					await coordinator.commit(group, { memberId, generation: view.value.generation, offsets }, true, true),
				);
				if (committed.ok) {
					assert(committed.value.committed, "upstash commit judged");
					return ok({ generation: committed.value.generation });
				}
				if (committed.error.code !== "rebalance_in_progress" || attempt > 0) return committed;
			}
		},
	);
}

/** Commits what the instance has consumed: its position on every partition it owns (no body, Kafka's `commitSync()`). */
export function commitConsumed(env: Env, group: string, instance: string): Promise<Result<readonly CommittedOffset[]>> {
	return withMember(
		group,
		instance,
		() => existingMember(env, group, instance),
		async (memberId) => {
			const committed = await groupCoordinator(env, group).commitPositions(group, memberId);
			return committed.ok ? ok(committed.value.offsets) : committed;
		},
	);
}

/** Removes the instance from its group, which rebalances at once (its pending auto-commits are committed first). */
export async function removeInstance(env: Env, group: string, instance: string): Promise<Result<void>> {
	forgetInstance(group, instance);
	const found = await lookUp(env, group, instance);
	if (!found.ok) return found;
	if (found.value === null) return noSuchInstance(group, instance);
	const left = await groupCoordinator(env, group).leave(group, found.value.memberId);
	// Another isolate replaced or removed it meanwhile: it is not in the group either way.
	if (!left.ok && (left.error.code === "unknown_member" || left.error.code === "group_not_found")) return ok(undefined);
	return left;
}
