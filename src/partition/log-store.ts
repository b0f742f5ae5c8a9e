/**
 * @module
 * The partition's queries on its stored batches that the RPC paths share with background work. Each starts with
 * seeks on `batches`' primary key (`base_offset`) and walks forward only as far as its answer needs, so no read costs more on a long log than on a short one (see docs/storage-schema.md).
 */

import { assert } from "../shared/assert.ts";
import { utf8Encoder } from "../shared/bytes.ts";
import { READ_INLINE_BATCH_BYTES_MAX, TIMESTAMP_LOOKUP_BATCHES_MAX } from "../shared/limits.ts";
import { type LineMark, type LineTake, type ReadRoom, takeLines, takeLinesUtf8 } from "../shared/line-cut.ts";
import { lineOffset, lineTimestamp, RECORD_SEPARATOR } from "../shared/record-codec.ts";
import { recordEndingFrom } from "../shared/record-scan.ts";
import { type BatchCache, type CachedBatch, isAsciiBatch, Utf8Batch } from "./batch-cache.ts";
import type { LogTotals, LogView, PartitionOffsets, RecordEnds, Utf8Parts } from "./types.ts";

export interface BatchRow extends Record<string, SqlStorageValue> {
	base_offset: number;
	last_offset: number;
	record_count: number;
	bytes: number;
	/**
	 * Null for a `BatchCache`'s paging batch and for batches over `READ_INLINE_BATCH_BYTES_MAX`: read by key when
	 * taken. An `ArrayBuffer` when the walk reads UTF-8 (`CAST(records AS BLOB)`).
	 */
	records: string | ArrayBuffer | null;
	/** Where each record ends in the UTF-8 of `records` (v7, `recordEnds` as little-endian 32-bit words); null before. */
	record_ends: ArrayBuffer | null;
}

/**
 * Writes the totals to the state row, marked with the high watermark they were saved at; call inside the
 * transaction that changed the batches. Appends do not call it: each stored batch carries the totals after it
 * (`log_*` columns), so a group commit writes one row; retention, compaction and offload, which change older batches, do.
 */
