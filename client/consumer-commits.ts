/**
 * @module
 * A group consumer's commit bookkeeping, apart from the requests: what the loop moved past per partition, what is
 * committed, what a lost membership handed out and never stored, when a commit is due, and how the caller's `commit()`
 * is refused once the membership its records were handed out in has ended (`CommitLedger`). Sending the commits, and
 * following the membership they are fenced by, is `GroupMember`'s, in consumer-member.ts.
 */

import type { TopicPartition } from "./admin.ts";
import { tpKey } from "./consumer-fetched.ts";
import type { ConsumerOptions } from "./consumer-options.ts";
import { TributaryError } from "./errors.ts";
import type { ConsumerRecord } from "./records.ts";

/** A partition's offset to commit: the one after the last record the loop moved past. */
export type Offset = TopicPartition & { offset: number };

/**
 * Who commits what the loop moved past: a poll whose carried commit was refused (quiet: at least once holds, the next
 * poll carries it again or the records are read again), the leave (its errors end the close, but a membership already
 * lost is no error of it), or the caller's `commit()` (the record in hand included; a commit that stores nothing
 * because the membership ended rejects: see `commitRefused`).
 */
export type CommitBy = "poll" | "leave" | "caller";

/**
 * What was handed out and is not committed yet: `handed` (keyed by `tpKey`) and `inHand`, the record the loop
 * processes, if its partition is still `assigned`.
 */
function pendingOffsets(
	handed: ReadonlyMap<string, Offset>,
	committed: ReadonlyMap<string, number>,
	inHand: ConsumerRecord | null,
	assigned: ReadonlyMap<string, TopicPartition>,
): Offset[] {
	const key = inHand === null ? "" : tpKey(inHand.topic, inHand.partition);
	const all =
		inHand !== null && assigned.has(key)
			? new Map(handed).set(key, { topic: inHand.topic, partition: inHand.partition, offset: inHand.offset + 1 })
			: handed;
	return [...all].filter(([key, o]) => committed.get(key) !== o.offset).map(([, o]) => o);
}

/**
 * The refusal of an explicit commit whose membership ended before it stored the offsets, as Java's `commitSync()`
 * throws `CommitFailedException` (and kafkajs's `commitOffsets()` rejects with `UNKNOWN_MEMBER_ID`): resolving would
 * tell the caller its offsets are stored. Its code is the broker's for a commit of a generation that is over, which
 * the caller also gets after a leave on `maxPollIntervalMs`: one code for "this membership's commit is refused". Not
 * retriable: nothing is sent again under a later membership, whose partitions another member may have read and
 * committed meanwhile (Java and librdkafka refuse it too); the records are delivered again from the last commit, and
 * committing them then stores their offsets.
 */
export function commitRefused(reason: string, details: Record<string, unknown>, cause?: unknown): TributaryError {
	const message = `${reason}: the offsets were not stored, and the records since the last commit will be delivered again`;
	return new TributaryError("rebalance_in_progress", message, { details, cause });
}

/** Whether a commit was refused by a rebalance (its generation is over, or a partition is no longer the member's). */
export function refusedByRebalance(error: unknown): boolean {
	return error instanceof TributaryError && (error.code === "rebalance_in_progress" || error.code === "partition_not_assigned");
}

/** `commitRefused` for `offsets` of a membership of `group` that was lost (`cause`: the refusal that told so). */
function lostMembershipRefusal(group: string, offsets: readonly Offset[], cause?: unknown): TributaryError {
	const reason = `the membership of this consumer in group "${group}" ended (its session expired, it was removed, it left, or the group was deleted) before these offsets were committed`;
	return commitRefused(reason, { offsets }, cause);
}

/** A partition's commit in the group, as its description lists it (null: none). */
export type GroupCommit = TopicPartition & { committed: number | null };

/** Per partition (keyed by `tpKey`), what the loop moved past and what of it is committed, for one consumer. */
export class CommitLedger {
	/** Per partition, the offset after the last record the loop moved past. */
	readonly #handed = new Map<string, Offset>();
	/** Per partition, the offset last committed by this consumer. */
	readonly #committed = new Map<string, number>();
	/**
	 * Per partition, what the loop was handed out (up to the record in hand) in a membership lost before it was
	 * committed: `commit()` refuses until the next member joined and the loss's `onRevoke` ran (Java's `commitSync()`
	 * throws until the next `poll()`), so a commit in that callback, whenever it runs, is refused too, and one in the
	 * next member's `onAssign` is not (Java's in `onPartitionsAssigned`, within that `poll()`).
	 */
	readonly #unstored = new Map<string, Offset>();
	readonly #beforeCommit: ConsumerOptions["beforeCommit"];
	readonly #intervalMs: number;
	/** When this consumer last committed (0: never, so its first commit is due at once). */
	#committedAtMs = 0;
	/** Set when `beforeCommit` failed: nothing may be committed after it. */
	#stopped = false;

