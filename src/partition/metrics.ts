/**
 * @module
 * What a partition reports to the metrics hub: its offsets and size, and bytes appended since it started.
 */

import { series } from "../metrics/catalog.ts";
import type { Figures } from "../metrics/reporter.ts";
import type { BatchCache } from "./batch-cache.ts";
import type { LogView } from "./types.ts";

/**
 * A partition not `active` (never configured, or deleted: its tables are gone) reports nothing but its rows, and
 * what its reads took from memory and from SQLite (beside the rows, by class: the cache serves them all alike).
 */
export function partitionFigures(
	sql: SqlStorage,
	active: boolean,
	view: LogView,
	partition: number,
	bytesAppended: number,
	cache: BatchCache,
): Figures {
	const byClass = { class: "PartitionLog" };
	const cached = {
		[series("tributary_storage_cache_hits_total", byClass)]: cache.hits,
		[series("tributary_storage_cache_misses_total", byClass)]: cache.misses,
	};
	if (!active) return { gauges: {}, counters: cached };
	const row = sql.exec<{ topic: string | null }>("SELECT topic FROM partition_state WHERE id = 1").one();
	if (row.topic === null) return { gauges: {}, counters: cached };
	const labels = { topic: row.topic, partition: String(partition) };
	return {
		gauges: {
			[series("tributary_partition_high_watermark", labels)]: view.nextOffset,
			[series("tributary_partition_log_start_offset", labels)]: view.logStartOffset,
			[series("tributary_partition_bytes", labels)]: view.totalBytes,
			[series("tributary_partition_remote_bytes", labels)]: view.remoteBytes,
			// Offsets are dense from 0 and never reused, so the high watermark counts every record ever appended.
			[series("tributary_partition_records_appended_total", labels)]: view.nextOffset,
		},
		counters: { ...cached, [series("tributary_partition_bytes_appended_total", labels)]: bytesAppended },
		partition: { topic: row.topic, partition, highWatermark: view.nextOffset, logStartOffset: view.logStartOffset },
	};
}
