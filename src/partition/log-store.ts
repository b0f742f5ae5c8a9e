/**
 * @module
 * The partition's queries on its stored batches that the RPC paths share with background work. Each starts with
 * seeks on `batches`' primary key (`base_offset`) and walks forward only as far as its answer needs, so no read costs more on a long log than on a short one (see docs/storage-schema.md).
 */

import { assert } from "../shared/assert.ts";
import { READ_INLINE_BATCH_BYTES_MAX, TIMESTAMP_LOOKUP_BATCHES_MAX } from "../shared/limits.ts";
import { lineOffset, lineTimestamp, RECORD_SEPARATOR, takeLines } from "../shared/record-codec.ts";
import type { LogTotals } from "./types.ts";

export interface BatchRow extends Record<string, SqlStorageValue> {
	base_offset: number;
	last_offset: number;
	record_count: number;
	bytes: number;
	/** Null for the batch a `ReadCache` holds and for batches over `READ_INLINE_BATCH_BYTES_MAX`: read by key when taken. */
	records: string | null;
}

/**
 * Writes the totals to the state row, marked with the high watermark they were saved at; call inside the
 * transaction that changed the batches. Appends do not call it: each stored batch carries the totals after it
 * (`log_*` columns), so a group commit writes one row; retention, compaction and offload, which change older batches, do.
 */
export function saveTotals(sql: SqlStorage, totals: LogTotals, nextOffset: number): void {
	assert(totals.totalBytes >= 0 && totals.storedBatches >= 0 && totals.storedRecords >= totals.storedBatches, "totals are sane");
	sql.exec(
		"UPDATE partition_state SET stored_bytes = ?, stored_batches = ?, stored_records = ?, totals_next_offset = ? WHERE id = 1",
		totals.totalBytes,
		totals.storedBatches,
		totals.storedRecords,
		nextOffset,
	);
}

interface NewestBatchRow extends Record<string, SqlStorageValue> {
	base_offset: number;
	last_offset: number;
	timestamp_high: number;
	log_bytes: number | null;
	log_batches: number | null;
	log_records: number | null;
}

interface SavedTotalsRow extends Record<string, SqlStorageValue> {
	stored_bytes: number;
	stored_batches: number;
	stored_records: number;
	totals_next_offset: number;
}

/**
 * The log's totals and its newest batch, for a wake-up: two seeks, whatever the log's length. The newest batch's
 * `log_*` columns hold the totals after it was written; the state row holds them as retention or compaction last
 * left them, saved at high watermark `totals_next_offset`. A batch written at or past that mark is newer.
 */
export function loadTotals(sql: SqlStorage): { totals: LogTotals; newest: { lastOffset: number; timestampHigh: number } | null } {
	const saved = sql
		.exec<SavedTotalsRow>("SELECT stored_bytes, stored_batches, stored_records, totals_next_offset FROM partition_state WHERE id = 1")
		.one();
	const newest = sql
		.exec<NewestBatchRow>(
			"SELECT base_offset, last_offset, timestamp_high, log_bytes, log_batches, log_records FROM batches ORDER BY base_offset DESC LIMIT 1",
		)
		.toArray()[0];
	const fromBatch =
		newest !== undefined &&
		newest.base_offset >= saved.totals_next_offset &&
		newest.log_bytes !== null &&
		newest.log_batches !== null &&
		newest.log_records !== null;
	const totals: LogTotals = fromBatch
		? { totalBytes: newest.log_bytes as number, storedBatches: newest.log_batches as number, storedRecords: newest.log_records as number }
		: { totalBytes: saved.stored_bytes, storedBatches: saved.stored_batches, storedRecords: saved.stored_records };
	return { totals, newest: newest === undefined ? null : { lastOffset: newest.last_offset, timestampHigh: newest.timestamp_high } };
}

export interface LogSlice {
	readonly records: string;
	readonly recordCount: number;
	readonly nextOffset: number;
}

/**
 * The stored batch the last read stopped inside, so the next read — a consumer paging on from `next_offset` —
 * starts in it without reading it from SQLite again: a row costs about its size to read into a string, and a page
 * ending mid-batch would otherwise read that batch twice (the fetch bench read a third more than it answered).
 * One batch, so a partition holds at most about `STORED_BATCH_BYTES_TARGET` here.
 *
 * A row's text is known by its base offset and bytes together: appends never change a row, compaction rewrites one
 * only to drop records (its bytes fall; its offsets stay), retention and offload delete rows (they are then not found).
 */
export interface ReadCache {
	batch: (BatchRow & { records: string }) | null;
}

/**
 * Records from `offset`, up to `maxRecords` and about `maxBytes` (at least one if one exists). The batch holding
 * `offset` is the last whose `base_offset` ≤ it: one seek on the primary key. Every batch after it adds at
 * least one record, so the walk reads at most `maxRecords` + 1 rows, whatever the log's length. The text of a large
 * batch is read by key only when the walk takes it (`READ_INLINE_BATCH_BYTES_MAX`), that of the batch in `cache` not
 * at all; the batch the read stops inside is kept there for the next read.
 */
