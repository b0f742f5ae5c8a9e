/**
 * @module
 * A group consumer's membership, as the broker sees it: the join, the polls, the heartbeat, the leave, and the
 * commits of what the loop moved past (the loop itself, turn by turn, is `Consumer`'s, in consumer.ts; the requests
 * those send are `MemberCalls`', in consumer-calls.ts; what is moved past, committed or never stored, per partition,
 * is `CommitLedger`'s, in consumer-commits.ts; what it knows per partition it owns, and its forgetting once the
 * partition is not, is `Owned`'s, in consumer-owned.ts; the leaves of its own, a leave's `onRevoke` and the recovery
 * from a failed poll, are `MemberRecovery`'s, in consumer-recovery.ts).
 *
 * Without an interval the consumer commits explicitly and polls with `auto_commit: false`, whatever the broker's
 * default. A poll whose answer is lost moves the member's read positions on the broker, so the member leaves and
 * joins again, which sends it back to its committed offsets instead of skipping what it never saw. With
 * `autoCommit`, the commit rides on the next poll (its `commit` field: one request, written before the poll
 * answers); a carried commit the broker refuses (a rebalance) is sent on its own, after following the rebalance.
 * With `autoCommitIntervalMs` the broker commits instead (Kafka's `auto.commit.interval.ms`): each commit costs the
 * group's coordinator a storage write, so a busy consumer that commits every few seconds costs less per record. The
 * polls then ask for the broker's auto-commit on that interval: each poll tells the broker the previous one's
 * records were processed (this consumer polls only once the loop has moved past every record it was handed), and a
 * rebalance (or a session that runs out: the process died) commits what those earlier polls returned of the
 * partitions it moves, in the generation that ends, before their new owner reads (which reads the last poll's
 * again). The broker keeps what was processed in memory: only a restart of the group's coordinator reads up to the
 * interval again. This consumer cannot do that itself: it learns
 * of a rebalance only after it, when the partitions are no longer its to commit. Leaving (on close, or after a poll
 * whose answer was lost: see consumer-recovery.ts) says `auto_commit=false`, so the broker drops the last poll's auto-commit
 * instead of committing records this consumer never handed out; close() commits what it handed out itself first.
 * With `beforeCommit`, which must run before each commit, the consumer keeps committing on its own, on the
 * interval.
 */

import type { TopicPartition } from "./admin.ts";
import { RebalanceCallbacks } from "./consumer-callbacks.ts";
import { MemberCalls } from "./consumer-calls.ts";
import { type CommitBy, commitRefused, type GroupCommit, type Offset, refusedByRebalance } from "./consumer-commits.ts";
import type { Fetched } from "./consumer-fetched.ts";
import { HeartbeatTimer } from "./consumer-heartbeat.ts";
import { type ConsumerOptions, type ConsumerSettings, joinBody, pollBase } from "./consumer-options.ts";
import { Owned } from "./consumer-owned.ts";
import { type Member, MemberRecovery, membershipGone, PollBackoff, pollFailure, staticFence } from "./consumer-recovery.ts";
import type { LoopTurn } from "./consumer-turn.ts";
import { TributaryError } from "./errors.ts";
import type { Http } from "./http.ts";
import { type ConsumerRecord, fromWire, type WireRecord } from "./records.ts";

/**
 * Tries of one commit through rebalances: each refused one follows the new generation first, so only another
 * rebalance in between refuses it again (members of a group closing at once each make one).
 */
const COMMIT_TRIES_MAX = 8;

interface Assignment {
	readonly generation: number;
	readonly assignment: TopicPartition[];
}

/**
 * What a close's leave rejects with, of the errors met on its way: a rebalance callback's (the first to throw, the
 * leave's own `onRevoke` included) before the leave's requests' (its auto-commit's, then its DELETE's), whichever came
 * first, as Kafka's close() throws its rebalance listener's error (and only logs a final auto-commit that failed):
 * the callback's is the application's own, and the one the loop throws too, unless an error of its own ended it.
 */
class LeaveFailure {
	#callback: { readonly error: unknown } | null = null;
	#request: { readonly error: unknown } | null = null;

	readonly callback = (error: unknown): void => {
		this.#callback ??= { error };
	};

	readonly request = (error: unknown): void => {
		this.#request ??= { error };
	};

	throwIfAny(): void {
		const failure = this.#callback ?? this.#request;
		if (failure !== null) throw failure.error;
	}
}

