/**
 * @module
 * The partition's half of reading below its local log start: which remote segment and which of its batches a read
 * or a seek by time needs. The partition answers with this pointer, not with records; the caller fetches the byte
 * ranges from R2 itself (src/shared/log-reader.ts), so catching up on old data does not load the partition's object.
 *
 * Each lookup is one index seek on `remote_segments` (its primary key, or `remote_segments_by_timestamp_high`) and
 * one parse of that row's batch index: bounded by the segment's batch count, never by the log's length. A seek by
 * time may take `TIMESTAMP_LOOKUP_BATCHES_MAX` lookups at most, one per segment its walk reads.
 */

import { assert } from "../../shared/assert.ts";
import { TIMESTAMP_LOOKUP_BATCHES_MAX } from "../../shared/limits.ts";
import { RECORD_SEPARATOR } from "../../shared/record-codec.ts";
import type { LogView, RemoteRead, RemoteSlice, RemoteTimestampEntry } from "../types.ts";
import { parseSegmentIndex, type SegmentIndexEntry } from "./segment.ts";

interface ManifestRow extends Record<string, SqlStorageValue> {
	base_offset: number;
	last_offset: number;
	object_key: string;
	batch_index: string;
}

/**
 * The bytes a batch counts for against a read's `maxBytes`: its lines plus one separator each, as `batches.bytes`
 * counts them (the text joins n lines with n − 1 separators, the stored count adds one per line).
 */
export function remoteBatchBytes(entry: SegmentIndexEntry): number {
	return entry.byteLength + RECORD_SEPARATOR.length;
}

/** A read below the local log start: where in R2 its records are. The reader fetches them (src/shared/log-reader.ts). */
export function remoteRead(sql: SqlStorage, view: LogView, offset: number, maxRecords: number, maxBytes: number): RemoteRead {
	assert(offset >= view.logStartOffset && offset < view.localLogStartOffset, "remote read start");
	const remote = findRemoteSlice(sql, offset, maxRecords, maxBytes, view.localLogStartOffset);
	assert(remote !== null, "remote no gaps");
	return { remote, offset, highWatermark: view.nextOffset, logStartOffset: view.logStartOffset };
}

/**
 * The segment holding `offset` (the last whose `base_offset` ≤ it: one seek on the primary key) and its batches
 * from the one holding `offset` up to what `maxRecords` and `maxBytes` need (at least one). Null when no segment
 * holds it: the manifest and the local log start disagree, which the caller asserts against.
 */
function findRemoteSlice(
	sql: SqlStorage,
	offset: number,
	maxRecords: number,
	maxBytes: number,
	localLogStartOffset: number,
): RemoteSlice | null {
	const row = sql
		.exec<ManifestRow>(
			"SELECT base_offset, last_offset, object_key, batch_index FROM remote_segments WHERE base_offset <= ? ORDER BY base_offset DESC LIMIT 1",
			offset,
		)
		.toArray()[0];
	if (row === undefined || row.last_offset < offset) return null;
	const index = parseSegmentIndex(row.batch_index);
	const first = holdingOrAfter(index, offset);
	const entries: SegmentIndexEntry[] = [];
	let records = 0;
	let bytes = 0;
	for (let i = first; i < index.length && records < maxRecords && bytes < maxBytes; i++) {
		const entry = index[i] as SegmentIndexEntry;
		entries.push(entry);
		// The first batch may start before `offset`: count only the records the read can return from it.
		records += i === first ? entry.lastOffset - offset + 1 : entry.recordCount;
		bytes += remoteBatchBytes(entry);
	}
	assert(entries.length > 0 && (entries[0] as SegmentIndexEntry).lastOffset >= offset, "slice start");
	return { objectKey: row.object_key, entries, localLogStartOffset };
}

/**
 * Where a seek by time reads in R2 (null when the local log must answer): from the first remote batch whose running
 * maximum reaches `timestampMs` (one seek on the timestamp index, then its segment's index), or, going on with a
 * walk, from the batch holding `fromOffset` (one seek on the primary key); up to `batchesMax` batches of that
 * segment. The batch that raised the running maximum may be gone (retention) and out-of-order timestamps can leave
 * batches after it with older records only, so the reader walks on as the local lookup does (`findOffsetForTimestamp`).
 */
export function findRemoteTimestamp(
	sql: SqlStorage,
	view: LogView,
	timestampMs: number,
	fromOffset?: number,
	batchesMax = TIMESTAMP_LOOKUP_BATCHES_MAX,
): RemoteTimestampEntry | null {
	assert(batchesMax > 0 && batchesMax <= TIMESTAMP_LOOKUP_BATCHES_MAX, "walk bounded");
	// Retention may have passed where a walk stopped: the records before the log start are gone.
	const start = Math.max(fromOffset ?? 0, view.logStartOffset);
	if (start >= view.localLogStartOffset) return null;
	const row = sql
		.exec<ManifestRow>(
			fromOffset === undefined
				? "SELECT base_offset, last_offset, object_key, batch_index FROM remote_segments WHERE timestamp_high >= ? AND last_offset >= ? ORDER BY timestamp_high, base_offset LIMIT 1"
				: "SELECT base_offset, last_offset, object_key, batch_index FROM remote_segments WHERE base_offset <= ?2 ORDER BY base_offset DESC LIMIT 1",
			timestampMs,
			start,
		)
		.toArray()[0];
	if (row === undefined) return null;
	const index = parseSegmentIndex(row.batch_index);
	const first =
		fromOffset === undefined
			? index.findIndex((e) => e.timestampHigh >= timestampMs && e.lastOffset >= start)
			: holdingOrAfter(index, start);
	assert(first >= 0 && (index[first] as SegmentIndexEntry).lastOffset >= start, "recent batch");
	return { objectKey: row.object_key, entries: index.slice(first, first + batchesMax), fromOffset: start };
}

/**
 * The index of the entry holding `offset`, or of the first after it when `offset` lies in a gap compaction left
 * between batches (before the topic was tiered); the caller has checked the segment reaches `offset`.
 */
function holdingOrAfter(index: readonly SegmentIndexEntry[], offset: number): number {
	const at = lastAtOrBelow(index, offset);
	return (index[at] as SegmentIndexEntry).lastOffset < offset ? at + 1 : at;
}

/** Binary search: the index of the last entry whose base offset is ≤ `offset` (entries are in offset order). */
function lastAtOrBelow(index: readonly SegmentIndexEntry[], offset: number): number {
	let lo = 0;
	let hi = index.length - 1;
	while (lo < hi) {
		const mid = (lo + hi + 1) >> 1;
		if ((index[mid] as SegmentIndexEntry).baseOffset <= offset) lo = mid;
		else hi = mid - 1;
	}
	return lo;
}
