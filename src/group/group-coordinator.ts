/**
 * @module
 * `GroupCoordinator`: one Durable Object per consumer group, the single writer of its members, generation,
 * assignment, positions and committed offsets (all in SQLite; see docs/consumer-groups.md).
 *
 * A join or leave rebalances at once: the new generation and every member's assignment are computed in the same
 * synchronous transaction (`GroupRules`), so there is no rejoin phase and no moment in which two members own one
 * partition. Records never pass through here: a poll is planned here (which partitions, from which offsets), read
 * at the edge, and settled here (positions move only if the member still owns the partition and nobody moved the
 * position meanwhile). The only awaits are outside those transactions (registry, directory, alarm), and every
 * decision is re-read from SQLite after them, so calls that interleave at an await stay consistent.
 * Sessions expire by one alarm set at the earliest deadline (partywhen style), and lazily on any call; offsets
 * past the retention expire by the same alarm (offsets-retention.ts).
 */

import { series } from "../metrics/catalog.ts";
import { type Figures, MetricsReporter } from "../metrics/reporter.ts";
import { DurableObject } from "../shared/durable-object.ts";
import { type Failure, ok, type Result, settleEach, thrownMessage, topicNotFound } from "../shared/errors.ts";
import {
	EXPIRY_ROWS_PER_STEP,
	GROUP_COMMIT_LINGER_MS,
	GROUP_DISCOVERY_CALLS_MAX,
	GROUP_METADATA_REFRESH_MS,
	GROUP_PARTITIONS_MAX,
	GROUP_PUBLISH_RETRY_MS,
} from "../shared/limits.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import { groupDirectory, partitionLog } from "../shared/stubs.ts";
import { type CommitAnswer, commitAnswer } from "./commit-answer.ts";
import { GroupRules } from "./group-rules.ts";
import { offsetsExpiryDueMs, offsetsRetentionMs } from "./offsets-retention.ts";
import { type PollCompletionAnswer, type PollStartAnswer, pollCompletionAnswer, pollStartAnswer } from "./poll-answer.ts";
import { GROUP_DDL, GROUP_SCHEMA_VERSION, GROUP_UPGRADES } from "./schema.ts";
import { SharedTurn } from "./shared-turn.ts";
import { GroupStore } from "./store.ts";
import { capTopics, cutBefore, newPartitions, resolveTopics, sameTopics } from "./topic-resolver.ts";
import type {
	CommitRequest,
	CommittedOffset,
	FetchOutcome,
	GroupDescription,
	JoinRequest,
	JoinResult,
	MemberView,
	OffsetCommit,
	PollCommit,
	PollSteering,
	SubscribedTopic,
} from "./types.ts";

/** The storage key (the object's synchronous KV) of `leftOutTopics`, a Map as the KV stores it (structured clone). */
const LEFT_OUT_TOPICS_KEY = "left_out_topics";

