/**
 * @module
 * The rules of a consumer group, as synchronous methods over its SQLite tables: who is a member, what each owns
 * in which generation, where each partition is read next, and which commits are accepted (those rules, with
 * auto-commit's bookkeeping, in commit-rules.ts, which this calls as partitions move). No method awaits, so
 * the coordinator runs each inside one `transactionSync`: a rebalance is all-or-nothing, and no other call can
 * see a half-computed generation. Nothing here touches the runtime beyond `SqlStorage`.
 */

import { assert } from "../shared/assert.ts";
import { err, type Failure, ok, type Result } from "../shared/errors.ts";
import { GROUP_MEMBERS_MAX, GROUP_PARTITIONS_MAX } from "../shared/limits.ts";
import { type Assignment, type AssignorInput, assign, checkAssignment, holdPartitions, keyOf, sameOwners } from "./assignors.ts";
import { CommitRules } from "./commit-rules.ts";
import type { GroupStore } from "./store.ts";
import { sameSubscription, subscribedTopics } from "./subscription.ts";
import { partitionTotal, pruneTopics, sameTopics } from "./topic-resolver.ts";
import type {
	CommitOutcome,
	CommitRequest,
	CommittedOffset,
	FetchOutcome,
	FetchPlan,
	GroupDescription,
	GroupSummary,
	JoinRequest,
	JoinResult,
	Member,
	MemberView,
	OffsetCommit,
	PollCommit,
	PollCompletion,
	PollStart,
	PollSteering,
	SubscribedTopic,
	TopicPartition,
} from "./types.ts";

export class GroupRules {
	/** Grows on every membership change; a metadata refresh that raced one is dropped (its subscriptions are old). */
	membershipVersion = 0;

	/** Which commits are taken, and the auto-commits the group makes itself (commit-rules.ts). */
	readonly commits: CommitRules;

	readonly #store: GroupStore;

	constructor(store: GroupStore) {
		this.#store = store;
		this.commits = new CommitRules(store);
	}

