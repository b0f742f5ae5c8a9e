/**
 * @module
 * What a group consumer's commits carry, and how the caller's `commit()` is refused once the membership its records
 * were handed out in has ended (the commits themselves are `GroupMember`'s, in consumer-member.ts).
 */

import type { TopicPartition } from "./admin.ts";
import { tpKey } from "./consumer-fetched.ts";
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
export function pendingOffsets(
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

/** `commitRefused` for `offsets` of a membership of `group` that was lost (`cause`: the refusal that told so). */
export function lostMembershipRefusal(group: string, offsets: readonly Offset[], cause?: unknown): TributaryError {
	const reason = `the membership of this consumer in group "${group}" ended (its session expired, it was removed, it left, or the group was deleted) before these offsets were committed`;
	return commitRefused(reason, { offsets }, cause);
}