/** What a call on a consumer that is closed (or closing, where it would join) rejects with. */
export const closedError = () => new TributaryError("closed", "the consumer is closed");

export class GroupMember {
	readonly group: string;
	/** This member's requests to the broker. */
	readonly #calls: MemberCalls;
	readonly #options: ConsumerOptions;
	readonly #autoCommit: boolean;
	/** Whether the broker auto-commits this consumer's polls on the interval (see the module's comment). */
	readonly #brokerCommits: boolean;
	readonly #sessionTimeoutMs: number;
	readonly #heartbeatIntervalMs: number;
	readonly #maxPollIntervalMs: number;
	/** The loop's turn, timed against `maxPollIntervalMs`. */
	readonly #turn: LoopTurn;
	/** The leave of a loop that kept its record too long, until the loop comes back (`comeBack`), then joins. */
	#pollTimeoutLeave: Promise<unknown> | null = null;
	/** What every poll's body says, whatever it carries. */
	readonly #pollBase: ReturnType<typeof pollBase>;
	#member: Member | null = null;
	/** What it knows per partition it owns: the assignment, what was fetched, processed and committed, the record in hand. */
	readonly #owned: Owned;
	/** The caller's commit of what a recovery kept, once joined again: the next poll reads from it (`commitHandedOut`). */
	#keptCommit: Promise<void> | null = null;
	/** The leaves of this consumer's own: a leave's `onRevoke`, and the recovery from a failed poll (`#recover`). */
	readonly #recovery: MemberRecovery;
	readonly #heartbeat = new HeartbeatTimer();
	/** The wait before polling again after a poll that was not served (`#recover`). */
	readonly #pollBackoff = new PollBackoff();
	readonly callbacks: RebalanceCallbacks;
	#lastCallMs = 0;
	#polling: Promise<unknown> | null = null;
	/** The join under way: `join()` and the loop's first poll share it, and closing waits for it, then leaves. */
	#joining: Promise<Member> | null = null;
	/** Set once `leave()` was called: the consumer closes; `join()` joins no more, and a recovery leaves it that leave. */
	#leaving = false;
	/**
	 * Set once another consumer with this `instanceId` took the instance (the broker's `fenced_instance`): this one
	 * stops for good, as Kafka's consumers do (librdkafka's fatal "static consumer fenced", Java's
	 * FencedInstanceIdException). Joining again, as on `unknown_member`, would be one more restart of the instance:
	 * the two would take it from each other in turn, each rebalancing the group.
	 */
	#fenced: TributaryError | null = null;

	constructor(http: Http, options: ConsumerOptions, settings: ConsumerSettings, turn: LoopTurn) {
		this.group = options.group;
		this.#calls = new MemberCalls(http, options);
		this.#options = options;
		this.#autoCommit = settings.autoCommit;
		this.#owned = new Owned(options.beforeCommit, settings.autoCommitIntervalMs, turn);
		this.#brokerCommits = settings.brokerCommits;
		this.#sessionTimeoutMs = settings.sessionTimeoutMs;
		this.#heartbeatIntervalMs = settings.heartbeatIntervalMs;
		this.#maxPollIntervalMs = settings.maxPollIntervalMs;
		this.#turn = turn;
		this.#pollBase = pollBase(options, settings);
		this.callbacks = new RebalanceCallbacks(options);
		this.#recovery = new MemberRecovery(
			{
				isMember: (m) => this.#member === m,
				closing: () => this.#leaving,
				owned: () => [...this.#owned.assigned.values()],
				dropKeepingProcessed: () => this.#dropMembership(true),
				leave: (m) => this.#calls.leave(m.id),
			},
			this.callbacks,
			options,
			settings.autoCommit,
		);
	}

	/** The partitions this member owns now, keyed by `tpKey`. */
	get assigned(): ReadonlyMap<string, TopicPartition> {
		return this.#owned.assigned;
	}

	/** What the polls fetched and the loop has not taken yet, with the seeks and pauses the next poll sends. */
	get fetched(): Fetched {
		return this.#owned.fetched;
	}

	get memberId(): string | null {
		return this.#member?.id ?? null;
	}

	/** Whether a recovery from a failed poll is under way: the loop polls again once `callbacks.ran` (`#recover`). */
	get recovering(): boolean {
		return this.#recovery.recovering;
	}

	/** Whether `onRevoke` runs on the partitions a leave gives up (`leave()`'s, or a recovery's: `#recover`). */
	get revokingOnLeave(): boolean {
		return this.#recovery.revoking;
	}

