/**
 * @module
 * Which offset commits a group takes, and when it makes its own: an explicit commit's fencing (the member's
 * generation, its ownership of each partition, and the read position that vouches for each offset), and auto-commit's
 * at-least-once bookkeeping (what a member's polls left pending, what it confirmed by polling again, when it last
 * auto-committed). Apart from group-rules.ts, which decides who is a member and who owns what, because the commit
 * side only follows those decisions: a rebalance, a leave or an expiry calls `commitConfirmed` here before partitions
 * move, and nothing here moves a partition. It holds the commit side's memory (`autoCommittedMs`, `confirmedCommits`);
 * its other facts are in SQLite (store.ts, commit-store.ts). Synchronous, like the rest of the rules.
 */

import { assert } from "../shared/assert.ts";
import { err, ok, type Result } from "../shared/errors.ts";
import { keyOf } from "./assignors.ts";
import type { GroupStore } from "./store.ts";
import type { CommitRequest, CommittedOffset, OffsetCommit, TopicPartition } from "./types.ts";

export class CommitRules {
	/**
	 * When each member's pending auto-commits were last committed (see `autoCommitDue`). Memory only: a restarted
	 * coordinator finds every member due.
	 */
	readonly #autoCommittedMs = new Map<string, number>();
	/**
	 * Per member and partition, an auto-commit the member has confirmed and an interval left uncommitted: where its
	 * earlier polls ended, which it has processed since it came back for more (auto-commit's at-least-once rule). A
	 * rebalance that takes the partition from the member commits it (`commitConfirmed`), as Kafka's consumer commits
	 * before it gives partitions up, so the new owner reads again what the member's last poll returned, not up to an
	 * interval of records. The last poll's own end is never here: the member may still be working on its records.
	 * Memory only: losing it (a restart, a rolled-back transaction) only means more records read again.
	 */
	readonly #confirmedCommits = new Map<string, Map<string, { readonly tp: TopicPartition; readonly offset: number }>>();

	readonly #store: GroupStore;

	constructor(store: GroupStore) {
		this.#store = store;
	}

