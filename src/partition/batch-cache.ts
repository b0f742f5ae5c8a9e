/**
 * @module
 * Hot stored batches kept in memory, so a reader at or near the tail is answered without reading rows from SQLite
 * (Kafka leans on the page cache the same way; Durable Object SQLite bills every row read). One pool per isolate,
 * shared by every `PartitionLog` in it under one byte budget (`BATCH_CACHE_BYTES_MAX`); each object holds a
 * `BatchCache` of its own:
 * - its window: every stored batch from some base offset up to the newest, so a read that starts inside it needs no
 *   SQL at all. A commit adds its batches at the top; a read whose walk over the rows reached the window (or the end
 *   of the log) adds the batches it read at the bottom, into free room only unless the window is empty (a woken
 *   object's tail reader).
 * - its paging batch: the batch a read below the window stopped inside, for the read that pages on from there.
 * A log nobody reads keeps its commits too, as bytes, while free room lasts (`committedAhead`), so a backlog's first
 * reader finds it in memory. Over budget, the pool drops the oldest batch of the object idle longest (neither written
 * nor read for `BATCH_CACHE_IDLE_MS`), else of the object holding the most (its paging batch first): objects that all
 * append converge on equal shares, a finished load's batches make way for live ones, and a reader catching up on a
 * backlog evicts no live window (only idle objects' batches and its own paging batch).
 *
 * A cached batch is its row's exact text, or that text's UTF-8 (a row read as bytes; an ASCII text once a UTF-8 read
 * took it, which then copies it as it is rather than encoding it on every read). Either way a fetch is
 * concatenation (see record-codec.ts). Whatever rewrites or
 * deletes rows calls `forgetThrough` — retention, compaction, offload, deletion, a rolled-back group — the one
 * chokepoint; appends never change a row (group commit writes new rows). A restarted object opens a new cache,
 * which drops the old instance's: its memory may hold writes that never became durable.
 */

import { assert } from "../shared/assert.ts";
import { utf8Encoder } from "../shared/bytes.ts";
import { BATCH_CACHE_BYTES_MAX, BATCH_CACHE_ENTRY_OVERHEAD_BYTES, BATCH_CACHE_IDLE_MS } from "../shared/limits.ts";
import { RECORD_SEPARATOR } from "../shared/record-codec.ts";
import { endsAreRecords, recordEnds } from "../shared/record-scan.ts";

/** A stored batch as its row holds it. */
export interface CachedBatch {
	readonly baseOffset: number;
	readonly lastOffset: number;
	readonly recordCount: number;
	/** UTF-8 bytes of its records and their separators: the row's `bytes`. */
	readonly bytes: number;
	/** Its records' text (decoded on each read when the batch is held as `utf8`). */
	readonly text: string;
	/** Its records' UTF-8, when held as bytes (a `Utf8Batch`): shared by every read, never written to. */
	readonly utf8?: Uint8Array;
	/**
	 * Where each record ends in that UTF-8 (`recordEnds`), as the writer counted them or the row stored them; a
	 * `Utf8Batch` checks them and finds them itself when they are missing or wrong (see `recordEnds()`).
	 */
	readonly ends?: Uint32Array | null;
}

/** Whether a stored batch's text is all ASCII: its UTF-8 size (which counts a separator per record) tells. */
export function isAsciiBatch(batch: Pick<CachedBatch, "bytes" | "text">): boolean {
	return batch.bytes === batch.text.length + RECORD_SEPARATOR.length;
}

/**
 * Memory one cached batch holds. Bytes are held one for one. V8 keeps a string of Latin-1 characters in one byte
 * each and any other in two; an ASCII text is known from its UTF-8 size, anything else counts two bytes a character
 * (never less than held). An ASCII text and its UTF-8 hold the same, so a batch taken as UTF-8 changes nothing.
 * Its record ends (four bytes a record, 0.4 % of a 1 KiB record) are not counted: a `Utf8Batch` may find them while
 * held, and what a batch counts may not change between the pool taking it and letting it go.
 */
