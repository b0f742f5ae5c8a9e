/**
 * @module
 * Retention by time and size (Kafka's `retention.ms`, `retention.bytes`), decided over whole stored batches from
 * the head of the log. Pure: the partition feeds it the oldest batches and deletes what it says.
 */

import type { TopicConfig } from "../shared/topic-config.ts";

export interface HeadBatch {
	readonly baseOffset: number;
	readonly lastOffset: number;
	/** The newest record timestamp in the batch: a batch leaves the window only when all its records have. */
	readonly maxTimestamp: number;
	readonly bytes: number;
}

/** What retention weighs of a stored unit (a local batch or a remote segment): its newest timestamp and its bytes. */
export type RetentionUnit = Pick<HeadBatch, "maxTimestamp" | "bytes">;

function deletes(config: TopicConfig): boolean {
	return config["cleanup.policy"] !== "compact";
}

/**
 * How many of `head` (oldest first) to delete; `head` is read only up to the first batch that stays. Time: the batch's newest record is older than `retention.ms`.
 * Size: as in Kafka, a batch goes while the log would still hold at least `retention.bytes` without it.
 */
export function planRetention(head: Iterable<RetentionUnit>, totalBytes: number, config: TopicConfig, nowMs: number): number {
	if (!deletes(config)) return 0;
	const retentionMs = config["retention.ms"];
	const retentionBytes = config["retention.bytes"];
	let remaining = totalBytes;
	let count = 0;
	for (const batch of head) {
		const expired = retentionMs !== -1 && batch.maxTimestamp + retentionMs <= nowMs;
		const oversize = retentionBytes !== -1 && remaining - batch.bytes >= retentionBytes;
		if (!expired && !oversize) break;
		remaining -= batch.bytes;
		count++;
	}
	return count;
}

/** When retention next has work: now if the log is over its size, else when the head batch leaves the window. */
export function retentionDueMs(head: HeadBatch | null, totalBytes: number, config: TopicConfig, nowMs: number): number | null {
	if (!deletes(config) || head === null) return null;
	const retentionBytes = config["retention.bytes"];
	if (retentionBytes !== -1 && totalBytes - head.bytes >= retentionBytes) return nowMs;
	if (config["retention.ms"] === -1) return null;
	return head.maxTimestamp + config["retention.ms"];
}