	admitMember(request: JoinRequest, resolved: ReadonlyMap<string, SubscribedTopic>, now: number): Result<JoinResult> {
		this.expireOverdue(now);
		const state = this.#store.state();
		const count = this.#store.memberCount();
		if (request.strategy !== null && count > 0 && state.strategy !== null && request.strategy !== state.strategy) {
			return err("inconsistent_strategy", `the group assigns with "${state.strategy}", not "${request.strategy}"`, {
				strategy: state.strategy,
			});
		}
		const previous =
			request.instanceId !== null
				? this.#store.memberByInstance(request.instanceId)
				: request.memberId == null
					? null
					: this.#store.member(request.memberId);
		// KIP-345, as Kafka's coordinator: a static member's join naming its own member id is that member's rejoin, one
		// without a member id the instance's restart, under a new id; one naming another member id while the instance
		// has a member is fenced (`fenced`): a process holding a stale member id cannot take the instance by naming it.
		// (One that drops its id and joins again is a restart and does take it, as on a broker.)
		const fenced = request.memberId == null ? null : this.#fenced(request.instanceId, request.memberId, previous);
		if (fenced !== null) return fenced;
		// A static join into an instance no member holds takes the member id it proposes, as a dynamic one does, unless
		// another member has it: its retry, after an answer lost on the way, is then its own rejoin, not fenced.
		const unheld = previous === null && request.memberId != null && this.#store.member(request.memberId) === null;
		const proposed = request.instanceId === null || previous?.memberId === request.memberId || unheld ? (request.memberId ?? null) : null;
		if (previous === null && count >= GROUP_MEMBERS_MAX) {
			return err("group_full", `a group may have at most ${GROUP_MEMBERS_MAX} members`, { max_members: GROUP_MEMBERS_MAX });
		}
		const member: Member = {
			memberId: proposed ?? crypto.randomUUID(),
			instanceId: request.instanceId,
			subscription: request.subscription,
			sessionTimeoutMs: request.sessionTimeoutMs,
			autoOffsetReset: request.autoOffsetReset,
			autoCommit: request.autoCommit ?? null,
			deadlineMs: now + request.sessionTimeoutMs,
			rejoinedGeneration: request.rejoins ? state.generation : null,
			rebalanceTimeoutMs: request.rebalanceTimeoutMs ?? request.sessionTimeoutMs,
		};
		const others = this.#store.members().filter((m) => m.memberId !== previous?.memberId);
		const current = this.#store.subscribedTopics();
		const topics = pruneTopics(
			new Map([...current, ...resolved]),
			[...others, member].map((m) => m.subscription),
		);
		if (partitionTotal(topics) > GROUP_PARTITIONS_MAX) {
			return err("group_full", `the group's subscriptions would cover more than ${GROUP_PARTITIONS_MAX} partitions`, {
				max_partitions: GROUP_PARTITIONS_MAX,
			});
		}
		this.#store.putMember(member, now, previous?.memberId ?? null);
		if (count === 0 || state.strategy === null) this.#store.setStrategy(request.strategy ?? "sticky");
		// A new group holds no offset: no retention starts before now.
		if (state.status === "new") this.#store.setRetentionFrom(now);
		this.#store.setStatus("active");
		this.membershipVersion++;
		// KIP-345: a static member back within its session keeps its partitions, without a rebalance.
		if (previous !== null) {
			// The instance that left processed what it confirmed; its last poll's records are read again.
			this.commits.commitConfirmed((memberId) => memberId === previous.memberId, now);
			if (previous.memberId !== member.memberId) this.#store.renameOwner(previous.memberId, member.memberId);
			this.commits.forgetMember(previous.memberId);
		}
		const unchanged = previous !== null && sameSubscription(previous.subscription, member.subscription) && sameTopics(current, topics);
		if (!unchanged) this.applyTopics(current, topics, now, [], member.memberId);
		// A member that rejoins has stopped reading: what the last rebalances held on it may move now.
		else if (member.rejoinedGeneration !== null) this.#rebalance(now, member.memberId, true);
		// From the generation this join answers, not the one before it: a broker refuses a commit of that one from a member
		// that has rejoined (ILLEGAL_GENERATION), static or not.
		if (request.rejoins) this.#store.markRejoined(member.memberId, this.#store.state().generation);
		return ok({ memberId: member.memberId, ...this.view(member.memberId) });
	}