	constructor(beforeCommit: ConsumerOptions["beforeCommit"], autoCommitIntervalMs: number) {
		this.#beforeCommit = beforeCommit;
		this.#intervalMs = autoCommitIntervalMs;
	}

	/** The loop moved past `record`, of a partition this member owns: the offset after it is to be committed. */
	movedPast(record: ConsumerRecord): void {
		this.#handed.set(tpKey(record.topic, record.partition), {
			topic: record.topic,
			partition: record.partition,
			offset: record.offset + 1,
		});
	}

	/** Whether the commit interval has run since the last commit. */
	get due(): boolean {
		return Date.now() - this.#committedAtMs >= this.#intervalMs;
	}

	/** What the loop moved past (and `inHand`, the record it processes) of `assigned` partitions, not committed yet. */
	pending(inHand: ConsumerRecord | null, assigned: ReadonlyMap<string, TopicPartition>): Offset[] {
		return pendingOffsets(this.#handed, this.#committed, inHand, assigned);
	}

	/** `pending`, after `beforeCommit` ran (none once commits stopped: it failed once). */
	async toCommit(inHand: ConsumerRecord | null, assigned: ReadonlyMap<string, TopicPartition>): Promise<Offset[]> {
		const offsets = this.pending(inHand, assigned);
		if (offsets.length === 0 || this.#stopped) return [];
		if (this.#beforeCommit !== undefined) {
			try {
				await this.#beforeCommit();
			} catch (error) {
				this.#stopped = true;
				throw error;
			}
		}
		return offsets;
	}

	/** The broker stored `offsets`. */
	stored(offsets: readonly Offset[]): void {
		if (offsets.length === 0) return;
		for (const o of offsets) this.#committed.set(tpKey(o.topic, o.partition), o.offset);
		this.#committedAtMs = Date.now();
	}

	/** Forgets what the loop moved past and what is committed, of each partition whose key is `gone`: no longer owned. */
	forget(gone: (key: string) => boolean): void {
		for (const map of [this.#handed, this.#committed]) for (const key of map.keys()) if (gone(key)) map.delete(key);
	}

	/** Whether anything the loop moved past is kept, committed or not. */
	get holdsProcessed(): boolean {
		return this.#handed.size > 0;
	}

	/**
	 * Drops what the loop moved past of each partition whose commit (`commits`) is at or past it: another member's,
	 * which committing it would move back. With `commits` unknown (null), drops it all: read again, never skipped.
	 */
	dropOvertaken(commits: readonly GroupCommit[] | null): void {
		if (commits === null) this.#handed.clear();
		for (const o of commits ?? []) {
			const key = tpKey(o.topic, o.partition);
			if (o.committed !== null && o.committed >= (this.#handed.get(key)?.offset ?? Number.POSITIVE_INFINITY)) this.#handed.delete(key);
		}
	}

	/** The membership ended with `offsets` not stored: the caller's `commit()` is refused (`refusal`) till `endRefusal`. */
	lost(offsets: readonly Offset[]): void {
		for (const o of offsets) this.#unstored.set(tpKey(o.topic, o.partition), o);
	}

	/** Whether the caller's `commit()` is refused for a lost membership (see `#unstored`). */
	get refusing(): boolean {
		return this.#unstored.size > 0;
	}

	/** The next member joined and the loss's `onRevoke` ran: `commit()` stores again. */
	endRefusal(): void {
		this.#unstored.clear();
	}

	/** The refusal of the caller's commit of `offsets` of `group` that found its membership gone, naming those not stored before too. */
	refusal(group: string, offsets: readonly Offset[], cause?: unknown): TributaryError {
		const unstored = new Map(this.#unstored);
		for (const o of offsets) unstored.set(tpKey(o.topic, o.partition), o);
		return lostMembershipRefusal(group, [...unstored.values()], cause);
	}
}