export function heapBytes(batch: CachedBatch): number {
	if (batch.utf8 !== undefined) return batch.utf8.byteLength + BATCH_CACHE_ENTRY_OVERHEAD_BYTES;
	return (isAsciiBatch(batch) ? 1 : 2) * batch.text.length + BATCH_CACHE_ENTRY_OVERHEAD_BYTES;
}

const decoder = new TextDecoder();

/**
 * A stored batch held as its UTF-8 bytes, each in a buffer of its own (so it crosses RPC as exactly itself). Its
 * text is decoded when asked for and not kept: the bytes are what it holds.
 */
export class Utf8Batch implements CachedBatch {
	/** Its record ends once `recordEnds()` checked `ends` or found them. */
	#knownEnds: Uint32Array | null = null;

	constructor(
		readonly baseOffset: number,
		readonly lastOffset: number,
		readonly recordCount: number,
		readonly bytes: number,
		readonly utf8: Uint8Array,
		/** Where its records end, as claimed (the writer's count, the row's column); checked before they are used. */
		readonly ends: Uint32Array | null = null,
	) {
		// Paired with the writer's count: a batch's `bytes` is its UTF-8 and one separator.
		assert(utf8.byteLength + RECORD_SEPARATOR.length === bytes, "batch bytes");
		assert(utf8.byteOffset === 0 && utf8.byteLength === utf8.buffer.byteLength, "batch own buffer");
	}

	get text(): string {
		return decoder.decode(this.utf8);
	}

	/**
	 * Where each of its records ends (`recordEnds`), in an array of its own: the ends it was given if they hold
	 * (`endsAreRecords`), else found by a search of its bytes; either way once, kept with the bytes.
	 */
	recordEnds(): Uint32Array {
		this.#knownEnds ??= this.ends !== null && endsAreRecords(this.utf8, this.ends, this.recordCount) ? this.ends : recordEnds(this.utf8);
		return this.#knownEnds;
	}
}

/** A batch as its UTF-8 bytes. */
function toUtf8(batch: CachedBatch): CachedBatch {
	if (batch.utf8 !== undefined) return batch;
	const utf8 = utf8Encoder.encode(batch.text);
	return new Utf8Batch(batch.baseOffset, batch.lastOffset, batch.recordCount, batch.bytes, utf8, batch.ends ?? null);
}

/**
 * An ASCII text batch as UTF-8 (the same bytes, one for one, so the same `heapBytes`); any other batch as it is. A
 * batch held as bytes is answered before its `text` is asked for, which would decode it: on a fetch served from
 * memory (1,000 × 1 KiB a page) that decode cost 15 % of the server's CPU (2.68 → 2.15 µs a record, measured).
 */
function asUtf8(batch: CachedBatch): CachedBatch {
	if (batch.utf8 !== undefined) return batch;
	return isAsciiBatch(batch) ? toUtf8(batch) : batch;
}

/** The caches of one isolate and their byte budget. */
export class BatchCachePool {
	/** Bytes held by every cache of the pool. */
	bytes = 0;
	/** Caches holding any batch, by object; a restarted object's new cache replaces (and empties) its old one. */
	readonly #holding = new Map<string, BatchCache>();

	/**
	 * The budget: a field rather than the constant so tests can lower it (it holds from the next batch taken).
	 * `now`: the clock idleness is measured on (tests move it).
	 */
	constructor(
		public bytesMax: number,
		readonly now: () => number = Date.now,
	) {}

	/** A new, empty cache for object `objectId`; the cache of its previous instance, if any, is dropped. */
	open(objectId: string): BatchCache {
		this.#holding.get(objectId)?.close();
		return new BatchCache(this, objectId);
	}

