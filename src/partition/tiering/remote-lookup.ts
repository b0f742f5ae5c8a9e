/**
 * @module
 * The partition's half of reading below its local log start: which remote segment and which of its batches a read
 * or a seek by time needs. The partition answers with this pointer, not with records; the caller fetches the byte
 * ranges from R2 itself (src/shared/log-reader.ts), so catching up on old data does not load the partition's object.
 *
 * Each lookup is one index seek on `remote_segments` (its primary key, or `remote_segments_by_timestamp_high`) and
 * one parse of that row's batch index: bounded by the segment's batch count, never by the log's length.
 */

import { assert } from "../../shared/assert.ts";
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
	assert(offset >= view.logStartOffset && offset < view.localLogStartOffset, "a remote read starts below the local log start");
	const remote = findRemoteSlice(sql, offset, maxRecords, maxBytes, view.localLogStartOffset);
	assert(remote !== null, "remote segments cover [log start, local log start) without gaps");
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
	const first = lastAtOrBelow(index, offset);
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
	assert(
		entries.length > 0 && (entries[0] as SegmentIndexEntry).lastOffset >= offset,
		"the slice starts with the batch holding the offset",
	);
	return { objectKey: row.object_key, entries, localLogStartOffset };
}

/**
 * The first remote batch whose running maximum timestamp reaches `timestampMs` (one seek on the timestamp index,
 * then its segment's index), or null when no remote segment is that recent and the local log must answer.
 * Remote storage is refused to compacted topics, so no record was removed from the batch: the answer is in it.
 */
export function findRemoteTimestamp(sql: SqlStorage, view: LogView, timestampMs: number): RemoteTimestampEntry | null {
	if (view.localLogStartOffset === view.logStartOffset) return null;
	const logStartOffset = view.logStartOffset;
	const row = sql
		.exec<ManifestRow>(
			"SELECT base_offset, last_offset, object_key, batch_index FROM remote_segments WHERE timestamp_high >= ? AND last_offset >= ? ORDER BY timestamp_high, base_offset LIMIT 1",
			timestampMs,
			logStartOffset,
		)
		.toArray()[0];
	if (row === undefined) return null;
	const entry = parseSegmentIndex(row.batch_index).find((e) => e.timestampHigh >= timestampMs && e.lastOffset >= logStartOffset);
	assert(entry !== undefined, "a segment as recent as the time has a batch as recent");
	return { objectKey: row.object_key, entry };
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