export class GroupCoordinator extends DurableObject<Env> {
	private readonly store: GroupStore;
	private readonly rules: GroupRules;
	/** When subscribed topics were last re-read; memory only, so a restarted coordinator re-reads at once. */
	private refreshedAtMs = 0;
	#refreshing: Promise<void> | null = null;
	/**
	 * The topics the cap (`capTopics`) left out of the last finished refresh (one that left no partition for later):
	 * they were looked at, so their partitions are not new when they fit later; the subscribed topics are the rest of
	 * what it found. Stored under `LEFT_OUT_TOPICS_KEY` (written only when it changes), so a restarted coordinator still
	 * knows them. Only the left-out ones: usually none, and never every topic a broad pattern matches.
	 */
	#leftOutTopics: ReadonlyMap<string, SubscribedTopic>;
	/**
	 * The alarm as this object last set or read it (null: none), so a call that changes nothing due does not ask
	 * storage for it; undefined until first known. Only this object sets its alarm, so the copy cannot go stale.
	 */
	#alarmMs: number | null | undefined = undefined;
	/** The turn that members' commits wait for, to share one storage commit (see `shareCommit`). */
	private readonly commitTurn = new SharedTurn(GROUP_COMMIT_LINGER_MS);
	/** How long the group may stay empty before its offsets expire (the `OFFSETS_RETENTION_MINUTES` var). */
	private readonly offsetsRetentionMs = offsetsRetentionMs(this.env.OFFSETS_RETENTION_MINUTES);

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		// Meters every statement from here on and reports members and commits to the metrics hub after a change.
		new MetricsReporter(env, ctx, "GroupCoordinator", () => this.figures());
		migrateSchema(ctx.storage, GROUP_SCHEMA_VERSION, GROUP_DDL, GROUP_UPGRADES);
		this.store = new GroupStore(ctx.storage.sql);
		this.#leftOutTopics = ctx.storage.kv.get(LEFT_OUT_TOPICS_KEY) ?? new Map();
		this.rules = new GroupRules(this.store);
	}

	/** Adds a member (or takes back a static member's place) and answers with a usable assignment. */
	async join(groupId: string, request: JoinRequest): Promise<Result<JoinResult>> {
		this.store.identify(groupId, true);
		const resolved = await resolveTopics(this.env, [request.subscription]);
		const missing = (request.subscription.topics ?? []).find((t) => !resolved.has(t));
		if (missing !== undefined) return topicNotFound(missing);
		const admitted = await this.#admit(groupId);
		if (!admitted.ok) return admitted;
		const result = this.transact(() => this.rules.admitMember(request, resolved, Date.now()));
		await this.#afterChange(groupId);
		return result;
	}

	/**
	 * `instanceId`: the static instance the member names, fenced when another member holds it (`GroupRules.fenced`),
	 * `unknown_member` when none does. A member the group does not have is answered at once (`unknownCaller`) unless
	 * the instance has a holder or an expiry is due: that call is judged after expiry (`touchMember`), since a holder
	 * whose session ran out fences no one, as on a broker, which has expired it by then.
	 */
	async heartbeat(groupId: string, memberId: string, instanceId: string | null = null): Promise<Result<MemberView>> {
		this.store.identify(groupId, false);
		const refused = this.#refusedCaller(groupId, memberId, instanceId);
		if (refused !== null) return refused;
		await this.#refreshIfStale();
		const touched = this.transact(() => this.rules.touchMember(memberId, Date.now(), instanceId));
		await this.#afterChange(groupId);
		return touched.ok ? ok(this.rules.view(memberId)) : touched;
	}

	/**
	 * First half of a poll: a heartbeat, the auto-commit of what the member's previous polls returned (Kafka's
	 * at-least-once: committed only once the member comes back for more; with `autoCommitIntervalMs`, only once
	 * that long has passed since the member's last auto-commit, as Kafka's auto.commit.interval.ms), the commit the
	 * poll carries, and where to read each owned partition. Every commit is written before the plan is answered.
	 * `textAnswer`: a started poll's plan is answered as text (poll-answer.ts). `instanceId`: as `heartbeat`'s.
	 */
	async beginPoll(
		groupId: string,
		memberId: string,
		partitionsMax: number,
		commit: PollCommit | null,
		boundsChecked: boolean,
		textAnswer = false,
		autoCommitIntervalMs = 0,
		steering: PollSteering | null = null,
		instanceId: string | null = null,
	): Promise<PollStartAnswer> {
		this.store.identify(groupId, false);
		const refused = this.#refusedCaller(groupId, memberId, instanceId);
		if (refused !== null) return refused;
		await this.#refreshIfStale();
		// The one row a committing poll writes is its commit, which the poll's answer acknowledges: it must be durable first,
		// so it cannot live in memory. Its cost is the storage commit (bare object: ~1,040 against ~580 µs of server CPU per
		// call; shared-turn.ts). Measured and dropped: staging it here and writing it in `completePoll`, where any member's
		// completion writes every staged commit (the commit "group poll: the carried commit staged at beginPoll", reverted;
		// its restart and rollback tests are there), on bench:ab group-4m-4p: +0.22 µs/record (-0.63 to +0.75, lower in 2 of
		// 6) and -0.01 (-0.43 to +1.68, 3 of 6) at load 6-10; a first rough build -0.31 (-0.83 to -0.18, 4 of 4), then -0.28
		// (-1.16 to +2.58, 3 of 6). Within the A/A spread, for a restart check, a ticket and an undo log.
		if (commit !== null || this.rules.commits.autoCommitDue(memberId, autoCommitIntervalMs, Date.now())) await this.#shareCommit();
		const plan = this.transact(() =>
			this.rules.planPoll(memberId, partitionsMax, commit, boundsChecked, Date.now(), autoCommitIntervalMs, steering, instanceId),
		);
		await this.#afterChange(groupId);
		return pollStartAnswer(plan, textAnswer);
	}

	/**
	 * Second half of a poll: moves positions past what was read, for partitions the member still owns.
	 * `textAnswer`: a settled poll is answered as text (poll-answer.ts). `instanceId`: the static instance the poll
	 * named, fenced here too, as a member replaced while its poll waited is (`GroupRules.fenced`).
	 */
	async completePoll(
		groupId: string,
		memberId: string,
		generation: number,
		outcomes: readonly FetchOutcome[],
		autoCommit: boolean,
		topicsStale: boolean,
		textAnswer = false,
		instanceId: string | null = null,
	): Promise<PollCompletionAnswer> {
		this.store.identify(groupId, false);
		// What the read found of the topics holds whoever asked.
		if (topicsStale) this.refreshedAtMs = 0;
		const refused = this.#refusedCaller(groupId, memberId, instanceId);
		if (refused !== null) return refused;
		const result = this.transact(() => {
			const now = Date.now();
			const settled = this.rules.settlePoll(memberId, generation, outcomes, autoCommit, now, instanceId);
			this.store.writePositionsIfDue(now);
			return settled;
		});
		await this.#afterChange(groupId);
		return pollCompletionAnswer(result, textAnswer);
	}

	/**
	 * Commits offsets, fenced: an unknown member or a stale generation writes nothing. Offsets past the member's
	 * read positions come back unverified unless `boundsChecked` (see `CommitOutcome`). `generationOnly`: a stored
	 * commit is answered as its generation alone (commit-answer.ts). The member is judged before the offsets, as
	 * Kafka's commitOffset validates it first (`refusedCaller`: one the group does not have waits for no turn,
	 * unless an expiry is due: it is judged after that expiry, in the commit's turn). A commit of no offsets writes none,
	 * so it shares no storage commit and waits for no turn.
	 */
	async commit(groupId: string, request: CommitRequest, boundsChecked: boolean, generationOnly = false): Promise<CommitAnswer> {
		this.store.identify(groupId, false);
		const refused = this.#refusedCaller(groupId, request.memberId, request.instanceId ?? null);
		if (refused !== null) return refused;
		if (request.offsets.length > 0) await this.#shareCommit();
		const result = this.transact(() => this.rules.applyCommit(request, boundsChecked, Date.now()));
		await this.#afterChange(groupId);
		return commitAnswer(result, generationOnly);
	}

	/** Commits the member's positions on the partitions it owns (Kafka's `commitSync()` with no offsets). */
	async commitPositions(groupId: string, memberId: string): Promise<Result<MemberView & { readonly offsets: readonly CommittedOffset[] }>> {
		this.store.identify(groupId, false);
		const refused = this.#refusedCaller(groupId, memberId, null);
		if (refused !== null) return refused;
		const result = this.transact(() => this.rules.commitPositions(memberId, Date.now()));
		await this.#afterChange(groupId);
		return result;
	}

	/**
	 * Removes a member and rebalances at once. `commitLastPoll`: whether its last poll's pending auto-commit is
	 * committed first (see `GroupRules.leave`). `instanceId`: as `heartbeat`'s. A member whose session ran out is
	 * still one, so it is not refused early but expired first, its last poll's auto-commit dropped, not committed.
	 */
	async leave(groupId: string, memberId: string, commitLastPoll = true, instanceId: string | null = null): Promise<Result<void>> {
		this.store.identify(groupId, false);
		const refused = this.#refusedCaller(groupId, memberId, instanceId);
		if (refused !== null) return refused;
		const result = this.transact(() => this.rules.leave(memberId, Date.now(), commitLastPoll, instanceId));
		await this.#afterChange(groupId);
		return result;
	}

	async describe(groupId: string): Promise<Result<GroupDescription>> {
		this.store.identify(groupId, false);
		this.transact(() => this.rules.expireOverdue(Date.now()));
		await this.#afterChange(groupId);
		return this.rules.describe(groupId);
	}

	/**
	 * Sets committed offsets (resolved at the edge); creates the group if it does not exist. `instanceId`: the static
	 * instance a standalone commit names (see `GroupRules.resetCommits`). `outOfRange`: the edge's refusal of the
	 * offsets' bounds, answered only if the group would take the commit otherwise (then no group is created); sent by
	 * `refuseOffsets` (an edge of the version before passes it here). `reset`: see `GroupRules.resetCommits`.
	 */
	async resetOffsets(
		groupId: string,
		offsets: readonly { topic: string; partition: number; offset: number; metadata?: string | null }[],
		instanceId: string | null = null,
		outOfRange: Failure | null = null,
		reset = false,
	): Promise<Result<void>> {
		this.store.identify(groupId, outOfRange === null);
		if (outOfRange === null) {
			const admitted = await this.#admit(groupId);
			if (!admitted.ok) return admitted;
		}
		const result = this.transact(() => this.rules.resetCommits(groupId, offsets, Date.now(), instanceId, outOfRange, reset));
		await this.#afterChange(groupId);
		return result;
	}

	/**
	 * `resetOffsets` of offsets the edge refused for their bounds (`outOfRange`). A method of its own, not that call's
	 * argument: a coordinator of an earlier version, still running during a deploy, would commit the offsets it is
	 * handed, whereas a method it lacks is refused before it runs (see `commitStandalone`).
	 */
	refuseOffsets(groupId: string, instanceId: string | null | undefined, outOfRange: Failure): Promise<Result<void>> {
		return this.resetOffsets(groupId, [], instanceId, outOfRange);
	}

	/** Deletes an empty group's committed offsets; the group disappears from the directory. */
	async deleteGroup(groupId: string): Promise<Result<void>> {
		this.store.identify(groupId, false);
		const result = this.transact(() => this.rules.deleteEmpty(groupId, Date.now()));
		await this.#afterChange(groupId);
		return result;
	}

	/**
	 * Expires members whose session passed and offsets past the retention (deleting an empty group once none is
	 * left), retries a failed directory publish, and sets the next alarm.
	 */
	override async alarm(): Promise<void> {
		// A fired alarm is gone; if the handler throws, the runtime retries it, and the next call reads it again.
		this.#alarmMs = undefined;
		const groupId = this.store.state().group_id;
		if (groupId === null) return;
		this.transact(() => {
			this.rules.expireOverdue(Date.now());
			this.store.writePositionsIfDue(Date.now(), true);
			this.#expireOffsets(groupId, Date.now());
		});
		await this.#publishIfBehind(groupId);
		await this.#scheduleAlarm(true);
	}

	/**
	 * One bounded step of offsets expiry, then the time to wait for: the oldest commit left that may expire (an alarm
	 * due at once, if the step left some due, takes the next); with members and none, a retention from now; with
	 * neither members nor offsets, the group's deletion.
	 */
	#expireOffsets(groupId: string, now: number): void {
		const due = this.#offsetsExpiryDue();
		if (due === null || due > now) return;
		// The topics the cap left out are still subscribed to; an empty group keeps none (its list may be stale).
		const empty = this.store.memberCount() === 0;
		const kept = JSON.stringify(empty ? [] : [...this.#leftOutTopics.keys()]);
		this.store.offsets.expireCommits(now - this.offsetsRetentionMs, EXPIRY_ROWS_PER_STEP, kept);
		const oldest = this.store.offsets.oldestCommitMs(kept);
		if (oldest === null && empty) this.rules.deleteEmpty(groupId, now);
		else this.store.setRetentionFrom(Math.max(this.store.state().empty_since_ms ?? 0, oldest ?? now));
	}

	/** When the group's offsets are next looked at (offsets-retention.ts). */
	#offsetsExpiryDue(): number | null {
		const state = this.store.state();
		return state.status === "active" ? offsetsExpiryDueMs(state.empty_since_ms, this.offsetsRetentionMs) : null;
	}

	/** Re-reads subscribed topics at most every `GROUP_METADATA_REFRESH_MS`; one refresh at a time. */
	async #refreshIfStale(): Promise<void> {
		if (Date.now() - this.refreshedAtMs < GROUP_METADATA_REFRESH_MS) return;
		this.#refreshing ??= this.#refreshTopics().finally(() => {
			this.#refreshing = null;
		});
		await this.#refreshing;
	}

	/** Picks up partitions added to a topic and topics created or deleted under a pattern: a change rebalances. */
	async #refreshTopics(): Promise<void> {
		const version = this.rules.membershipVersion;
		const subscriptions = this.store.members().map((m) => m.subscription);
		let resolved: Map<string, SubscribedTopic>;
		let next: Map<string, SubscribedTopic>;
		let discovered: OffsetCommit[];
		let later: ReturnType<typeof newPartitions>;
		let unsubscribed: string[] = [];
		try {
			resolved = subscriptions.length === 0 ? new Map() : await resolveTopics(this.env, subscriptions);
			next = capTopics(resolved, GROUP_PARTITIONS_MAX);
			// Each partition created since the group last looked starts at its log start, which retention or
			// DeleteRecords may have moved past 0 already. One that does not answer starts at 0 (its log start unless
			// records already left it): a partition down must not hold back every other topic change.
			later = newPartitions(next, this.store.subscribedTopics(), this.#leftOutTopics);
			const asked = later.splice(0, GROUP_DISCOVERY_CALLS_MAX).map(async ({ topic, topicId, partition }) => {
				const offset = await partitionLog(this.env, topicId, partition)
					.offsets()
					.then(
						(o) => o.logStartOffset,
						() => 0,
					);
				return { topic, partition, offset, metadata: null };
			});
			discovered = await Promise.all(asked);
		} catch (error) {
			// Keep serving the current assignment; the next call tries again.
			console.error(`group coordinator: topic refresh failed: ${thrownMessage(error)}`);
			return;
		}
		// A join or leave ran while we waited: it stored a newer view of the subscriptions than ours.
		if (version !== this.rules.membershipVersion) return;
		if (next.size < resolved.size)
			console.error(`group coordinator: subscriptions cover over ${GROUP_PARTITIONS_MAX} partitions; topics left out`);
		// Partitions left for later are not handed out until a refresh asked them: the next call's, which also
		// records what was seen (this one has not seen them all).
		if (later.length === 0) {
			this.refreshedAtMs = Date.now();
			const leftOut = new Map([...resolved].filter(([name]) => !next.has(name)));
			if (!sameTopics(leftOut, this.#leftOutTopics)) this.ctx.storage.kv.put(LEFT_OUT_TOPICS_KEY, leftOut);
			unsubscribed = [...this.#leftOutTopics.keys()].filter((name) => !resolved.has(name));
			this.#leftOutTopics = leftOut;
		}
		next = cutBefore(next, later);
		this.transact(() => {
			// Kept while left out (`expireOffsets`), their offsets may expire now, as a subscribed topic's that leaves.
			if (unsubscribed.length > 0 && this.store.memberCount() > 0)
				this.store.offsets.restartRetention(JSON.stringify(unsubscribed), Date.now());
			const current = this.store.subscribedTopics();
			if (!sameTopics(current, next)) this.rules.applyTopics(current, next, Date.now(), discovered);
		});
	}

	/**
	 * Runs `work` in one SQLite transaction. The live session deadlines and read positions are memory the rollback
	 * of a failed one cannot undo, so they are dropped then and read back from SQLite.
	 *
	 * Measured and dropped: running work known to write no row outside a transaction (a steady poll's settlement,
	 * a poll that commits nothing, a heartbeat: no member overdue, the deadline within its bounded staleness, the
	 * positions loaded and not due), since `transactionSync` opens the implicit transaction, and a commit, even when
	 * nothing is written. bench:ab group-4m-4p, server CPU per record: -0.31 µs (-0.41 to +0.16, lower in 5 of 6),
	 * -0.17 (-0.32 to +0.10, 4 of 6), then +0.06 (-0.16 to +0.11, 1 of 6); group-4m-4p-commit-request, where both
	 * halves of a poll skipped it, +0.06 (-0.54 to +0.70, 2 of 6). An empty commit costs too little to see.
	 */
	private transact<T>(work: () => T): T {
		try {
			return this.ctx.storage.transactionSync(work);
		} catch (error) {
			this.store.forgetLiveState();
			this.rules.commits.forgetConfirmed();
			throw error;
		}
	}

	/**
	 * Waits for the turn other members' commits wait for, when there are other members: their writes then share one
	 * storage commit (shared-turn.ts); the turn ends at once when every member is waiting. Every decision is still
	 * taken after the wait, in one transaction, and each answer still leaves only once its writes are committed.
	 */
	async #shareCommit(): Promise<void> {
		const members = this.store.memberCount();
		if (members > 1) await this.commitTurn.wait(members);
	}

	/**
	 * A member call refused before any refresh, commit turn or transaction: the group is missing (never joined, or
	 * deleted: the answer names the group, not a member of it), or has neither the member nor a holder of the instance
	 * it names, and no expiry is due (`GroupRules.unknownCaller`). Every member call but the join asks this first.
	 */
	#refusedCaller(groupId: string, memberId: string, instanceId: string | null): Result<never> | null {
		return this.store.state().status === "active"
			? this.rules.unknownCaller(memberId, instanceId, Date.now())
			: this.rules.groupNotFound(groupId);
	}

	/** Lets a group that does not exist yet into the directory (which enforces `GROUPS_MAX`). */
	async #admit(groupId: string): Promise<Result<void>> {
		const state = this.store.state();
		if (state.status === "active") return ok(undefined);
		return this.#directory().admit(groupId, state.generation);
	}

	async #afterChange(groupId: string): Promise<void> {
		await this.#publishIfBehind(groupId);
		await this.#scheduleAlarm(false);
	}

	/** Tells the directory about a generation it has not seen; on failure the alarm tries again. */
	async #publishIfBehind(groupId: string): Promise<void> {
		const state = this.store.state();
		if (state.status === "new" || state.published_generation >= state.generation) return;
		const summary = this.rules.summary(groupId);
		try {
			// A failure (its storage's, logged there) is left to the alarm, as a rejection is.
			if ((await this.#directory().publish(summary)).ok) this.store.markPublished(summary.generation);
		} catch (error) {
			console.error(`group coordinator: publishing "${groupId}" failed: ${thrownMessage(error)}`);
		}
	}

	/**
	 * One alarm for all due work: the earliest session deadline or static member's rejoin deadline, a publish retry,
	 * positions SQLite is behind on, or offsets expiry.
	 * Heartbeats only push deadlines later and a position's due time only comes once, so outside the alarm handler
	 * the alarm only ever moves earlier (an early alarm re-arms itself).
	 */
	async #scheduleAlarm(rearm: boolean): Promise<void> {
		const state = this.store.state();
		const publishDue = state.status !== "new" && state.published_generation < state.generation ? Date.now() + GROUP_PUBLISH_RETRY_MS : null;
		const dues = [publishDue, this.store.earliestDeadline(), this.store.positionsDueMs(), this.#offsetsExpiryDue()].filter(
			(d) => d !== null,
		);
		const due = dues.length === 0 ? null : Math.min(...dues);
		if (this.#alarmMs === undefined && !rearm) {
			const stored = await this.ctx.storage.getAlarm();
			// Another call may have set it while this one waited: its copy is the newer.
			if (this.#alarmMs === undefined) this.#alarmMs = stored;
		}
		const current = rearm ? null : (this.#alarmMs ?? null);
		if (due === null) {
			if (current !== null || rearm) {
				await this.ctx.storage.deleteAlarm();
				this.#alarmMs = null;
			}
			return;
		}
		if (current === null || due < current) {
			await this.ctx.storage.setAlarm(due);
			this.#alarmMs = due;
		}
	}

	/**
	 * Members and commits for the metrics hub, which joins them with the partitions' high watermarks into lag. From
	 * memory (the member count, the cached topics, `CommitStore.reported`): sent every second while members commit, a
	 * report that read every commit and member row cost a row per committed partition each time.
	 */
	private figures(): Figures {
		const { group_id: group, status } = this.store.state();
		if (group === null || status !== "active") return { gauges: {} };
		return {
			gauges: { [series("tributary_group_members", { group })]: this.store.memberCount() },
			group: {
				group,
				topics: [...this.store.subscribedTopics().values()].map((t) => ({ topic: t.topic, partitions: t.partitions })),
				committed: this.store.offsets.reported(),
			},
		};
	}

	#directory() {
		return groupDirectory(this.env);
	}
}

// Storage failing (or a bug) in any of them is answered a failure Result, not a rejection crossing RPC (refuseOffsets
// answers resetOffsets's).
settleEach(GroupCoordinator, [
	"join",
	"heartbeat",
	"beginPoll",
	"completePoll",
	"commit",
	"commitPositions",
	"leave",
	"describe",
	"resetOffsets",
	"deleteGroup",
]);
