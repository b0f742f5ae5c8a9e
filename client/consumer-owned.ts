/**
 * @module
 * What a group member knows per partition it owns, and the one rule over all of it: the assignment, what the polls
 * fetched (with the seeks and pauses they send), what the loop moved past and what of it is committed, and the record
 * in hand are kept only while the partition is owned, and dropped the moment it is not: they are its new owner's to
 * deliver and commit (`Owned`). Its own module because it is state alone, with no requests and no membership: which
 * answer changes the assignment, and when a membership ends, are `GroupMember`'s, in consumer-member.ts.
 */

import type { TopicPartition } from "./admin.ts";
import { CommitLedger, type GroupCommit, type Offset } from "./consumer-commits.ts";
import { Fetched, tpKey } from "./consumer-fetched.ts";
import type { ConsumerOptions } from "./consumer-options.ts";
import type { LoopTurn } from "./consumer-turn.ts";
import type { ConsumerRecord } from "./records.ts";

export class Owned {
	#assigned = new Map<string, TopicPartition>();
	/** What the polls fetched and the loop has not taken yet, with the seeks and pauses the next poll sends. */
	readonly fetched = new Fetched();
	/** What the loop moved past, what is committed, and what a lost membership never stored. */
	readonly ledger: CommitLedger;
	/** The loop's turn: the record in hand is committed with what the loop moved past, and dropped with its partition. */
	readonly #turn: LoopTurn;

	constructor(beforeCommit: ConsumerOptions["beforeCommit"], autoCommitIntervalMs: number, turn: LoopTurn) {
		this.ledger = new CommitLedger(beforeCommit, autoCommitIntervalMs);
		this.#turn = turn;
	}

	/** The partitions owned now, keyed by `tpKey`. */
	get assigned(): ReadonlyMap<string, TopicPartition> {
		return this.#assigned;
	}

	/** The loop is handed `record`. */
	handOut(record: ConsumerRecord): void {
		this.#turn.hand(record);
	}

	/** The loop is done with the record in hand: it counts as processed, to be committed while its partition is owned. */
	moveOn(): void {
		const record = this.#turn.inHand;
		if (record !== null && this.#assigned.has(tpKey(record.topic, record.partition))) this.ledger.movedPast(record);
		this.#turn.moveOn();
	}

	/**
	 * Owns `assignment` from now: forgets what it knew of partitions outside it (those revoked, and those a failed
	 * poll's recovery kept but did not get back), drops the records fetched of those revoked; returns what changed.
	 */
	reassign(assignment: readonly TopicPartition[]): { revoked: TopicPartition[]; added: TopicPartition[] } {
		const next = new Map(assignment.map((tp) => [tpKey(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition }]));
		const revoked = [...this.#assigned].filter(([key]) => !next.has(key)).map(([, tp]) => tp);
		const added = [...next].filter(([key]) => !this.#assigned.has(key)).map(([, tp]) => tp);
		this.#forgetOwned((key) => !next.has(key));
		this.#assigned = next;
		if (revoked.length > 0) this.fetched.keepOnly(next);
		return { revoked, added };
	}

	/**
	 * The membership ended; returns what it owned. `keepProcessed` (a recovery's, whose onRevoke ran before): what the
	 * loop moved past stays to be committed (`reassign` prunes it once joined again); else it is forgotten, and what it
	 * moved past and never stored makes the caller's `commit()` refuse (`CommitLedger.lost`).
	 */
	drop(keepProcessed: boolean): TopicPartition[] {
		const lost = [...this.#assigned.values()];
		this.fetched.clear();
		if (keepProcessed) {
			this.#assigned = new Map();
			this.fetched.paused.clear();
			return lost;
		}
		this.ledger.lost(this.pending(true));
		this.forget(lost);
		return lost;
	}

	/** Drops what this consumer knows of `partitions`, no longer owned. */
	forget(partitions: readonly TopicPartition[]): void {
		for (const tp of partitions) {
			const key = tpKey(tp.topic, tp.partition);
			this.#assigned.delete(key);
			this.#forgetOwned((k) => k === key);
		}
	}

	/**
	 * The record in hand of a partition taken (`taken` its key) is no longer this member's to commit, even once the
	 * partition comes back: its new owner read from the last commit meanwhile, and may have committed past it.
	 */
	forgetInHand(taken: (key: string) => boolean): void {
		const r = this.#turn.inHand;
		if (r !== null && taken(tpKey(r.topic, r.partition))) this.#turn.inHand = null;
	}

	/** The record the loop is processing, if it is still this member's to commit. */
	get inHand(): ConsumerRecord | null {
		return this.#turn.inHand;
	}

	/**
	 * Drops what the loop processed of each partition whose commit in the group (`commits`; null: unread) is at or past
	 * it: another member's, which committing it would move back; and `inHand`, the record in hand when `commits` was
	 * asked for, if its commit is past it. Unread, nothing is kept.
	 */
	dropOvertaken(commits: readonly GroupCommit[] | null, inHand: ConsumerRecord | null): void {
		this.ledger.dropOvertaken(commits);
		if (inHand === null) return;
		const key = tpKey(inHand.topic, inHand.partition);
		const overtaken = (o: GroupCommit) => o.committed !== null && tpKey(o.topic, o.partition) === key && o.committed > inHand.offset;
		if (commits === null || commits.some(overtaken)) this.#turn.inHand = null;
	}

	/** What the loop moved past (`inHand`: and the record it processes) and is not committed yet, after `beforeCommit`. */
	toCommit(inHand = false): Promise<Offset[]> {
		return this.ledger.toCommit(inHand ? this.#turn.inHand : null, this.#assigned);
	}

	/** What the loop moved past (`inHand`: and the record it processes) and is not committed yet. */
	pending(inHand: boolean): Offset[] {
		return this.ledger.pending(inHand ? this.#turn.inHand : null, this.#assigned);
	}

	/** Drops what this consumer keeps per partition only while it owns it, of each partition whose key is `gone`. */
	#forgetOwned(gone: (key: string) => boolean): void {
		this.ledger.forget(gone);
		for (const map of [this.fetched.seeks, this.fetched.paused]) for (const key of map.keys()) if (gone(key)) map.delete(key);
		this.forgetInHand(gone);
	}
}
