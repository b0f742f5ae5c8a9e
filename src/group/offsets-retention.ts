/**
 * @module
 * Offsets retention, Kafka's offsets.retention.minutes with KIP-211's and KIP-496's rules. While a group has
 * members, only the offsets of topics none of them subscribes to any more expire (KIP-496; a topic the
 * `GROUP_PARTITIONS_MAX` cap left out is still subscribed to), each a retention after the later of its last commit
 * and when its topic left the subscriptions: a member's commit of the offset it already has writes nothing
 * (commit-store.ts `writeCommit`), where Kafka's idle auto-commit stamps it again, so the commit time alone could
 * be long before the member last vouched for it. Once the group has no member, every offset expires a retention
 * after the later of when the group lost its last member and when the offset was last committed. Offsets committed
 * with no member (standalone consumers, Kafka's generation -1) so expire by their own commit time, as a Kafka
 * "simple" group's do.
 * A group left with no member and no offset is deleted.
 */

import { OFFSETS_RETENTION_MINUTES_DEFAULT } from "../shared/limits.ts";

const MINUTE_MS = 60_000;

/** The retention the `OFFSETS_RETENTION_MINUTES` var sets: a positive whole number of minutes, else the default. */
export function offsetsRetentionMs(minutes: string | undefined): number {
	const parsed = Number(minutes);
	return (Number.isSafeInteger(parsed) && parsed > 0 ? parsed : OFFSETS_RETENTION_MINUTES_DEFAULT) * MINUTE_MS;
}

/**
 * When a group's offsets are next looked at: a retention after `retentionFromMs`, a time no expirable offset's
 * retention starts before (at least when the group last lost its last member, at most the later of that and its
 * oldest expirable commit, or the last look if none; null: not known, so at once). Kept rather than found by reading
 * every commit: a commit, and a topic that leaves the subscriptions, restart retentions from now, never before it, so
 * only the look itself, which expires what is due, raises it, or deletes a group left with no member and no offset.
 */
export function offsetsExpiryDueMs(retentionFromMs: number | null, retentionMs: number): number {
	return (retentionFromMs ?? 0) + retentionMs;
}
