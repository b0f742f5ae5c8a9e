/**
 * @module
 * Offsets retention, Kafka's offsets.retention.minutes with KIP-211's rule: while a group has members its offsets
 * never expire; once it has none, each expires a retention after the later of when the group lost its last member
 * and when the offset was last committed. Offsets committed with no member (standalone consumers, Kafka's
 * generation -1) so expire by their own commit time, as a Kafka "simple" group's do. A group left with no member
 * and no offset is deleted.
 */

import { OFFSETS_RETENTION_MINUTES_DEFAULT } from "../shared/limits.ts";

const MINUTE_MS = 60_000;

/** The retention the `OFFSETS_RETENTION_MINUTES` var sets: a positive whole number of minutes, else the default. */
export function offsetsRetentionMs(minutes: string | undefined): number {
	const parsed = Number(minutes);
	return (Number.isSafeInteger(parsed) && parsed > 0 ? parsed : OFFSETS_RETENTION_MINUTES_DEFAULT) * MINUTE_MS;
}

/**
 * When an empty group's offsets are next looked at: a retention after `retentionFromMs`, a time no offset's retention
 * starts before (at least when the group lost its last member, at most the later of that and its oldest commit;
 * null: not known, so at once). Kept rather than found by reading every commit: a commit never lowers it, so only
 * the look itself, which expires what is due, raises it to the oldest commit left, or deletes a group left with none.
 */
export function offsetsExpiryDueMs(retentionFromMs: number | null, retentionMs: number): number {
	return (retentionFromMs ?? 0) + retentionMs;
}
