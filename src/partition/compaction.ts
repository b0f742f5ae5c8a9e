/**
 * @module
 * Log compaction (Kafka's `cleanup.policy=compact`): keep at least the latest record of every key; a null value
 * (tombstone) survives `delete.retention.ms` after it was appended so consumers can see the delete, then goes.
 * Offsets never change: a compacted batch keeps its offset range and simply holds fewer records. Pure.
 */

import { lineKeyId, lineOffset } from "../shared/record-codec.ts";
import type { TopicConfig } from "../shared/topic-config.ts";

/** What the partition knows of a key's newest record (table `record_keys`). */
export interface LatestRecord {
	readonly offset: number;
	readonly tombstone: boolean;
	readonly appendedAtMs: number;
}

export interface CompactedBatch {
	readonly kept: string[];
	/** Keys whose newest record was an expired tombstone: forget them entirely. */
	readonly expiredKeys: string[];
}

export function compacts(config: TopicConfig): boolean {
	return config["cleanup.policy"] !== "delete";
}

/**
 * Filters one batch's lines. A record stays if it is its key's newest, unless it is a tombstone past
 * `delete.retention.ms` and `tombstonesMayGo`. Keyless records, or keys the partition has no entry for (written
 * before the topic was compacted), stay: compaction only removes what it knows to be superseded. A tombstone may
 * not go while older records of its key can lie where compaction does not reach (R2 segments): without it a
 * reader from the log start would see the key's old value alive.
 */
export function compactLines(
	lines: readonly string[],
	latest: (keyId: string) => LatestRecord | undefined,
	config: TopicConfig,
	nowMs: number,
	tombstonesMayGo = true,
): CompactedBatch {
	const kept: string[] = [];
	const expiredKeys: string[] = [];
	for (const line of lines) {
		const keyId = lineKeyId(line);
		const newest = keyId === null ? undefined : latest(keyId);
		if (keyId === null || newest === undefined) {
			kept.push(line);
			continue;
		}
		if (newest.offset !== lineOffset(line)) continue;
		if (tombstonesMayGo && newest.tombstone && newest.appendedAtMs + config["delete.retention.ms"] <= nowMs) {
			expiredKeys.push(keyId);
			continue;
		}
		kept.push(line);
	}
	return { kept, expiredKeys };
}