	/** @internal `cache` took `bytes` more: the pool evicts until it is within its budget again. */
	grew(cache: BatchCache, bytes: number): void {
		this.bytes += bytes;
		const other = this.#holding.get(cache.objectId);
		if (other !== cache) {
			// An object runs one instance at a time: the one taking batches is the live one (a test's second
			// instance over the same storage, too).
			other?.close();
			this.#holding.set(cache.objectId, cache);
		}
		while (this.bytes > this.bytesMax) this.#victim().evictOne();
	}

	/** @internal `cache` let go of `bytes`. */
	shrank(cache: BatchCache, bytes: number): void {
		this.bytes -= bytes;
		assert(this.bytes >= 0 && cache.bytes >= 0, "cached >= 0");
		if (cache.bytes === 0 && this.#holding.get(cache.objectId) === cache) this.#holding.delete(cache.objectId);
	}

	/** Bytes held by caches other than `except` that are idle: room a reader may take. */
	idleBytes(except: BatchCache): number {
		const now = this.now();
		let bytes = 0;
		for (const cache of this.#holding.values()) if (cache !== except && now - cache.usedMs >= BATCH_CACHE_IDLE_MS) bytes += cache.bytes;
		return bytes;
	}

	/** The cache to give up a batch: the one idle longest, else the one holding the most. */
	#victim(): BatchCache {
		const now = this.now();
		let idle: BatchCache | null = null;
		let largest: BatchCache | null = null;
		for (const cache of this.#holding.values()) {
			if (now - cache.usedMs >= BATCH_CACHE_IDLE_MS && (idle === null || cache.usedMs < idle.usedMs)) idle = cache;
			if (largest === null || cache.bytes > largest.bytes) largest = cache;
		}
		const found = idle ?? largest;
		assert(found !== null && found.bytes > 0, "pool holds batches");
		return found;
	}
}

/** One object's hot batches (see the module): its window of the newest batches and one paging batch. */
export class BatchCache {
	/** Bytes this cache holds (`heapBytes` of each batch). */
	bytes = 0;
	/** Batches taken from memory and read from SQLite by reads, since this cache opened (for /metrics). */
	hits = 0;
	misses = 0;
	/** When a commit or a read last used this cache (the pool's clock). */
	usedMs: number;
	/** When a read last took batches from this cache or brought rows into it (the pool's clock). */
	#readMs = Number.NEGATIVE_INFINITY;
	/** Whether keeping batches ahead stopped for want of room, until a reader comes (`committedAhead`). */
	#aheadStopped = false;
	/**
	 * The window, oldest first, from `start` on: every stored batch from `window[start]` to the newest. Slots below
	 * `start` are emptied as they are evicted, and the array is cut once they are half of it: it references no batch
	 * it does not hold, and its length stays under twice the batches it holds (amortized: a cut copies fewer slots
	 * than evictions made it due).
	 */
	private window: (CachedBatch | undefined)[] = [];
	#start = 0;
	/** The paging batch, or null (not a `#` member, as `window` is not: tests read what the cache holds). */
	private paging: CachedBatch | null = null;
	#closed = false;

	constructor(
		private readonly pool: BatchCachePool,
		readonly objectId: string,
	) {
		this.usedMs = pool.now();
	}

	/** A read was answered from this cache: it is in use. */
	hit(): void {
		this.hits++;
		this.usedMs = this.#readMs = this.pool.now();
		this.#aheadStopped = false;
	}

	/** Whether a read used this cache within `BATCH_CACHE_IDLE_MS`: a reader follows the log. */
	get read(): boolean {
		return this.pool.now() - this.#readMs < BATCH_CACHE_IDLE_MS;
	}