	/**
	 * Whether a poll with this `autoCommitIntervalMs` commits what the member's earlier polls returned: it has pending
	 * auto-commits, and (as Kafka's auto.commit.interval.ms) the interval has passed since its last auto-commit. 0
	 * commits at every poll. A member this coordinator has not auto-committed for since it started is due: a restart
	 * commits sooner, never later.
	 */
	autoCommitDue(memberId: string, autoCommitIntervalMs: number, now: number): boolean {
		if (!this.#store.hasPendingCommits(memberId)) return false;
		const last = this.#autoCommittedMs.get(memberId);
		return last === undefined || now - last >= autoCommitIntervalMs;
	}

	/**
	 * The offsets no read vouches for: past the member's position on the partition, or with no position of its.
	 * None in a generation that is over, which fencing refuses whole: bounds-checked first, a commit naming a topic
	 * deleted since the member read it was a 404 instead of the fencing error its client follows (to the rebalance
	 * that dropped the topic).
	 */
	unverified(memberId: string, generation: number, offsets: readonly OffsetCommit[]): TopicPartition[] {
		if (!this.#inTime(memberId, generation)) return [];
		return offsets
			.filter((o) => {
				const position = this.#store.position(o);
				return position === null || position.memberId !== memberId || o.offset > position.nextOffset;
			})
			.map(({ topic, partition }) => ({ topic, partition }));
	}

	/**
	 * Whether a member's commit of `generation` is in time: of the current one, or, from a member that rejoins, of one
	 * since it last joined. Partitions leave such a member only when it joins again (group-rules.ts `rebalance`), so it has owned each
	 * it owns now since then, and no other member has read them: Kafka's broker takes commits of the generation that
	 * is ending until its members have rejoined. (A static one's leave it too at its rebalance timeout; one given back
	 * to it before it rejoins would take its older commit: an offset read again, never one skipped.)
	 */
	#inTime(memberId: string, generation: number): boolean {
		const current = this.#store.state().generation;
		return generation <= current && generation >= (this.#store.member(memberId)?.rejoinedGeneration ?? current);
	}

	/** Writes a live member's commit if its generation is in time and it owns every partition; else nothing. */
	writeFenced(request: CommitRequest, now: number): Result<void> {
		const { generation } = this.#store.state();
		if (!this.#inTime(request.memberId, request.generation)) {
			return err(
				"rebalance_in_progress",
				`generation ${request.generation} is over: the group is at generation ${generation}; poll or heartbeat for the new assignment`,
				{
					generation,
					member_id: request.memberId,
				},
			);
		}
		for (const o of request.offsets) {
			if (this.#store.ownerOf(o) === request.memberId) continue;
			return err("partition_not_assigned", `${o.topic}/${o.partition} is not assigned to this member in generation ${generation}`, {
				topic: o.topic,
				partition: o.partition,
				generation,
			});
		}
		for (const o of request.offsets) this.writeExplicitCommit(request.memberId, o, generation, now);
		return ok(undefined);
	}

	commitPending(memberId: string, now: number): void {
		this.#autoCommittedMs.set(memberId, now);
		// What it confirmed is at or behind what is pending, and is committed with it.
		this.#confirmedCommits.delete(memberId);
		const { generation } = this.#store.state();
		for (const { tp, offset } of this.#store.takePendingCommits(memberId)) {
			if (this.#store.offsets.committedOffset(tp) === offset) continue;
			this.#store.offsets.writeCommit({ ...tp, offset, metadata: null }, generation, now);
		}
	}

	/**
	 * Writes a commit the member asked for. It wins over the partition's auto-commits: what a poll left pending and
	 * what the member confirmed are cleared, so neither is committed over it later.
	 */
	writeExplicitCommit(memberId: string, commit: CommittedOffset, generation: number, now: number): void {
		this.#store.offsets.writeCommit(commit, generation, now);
		this.#store.clearPendingCommit(commit);
		this.#confirmedCommits.get(memberId)?.delete(keyOf(commit));
	}

	/** The member came back for more: what its earlier polls left to commit is processed (see `confirmedCommits`). */
	confirmPending(memberId: string): void {
		const pending = this.#store.pendingCommitsOf(memberId);
		if (pending.length === 0) return;
		const confirmed = this.#confirmedCommits.get(memberId) ?? new Map();
		for (const c of pending) confirmed.set(keyOf(c.tp), c);
		this.#confirmedCommits.set(memberId, confirmed);
	}

	/**
	 * Commits, in the generation that is ending, the confirmed auto-commits `leaves` picks (by member and partition
	 * key), and forgets them. A topic no longer subscribed is committed too
	 * (its last member left: the group keeps its offsets, as Kafka does); a recreated one's were forgotten first
	 * (group-rules.ts `applyTopics`).
	 */
	commitConfirmed(leaves: (memberId: string, key: string, tp: TopicPartition) => boolean, now: number): void {
		const { generation } = this.#store.state();
		for (const [memberId, confirmed] of this.#confirmedCommits) {
			for (const [key, { tp, offset }] of confirmed) {
				if (!leaves(memberId, key, tp)) continue;
				confirmed.delete(key);
				if (this.#store.offsets.committedOffset(tp) !== offset)
					this.#store.offsets.writeCommit({ ...tp, offset, metadata: null }, generation, now);
			}
			if (confirmed.size === 0) this.#confirmedCommits.delete(memberId);
		}
	}

	/** Forgets every confirmed auto-commit (a rolled-back transaction: they may name rows it undid). */
	forgetConfirmed(): void {
		this.#confirmedCommits.clear();
	}

	/**
	 * Forgets a member that left, or whose instance came back under a new member id, once whatever it confirmed was
	 * committed (`commitConfirmed`, by the rebalance that took its partitions).
	 */
	forgetMember(memberId: string): void {
		assert(!this.#confirmedCommits.has(memberId), "auto-commits settled");
		this.#autoCommittedMs.delete(memberId);
	}

	/** Forgets what members confirmed of `topic` (it was deleted and created again: old offsets mean nothing). */
	forgetTopic(topic: string): void {
		for (const confirmed of this.#confirmedCommits.values())
			for (const [key, c] of confirmed) if (c.tp.topic === topic) confirmed.delete(key);
	}
}
