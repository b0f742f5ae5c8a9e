/**
 * @module
 * Retention by time and size (Kafka's `retention.ms`, `retention.bytes`) and by the log start offset (a
 * DeleteRecords moves it: delete-records.ts), decided over whole stored batches from the head of the log. Pure: the
 * partition feeds it the oldest batches and deletes what it says.
 */

import type { TopicConfig } from "../shared/topic-config.ts";

export interface HeadBatch {
	readonly baseOffset: number;
	readonly lastOffset: number;
	/** The newest record timestamp in the batch: a batch leaves the window only when all its records have. */
	readonly maxTimestamp: number;
	readonly bytes: number;
}

/** What retention weighs of a stored unit (a local batch or a remote segment): its newest timestamp, bytes and last offset. */
export type RetentionUnit = Pick<HeadBatch, "maxTimestamp" | "bytes" | "lastOffset">;

function deletes(config: TopicConfig): boolean {
	return config["cleanup.policy"] !== "compact";
}

/**
 * How many of `head` (oldest first) to delete; `head` is read only up to the first batch that stays. Time: the batch's newest record is older than `retention.ms`.
 * Size: as in Kafka, a batch goes while the log would still hold at least `retention.bytes` without it. Start: every
 * record of the batch is below `logStartOffset`, whatever the cleanup policy (Kafka's log-start-breached segments).
 */
export function planRetention(
	head: Iterable<RetentionUnit>,
	totalBytes: number,
	config: TopicConfig,
	nowMs: number,
	logStartOffset = 0,
): number {
	const retentionMs = deletes(config) ? config["retention.ms"] : -1;
	const retentionBytes = deletes(config) ? config["retention.bytes"] : -1;
	let remaining = totalBytes;
	let count = 0;
	for (const batch of head) {
		const expired = retentionMs !== -1 && batch.maxTimestamp + retentionMs <= nowMs;
		const oversize = retentionBytes !== -1 && remaining - batch.bytes >= retentionBytes;
		if (!expired && !oversize && batch.lastOffset >= logStartOffset) break;
		remaining -= batch.bytes;
		count++;
	}
	return count;
}

/**
 * When retention next has work: now if the head batch lies below the log start or the log is over its size, else
 * when the head batch leaves the window.
 */
export function retentionDueMs(
	head: HeadBatch | null,
	totalBytes: number,
	config: TopicConfig,
	nowMs: number,
	logStartOffset = 0,
): number | null {
	if (head !== null && head.lastOffset < logStartOffset) return nowMs;
	if (!deletes(config) || head === null) return null;
	const retentionBytes = config["retention.bytes"];
	if (retentionBytes !== -1 && totalBytes - head.bytes >= retentionBytes) return nowMs;
	if (config["retention.ms"] === -1) return null;
	return head.maxTimestamp + config["retention.ms"];
}