export function readLog(sql: SqlStorage, offset: number, maxRecords: number, maxBytes: number, cache: ReadCache | null = null): LogSlice {
	const parts: string[] = [];
	let recordCount = 0;
	let bytes = 0;
	let nextOffset = offset;
	const cached = cache?.batch;
	const rows = sql.exec<BatchRow>(
		"SELECT base_offset, last_offset, record_count, bytes, IIF(base_offset = ?2 OR bytes > ?3, NULL, records) AS records FROM batches WHERE base_offset >= COALESCE((SELECT base_offset FROM batches WHERE base_offset <= ?1 ORDER BY base_offset DESC LIMIT 1), ?1) ORDER BY base_offset",
		offset,
		cached?.base_offset ?? -1,
		READ_INLINE_BATCH_BYTES_MAX,
	);
	for (const row of rows) {
		// Compaction can delete a whole batch: `offset` may then lie in the gap after the batch the seek found.
		if (row.last_offset < offset) continue;
		const whole = row.base_offset >= offset && recordCount + row.record_count <= maxRecords && bytes + row.bytes <= maxBytes;
		// Left out of the walk: the cached batch's text and a large batch's. A batch keeps its base offset for life, and
		// compaction's rewrite drops records: its bytes tell the cached text from a stale one (then read by key).
		const text =
			row.records ??
			(cached?.base_offset === row.base_offset && cached.bytes === row.bytes
				? cached.records
				: sql.exec<{ records: string }>("SELECT records FROM batches WHERE base_offset = ?", row.base_offset).one().records);
		if (whole) {
			parts.push(text);
			recordCount += row.record_count;
			bytes += row.bytes;
		} else {
			// A batch that starts before `offset` or does not fit: take the records that do, as one substring.
			const take = takeLines(
				{
					text,
					baseOffset: row.base_offset,
					dense: row.last_offset - row.base_offset + 1 === row.record_count,
					ascii: row.bytes === text.length + RECORD_SEPARATOR.length,
				},
				offset,
				{ records: maxRecords - recordCount, bytes: maxBytes - bytes, firstOfRead: recordCount === 0 },
			);
			if (take.count > 0) {
				parts.push(take.text);
				recordCount += take.count;
				bytes += take.bytes;
				nextOffset = take.lastOffset + 1;
			}
			if (!take.complete) {
				if (cache) cache.batch = { ...row, records: text };
				break;
			}
		}
		// A compacted batch may end in a gap: continue after its whole range, not after its last record.
		nextOffset = row.last_offset + 1;
		if (recordCount >= maxRecords || bytes >= maxBytes) break;
	}
	return { records: parts.join(RECORD_SEPARATOR), recordCount, nextOffset };
}

/**
 * The first offset whose timestamp is at or after `timestampMs`, searched by the running maximum timestamp, so
 * out-of-order producer timestamps cannot hide later records; `null` if no record is that recent (the walk reached
 * the end of the log). `timestamp_high` never falls as `base_offset` rises, so the first batch that reaches
 * `timestampMs` is found by a binary search on the primary key below `endOffset` (at most ~53 seeks, whatever the
 * log's length). Compaction may have removed the record that raised a batch's running maximum, and out-of-order
 * timestamps can leave batches after it with older records only, so the walk goes on — for at most
 * `TIMESTAMP_LOOKUP_BATCHES_MAX` batches. Past that it answers the offset after the last batch it read: no record
 * before it is that recent, so a consumer starting there misses none (it may see a few older ones).
 */
export function findOffsetForTimestamp(sql: SqlStorage, timestampMs: number, endOffset: number): number | null {
	const first = firstBatchReaching(sql, timestampMs, endOffset);
	if (first === null) return null;
	const rows = sql.exec<{ last_offset: number; records: string }>(
		"SELECT last_offset, records FROM batches WHERE base_offset >= ? ORDER BY base_offset LIMIT ?",
		first,
		TIMESTAMP_LOOKUP_BATCHES_MAX,
	);
	let read = 0;
	let lastOffset = -1;
	for (const row of rows) {
		for (const line of row.records.split(RECORD_SEPARATOR)) {
			if (lineTimestamp(line) >= timestampMs) return lineOffset(line);
		}
		read++;
		lastOffset = row.last_offset;
	}
	return read < TIMESTAMP_LOOKUP_BATCHES_MAX ? null : lastOffset + 1;
}

/** The `base_offset` of the first batch whose `timestamp_high` reaches `timestampMs`, or null: a binary search. */
function firstBatchReaching(sql: SqlStorage, timestampMs: number, endOffset: number): number | null {
	let low = 0;
	let high = endOffset;
	let found: number | null = null;
	// Invariant: every batch starting below `low` has a lower running maximum; `found`, if set, is at or past `high`.
	while (low < high) {
		const mid = low + Math.floor((high - low) / 2);
		const row = sql
			.exec<{ base_offset: number; last_offset: number; timestamp_high: number }>(
				"SELECT base_offset, last_offset, timestamp_high FROM batches WHERE base_offset >= ? ORDER BY base_offset LIMIT 1",
				mid,
			)
			.toArray()[0];
		if (row === undefined || row.base_offset >= high) {
			high = mid;
		} else if (row.timestamp_high >= timestampMs) {
			found = row.base_offset;
			high = mid;
		} else {
			low = row.last_offset + 1;
		}
	}
	return found;
}