export function saveTotals(sql: SqlStorage, totals: LogTotals, nextOffset: number): void {
	assert(totals.totalBytes >= 0 && totals.storedBatches >= 0 && totals.storedRecords >= totals.storedBatches, "totals");
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
 * Reads the log's view as SQLite holds it into `view`: the state row's offsets (`row`), the totals and the newest
 * batch (`loadTotals`). At a wake-up, and after a rolled-back transaction whose changes memory already held.
 */
export function loadView(
	sql: SqlStorage,
	row: {
		log_start_offset: number;
		local_log_start_offset: number;
		remote_bytes: number;
		remote_records: number;
		next_offset_floor: number;
	},
	view: LogView,
): void {
	const { totals, newest } = loadTotals(sql);
	view.logStartOffset = row.log_start_offset;
	view.localLogStartOffset = row.local_log_start_offset;
	view.remoteBytes = row.remote_bytes;
	view.remoteRecords = row.remote_records;
	view.nextOffset = Math.max(row.next_offset_floor, newest === null ? 0 : newest.lastOffset + 1);
	view.timestampHigh = newest?.timestampHigh ?? 0;
	view.totalBytes = totals.totalBytes;
	view.storedBatches = totals.storedBatches;
	view.storedRecords = totals.storedRecords;
	// A DeleteRecords may move the log start past the local log start (retention then deletes what lies below it).
	assert(view.logStartOffset <= view.nextOffset && view.localLogStartOffset <= view.nextOffset, "starts <= hw");
}

/**
 * The partition's offsets and sizes as reported. As Kafka's, the local log start is never below the log start:
 * batches a DeleteRecords left below it for retention are stored but unreadable.
 */
export function partitionOffsets(view: LogView): PartitionOffsets {
	const { logStartOffset, nextOffset: highWatermark, totalBytes: bytes, storedRecords: records, remoteBytes, remoteRecords } = view;
	const localLogStartOffset = Math.max(view.localLogStartOffset, logStartOffset);
	// As a wake-up reads it (`loadTotals`): from the newest batch, so none once retention has deleted every batch.
	const timestampHigh = view.storedBatches > 0 ? view.timestampHigh : 0;
	return { logStartOffset, highWatermark, bytes, records, localLogStartOffset, remoteBytes, remoteRecords, timestampHigh };
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

/**
 * A read's records: joined by `RECORD_SEPARATOR` as text (`string`), or as that text's UTF-8 in parts
 * (`Utf8Parts`).
 */
export interface LogSlice<Records extends string | Utf8Parts = string> {
	readonly records: Records;
	readonly recordCount: number;
	readonly nextOffset: number;
	/** Where each part's records end, for a UTF-8 read that asked (`readLogUtf8`'s `withEnds`). */
	readonly recordEnds?: RecordEnds;
}

/**
 * Records from `offset`, up to `maxRecords` and about `maxBytes` (at least one if one exists). Batches in `cache`'s
 * window (batch-cache.ts) come from memory: a read that starts inside it runs no SQL. Below the window the batch
 * holding `offset` is the last whose `base_offset` ≤ it: one seek on the primary key, then a walk over the rows up
 * to the window, where the read goes on in memory. Every batch after the first adds at least one record, so a read
 * takes at most `maxRecords` + 1 batches, whatever the log's length. The text of a large row is read by key only
 * when the walk takes it (`READ_INLINE_BATCH_BYTES_MAX`), that of the cache's paging batch not at all. A walk that
 * reached the window (or the end of the log) adds the rows it read to the window; one that stopped inside a row
 * keeps that batch for the next page. `logEnd`, the offset after the log's last record, tells a read that filled
 * up exactly at the end of the log (its last batch taken whole) that it reached it (see `reachedTop`).
 */
export function readLog(
	sql: SqlStorage,
	offset: number,
	maxRecords: number,
	maxBytes: number,
	cache: BatchCache | null = null,
	logEnd = Number.POSITIVE_INFINITY,
): LogSlice {
	return walkLog(sql, offset, maxRecords, maxBytes, cache, false, false, logEnd).slice();
}

/**
 * `readLog`, answered as UTF-8 parts (`Utf8Parts`), for a reader that sends the records on as they are (the fetch
 * route and group polls): rows are read as their stored bytes and cut as bytes, cached ASCII batches are
 * kept as UTF-8 once read so, and no page is assembled here: the reader copies the parts into its answer once.
 * `withEnds`: each part comes with where its records end (`recordEnds`), for a reader that walks them (a poll's
 * splice); the fetch route sends its parts on whole and does not ask. `logEnd` as for `readLog`. `views`: a batch
 * cut is handed over as a view of its bytes, for a reader that copies the parts into a Blob in this object; a cut
 * that crosses RPC is copied out instead, or the RPC would send the whole batch.
 */
export function readLogUtf8(
	sql: SqlStorage,
	offset: number,
	maxRecords: number,
	maxBytes: number,
	cache: BatchCache | null = null,
	withEnds = false,
	logEnd = Number.POSITIVE_INFINITY,
	views = false,
): LogSlice<Utf8Parts> {
	return walkLog(sql, offset, maxRecords, maxBytes, cache, true, withEnds, logEnd, views).sliceUtf8();
}

/**
 * The walk's rows from the batch holding ?1 up to ?4, their text and record ends inline unless paging (?2) or large
 * (?3). The ends are read only with the text: they lie after it in the row (a column added later), so reading them
 * alone walks a large row's overflow pages all the same (selected on every row, bench:ab group-4m-4p read +0.65
 * µs/record, higher in 6 of 6 rounds, the paging batch's row walked on every poll).
 */
const WALK_QUERY = (records: string) =>
	`SELECT base_offset, last_offset, record_count, bytes, IIF(base_offset = ?2 OR bytes > ?3, NULL, ${records}) AS records, IIF(base_offset = ?2 OR bytes > ?3, NULL, record_ends) AS record_ends FROM batches WHERE base_offset >= COALESCE((SELECT base_offset FROM batches WHERE base_offset <= ?1 ORDER BY base_offset DESC LIMIT 1), ?1) AND base_offset < ?4 ORDER BY base_offset`;
const WALK_TEXT = WALK_QUERY("records");
/** The same rows as UTF-8: SQLite hands the stored bytes over as they are, where text is decoded into a string. */
const WALK_UTF8 = WALK_QUERY("CAST(records AS BLOB)");

/**
 * The walk of `readLog` (see there). `utf8`: rows are read as their bytes (`Utf8Batch`) and batches are cut as
 * bytes, for a reader that wants the records as UTF-8; no text is decoded.
 */
function walkLog(
	sql: SqlStorage,
	offset: number,
	maxRecords: number,
	maxBytes: number,
	cache: BatchCache | null,
	utf8 = false,
	withEnds = false,
	logEnd = Number.POSITIVE_INFINITY,
	views = false,
): SliceReader {
	const read = new SliceReader(offset, maxRecords, maxBytes, utf8, withEnds, views);
	// Nothing at or past the end: a poll at the tail with nothing cached would otherwise read the last row (2 rows
	// billed, its text up to `READ_INLINE_BATCH_BYTES_MAX` read) only to skip it.
	if (offset >= logEnd) return read;
	const windowBase = cache?.windowBase ?? Number.POSITIVE_INFINITY;
	const walked: CachedBatch[] = [];
	let full = false;
	if (offset < windowBase) {
		const rows = sql.exec<BatchRow>(
			utf8 ? WALK_UTF8 : WALK_TEXT,
			offset,
			cache?.pagingBase ?? -1,
			READ_INLINE_BATCH_BYTES_MAX,
			Math.min(windowBase, Number.MAX_SAFE_INTEGER),
		);
		for (const row of rows) {
			// Compaction can delete a whole batch: `offset` may then lie in the gap after the batch the seek found.
			if (row.last_offset < offset) continue;
			const batch = cache?.pagingAt(row) ?? toBatch(sql, row, cache, utf8);
			walked.push(batch);
			full = !read.take(batch);
			if (full) break;
		}
	}
	if (cache === null) return read;
	if (!full && windowBase !== Number.POSITIVE_INFINITY) {
		for (const batch of cache.from(Math.max(offset, windowBase), utf8)) {
			cache.hit();
			if (!read.take(batch)) break;
		}
	}
	// Only now, the walk over the window done: a walk over rows that stopped early says nothing of the rows after it.
	// A row read as bytes is kept as bytes: the cache holds either form.
	if (full && read.stoppedIn !== null) cache.keepPaging(read.stoppedIn);
	else if (!full || reachedTop(walked, Math.min(windowBase, logEnd))) cache.readUpTo(walked);
	return read;
}

/**
 * Whether a walk that filled up as it took its last batch whole still reached the window's bottom or the end of the
 * log (`top`): no row can lie between that batch and it. Without this, a reader whose pages end exactly at the end
 * of the log (a consumer paging a fixed backlog in pages that divide it) never brought the window in, and read every
 * page from rows: on a 20,000-record backlog (about 22 MB) paged 1,000 at a time, 12 of 80 batches a pass came from
 * memory (each a paging batch), pass after pass, where the window's budget (16 MiB) holds most of it. With it the
 * window grows by a page a pass until the budget is full: the bench's fetch-1c-1p took 0.70 of its batches from
 * memory against 0.16, and bench:ab fetch-1c-1p read 0.91 µs of server CPU a record less (-24 %, 6 of 6 rounds).
 */
function reachedTop(walked: readonly CachedBatch[], top: number): boolean {
	const last = walked.at(-1);
	return last !== undefined && last.lastOffset + 1 === top;
}

/** A row the walk takes, with its text or (`utf8`) its bytes: selected inline, or read by key (a large row). */
function toBatch(sql: SqlStorage, row: BatchRow, cache: BatchCache | null, utf8: boolean): CachedBatch {
	if (cache) cache.misses++;
	const { records, record_ends } =
		row.records === null
			? sql
					.exec<{ records: string | ArrayBuffer; record_ends: ArrayBuffer | null }>(
						`SELECT ${utf8 ? "CAST(records AS BLOB)" : "records"} AS records, record_ends FROM batches WHERE base_offset = ?`,
						row.base_offset,
					)
					.one()
			: row;
	assert(records !== null, "taken has records");
	const { base_offset: baseOffset, last_offset: lastOffset, record_count: recordCount, bytes } = row;
	const ends = storedEnds(record_ends);
	if (typeof records === "string") return { baseOffset, lastOffset, recordCount, bytes, text: records, ends };
	return new Utf8Batch(baseOffset, lastOffset, recordCount, bytes, new Uint8Array(records), ends);
}

/**
 * A batch's record ends as its row's `record_ends`: the words as they lie in memory. Every platform workerd runs on
 * (x86-64, arm64) is little-endian, which the column documents; a reader checks what it reads anyway
 * (`Utf8Batch.recordEnds`).
 */
export function endsColumn(ends: Uint32Array<ArrayBuffer>): ArrayBuffer {
	assert(LITTLE_ENDIAN, "ends LE words");
	assert(ends.byteOffset === 0 && ends.byteLength === ends.buffer.byteLength, "ends own buffer");
	return ends.buffer;
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** A row's `record_ends` as written (`endsColumn`); null when it has none or is not whole words (then searched for). */
function storedEnds(column: ArrayBuffer | null): Uint32Array | null {
	return column === null || column.byteLength % Uint32Array.BYTES_PER_ELEMENT !== 0 ? null : new Uint32Array(column);
}

/** Where the last cut inside each batch's bytes stopped: the next page starts there. */
const cutHints = new WeakMap<Uint8Array, LineMark>();

/** Where a batch's records end, for a batch held as bytes (`Utf8Batch.recordEnds`); null for one the reader searches. */
function endsOf(batch: CachedBatch): Uint32Array | null {
	return batch instanceof Utf8Batch ? batch.recordEnds() : null;
}

/**
 * The ends of the records of `utf8` from byte `start` to `end` (one part cut from it), counted from `start`, in an
 * array of their own (so only they cross the RPC).
 */
function partEnds(ends: Uint32Array, start: number, end: number): Uint32Array {
	const first = recordEndingFrom(ends, start);
	const last = recordEndingFrom(ends, end);
	assert(ends[last] === end, "part at record end");
	const part = ends.slice(first, last + 1);
	for (let i = 0; i < part.length; i++) (part[i] as number) -= start;
	return part;
}

/** A read's answer as it is built, batch by batch: the same cut rules whether a batch came from a row or memory. */
class SliceReader {
	/** Text, or (a UTF-8 read) bytes, one part per batch taken. */
	readonly parts: (string | Uint8Array)[] = [];
	/** Per part of a UTF-8 read `withEnds`, where its records end; null for a part cut from text (not ASCII). */
	readonly ends: (Uint32Array | null)[] = [];
	recordCount = 0;
	bytes = 0;
	nextOffset: number;
	/** The batch the read stopped inside, if it did. */
	stoppedIn: CachedBatch | null = null;

	constructor(
		private readonly offset: number,
		private readonly maxRecords: number,
		private readonly maxBytes: number,
		/** Whether the read answers UTF-8: batches are taken and cut as bytes. */
		private readonly utf8: boolean,
		/** Whether a UTF-8 read answers where each part's records end. */
		private readonly withEnds: boolean,
		/** Whether a UTF-8 read's cuts are views of their batches (`readLogUtf8`'s `views`). */
		private readonly views = false,
	) {
		assert(utf8 || !withEnds, "ends of UTF-8");
		this.nextOffset = offset;
	}

	slice(): LogSlice {
		assert(!this.utf8, "text read");
		return { records: this.parts.join(RECORD_SEPARATOR), recordCount: this.recordCount, nextOffset: this.nextOffset };
	}

	/**
	 * The parts as taken, one per batch. Many parts cost the RPC more than one buffer of their size: V8's serializer
	 * grows its buffer by doubling, copying what it wrote, and each part is a buffer of its own on the other side
	 * (perf on workerd, 1,000 × 1 KiB a page through SQLite: 247 µs a page serialising ~5 parts against 109 for one
	 * buffer, 84 against 51 deserialising). Joining them here first did not pay: server CPU per record 0.980 of
	 * parts sent as they are (8 alternating pairs, 0.87–1.03, within the noise): the join is one more zero-filled
	 * buffer and copy on the partition's thread, about what the serializer then saves there.
	 */
	sliceUtf8(): LogSlice<Utf8Parts> {
		assert(this.utf8, "bytes read");
		const parts = this.parts as Uint8Array[];
		// Paired with the writer's count: each part's `bytes` is its UTF-8 and one separator.
		assert(parts.reduce((n, part) => n + part.byteLength + RECORD_SEPARATOR.length, 0) === this.bytes, "read bytes");
		const slice = { records: parts, recordCount: this.recordCount, nextOffset: this.nextOffset };
		if (!this.withEnds) return slice;
		assert(this.ends.length === parts.length, "part's ends");
		return { ...slice, recordEnds: this.ends };
	}

	/** Takes what `batch` holds from the read's offset on; false once the read is full. */
	take(batch: CachedBatch): boolean {
		const { offset, maxRecords, maxBytes } = this;
		if (batch.lastOffset < offset) return true;
		if (batch.baseOffset >= offset && this.recordCount + batch.recordCount <= maxRecords && this.bytes + batch.bytes <= maxBytes) {
			const part = this.utf8 ? (batch.utf8 ?? utf8Encoder.encode(batch.text)) : batch.text;
			this.parts.push(part);
			// A whole batch's own ends are its part's: sent as they are kept (the RPC copies them).
			if (this.withEnds) this.ends.push(endsOf(batch));
			this.recordCount += batch.recordCount;
			this.bytes += batch.bytes;
		} else {
			// A batch that starts before `offset` or does not fit: take the records that do, as one substring.
			const room = { records: maxRecords - this.recordCount, bytes: maxBytes - this.bytes, firstOfRead: this.recordCount === 0 };
			const take = this.#cut(batch, room);
			if (take.count > 0) {
				this.parts.push(take.text);
				if (this.withEnds) {
					const ends = endsOf(batch);
					this.ends.push(ends === null ? null : partEnds(ends, take.start, take.start + take.text.length));
				}
				this.recordCount += take.count;
				this.bytes += take.bytes;
				this.nextOffset = take.lastOffset + 1;
			}
			if (!take.complete) {
				this.stoppedIn = batch;
				return false;
			}
		}
		// A compacted batch may end in a gap: continue after its whole range, not after its last record.
		this.nextOffset = batch.lastOffset + 1;
		return this.recordCount < maxRecords && this.bytes < maxBytes;
	}

	/** The lines of `batch` from the read's offset that fit `room`: as bytes for a UTF-8 read, else as text. */
	#cut(batch: CachedBatch, room: ReadRoom): LineTake<string | Uint8Array> {
		const { utf8, baseOffset, lastOffset } = batch;
		const dense = lastOffset - baseOffset + 1 === batch.recordCount;
		if (this.utf8 && utf8 !== undefined) {
			const take = takeLinesUtf8(
				{ utf8, baseOffset, lastOffset, dense },
				this.offset,
				room,
				cutHints.get(utf8) ?? null,
				endsOf(batch),
				this.views,
			);
			if (take.stop !== null) cutHints.set(utf8, take.stop);
			return take;
		}
		const take = takeLines({ text: batch.text, baseOffset, lastOffset, dense, ascii: isAsciiBatch(batch) }, this.offset, room);
		return this.utf8 ? { ...take, text: utf8Encoder.encode(take.text) } : take;
	}
}
/**
 * The first offset whose timestamp is at or after `timestampMs`, searched by the running maximum timestamp, so
 * out-of-order producer timestamps cannot hide later records; `null` if no record is that recent (the walk reached
 * the end of the log). `timestamp_high` never falls as `base_offset` rises, so the first batch that reaches
 * `timestampMs` is found by a binary search on the primary key below `endOffset` (at most ~53 seeks, whatever the
 * log's length). Compaction may have removed the record that raised a batch's running maximum, and out-of-order
 * timestamps can leave batches after it with older records only, so the walk goes on — for at most
 * `batchesMax` batches (`TIMESTAMP_LOOKUP_BATCHES_MAX`, less what a walk begun in R2 read: it goes on from
 * `fromOffset`). Past that it answers the offset after the last batch it read: no record before it is that recent,
 * so a consumer starting there misses none (it may see a few older ones). Records below `logStartOffset` (batches a
 * DeleteRecords left for retention) are passed over: with out-of-order timestamps, one of them reaching the time
 * says nothing of those at the log start.
 */
export function findOffsetForTimestamp(
	sql: SqlStorage,
	timestampMs: number,
	endOffset: number,
	logStartOffset: number,
	fromOffset?: number,
	batchesMax = TIMESTAMP_LOOKUP_BATCHES_MAX,
): number | null {
	// A walk going on from R2 already passed the first batch that reaches the time; those after it all do.
	const first = fromOffset ?? firstBatchReaching(sql, timestampMs, endOffset);
	if (first === null) return null;
	const rows = sql.exec<{ last_offset: number; records: string }>(
		"SELECT last_offset, records FROM batches WHERE base_offset >= ? AND last_offset >= ? ORDER BY base_offset LIMIT ?",
		first,
		logStartOffset,
		batchesMax,
	);
	let read = 0;
	let lastOffset = -1;
	for (const row of rows) {
		for (const line of row.records.split(RECORD_SEPARATOR)) {
			if (lineTimestamp(line) >= timestampMs && lineOffset(line) >= logStartOffset) return lineOffset(line);
		}
		read++;
		lastOffset = row.last_offset;
	}
	return read < batchesMax ? null : lastOffset + 1;
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