	/**
	 * Starts a poll: a heartbeat, the auto-commit of what the previous polls returned (if due, see `autoCommitDue`),
	 * the commit the poll carries (fenced as a commit on its own is; refused, it refuses the poll, which then reads
	 * nothing), and where to read each owned partition. A carried offset no read vouches for comes back unverified
	 * first, unless `boundsChecked`.
	 */
	planPoll(
		memberId: string,
		partitionsMax: number,
		commit: PollCommit | null,
		boundsChecked: boolean,
		now: number,
		autoCommitIntervalMs = 0,
		steering: PollSteering | null = null,
		instanceId: string | null = null,
	): Result<PollStart> {
		// The caller first (Kafka's order): a fenced or unknown member's carried offsets are not judged, nor sent to be.
		const touched = this.touchMember(memberId, now, instanceId);
		if (!touched.ok) return touched;
		const unverified = commit === null || boundsChecked ? [] : this.commits.unverified(memberId, commit.generation, commit.offsets);
		if (unverified.length > 0) return ok({ started: false, unverified });
		const member = touched.value;
		// The carried commit first: refused, nothing is written; stored, it clears those partitions' pending
		// auto-commits, so an explicit commit wins over them, as on its own.
		if (commit !== null) {
			const written = this.commits.writeFenced({ memberId, ...commit }, now);
			if (!written.ok) return written;
		}
		if (this.commits.autoCommitDue(memberId, autoCommitIntervalMs, now)) this.commits.commitPending(memberId, now);
		else this.commits.confirmPending(memberId);
		for (const s of steering?.seek ?? [])
			if (this.#store.ownerOf(s) === memberId) this.#store.setPosition(s, { memberId, nextOffset: s.offset, pendingCommit: null }, now);
		const paused = new Set(steering?.paused.map(keyOf));
		const { generation } = this.#store.state();
		const assignment = this.#store.assignmentOf(memberId);
		const topics = this.#store.subscribedTopics();
		const read = paused.size === 0 ? assignment : assignment.filter((tp) => !paused.has(keyOf(tp)));
		const fetches: FetchPlan[] = rotatingWindow(read, partitionsMax).map((tp) => {
			const position = this.#store.position(tp);
			assert(position === null || position.memberId === memberId, "position's owner");
			const topicId = topics.get(tp.topic)?.topicId;
			assert(topicId !== undefined, "assigned subscribed");
			const expectedPosition = position?.nextOffset ?? null;
			return { ...tp, topicId, offset: expectedPosition ?? this.#store.offsets.committedOffset(tp), expectedPosition };
		});
		const unset = fetches.filter((f) => f.offset === null);
		if (member.autoOffsetReset === "none" && unset.length > 0) {
			const first = unset[0] as FetchPlan;
			return err("no_committed_offset", `no committed offset for ${first.topic}/${first.partition} and auto_offset_reset is "none"`, {
				generation,
				partitions: unset.map((f) => ({ topic: f.topic, partition: f.partition })),
			});
		}
		return ok({
			started: true,
			plan: {
				generation,
				assignment,
				autoOffsetReset: member.autoOffsetReset,
				waitMsMax: Math.floor(member.sessionTimeoutMs / 2),
				fetches,
			},
		});
	}

	/**
	 * A read is kept only if the member owns the partition now and the position is the one the poll started from;
	 * a poll that started with no position must also still be in its generation (the partition may have gone to
	 * another member and come back). Anything else was read by someone else's rules and is dropped unseen.
	 */
	settlePoll(
		memberId: string,
		generation: number,
		outcomes: readonly FetchOutcome[],
		autoCommit: boolean,
		now: number,
		instanceId: string | null = null,
	): Result<PollCompletion> {
		const touched = this.touchMember(memberId, now, instanceId);
		if (!touched.ok) return touched;
		const current = this.#store.state().generation;
		const accepted = outcomes.map((o) => {
			if (this.#store.ownerOf(o) !== memberId) return false;
			const position = this.#store.position(o);
			if ((position?.nextOffset ?? null) !== o.expectedPosition) return false;
			if (position === null && current !== generation) return false;
			// No "only forward" check: a position out of the log's range is legitimately reset back to its start.
			assert(Number.isSafeInteger(o.nextOffset) && o.nextOffset >= 0, "read end offset");
			const pendingCommit = autoCommit ? o.nextOffset : (position?.pendingCommit ?? null);
			if (position?.nextOffset !== o.nextOffset || position.pendingCommit !== pendingCommit) {
				this.#store.setPosition(o, { memberId, nextOffset: o.nextOffset, pendingCommit }, now);
			}
			return true;
		});
		return ok({ ...this.view(memberId), accepted });
	}

	/**
	 * Commits fenced by member, generation and ownership. Unless `boundsChecked`, first answers the offsets past
	 * the member's read position without judging anything else, so the edge's bounds check keeps its place before
	 * the fencing errors, as when every commit was checked at the edge.
	 */
	applyCommit(request: CommitRequest, boundsChecked: boolean, now: number): Result<CommitOutcome> {
		// The fence comes first (Kafka's order): a replaced member's commit is fenced, not judged for its offsets' bounds;
		// after expiry, as on a broker, where a holder whose session ran out is gone and fences no one.
		this.expireOverdue(now);
		const fenced = boundsChecked ? null : this.#memberFenced(request.memberId, request.instanceId);
		if (fenced !== null) return fenced;
		const unverified = boundsChecked ? [] : this.commits.unverified(request.memberId, request.generation, request.offsets);
		if (unverified.length > 0) return ok({ committed: false, unverified });
		const touched = this.touchMember(request.memberId, now, request.instanceId);
		if (!touched.ok) return touched;
		const written = this.commits.writeFenced(request, now);
		return written.ok ? ok({ committed: true, ...this.view(request.memberId) }) : written;
	}

	/**
	 * Commits where the member's reads stand on each partition it owns: Kafka's `commitSync()` without offsets,
	 * which the Upstash REST API's commit with no body asks for. Partitions not read yet keep their commit.
	 */
	commitPositions(memberId: string, now: number): Result<MemberView & { readonly offsets: readonly CommittedOffset[] }> {
		const touched = this.touchMember(memberId, now);
		if (!touched.ok) return touched;
		const { generation } = this.#store.state();
		const offsets: CommittedOffset[] = [];
		for (const tp of this.#store.assignmentOf(memberId)) {
			const position = this.#store.position(tp);
			if (position === null || position.memberId !== memberId) continue;
			const commit = { ...tp, offset: position.nextOffset, metadata: null };
			this.commits.writeExplicitCommit(memberId, commit, generation, now);
			offsets.push(commit);
		}
		return ok({ ...this.view(memberId), offsets });
	}

	/**
	 * Sets the subscribed topics and rebalances. What members confirmed of a topic that leaves them is committed
	 * first, on the topic's incarnation they read (it may have been deleted; the rebalance would commit it with no
	 * incarnation). A topic that arrives, or comes back under a new id (deleted and created again), loses the offsets
	 * committed on any other incarnation, with the positions and confirmed auto-commits read there, as Kafka deletes a
	 * deleted topic's offsets: its records are read from the new topic's start, not from the old topic's offsets.
	 * `discovered`: partitions a metadata refresh found created after the group subscribed, each at its log start;
	 * each with no commit is committed there, read from its start whatever `auto_offset_reset` says, since `latest`
	 * would skip what was written before the refresh (the gap Kafka's KIP-1282 and KIP-1327 close by reading such
	 * partitions from their start). Not at 0: below a log start moved by retention or DeleteRecords, the read would
	 * fall back to `auto_offset_reset`.
	 */
	applyTopics(
		current: ReadonlyMap<string, SubscribedTopic>,
		next: ReadonlyMap<string, SubscribedTopic>,
		now: number,
		discovered: readonly OffsetCommit[] = [],
		mover: string | null = null,
	): void {
		const leaving = new Set([...current.keys()].filter((name) => !next.has(name)));
		if (leaving.size > 0) this.commits.commitConfirmed((_member, _key, tp) => leaving.has(tp.topic), now);
		// Its offsets may now expire while members remain (offsets-retention.ts), a retention from now at the earliest.
		if (leaving.size > 0 && this.#store.memberCount() > 0) this.#store.offsets.restartRetention(JSON.stringify([...leaving]), now);
		for (const [name, topic] of next) {
			if (current.get(name)?.topicId === topic.topicId) continue;
			// A member that rejoins may still commit what it read of the old incarnation, which would land on the new one.
			if (current.has(name)) this.#store.fenceRejoins();
			this.#store.offsets.forgetOtherIncarnations(name, topic.topicId);
			this.#store.forgetPositions(name);
			this.commits.forgetTopic(name);
		}
		this.#store.replaceSubscribedTopics(next);
		for (const c of discovered)
			if (this.#store.offsets.committedOffset(c) === null) this.#store.offsets.writeCommit(c, this.#store.state().generation, now);
		this.#rebalance(now, mover);
	}

	/**
	 * Removes a member at its own request. Like `KafkaConsumer.close()` with auto-commit on, its pending
	 * auto-commits are committed; with `commitLastPoll` false, as with auto-commit off, its last poll's are dropped
	 * (that poll may not be processed) and only what it confirmed by polling again is committed, as when it expires.
	 * `instanceId`: the static instance the leave names, fenced as a heartbeat's (a broker's LeaveGroup v3+).
	 */
	leave(memberId: string, now: number, commitLastPoll = true, instanceId: string | null = null): Result<void> {
		const caller = this.#caller(memberId, now, instanceId);
		if (!caller.ok) return caller;
		if (commitLastPoll) this.commits.commitPending(memberId, now);
		this.#removeMembers([memberId], now);
		return ok(undefined);
	}

	/**
	 * Sets committed offsets; only while the group has no members (their positions would disagree). `instanceId`: the
	 * one a standalone commit names (a broker's OffsetCommit of generation -1 may): while the group has members, fenced
	 * when another member holds it, `unknown_member` when none does. `outOfRange`: the edge's refusal of the offsets'
	 * bounds, answered after those, as Kafka's validateOffsetCommit judges the group before the offsets. `reset`: an
	 * offsets reset, not a commit; one whose offsets are still where an earlier reset put them, and no member read past,
	 * is done, members or not (`resetInForce`): its repeat after a lost answer, the members having started there.
	 */
	resetCommits(
		groupId: string,
		offsets: readonly { topic: string; partition: number; offset: number; metadata?: string | null }[],
		now: number,
		instanceId: string | null = null,
		outOfRange: Failure | null = null,
		reset = false,
	): Result<void> {
		this.expireOverdue(now);
		const members = this.#store.memberCount();
		if (members > 0) {
			// Not once a member read past it: its next commit would undo the reset, which answered done would not say.
			const unread = () => offsets.every((o) => (this.#store.position(o)?.nextOffset ?? o.offset) === o.offset);
			if (reset && unread() && this.#store.offsets.resetInForce(offsets)) return ok(undefined);
			// An instance names a member, judged as Kafka's validateOffsetCommit judges one at generation -1 (validateMember):
			// another's is fenced, one no member holds unknown_member. None: a commit the group takes only while empty.
			return (
				this.#memberFenced("", instanceId, null) ??
				err("group_not_empty", `group "${groupId}" has ${countOf(members, "member")}; offsets may be reset only when it has none`, {
					members,
				})
			);
		}
		if (outOfRange !== null) return outOfRange;
		// Only partitions with no offset stored can take the group past the cap.
		const added = offsets.filter((o) => this.#store.offsets.committedOffset(o) === null).length;
		if (added > 0 && this.#store.offsets.commitCount() + added > GROUP_PARTITIONS_MAX) {
			return err("group_full", `a group may hold committed offsets for at most ${GROUP_PARTITIONS_MAX} partitions`, {
				max_partitions: GROUP_PARTITIONS_MAX,
			});
		}
		this.#store.setStatus("active");
		const { generation } = this.#store.state();
		for (const o of offsets) this.#store.offsets.writeCommit({ ...o, metadata: o.metadata ?? null }, generation, now, true);
		return ok(undefined);
	}

	/** Forgets an empty group. The generation still grows, so a late summary of the old group loses to the tombstone. */
	deleteEmpty(groupId: string, now: number): Result<void> {
		this.expireOverdue(now);
		if (this.#store.state().status !== "active") return this.groupNotFound(groupId);
		const members = this.#store.memberCount();
		if (members > 0)
			return err("group_not_empty", `group "${groupId}" has ${countOf(members, "member")}; only an empty group may be deleted`, {
				members,
			});
		this.#store.wipe();
		this.#store.setStatus("deleted");
		this.#store.bumpGeneration();
		return ok(undefined);
	}

	describe(groupId: string): Result<GroupDescription> {
		const state = this.#store.state();
		if (state.status !== "active") return this.groupNotFound(groupId);
		const assignments = this.#store.assignments();
		return ok({
			state: this.#store.memberCount() > 0 ? "stable" : "empty",
			generation: state.generation,
			strategy: state.strategy,
			members: this.#store.members().map((m) => ({
				memberId: m.memberId,
				instanceId: m.instanceId,
				subscription: m.subscription,
				sessionTimeoutMs: m.sessionTimeoutMs,
				autoOffsetReset: m.autoOffsetReset,
				autoCommit: m.autoCommit,
				assignment: assignments.get(m.memberId) ?? [],
			})),
			topics: [...this.#store.subscribedTopics().values()],
			committed: this.#store.offsets.commits(),
		});
	}

	/** How the directory should list the group now. */
	summary(groupId: string): GroupSummary {
		const state = this.#store.state();
		const members = this.#store.memberCount();
		return {
			group: groupId,
			state: state.status !== "active" ? "dead" : members > 0 ? "stable" : "empty",
			members,
			generation: state.generation,
		};
	}

	/**
	 * Computes the next generation's assignment from the members and subscribed topics in SQLite. On a partition
	 * that changes owner, what the owner confirmed is committed (`CommitRules.commitConfirmed`) and its last poll's
	 * pending auto-commit is dropped with its position: a member's records count as processed only once it polls
	 * again, and it may still be working on them. (Kafka's consumer commits everything it returned before it gives partitions
	 * up, but from inside its own poll, which says as much; committed here, the group simulation lost records.)
	 * A member that rejoins keeps what it owns (`holdPartitions`) until it joins again: `mover`, the member joining now,
	 * has stopped reading; each other one must join again within its rebalance timeout (`askRejoin`), as Kafka's
	 * coordinator asks. Past it a dynamic one's session ends; a static one stays a member (KIP-345: a restart longer
	 * than the rebalance timeout must not rebalance) but holds nothing back (`lateRejoins`): as Kafka's `onCompleteJoin`
	 * ends the round without it and assigns it a share, the others get theirs now (`expireOverdue` runs this then) and
	 * it keeps the rest, its commits of its older generations still taken on those. `whenChanged`: no new generation if
	 * nobody's partitions change. `late`: `lateRejoins(now)`, when the caller has just read it.
	 */
	#rebalance(now: number, mover: string | null = null, whenChanged = false, late = this.#store.lateRejoins(now)): void {
		const topics = this.#store.subscribedTopics();
		const members = this.#store.members();
		const input: AssignorInput = {
			members: members.map((m) => ({
				memberId: m.memberId,
				sortKey: m.instanceId ?? m.memberId,
				topics: subscribedTopics(m.subscription, topics.keys()),
			})),
			partitionCounts: new Map([...topics.values()].map((t) => [t.topic, t.partitions])),
			previous: this.#store.assignments(),
		};
		for (const id of late) this.#store.askRejoin(id, null);
		const holders = new Set(
			members.filter((m) => m.rejoinedGeneration !== null && m.memberId !== mover && !late.includes(m.memberId)).map((m) => m.memberId),
		);
		const next = holdPartitions(input, assign(this.#store.state().strategy ?? "sticky", input), holders);
		checkAssignment(input, next);
		if (whenChanged && sameOwners(next, input.previous)) return;
		this.commits.commitConfirmed(leavingIn(next), now);
		this.#store.replaceAssignment(next);
		this.#store.bumpGeneration();
		for (const m of members) if (holders.has(m.memberId)) this.#store.askRejoin(m.memberId, now + m.rebalanceTimeoutMs);
	}

	#removeMembers(memberIds: readonly string[], now: number): void {
		for (const id of memberIds) this.#store.deleteMember(id);
		this.membershipVersion++;
		if (this.#store.memberCount() === 0) this.#store.setRetentionFrom(now);
		const current = this.#store.subscribedTopics();
		// The rebalance commits what the members confirmed: none of them owns anything in the next generation.
		this.applyTopics(
			current,
			pruneTopics(
				current,
				this.#store.members().map((m) => m.subscription),
			),
			now,
		);
		for (const id of memberIds) this.commits.forgetMember(id);
	}

	/**
	 * Removes every member whose session deadline has passed, in one rebalance. Their last polls' pending
	 * auto-commits are dropped; what they confirmed on an interval (`CommitRules`) is committed. Then ends the round of
	 * a static member past its rejoin deadline (see `rebalance`).
	 */
	expireOverdue(now: number): void {
		const overdue = this.#store.overdueMembers(now);
		if (overdue.length > 0) this.#removeMembers(overdue, now);
		const late = this.#store.lateRejoins(now);
		if (late.length > 0) this.#rebalance(now, null, true, late);
	}

	/** A member's call: its heartbeat. `instanceId`: the static instance it names, fenced first (`fenced`). */
	touchMember(memberId: string, now: number, instanceId: string | null = null): Result<Member> {
		const caller = this.#caller(memberId, now, instanceId);
		if (caller.ok) this.#store.touch(memberId, now + caller.value.sessionTimeoutMs);
		return caller;
	}

	/**
	 * The member a call names, judged as a broker's (validateCurrentMember): after expiry, the instance it names first
	 * (`memberFenced`), then whether the group has the member.
	 */
	#caller(memberId: string, now: number, instanceId: string | null): Result<Member> {
		this.expireOverdue(now);
		const member = this.#store.member(memberId);
		return this.#memberFenced(memberId, instanceId, member) ?? (member === null ? this.#unknownMember(memberId) : ok(member));
	}

	/**
	 * The instance a member's call names, judged first, as Kafka's ClassicGroup.validateMember: none, or the member's
	 * own, passes; another member's is `fenced`; one no member holds is `unknown_member`, the member id not looked at
	 * ("if (existingMemberId == null) throw Errors.UNKNOWN_MEMBER_ID.exception()"). The holder is looked up only when
	 * `member` does not hold the instance.
	 */
	#memberFenced(memberId: string, instanceId: string | null = null, member = this.#store.member(memberId)): Result<never> | null {
		if (instanceId === null || member?.instanceId === instanceId) return null;
		return this.#fenced(instanceId, memberId) ?? this.#unknownMember(memberId, instanceId);
	}

	/**
	 * A member's call answered `unknown_member` before any expiry, refresh or transaction: the group has no such member
	 * and no member holds the instance it names (none do once expired either), so nothing could be judged otherwise.
	 * Not while an expiry is due (`expireOverdue`), which a broker's timer would have run: its rebalance moves the
	 * generation the refusal names, so the call is answered after it.
	 */
	unknownCaller(memberId: string, instanceId: string | null, now: number): Result<never> | null {
		if (this.#store.isMember(memberId) || (instanceId !== null && this.#store.memberByInstance(instanceId) !== null)) return null;
		return (this.#store.earliestDeadline() ?? now + 1) <= now ? null : this.#unknownMember(memberId, instanceId);
	}

	view(memberId: string): MemberView {
		return { generation: this.#store.state().generation, assignment: this.#store.assignmentOf(memberId) };
	}

	/**
	 * KIP-345's fence, as Kafka's isStaticMemberFenced: a call naming `instanceId` while another member than `memberId`
	 * holds it is refused before anything else is judged. A process replaced by a restart of its instance (a join
	 * with that instance id and no member id) is so told it is fenced, which a client takes as fatal, rather than
	 * `unknown_member`, on which it would join again as another restart, and the two would take the instance from
	 * each other in turn. The one rule for joins, heartbeats, polls, commits and leaves; `holder`: the instance's, if known.
	 */
	#fenced(
		instanceId: string | null,
		memberId: string,
		holder = instanceId === null ? null : this.#store.memberByInstance(instanceId),
	): Result<never> | null {
		if (instanceId === null || holder === null || holder.memberId === memberId) return null;
		return err("fenced_instance", `member "${memberId}" does not hold instance "${instanceId}": another member does`, {
			instance_id: instanceId,
			member_id: memberId,
		});
	}

	/**
	 * `instanceId`: the one the call named when no member holds it, which is then what is wrong (asked first, the
	 * member may be one the group has, or none: a standalone commit's `""`).
	 */
	#unknownMember(memberId: string, instanceId: string | null = null): Result<never> {
		const { generation } = this.#store.state();
		return err(
			"unknown_member",
			instanceId === null
				? `member "${memberId}" is not in the group: it left, its session timed out, or it was replaced; join again`
				: `instance "${instanceId}" is held by no member: join with it first`,
			{
				member_id: memberId,
				generation,
			},
		);
	}

	groupNotFound(groupId: string): Result<never> {
		return err("group_not_found", `group "${groupId}" does not exist`, { group: groupId });
	}
}

/** "1 member", "2 members". */
function countOf(n: number, noun: string): string {
	return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Up to `max` partitions of `assignment`, starting at a random one, so a member owning many is served fairly. */
function rotatingWindow(assignment: readonly TopicPartition[], max: number): TopicPartition[] {
	if (assignment.length <= max) return [...assignment];
	const start = Math.floor(Math.random() * assignment.length);
	return Array.from({ length: max }, (_, i) => assignment[(start + i) % assignment.length] as TopicPartition);
}

/** Whether a member's partition leaves it in `next`: a `commitConfirmed` filter. */
function leavingIn(next: Assignment): (memberId: string, key: string) => boolean {
	const owners = new Map<string, string>();
	for (const [memberId, partitions] of next) for (const tp of partitions) owners.set(keyOf(tp), memberId);
	return (memberId, key) => owners.get(key) !== memberId;
}
