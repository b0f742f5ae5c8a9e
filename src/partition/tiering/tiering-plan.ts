/**
 * @module
 * Tiered storage decisions (KIP-405's local and total retention), pure: when the oldest local batches must leave
 * the partition's own storage, which of them make the next segment, and which remote segments retention drops.
 * The partition feeds it the head of its log and its manifest and carries out what it says.
 */

import { localRetention, type TopicConfig } from "../../shared/topic-config.ts";
import { type HeadBatch, planRetention, type RetentionUnit } from "../retention.ts";

/** A local stored batch as the segment planner sees it. */
export interface LocalBatch extends HeadBatch {
	readonly recordCount: number;
}

/** A manifest row as retention sees it. */
export interface RemoteSegment {
	readonly baseOffset: number;
	readonly lastOffset: number;
	/** The running maximum timestamp at the segment's last batch: no record in it is more recent. */
	readonly timestampHigh: number;
	readonly bytes: number;
	readonly recordCount: number;
	readonly objectKey: string;
}

export interface SegmentLimits {
	readonly bytesTarget: number;
	readonly batchesMax: number;
}

/** The config local retention is decided by: `local.retention.*` (or `retention.*` for -2) as the retention. */
function localConfig(config: TopicConfig): TopicConfig {
	const local = localRetention(config);
	return { ...config, "cleanup.policy": "delete", "retention.ms": local.ms, "retention.bytes": local.bytes };
}

/**
 * When the head batch must leave local storage: now while the local bytes stay at or over `local.retention.bytes`
 * without it, else when its newest record passes `local.retention.ms`. Null without remote storage, or with a
 * single local batch (the newest batch always stays local: it may still be growing toward its target size).
 */
export function offloadDueMs(
	head: HeadBatch | null,
	localBatches: number,
	localBytes: number,
	config: TopicConfig,
	nowMs: number,
): number | null {
	if (!config["remote.storage.enable"] || head === null || localBatches < 2) return null;
	const { ms, bytes } = localRetention(config);
	if (bytes !== -1 && localBytes - head.bytes >= bytes) return nowMs;
	return ms === -1 ? null : head.maxTimestamp + ms;
}

/**
 * How many of the oldest local batches (`head`, oldest first, never the newest batch of the log) the next segment
 * takes: none unless the first is due for offload (by the rule of `offloadDueMs`); then, at segment granularity as
 * in Kafka, every batch up to `limits.bytesTarget` bytes (at least one) and `limits.batchesMax`. `head` is read
 * only as far as the answer needs.
 */
export function planSegment(
	head: Iterable<LocalBatch>,
	localBytes: number,
	config: TopicConfig,
	nowMs: number,
	limits: SegmentLimits,
): number {
	if (!config["remote.storage.enable"]) return 0;
	let count = 0;
	let bytes = 0;
	for (const batch of head) {
		if (count === 0 && planRetention([batch], localBytes, localConfig(config), nowMs) === 0) return 0;
		if (count >= limits.batchesMax || (count > 0 && bytes + batch.bytes > limits.bytesTarget)) break;
		bytes += batch.bytes;
		count++;
	}
	return count;
}

/**
 * How many remote segments (oldest first) retention drops, whole, as Kafka drops remote segments: by time when
 * no record in the segment is within `retention.ms`; by size while the whole log (local and remote bytes) would
 * still hold at least `retention.bytes` without it; when it lies wholly below `logStartOffset`.
 */
export function planRemoteRetention(
	segments: Iterable<RemoteSegment>,
	totalBytes: number,
	config: TopicConfig,
	nowMs: number,
	logStartOffset = 0,
): number {
	return planRetention(retentionUnits(segments), totalBytes, config, nowMs, logStartOffset);
}

/** Segments as retention weighs them, read lazily: retention stops at the first one that stays. */
function* retentionUnits(segments: Iterable<RemoteSegment>): Iterable<RetentionUnit> {
	for (const segment of segments) yield { maxTimestamp: segment.timestampHigh, bytes: segment.bytes, lastOffset: segment.lastOffset };
}

/** When retention next drops the oldest remote segment (`head`); null when it never will as things stand. */
export function remoteRetentionDueMs(
	head: RemoteSegment,
	totalBytes: number,
	config: TopicConfig,
	nowMs: number,
	logStartOffset = 0,
): number | null {
	if (head.lastOffset < logStartOffset) return nowMs;
	if (config["cleanup.policy"] === "compact") return null;
	const retentionBytes = config["retention.bytes"];
	if (retentionBytes !== -1 && totalBytes - head.bytes >= retentionBytes) return nowMs;
	return config["retention.ms"] === -1 ? null : head.timestampHigh + config["retention.ms"];
}
