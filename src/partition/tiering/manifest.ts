/**
 * @module
 * The partition's SQLite side of tiered storage: reading the batches of the next segment, committing an offload
 * (manifest row in, batches out, in one transaction), and dropping remote segments for retention. Synchronous:
 * the caller runs each inside `transactionSync`. Every query starts with a seek on a primary key and reads at
 * most a segment's batches or a step's manifest rows (see docs/storage-schema.md).
 */

import { assert } from "../../shared/assert.ts";
import { REMOTE_RETENTION_SEGMENTS_PER_STEP, SEGMENT_BATCHES_MAX, SEGMENT_BYTES_TARGET } from "../../shared/limits.ts";
import { RECORD_SEPARATOR } from "../../shared/record-codec.ts";
import type { TopicConfig } from "../../shared/topic-config.ts";
import { saveTotals } from "../log-store.ts";
import type { LogView } from "../types.ts";
import { type SegmentBatch, type SegmentIndexEntry, segmentBodyBytes, serializeSegmentIndex } from "./segment.ts";
import { type LocalBatch, planRemoteRetention, planSegment, type RemoteSegment } from "./tiering-plan.ts";

/** The batches of a planned segment, with what the commit re-checks: their stored bytes. */
export interface SegmentSource {
	/**
	 * The offset the segment starts at: the local log start, which may lie below its first batch (compaction, before
	 * the topic was tiered, deleted whole batches): the manifest covers the log without gaps all the same.
	 */
	readonly baseOffset: number;
	readonly batches: readonly SegmentBatch[];
	/** Sum of the batches' `bytes` column (the local measure), to subtract from the running totals. */
	readonly storedBytes: number;
}

interface RemoteRow extends Record<string, SqlStorageValue> {
	base_offset: number;
	last_offset: number;
	timestamp_high: number;
	bytes: number;
	record_count: number;
	object_key: string;
}

function toRemote(row: RemoteRow): RemoteSegment {
	return {
		baseOffset: row.base_offset,
		lastOffset: row.last_offset,
		timestampHigh: row.timestamp_high,
		bytes: row.bytes,
		recordCount: row.record_count,
		objectKey: row.object_key,
	};
}

/**
 * The oldest local batches due for offload, never the newest batch of the log; empty when none is due. Reads the
 * newest batch's key, then the head lazily (the batches planned and one more), then the planned batches' records.
 */
export function readSegmentSource(sql: SqlStorage, view: LogView, config: TopicConfig, nowMs: number): SegmentSource | null {
	if (!config["remote.storage.enable"] || view.storedBatches < 2) return null;
	const tail = sql.exec<{ base_offset: number }>("SELECT base_offset FROM batches ORDER BY base_offset DESC LIMIT 1").one().base_offset;
	const cursor = sql.exec<{ base_offset: number; last_offset: number; max_timestamp: number; bytes: number; record_count: number }>(
		"SELECT base_offset, last_offset, max_timestamp, bytes, record_count FROM batches WHERE base_offset < ? ORDER BY base_offset LIMIT ?",
		tail,
		SEGMENT_BATCHES_MAX + 1,
	);
	const read: LocalBatch[] = [];
	const head = function* (): Generator<LocalBatch> {
		for (const row of cursor) {
			const batch = {
				baseOffset: row.base_offset,
				lastOffset: row.last_offset,
				maxTimestamp: row.max_timestamp,
				bytes: row.bytes,
				recordCount: row.record_count,
			};
			read.push(batch);
			yield batch;
		}
	};
	const limits = { bytesTarget: SEGMENT_BYTES_TARGET, batchesMax: SEGMENT_BATCHES_MAX };
	const count = planSegment(head(), view.totalBytes, config, nowMs, limits);
	if (count === 0) return null;
	const planned = read.slice(0, count);
	const first = planned[0] as LocalBatch;
	const last = planned[count - 1] as LocalBatch;
	assert(first.baseOffset >= view.localLogStartOffset, "batch below start");
	const batches = sql
		.exec<{ base_offset: number; last_offset: number; record_count: number; timestamp_high: number; records: string }>(
			"SELECT base_offset, last_offset, record_count, timestamp_high, records FROM batches WHERE base_offset BETWEEN ? AND ? ORDER BY base_offset",
			first.baseOffset,
			last.baseOffset,
		)
		.toArray()
		.map((row) => ({
			baseOffset: row.base_offset,
			lastOffset: row.last_offset,
			recordCount: row.record_count,
			timestampHigh: row.timestamp_high,
			records: row.records,
		}));
	assert(batches.length === count, "planned whole");
	return { baseOffset: view.localLogStartOffset, batches, storedBytes: planned.reduce((n, b) => n + b.bytes, 0) };
}

/**
 * Commits an offload whose object R2 has confirmed: re-checks that the batches are still there, unchanged and at
 * the local log start (retention or a topic deletion may have run during the PUT), then records the segment in
 * the manifest, deletes the batches and moves the local log start past them. False, changing nothing, when the
 * batches moved: the caller deletes the object it wrote. Call inside a transaction.
 */