	/** Whether a callback of this consumer runs now: a leave's `onRevoke`, or a rebalance's `onRevoke` or `onAssign`. */
	get inCallback(): boolean {
		return this.#recovery.revoking || this.callbacks.running;
	}

	/** The loop is handed `record`. */
	handOut(record: ConsumerRecord): void {
		this.#owned.handOut(record);
	}

	/** The loop is done with the record in hand: it counts as processed, to be committed. */
	moveOn(): void {
		this.#owned.moveOn();
	}

	/**
	 * The loop comes back after a leave on `maxPollIntervalMs`, at its next turn or by `join()` (Kafka's poll() that
	 * joins again): waits for that leave, ends `commit()`'s refusal, and times a turn still in progress again from
	 * now, as poll() restarts the interval.
	 */
	async comeBack(): Promise<void> {
		const left = this.#pollTimeoutLeave;
		if (left === null) return;
		this.#pollTimeoutLeave = null;
		this.#turn.restart();
		await left;
	}

	/**
	 * Joins the group if this consumer is not a member (one join at a time), and waits for the callbacks: again if
	 * those left (a recovery's leave, `#recover`; and those queued meanwhile), so it returns a member, as Kafka's poll()
	 * does, unless closing.
	 */
	async join(): Promise<void> {
		do {
			await this.#ensureMember();
			await this.callbacks.allRan();
		} while (this.#member === null && !this.#leaving && this.#pollTimeoutLeave === null);
	}

	/**
	 * The caller's commit of every record handed out so far, the one in hand included: refused (`commitRefused`) once
	 * the member left on `maxPollIntervalMs`, until the loop comes back, and when its membership is lost.
	 */
	async commit(): Promise<void> {
		if (this.#pollTimeoutLeave !== null) {
			throw commitRefused("this member left the group: the loop kept a record past maxPollIntervalMs", {
				max_poll_interval_ms: this.#maxPollIntervalMs,
			});
		}
		await this.commitHandedOut("caller");
	}

	/** One poll under way at a time (the heartbeat timer keeps quiet meanwhile); see `#pollOnce`. */
	poll(): Promise<number | null> {
		const polled = this.#pollOnce();
		this.#polling = polled;
		return polled.finally(() => {
			this.#polling = null;
		});
	}

	/**
	 * The loop kept a record past \`maxPollIntervalMs\` (Kafka's \`max.poll.interval.ms\`): a member whose heartbeat goes on
	 * while its loop is stuck would keep its partitions for ever. It leaves, so other members read them from the last
	 * commit; what it processed and had not committed is theirs to read again (its commit is refused from now on).
	 */
	leaveOnPollTimeout(): void {
		const member = this.#member;
		if (member === null) return;
		this.#dropMembership();
		this.#pollTimeoutLeave = this.#calls.leave(member.id).catch(() => {});
	}

	/**
	 * Leaves the group, once the join, poll, poll-interval leave or recovery's leave under way is done: commits what
	 * the loop moved past (with `autoCommit`), waits for the rebalance callbacks queued or running (`callbacks.ran`),
	 * runs `onRevoke` on the partitions it owned (or waits for the one a recovery runs for this member; from then no
	 * callback is queued: `RebalanceCallbacks.end`), then leaves; rejects with the error `LeaveFailure` picks.
	 */
	async leave(): Promise<void> {
		this.#leaving = true;
		this.#pollBackoff.cut();
		await this.#pollTimeoutLeave?.catch(() => {});
		await this.#polling?.catch(() => {});
		await this.#joining?.catch(() => {});
		await this.#recovery.leaving;
		const member = this.#member;
		// After the waits: a join that landed meanwhile started a heartbeat for the member this leaves.
		if (member === null) {
			this.#heartbeat.stop();
			// The onRevoke of a membership lost (queued by the poll or heartbeat that found it gone) may still run; its
			// error is the close's, as a callback's the leave waits for below.
			return this.callbacks.allRan();
		}
		const failure = new LeaveFailure();
		if (this.#autoCommit) await this.commitHandedOut("leave").catch(failure.request);
		// A close() from outside the loop does not commit the record in hand (it may not be done), in no callback either.
		this.#owned.forgetInHand(() => true);
		// A rebalance's callback under way (or queued) may commit: this member must still be there to store it, as
		// Kafka's close() runs after its rebalance listener returned (its heartbeat goes on meanwhile). No deadlock: a
		// close() or stop() called while a callback runs returns without waiting for this leave (`Consumer.close`),
		// and so does a recovery's step. Until none was queued as the wait ended: the heartbeat, going on, may queue
		// another (an onAssign of partitions given back) while one runs, or in the microtasks as a wait ends, which would
		// otherwise run beside the leave's onRevoke; end() and the heartbeat's stop then follow with no await, so no
		// rebalance is followed unseen. One that threw fails the close (the loop may have thrown it already: the same
		// error), after the leave.
		for (let ran: Promise<void> | null = null; ran !== this.callbacks.ran; ) {
			ran = this.callbacks.ran;
			await this.callbacks.allRan().catch(failure.callback);
		}
		this.callbacks.end();
		this.#heartbeat.stop();
		if (this.#member !== member) {
			// Lost meanwhile (a commit there found it gone): nothing to leave, its callbacks are queued.
			return failure.throwIfAny();
		}
		const lost = [...this.#owned.assigned.values()];
		// A recovery's onRevoke for this member already ran (in the callbacks above): awaited, not run again. One that
		// throws fails the close as a callback's error, but still leaves: the group would wait out the session.
		await this.#recovery.revokeBeforeLeave(member, lost).catch(failure.callback);
		// Also what a rebalance followed meanwhile gave it (a commit() there follows it): nothing is owned once left.
		this.#owned.forget([...this.#owned.assigned.values()]);
		this.#member = null;
		await this.#calls.leave(member.id).catch((error) => {
			if (!membershipGone(error)) failure.request(error);
		});
		failure.throwIfAny();
	}

	/**
	 * One poll (joining first if needed), carrying the commit of what the loop moved past when `autoCommit`;
	 * returns how many records it buffered, or null when it must start over.
	 */
	async #pollOnce(carry = this.#autoCommit): Promise<number | null> {
		const member = await this.#ensureMember();
		await this.#keptCommit;
		this.#keptCommit = null;
		// Read before the awaits: what is committed was checked in this generation (see `#commitHandedOut`).
		const generation = member.generation;
		if (this.#recovery.checkKept) await this.#dropOvertaken();
		const due = this.#owned.ledger.due && !this.#brokerCommits;
		const offsets = carry && (this.#recovery.carryKept || due) ? await this.#owned.toCommit() : [];
		const { seek, paused } = this.fetched.pollFields(this.#owned.assigned);
		const body = {
			...this.#pollBase,
			...(offsets.length === 0 ? {} : { commit: { generation, offsets } }),
			...(seek.length === 0 ? {} : { seek }),
			...(paused.length === 0 ? {} : { paused }),
		};
		this.#lastCallMs = Date.now();
		let answer: Assignment & { partitions: { topic: string; partition: number; records: WireRecord[] }[] };
		try {
			answer = await this.#calls.poll(member.id, body, body.wait_ms);
		} catch (error) {
			if (offsets.length > 0 && refusedByRebalance(error)) {
				// The carried commit was refused and the poll read nothing: commit on its own (it follows the
				// rebalance and retries), then poll without it, unless closing meanwhile: the loop ends at its next turn,
				// and a member that commit found gone would be joined again for nothing (`#ensureMember` refuses it).
				await this.commitHandedOut("poll");
				return this.#leaving ? null : this.#pollOnce(false);
			}
			await this.#recover(error, member);
			return null;
		}
		this.#pollBackoff.served();
		// The membership was dropped while this poll was under way: its records were read at that membership's positions,
		// of partitions the member joined since may not own; it reads them again from the last commit.
		if (this.#member !== member) return null;
		this.#owned.ledger.stored(offsets);
		this.#recovery.carryKept = false;
		this.#follow(member, answer);
		return this.fetched.answered(
			seek,
			answer.partitions.flatMap((p) => p.records.map((r) => fromWire(r, p.topic))),
		);
	}

	/**
	 * The member, joining first if there is none; one join at a time, so no second member is left behind. None joins
	 * once closing: the close's leave may be over (it found no member) and nothing would leave the new one. A join()
	 * whose wait for a leave on `maxPollIntervalMs` spanned the close (`comeBack`) gets here so; the poll after a
	 * refused carried commit checks first (`#pollOnce`). A commit() of what a recovery kept does not: from outside the
	 * callbacks it rejects once closing (`Consumer.commit`), and the callbacks queued for the member run before that
	 * recovery's onRevoke or are skipped (a step that revokes nothing drops the member with no await between).
	 */
	#ensureMember(): Promise<Member> {
		if (this.#fenced !== null) return Promise.reject(this.#fenced);
		if (this.#member !== null) return Promise.resolve(this.#member);
		if (this.#leaving) return Promise.reject(closedError());
		this.#joining ??= this.#join().finally(() => {
			this.#joining = null;
		});
		return this.#joining;
	}

	async #join(): Promise<Member> {
		const body = joinBody(this.#options, this.#sessionTimeoutMs);
		const answer = await this.#calls.join<Assignment & { member_id: string }>(body);
		const member: Member = { id: answer.member_id, generation: answer.generation };
		this.#member = member;
		this.#lastCallMs = Date.now();
		this.#startHeartbeat();
		// After the lost membership's onRevoke (queued before), before this one's onAssign: see `CommitLedger`.
		this.callbacks.queueStep(() => this.#owned.ledger.endRefusal());
		this.#follow(member, answer);
		// A turn that outlasted the interval while this join was under way: the timer found no member to take out.
		if (this.#turn.overdue) this.leaveOnPollTimeout();
		return member;
	}

	/**
	 * A failed poll (`pollFailure`): membership lost (or the group deleted meanwhile) → join again; maybe served →
	 * leave and join again (`MemberRecovery.start`, which keeps what the loop processed); not served → wait, then the
	 * loop polls again as this member (no rebalance); anything else is thrown.
	 */
	async #recover(error: unknown, member: Member): Promise<void> {
		if (!(error instanceof TributaryError)) throw error;
		if (this.#outlived(member)) return;
		this.#stopIfFenced(error);
		const failure = pollFailure(error);
		if (failure === "other") throw error;
		if (failure === "lost") this.#dropMembership();
		else if (failure === "answer_lost") this.#recovery.start(member);
		else await this.#pollBackoff.wait(error);
	}

	/**
	 * After a recovery (joined again), or a generation skipped: drops what the loop processed (the record in hand too)
	 * of each partition whose commit another member moved to or past it while this one was out, or while the partition
	 * was that member's in a generation this one never saw. Committing it would move the commit back, and the group
	 * would read again what that member had processed. Read while this member owns the partitions, so no other
	 * member's commit can land between this read and its own (the commit is fenced by generation and owner). Unread,
	 * nothing is kept: at worst records are read again, never skipped.
	 */
	async #dropOvertaken(): Promise<void> {
		this.#recovery.checkKept = false;
		const inHand = this.#owned.inHand;
		if (!this.#owned.ledger.holdsProcessed && inHand === null) return;
		const commits = await this.#calls.describe<{ offsets: GroupCommit[] }>().then(
			(group) => group.offsets,
			() => null,
		);
		this.#owned.dropOvertaken(commits, inHand);
	}

	/**
	 * Whether this consumer is another member now, or is joining as one, than `member`, whose call was answered: that
	 * answer is the earlier membership's, and its refusal (`unknown_member`, even `fenced_instance`: its own rejoin took
	 * the instance) says nothing of the current one. With no member and no join under way, a fence is this consumer's.
	 */
	#outlived(member: Member): boolean {
		return this.#member !== member && (this.#member !== null || this.#joining !== null);
	}

	/**
	 * Throws, for good, the error of a member another consumer with its `instanceId` replaced (see `#fenced`): its
	 * membership is gone and nothing joins again; every later call that needs it (a poll, `join()`) throws it too.
	 */
	#stopIfFenced(error: unknown): void {
		const fence = staticFence(error, this.#options.instanceId, this.group);
		if (fence === null) return;
		this.#fenced ??= fence;
		if (this.#member !== null) this.#dropMembership();
		throw this.#fenced;
	}

	/** Loses the membership; `keepProcessed`: what the loop moved past stays to be committed (`Owned.drop`). */
	#dropMembership(keepProcessed = false): void {
		const member = this.#member;
		this.#member = null;
		this.#heartbeat.stop();
		const lost = this.#owned.drop(keepProcessed);
		// A recovery's onRevoke ran before (`MemberRecovery.start`).
		if (!keepProcessed) this.callbacks.queue(lost, [], () => this.#recovery.revokedOnLeave(member));
	}

	/**
	 * Takes the generation and assignment of an answer at once, and queues the callbacks for what changed (they may
	 * take their time; the loop waits for them). An answer of an older generation than one already followed (a
	 * heartbeat's, answered before a rebalance and received after the next poll's) is ignored.
	 */
	#follow(member: Member, answer: Assignment): void {
		if (this.#member !== member || answer.generation < member.generation) return;
		// A generation between these two may have given a partition kept through both to another member, which committed.
		if (answer.generation > member.generation + 1) this.#recovery.checkKept = true;
		member.generation = answer.generation;
		const { revoked, added } = this.#owned.reassign(answer.assignment);
		this.callbacks.queue(revoked, added, () => this.#recovery.revokedOnLeave(member));
	}

	/**
	 * The caller's refusal of a commit of `offsets` that found its membership gone (`CommitLedger.refusal`); a fenced
	 * consumer's is its fence, which every later call that needs the membership throws (`#stopIfFenced`).
	 */
	#lostCommit(offsets: readonly Offset[], cause?: unknown): TributaryError {
		return this.#fenced ?? this.#owned.ledger.refusal(this.group, offsets, cause);
	}

	/**
	 * Commits what was handed out and not yet committed; a rebalance in between drops the partitions now gone. One whose
	 * membership is gone stores nothing: the caller's `commit()` is refused then, the others' are quiet (`CommitBy`).
	 */
	async commitHandedOut(by: CommitBy): Promise<void> {
		const caller = by === "caller";
		for (let attempt = 0; ; attempt++) {
			const member = this.#member;
			if (caller && this.#owned.ledger.refusing) throw this.#lostCommit(this.#owned.pending(true));
			if (caller && member === null && this.#owned.pending(true).length > 0) {
				// What a recovery from a lost poll answer keeps for the next member (`#recover`), once it left: its
				// membership was not lost (Kafka revokes nothing there), so this commit() is not refused but joins, and
				// stores the offsets of the partitions the new member gets back, before its first poll reads them.
				const kept = this.#ensureMember().then(() => this.commitHandedOut("caller"));
				this.#keptCommit = kept.catch(() => {});
				return kept;
			}
			if (member === null) return;
			// Read before the awaits (the check, `beforeCommit`): a heartbeat's answer followed meanwhile may come from a
			// generation the kept offsets were not checked in, which must refuse this commit so the next try checks them.
			const generation = member.generation;
			if (this.#recovery.checkKept) await this.#dropOvertaken();
			const offsets = await this.#owned.toCommit(caller);
			if (offsets.length === 0) return;
			if (this.#member !== member) {
				if (caller) throw this.#lostCommit(offsets);
				return;
			}
			try {
				await this.#calls.commit({ member_id: member.id, generation, offsets });
				this.#lastCallMs = Date.now();
				this.#owned.ledger.stored(offsets);
				return;
			} catch (error) {
				const code = error instanceof TributaryError ? error.code : "";
				// Refused for an earlier membership, or one dropped meanwhile (not again: what a recovery kept is not lost).
				const gone = membershipGone(error);
				const outlived = this.#outlived(member) && (gone || code === "fenced_instance");
				if (!outlived) this.#stopIfFenced(error);
				if (outlived || gone) {
					if (this.#member === member) this.#dropMembership();
					if (caller) throw this.#lostCommit(offsets, error);
					return;
				}
				if (refusedByRebalance(error) && attempt < COMMIT_TRIES_MAX - 1) {
					await this.#sendHeartbeat();
					continue;
				}
				if (by !== "poll") throw error;
				return;
			}
		}
	}

	#startHeartbeat(): void {
		this.#heartbeat.start(this.#heartbeatIntervalMs, (everyMs) => {
			// Not while a poll is under way (it is the heartbeat); each beat while it waits to poll again (refused polls kept no session).
			const free = this.#pollBackoff.waiting || (this.#polling === null && Date.now() - this.#lastCallMs >= everyMs);
			if (free) this.#sendHeartbeat().catch(() => {});
		});
	}

	async #sendHeartbeat(): Promise<void> {
		const member = this.#member;
		if (member === null) return;
		this.#lastCallMs = Date.now();
		try {
			const answer = await this.#calls.heartbeat<Assignment>(member.id);
			this.#follow(member, answer);
		} catch (error) {
			if (!this.#outlived(member)) this.#stopIfFenced(error);
			// Gone, whether still this member (dropped here) or one dropped meanwhile: a commit following it sees that.
			if (!membershipGone(error)) throw error;
			if (this.#member === member) this.#dropMembership();
		}
	}
}