	/** The base offset of the window's oldest batch; Infinity when the window is empty. */
	get windowBase(): number {
		return this.window[this.#start]?.baseOffset ?? Number.POSITIVE_INFINITY;
	}

	/**
	 * The window's batches from the one holding `offset` (the last starting at or before it); `offset` ≥ `windowBase`.
	 * `utf8`: for a read that answers bytes, each ASCII text is kept as its UTF-8 from now on (the same memory).
	 */
	*from(offset: number, utf8 = false): Generator<CachedBatch> {
		let low = this.#start;
		let high = this.window.length - 1;
		assert(high >= low && offset >= this.windowBase, "read in window");
		// Invariant: window[low] starts at or before `offset`; every batch past `high` starts after it.
		while (low < high) {
			const mid = (low + high + 1) >>> 1;
			if ((this.window[mid] as CachedBatch).baseOffset <= offset) low = mid;
			else high = mid - 1;
		}
		for (let i = low; i < this.window.length; i++) {
			if (utf8) this.window[i] = asUtf8(this.window[i] as CachedBatch);
			yield this.window[i] as CachedBatch;
		}
	}

	/** The paging batch's base offset; null when there is none. */
	get pagingBase(): number | null {
		return this.paging?.baseOffset ?? null;
	}

	/** The paging batch, if it is the row at `baseOffset` (of `bytes`: a cached row is never stale, see `forgetThrough`). */
	pagingAt(row: { readonly base_offset: number; readonly bytes: number }): CachedBatch | null {
		const paging = this.paging;
		if (paging?.baseOffset !== row.base_offset) return null;
		assert(paging.bytes === row.bytes, "cache is row");
		this.hit();
		return paging;
	}

	/** A group's batches, once its transaction committed: the newest stored batches, in order. */
	committed(batches: readonly CachedBatch[]): void {
		this.#aheadStopped = false;
		if (this.#closed || batches.length === 0) return;
		this.usedMs = this.pool.now();
		const top = this.window.at(-1);
		assert(top === undefined || (batches[0] as CachedBatch).baseOffset > top.lastOffset, "commit past window");
		let bytes = 0;
		for (const batch of batches) {
			this.window.push(batch);
			bytes += heapBytes(batch);
		}
		this.#grow(bytes);
	}

	/**
	 * A group's batches that no reader follows yet, once its transaction committed: kept for a reader to come (a
	 * backlog is read from memory by its first reader) as their UTF-8, whose bytes lie outside V8's heap (the text,
	 * kept, survived into the old generation: about a fifth of a 100 × 1 KiB produce's CPU). Kept only in room that is
	 * free or held by idle objects: once a commit finds none, the window is dropped (it must reach the newest batch)
	 * and nothing more is kept ahead until a reader comes. A log only written would otherwise turn its share of the
	 * budget over on every commit, which cost about 8 % of that produce's server CPU (measured); filled once, the
	 * room costs the writer nothing more.
	 */
	committedAhead(batches: readonly CachedBatch[]): void {
		if (this.#closed || this.#aheadStopped || batches.length === 0) return;
		const held = batches.map(toUtf8);
		const bytes = held.reduce((n, b) => n + heapBytes(b), 0);
		if (this.pool.bytes - this.pool.idleBytes(this) + bytes > this.pool.bytesMax) {
			this.forgetThrough(Number.POSITIVE_INFINITY);
			this.#aheadStopped = true;
			return;
		}
		this.committed(held);
	}

	/**
	 * Batches a read took from SQLite: every stored batch from the first of them up to the window (or to the newest,
	 * the window being empty), in order. They become the window's bottom, all of them or none. Tried and dropped:
	 * taking the newest of them that fit the room. A consumer paging a backlog over the budget (fetch-1c-1p: 20,000 ×
	 * 1 KiB, batches of ~114 KB, pages of ten) holds 14 pages of the 14.7 the budget has room for (0.703 of its
	 * batches from memory; the most a cyclic scan can get, whatever the eviction, is ~0.735), and the rest would
	 * save ~2 % of its CPU (each point of that share is ~0.7 %, see `BATCH_CACHE_BYTES_MAX`): +47 gzipped bytes, and
	 * bench:ab fetch-1c-1p B − A −0.06 µs/record of ~4.4 (−0.42 to +0.64, lower in 3 of 6, load 3-9) in one run,
	 * −0.28 of ~4.5 (−1.10 to +0.11, lower in 5 of 6, load 9-14) in another: not resolved from the noise. Nor would
	 * leaving a scan far behind the tail out of the cache (as Kafka leaves old segments to the page cache) help here:
	 * no page cache lies beneath, and that reader would get less from memory, not more.
	 */
	readUpTo(batches: readonly CachedBatch[]): void {
		if (this.#closed || batches.length === 0) return;
		assert((batches.at(-1) as CachedBatch).baseOffset < this.windowBase, "rows below window");
		const bytes = batches.reduce((n, b) => n + heapBytes(b), 0);
		// Room is what is free or held by idle objects; a window's own reader takes no live one's.
		if (this.#start < this.window.length && this.pool.bytes - this.pool.idleBytes(this) + bytes > this.pool.bytesMax) return;
		this.usedMs = this.#readMs = this.pool.now();
		this.#aheadStopped = false;
		if (this.paging !== null && this.paging.baseOffset >= (batches[0] as CachedBatch).baseOffset) this.#dropPaging();
		this.window = [...batches, ...this.window.slice(this.#start)];
		this.#start = 0;
		this.#grow(bytes);
	}

	/** The batch a read below the window stopped inside, for the next page. */
	keepPaging(batch: CachedBatch): void {
		if (this.#closed || batch.baseOffset >= this.windowBase || this.paging === batch) return;
		this.usedMs = this.pool.now();
		this.#dropPaging();
		this.paging = batch;
		this.#grow(heapBytes(batch));
	}

	/** Forgets every batch starting at or before `baseOffset`: rows there were rewritten or deleted. */
	forgetThrough(baseOffset: number): void {
		if (this.paging !== null && this.paging.baseOffset <= baseOffset) this.#dropPaging();
		let bytes = 0;
		while (this.#start < this.window.length && (this.window[this.#start] as CachedBatch).baseOffset <= baseOffset) {
			bytes += heapBytes(this.window[this.#start] as CachedBatch);
			this.window[this.#start++] = undefined;
		}
		this.#shrink(bytes);
	}

	/** @internal The pool needs room: the paging batch goes first, then the window's oldest batch. */
	evictOne(): void {
		if (this.paging !== null) {
			this.#dropPaging();
			return;
		}
		const oldest = this.window[this.#start];
		assert(oldest !== undefined, "room needs batch");
		this.forgetThrough(oldest.baseOffset);
	}

	/** @internal Superseded by a newer instance of the object: empty, and taking nothing more. */
	close(): void {
		this.forgetThrough(Number.POSITIVE_INFINITY);
		this.#closed = true;
	}

	#dropPaging(): void {
		if (this.paging === null) return;
		const bytes = heapBytes(this.paging);
		this.paging = null;
		this.#shrink(bytes);
	}

	#grow(bytes: number): void {
		this.bytes += bytes;
		this.pool.grew(this, bytes);
	}

	#shrink(bytes: number): void {
		if (this.#start === this.window.length) {
			this.window = [];
			this.#start = 0;
		} else if (this.#start * 2 > this.window.length) {
			// Evictions advance `start`; the array is cut now and then rather than shifted on each.
			this.window = this.window.slice(this.#start);
			this.#start = 0;
		}
		if (bytes === 0) return;
		this.bytes -= bytes;
		this.pool.shrank(this, bytes);
	}
}

/** The isolate's pool: every `PartitionLog` in it shares `BATCH_CACHE_BYTES_MAX`. */
export const isolateBatchCachePool = new BatchCachePool(BATCH_CACHE_BYTES_MAX);

/** A new cache for a `PartitionLog` (by its id) in this isolate's pool. */
export function openBatchCache(objectId: string): BatchCache {
	return isolateBatchCachePool.open(objectId);
}