export function commitOffload(
	sql: SqlStorage,
	view: LogView,
	topicId: string,
	source: SegmentSource,
	entries: readonly SegmentIndexEntry[],
	objectKey: string,
	nowMs: number,
): boolean {
	const first = entries[0] as SegmentIndexEntry;
	const last = entries.at(-1) as SegmentIndexEntry;
	const state = sql
		.exec<{ status: string; topic_id: string | null; local_log_start_offset: number }>(
			"SELECT status, topic_id, local_log_start_offset FROM partition_state WHERE id = 1",
		)
		.one();
	if (state.status !== "active" || state.topic_id !== topicId || state.local_log_start_offset !== source.baseOffset) return false;
	const now = sql
		.exec<{ n: number; bytes: number | null; last: number | null }>(
			"SELECT COUNT(*) AS n, SUM(bytes) AS bytes, MAX(last_offset) AS last FROM batches WHERE base_offset BETWEEN ? AND ?",
			first.baseOffset,
			last.baseOffset,
		)
		.one();
	if (now.n !== entries.length || now.bytes !== source.storedBytes || now.last !== last.lastOffset) return false;
	// Weighed as the batches were locally (each with its last separator, which the object leaves out), so an offload
	// moves the log's bytes between tiers without changing what `retention.bytes` compares.
	const segmentBytes = source.storedBytes;
	assert(segmentBytes === segmentBodyBytes(entries) + entries.length * RECORD_SEPARATOR.length, "segment weight");
	const recordCount = entries.reduce((n, e) => n + e.recordCount, 0);
	sql.exec(
		"INSERT INTO remote_segments (base_offset, last_offset, object_key, bytes, record_count, timestamp_high, batch_index, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		source.baseOffset,
		last.lastOffset,
		objectKey,
		segmentBytes,
		recordCount,
		last.timestampHigh,
		serializeSegmentIndex(entries),
		nowMs,
	);
	sql.exec("DELETE FROM batches WHERE base_offset BETWEEN ? AND ?", first.baseOffset, last.baseOffset);
	view.localLogStartOffset = last.lastOffset + 1;
	view.remoteBytes += segmentBytes;
	view.remoteRecords += recordCount;
	view.totalBytes -= source.storedBytes;
	view.storedBatches -= entries.length;
	view.storedRecords -= recordCount;
	assert(view.localLogStartOffset < view.nextOffset, "newest local");
	sql.exec(
		"UPDATE partition_state SET local_log_start_offset = ?, remote_bytes = ?, remote_records = ?, next_offset_floor = ? WHERE id = 1",
		view.localLogStartOffset,
		view.remoteBytes,
		view.remoteRecords,
		view.nextOffset,
	);
	saveTotals(sql, view, view.nextOffset);
	return true;
}

/** The oldest remote segment; null when nothing is remote. One seek on the manifest's primary key. */
export function remoteHead(sql: SqlStorage): RemoteSegment | null {
	const row = sql
		.exec<RemoteRow>(
			"SELECT base_offset, last_offset, timestamp_high, bytes, record_count, object_key FROM remote_segments ORDER BY base_offset LIMIT 1",
		)
		.toArray()[0];
	return row === undefined ? null : toRemote(row);
}

/**
 * Retention over the remote segments, whole segments from the oldest (`retention.*` govern the whole log: local
 * and remote bytes together). Drops their manifest rows and moves the log start past them; returns the dropped
 * objects' keys, to delete once this commit is durable (an object left by a crash then is an orphan, swept later),
 * and whether the step limit stopped it. Call inside a transaction.
 */
export function dropExpiredSegments(
	sql: SqlStorage,
	view: LogView,
	config: TopicConfig,
	nowMs: number,
): { readonly droppedKeys: string[]; readonly more: boolean } {
	const cursor = sql.exec<RemoteRow>(
		"SELECT base_offset, last_offset, timestamp_high, bytes, record_count, object_key FROM remote_segments ORDER BY base_offset LIMIT ?",
		REMOTE_RETENTION_SEGMENTS_PER_STEP,
	);
	const read: RemoteSegment[] = [];
	const head = function* (): Generator<RemoteSegment> {
		for (const row of cursor) {
			const segment = toRemote(row);
			read.push(segment);
			yield segment;
		}
	};
	const count = planRemoteRetention(head(), view.totalBytes + view.remoteBytes, config, nowMs, view.logStartOffset);
	if (count === 0) return { droppedKeys: [], more: false };
	const dropped = read.slice(0, count);
	const last = dropped[count - 1] as RemoteSegment;
	sql.exec("DELETE FROM remote_segments WHERE base_offset <= ?", last.baseOffset);
	// A DeleteRecords may have moved the log start past the dropped segments already.
	view.logStartOffset = Math.max(view.logStartOffset, last.lastOffset + 1);
	view.remoteBytes -= dropped.reduce((n, s) => n + s.bytes, 0);
	view.remoteRecords -= dropped.reduce((n, s) => n + s.recordCount, 0);
	assert(last.lastOffset < view.localLogStartOffset, "remote retention");
	assert((view.remoteBytes === 0) === (last.lastOffset + 1 === view.localLogStartOffset), "bytes iff offsets");
	assert((view.remoteRecords === 0) === (view.remoteBytes === 0), "records iff bytes");
	sql.exec(
		"UPDATE partition_state SET log_start_offset = ?, remote_bytes = ?, remote_records = ? WHERE id = 1",
		view.logStartOffset,
		view.remoteBytes,
		view.remoteRecords,
	);
	return { droppedKeys: dropped.map((s) => s.objectKey), more: count === REMOTE_RETENTION_SEGMENTS_PER_STEP };
}

/** The manifest's object keys among segments starting in [fromOffset, toOffset]: for the orphan sweep. */
export function manifestKeys(sql: SqlStorage, fromOffset: number, toOffset: number): Set<string> {
	const rows = sql.exec<{ object_key: string }>(
		"SELECT object_key FROM remote_segments WHERE base_offset BETWEEN ? AND ?",
		fromOffset,
		toOffset,
	);
	return new Set(Array.from(rows, (r) => r.object_key));
}
