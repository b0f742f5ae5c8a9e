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
 * When an empty group's next offset expires: a retention after the later of `emptySinceMs` (when it lost its last
 * member; null if it never had one) and its oldest commit time; with no offset left, when the group itself goes.
 */
export function offsetsExpiryDueMs(emptySinceMs: number | null, oldestCommitMs: number | null, retentionMs: number): number {
	return Math.max(emptySinceMs ?? 0, oldestCommitMs ?? 0) + retentionMs;
}
