/**
 * @module
 * Figures derived from a topic's description: records and stored bytes summed over partitions, and how its
 * configs read.
 */

import type { PartitionInfo, TopicConfig, TopicDetail } from "./api.ts";
import { formatBytes, formatDuration } from "./format.ts";

/** Records a partition holds, locally and in R2 (fewer than its offset range once compaction has removed some). */
export function partitionRecords(p: PartitionInfo): number {
	return (p.records ?? p.high_watermark - p.log_start_offset) + (p.remote_records ?? 0);
}

/** A partition's bytes, locally and in R2. */
export function partitionBytes(p: PartitionInfo): number {
	return (p.bytes ?? 0) + (p.remote_bytes ?? 0);
}

/** Records and bytes held over every partition, in both tiers. */
export function topicTotals(detail: TopicDetail): { records: number; bytes: number } {
	let records = 0;
	let bytes = 0;
	for (const p of detail.partitions) {
		records += partitionRecords(p);
		bytes += partitionBytes(p);
	}
	return { records, bytes };
}

export function retentionText(config: TopicConfig): string {
	const time = formatDuration(Number(config["retention.ms"]));
	const bytes = Number(config["retention.bytes"]);
	return bytes < 0 ? time : `${time} or ${formatBytes(bytes)} per partition`;
}

export { topicKind } from "./topic-kind.ts";

/** Runs `fn` over `items` with at most `limit` in flight (a console with many topics must not flood the broker). */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
	const out: R[] = new Array(items.length);
	let next = 0;
	const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
		while (next < items.length) {
			const i = next++;
			out[i] = await fn(items[i] as T);
		}
	});
	await Promise.all(workers);
	return out;
}

/** Retention choices offered in forms (Kafka's default is 7 days). */
export const RETENTION_CHOICES: readonly [string, number][] = [
	["1 hour", 3_600_000],
	["1 day", 86_400_000],
	["7 days (default)", 604_800_000],
	["30 days", 2_592_000_000],
	["1 year", 31_536_000_000],
	["Forever", -1],
];

export const CLEANUP_POLICIES: readonly [string, string][] = [
	["delete (default)", "delete"],
	["compact", "compact"],
	["compact, delete", "compact,delete"],
];
