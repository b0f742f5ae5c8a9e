/**
 * @module
 * Stores the records of a group of appends as batches of about `STORED_BATCH_BYTES_TARGET` (one row each): the
 * records of many small requests share a row, a large request spans several. Call inside the group's transaction;
 * `finish()` writes the last row. Each row carries the running totals after it (`log_*`, see `loadTotals`), so a
 * group whose records fit one batch writes exactly one row, and names the idempotent producers' batches that end in
 * it (`producers`, see producer-store.ts).
 */

import { assert } from "../shared/assert.ts";
import { STORED_BATCH_BYTES_TARGET } from "../shared/limits.ts";
import { type EncodedRecord, encodeLine, RECORD_SEPARATOR } from "../shared/record-codec.ts";
import type { CachedBatch } from "./batch-cache.ts";
import { endsColumn } from "./log-store.ts";
import { type ProducerEntry, producersColumn } from "./producer-store.ts";
import type { LogView } from "./types.ts";

export class BatchWriter {
	#lines: string[] = [];
	/** Where each staged line ends in the row's UTF-8 (`recordEnds`): counted as they are staged, never searched for. */
	#ends: number[] = [];
	#bytes = 0;
	#maxTimestamp = -1;
	/** Idempotent producers' batches whose last record is staged: named in the row that will hold it. */
	#producerEntries: ProducerEntry[] = [];
	#rowBase: number;
	/** Bytes written in rows by this writer, and bytes still waiting for `finish()` (see `pendingBytes`). */
	writtenBytes = 0;
	rowsWritten = 0;
	/** The rows written, as stored: the batch cache takes them once the group's transaction committed. */
	readonly batches: CachedBatch[] = [];

	readonly #view: LogView;

	constructor(
		private readonly sql: SqlStorage,
		view: LogView,
		private readonly partition: number,
	) {
		this.#view = view;
		this.#rowBase = view.nextOffset;
	}

	/** Bytes appended but not yet in a row: a partition-full check adds them to the stored total. */
	get pendingBytes(): number {
		return this.#bytes;
	}

	/** The first offset of the row being staged: every row this writer writes from now on starts at or after it. */
	get openRowBase(): number {
		return this.#rowBase;
	}

	/**
	 * Gives `records` the next offsets (the high watermark moves now, inside the transaction) and stages them. A
	 * record keeps its own timestamp, or takes `appendTimeMs` when it has none or when `stampAppendTime` (the topic's
	 * `message.timestamp.type` is LogAppendTime). Kafka stamps at the leader on append, and so does this: only the
	 * partition knows the append time, and the timestamp is not in the tail the edge encoded but in the prefix
	 * written here, so stamping rewrites no record text. The topic's type is read once per append, by the caller.
	 */
	add(records: readonly EncodedRecord[], appendTimeMs: number, stampAppendTime = false): void {
		const baseOffset = this.#view.nextOffset;
		assert(baseOffset === this.#rowBase + this.#lines.length, "consecutive offsets");
		for (let i = 0; i < records.length; i++) {
			const record = records[i] as EncodedRecord;
			const timestampMs = stampAppendTime ? appendTimeMs : (record.timestampMs ?? appendTimeMs);
			const line = encodeLine(this.partition, baseOffset + i, timestampMs, record.tail);
			// The prefix encodeLine adds is ASCII, so the line's bytes follow from the tail's.
			const lineBytes = record.bytes + (line.length - record.tail.length) + RECORD_SEPARATOR.length;
			if (this.#lines.length > 0 && this.#bytes + lineBytes > STORED_BATCH_BYTES_TARGET) this.#writeRow();
			this.#lines.push(line);
			this.#bytes += lineBytes;
			this.#ends.push(this.#bytes - RECORD_SEPARATOR.length);
			this.#maxTimestamp = Math.max(this.#maxTimestamp, timestampMs);
		}
		this.#view.nextOffset = baseOffset + records.length;
	}

	/** Names an idempotent producer's batch, staged by the last `add`, in the row that holds its last record. */
	nameProducerBatch(entry: ProducerEntry): void {
		assert(this.#lines.length > 0 && entry.baseOffset + entry.recordCount === this.#view.nextOffset, "last staged");
		this.#producerEntries.push(entry);
	}

	/** Writes what is staged and the running totals. */
	finish(): void {
		if (this.#lines.length > 0) this.#writeRow();
		assert(this.#rowBase === this.#view.nextOffset, "staged written");
	}

	/**
	 * Writes what is staged as one row. A large row's cost is SQLite's own, and no other form of it was cheaper
	 * (workerd, CPU per call to an object that runs one INSERT of 100 × 1 KiB records, 114 KB, and commits; medians of
	 * 5 runs of 400; a call doing nothing 50-75 µs): this INSERT 600 µs, the bench ceiling's one-column INSERT of the
	 * same text 575, the text bound as UTF-8 bytes (`CAST(? AS TEXT)`, or a BLOB) 575-600. In a second, busier run:
	 * the ceiling's 725, half the text 550 (so about 300 µs a commit and 3 µs a KB), the text as 4 or 32 rows 750, 950.
	 * Nor is building the text from lines where the streaming channel loses to its floor: an object writing 200 × 1 KiB
	 * a call as a group does (decode, lines, this INSERT, its transaction, `sync()`) cost 6.3-7.3 µs of workerd CPU a
	 * record against 5.4-5.7 for the floor's INSERT of the joined messages (a call doing nothing 1.0; medians of 7
	 * rounds, two runs), and the text made otherwise was no cheaper: lines joined 6.11, one string concatenated 6.30,
	 * prefixes and tails joined as parts 6.41 (one run). A join of the tails alone costs a tenth of joining the lines,
	 * and joining them twice five times one join: the cost is allocating strings this large, not copying them.
	 */
	#writeRow(): void {
		const count = this.#lines.length;
		assert(count > 0 && this.#bytes > 0, "written batch has records");
		this.#view.timestampHigh = Math.max(this.#view.timestampHigh, this.#maxTimestamp);
		const last = this.#rowBase + count - 1;
		this.#view.totalBytes += this.#bytes;
		this.#view.storedBatches++;
		this.#view.storedRecords += count;
		const text = this.#lines.join(RECORD_SEPARATOR);
		const ends = new Uint32Array(this.#ends);
		assert(ends.length === count && ends.at(-1) === this.#bytes - RECORD_SEPARATOR.length, "row's ends");
		this.sql.exec(
			"INSERT INTO batches (base_offset, last_offset, record_count, max_timestamp, timestamp_high, bytes, records, log_bytes, log_batches, log_records, record_ends, producers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			this.#rowBase,
			last,
			count,
			this.#maxTimestamp,
			this.#view.timestampHigh,
			this.#bytes,
			text,
			this.#view.totalBytes,
			this.#view.storedBatches,
			this.#view.storedRecords,
			endsColumn(ends),
			producersColumn(this.#producerEntries),
		);
		this.batches.push({ baseOffset: this.#rowBase, lastOffset: last, recordCount: count, bytes: this.#bytes, text, ends });
		this.writtenBytes += this.#bytes;
		this.rowsWritten++;
		this.#rowBase = last + 1;
		this.#lines = [];
		this.#ends = [];
		this.#producerEntries = [];
		this.#bytes = 0;
		this.#maxTimestamp = -1;
	}
}
