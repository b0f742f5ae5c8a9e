/**
 * `readLog` as a whole, over seeded random batches (half with compaction gaps inside and at the end, some values not ASCII)
 * stored in a real partition object's table, against the all-line-by-line read it was before batches were cut as
 * one substring: the same answer for any offset, record and byte limit (bytes carried across batches included),
 * with and without a batch cache (batch-cache.ts), ample or short of room; and the same answer as UTF-8 bytes
 * (`readLogUtf8`, the fetch route's read), on the same caches; and, read as a poll reads (`withEnds`), where each
 * part's records end, as a search of its bytes finds them.
 * Replay a run with `SIM_SEED=<seed> npx vitest run test/partition/read-log.test.ts`.
 */

import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BatchCachePool, type CachedBatch } from "../../src/partition/batch-cache.ts";
import { type LogSlice, readLog, readLogUtf8 } from "../../src/partition/log-store.ts";
import type { Utf8Parts } from "../../src/partition/types.ts";
import { utf8ByteLength } from "../../src/shared/json.ts";
import { encodeLine, lineOffset, RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";
import { recordEnds } from "../../src/shared/record-scan.ts";
import { heldBatches } from "../support/held-batches.ts";
import { seededRandom, seedsToRun } from "../support/seed.ts";
import { partitionStubById } from "../support/stubs.ts";

const SEEDS = seedsToRun([11, 12, 13]);
const CASES_PER_SEED = 400;

/** A stored batch from `base`: rising offsets with random gaps, values of random length (some short, some not ASCII, some batches large). */
function batch(random: () => number, base: number): { records: string; lastOffset: number } {
	const count = 1 + Math.floor(random() * 40);
	// Some batches of a few hundred KB, as group commits store them.
	const valueChars = random() < 0.3 ? 8_000 : 200;
	const lines: string[] = [];
	// Half the batches dense (no gap): cut by counting lines, and paged on from where the last cut stopped.
	const gaps = random() < 0.5;
	let offset = base;
	for (let i = 0; i < count; i++) {
		const value = random() < 0.2 ? "é€😀".repeat(1 + Math.floor(random() * 3)) : "v".repeat(Math.floor(random() * valueChars));
		lines.push(encodeLine(3, offset, 1_700_000_000_000 + i, `"key":null,"value":${JSON.stringify(value)},"headers":[]}`));
		offset += gaps && random() < 0.25 ? 2 + Math.floor(random() * 5) : 1;
	}
	// Compaction may also drop the records at the batch's end: its range then ends past its last record.
	const lastOffset = offset - 1 + (random() < 0.2 ? Math.floor(random() * 5) : 0);
	return { records: lines.join(RECORD_SEPARATOR), lastOffset };
}

/** `readLog` as it was: every batch it cannot take whole walked line by line, each line sized. */
function referenceRead(batches: readonly StoredBatch[], offset: number, maxRecords: number, maxBytes: number) {
	const parts: string[] = [];
	let recordCount = 0;
	let bytes = 0;
	let nextOffset = offset;
	const first = batches.findLastIndex((b) => b.baseOffset <= offset);
	for (const row of batches.slice(Math.max(0, first))) {
		if (row.lastOffset < offset) continue;
		if (row.baseOffset >= offset && recordCount + row.recordCount <= maxRecords && bytes + row.bytes <= maxBytes) {
			parts.push(row.records);
			recordCount += row.recordCount;
			bytes += row.bytes;
		} else {
			let complete = true;
			for (const line of row.records.split(RECORD_SEPARATOR)) {
				const at = lineOffset(line);
				if (at < offset) continue;
				const lineBytes = utf8ByteLength(line) + RECORD_SEPARATOR.length;
				if (recordCount > 0 && (recordCount >= maxRecords || bytes + lineBytes > maxBytes)) {
					complete = false;
					break;
				}
				parts.push(line);
				recordCount++;
				bytes += lineBytes;
				nextOffset = at + 1;
			}
			if (!complete) break;
		}
		nextOffset = row.lastOffset + 1;
		if (recordCount >= maxRecords || bytes >= maxBytes) break;
	}
	return { records: parts.join(RECORD_SEPARATOR), recordCount, nextOffset };
}

/** A UTF-8 read as its text read would be: the bytes decoded strictly (a cut inside a character fails), as JSON. */
function asText(slice: LogSlice<Utf8Parts>): string {
	const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
	const records = slice.records.map((part) => decoder.decode(part)).join(RECORD_SEPARATOR);
	return JSON.stringify({ records, recordCount: slice.recordCount, nextOffset: slice.nextOffset });
}

/**
 * What is wrong with a read's record ends (`withEnds`), if anything: each part's must be where a search of its bytes
 * finds its records end, each in a buffer of its own (so no more than it crosses the RPC). Null when right.
 */
function endsProblem(slice: LogSlice<Utf8Parts>): string | null {
	const ends = slice.recordEnds;
	if (ends === undefined || ends.length !== slice.records.length) return "no record ends per part";
	for (const [i, part] of slice.records.entries()) {
		const given = ends[i];
		// A part cut from a text batch that is not ASCII has none: its reader searches it.
		if (given === null || given === undefined) continue;
		if (given.byteLength !== given.buffer.byteLength) return `part ${i}: its ends share a buffer`;
		if (given.join() !== recordEnds(part).join()) return `part ${i}: ends ${given.join()} where a search finds ${recordEnds(part).join()}`;
	}
	return null;
}

interface StoredBatch {
	readonly baseOffset: number;
	readonly lastOffset: number;
	readonly recordCount: number;
	readonly bytes: number;
	readonly records: string;
}

describe("readLog", () => {
	for (const seed of SEEDS) {
		it(`answers what the line-by-line read answered (seed ${seed})`, async () => {
			console.log(`read-log seed ${seed}`);
			const random = seededRandom(seed);
			const batches: StoredBatch[] = [];
			let base = 0;
			for (let i = 0; i < 30; i++) {
				const { records, lastOffset } = batch(random, base);
				const lines = records.split(RECORD_SEPARATOR);
				const bytes = lines.reduce((n, line) => n + utf8ByteLength(line) + RECORD_SEPARATOR.length, 0);
				batches.push({ baseOffset: base, lastOffset, recordCount: lines.length, bytes, records });
				base = lastOffset + 1 + (random() < 0.1 ? 3 : 0);
			}
			const stub = partitionStubById(crypto.randomUUID());
			const mismatches = await runInDurableObject(stub, (_, state) => {
				const sql = state.storage.sql;
				for (const b of batches) {
					// Record ends as the append writes them, none (a row from before v7), or stale ones (a row an older
					// version rewrote): the reads must answer right whatever the column holds.
					const ends = recordEnds(new TextEncoder().encode(b.records));
					const pick = random();
					const stale = ends.map((end, k) => (k === 0 && ends.length > 1 ? end + 1 : end));
					const column = pick < 0.5 ? ends.buffer : pick < 0.75 ? null : stale.buffer;
					sql.exec(
						"INSERT INTO batches (base_offset, last_offset, record_count, max_timestamp, timestamp_high, bytes, records, record_ends) VALUES (?, ?, ?, 0, 0, ?, ?, ?)",
						b.baseOffset,
						b.lastOffset,
						b.recordCount,
						b.bytes,
						b.records,
						column,
					);
				}
				const failed: string[] = [];
				// The offset after the last record, as the partition passes it: a page that fills up exactly there reached it.
				const logEnd = (batches.at(-1) as StoredBatch).lastOffset + 1;
				// One cache across all the reads, as a partition keeps it: random offsets land in its window or its paging
				// batch. A second, short of room (a few batches), keeps evicting.
				const cache = new BatchCachePool(16 * 1024 * 1024).open("ample");
				const short = new BatchCachePool(300_000).open("short");
				for (let i = 0; i < CASES_PER_SEED; i++) {
					const offset = Math.floor(random() * (base + 1));
					const maxRecords = 1 + Math.floor(random() * 120);
					const maxBytes = random() < 0.5 ? 16 * 1024 * 1024 : 1 + Math.floor(random() * 200_000);
					const expected = JSON.stringify(referenceRead(batches, offset, maxRecords, maxBytes));
					if (JSON.stringify(readLog(sql, offset, maxRecords, maxBytes)) !== expected)
						failed.push(`offset ${offset}, max ${maxRecords}, bytes ${maxBytes}`);
					if (JSON.stringify(readLog(sql, offset, maxRecords, maxBytes, cache, logEnd)) !== expected)
						failed.push(`cached: offset ${offset}, max ${maxRecords}, bytes ${maxBytes}`);
					if (JSON.stringify(readLog(sql, offset, maxRecords, maxBytes, short, logEnd)) !== expected)
						failed.push(`short: offset ${offset}, max ${maxRecords}, bytes ${maxBytes}`);
					// The same reads as UTF-8 (the fetch route's), each on the cache as the text read left it.
					for (const [label, held] of [
						["utf8", null],
						["utf8 cached", cache],
						["utf8 short", short],
					] as const) {
						if (asText(readLogUtf8(sql, offset, maxRecords, maxBytes, held, false, logEnd)) !== expected)
							failed.push(`${label}: offset ${offset}, max ${maxRecords}, bytes ${maxBytes}`);
						// A poll's read (`withEnds`): the same records, and where each part's records end.
						const withEnds = readLogUtf8(sql, offset, maxRecords, maxBytes, held, true, logEnd);
						if (asText(withEnds) !== expected) failed.push(`${label} with ends: offset ${offset}, max ${maxRecords}, bytes ${maxBytes}`);
						const problem = endsProblem(withEnds);
						if (problem !== null) failed.push(`${label} with ends: offset ${offset}: ${problem}`);
						// Without a cache every batch is a row read as bytes: each part comes with its ends.
						else if (held === null && withEnds.recordEnds?.some((e) => e === null))
							failed.push(`utf8 with ends: offset ${offset}: a part without`);
					}
				}
				// Consumers paging from the start on next_offset: every page after the first starts in the paging batch
				// or the window. A fresh cache, so that the window starts empty.
				const paging = new BatchCachePool(16 * 1024 * 1024).open("paging");
				for (const reader of [paging, short]) {
					for (let offset = 0, pages = 0; offset < base && pages < 1000; pages++) {
						const maxRecords = 1 + Math.floor(random() * 30);
						const expected = referenceRead(batches, offset, maxRecords, 16 * 1024 * 1024);
						// Text and UTF-8 pages in turn, as text and fetch readers share a partition's cache.
						const actual =
							pages % 2 === 0
								? JSON.stringify(readLog(sql, offset, maxRecords, 16 * 1024 * 1024, reader, logEnd))
								: asText(readLogUtf8(sql, offset, maxRecords, 16 * 1024 * 1024, reader, false, logEnd));
						if (actual !== JSON.stringify(expected)) failed.push(`paging: offset ${offset}, max ${maxRecords}`);
						offset = expected.nextOffset;
					}
				}
				// The walks reached the end of the log: the ample caches hold it all, from memory.
				if (heldBatches(cache).length !== batches.length) failed.push(`the ample cache holds ${heldBatches(cache).length} batches`);
				if (cache.hits === 0 || paging.hits === 0 || short.hits === 0) failed.push("a cache was never read");
				return failed;
			});
			expect(mismatches).toEqual([]);
		});
	}

	it("refuses a cached batch whose row changed under it, rather than answer stale text", async () => {
		const line = (offset: number, value: string) =>
			encodeLine(0, offset, 1_700_000_000_000, `"key":"k${offset}","value":"${value}","headers":[]}`);
		const before = [line(0, "a"), line(1, "b"), line(2, "c"), line(3, "d")];
		const after = [line(0, "a"), line(2, "c"), line(3, "d")];
		const stub = partitionStubById(crypto.randomUUID());
		const reads = await runInDurableObject(stub, (_, state) => {
			const sql = state.storage.sql;
			const store = (lines: string[]) =>
				sql.exec(
					"INSERT OR REPLACE INTO batches (base_offset, last_offset, record_count, max_timestamp, timestamp_high, bytes, records) VALUES (0, 3, ?, 0, 0, ?, ?)",
					lines.length,
					lines.reduce((n, l) => n + l.length + RECORD_SEPARATOR.length, 0),
					lines.join(RECORD_SEPARATOR),
				);
			// A second batch, so the first read stops inside the first one: it is kept as the paging batch.
			sql.exec(
				"INSERT INTO batches (base_offset, last_offset, record_count, max_timestamp, timestamp_high, bytes, records) VALUES (4, 4, 1, 0, 0, ?, ?)",
				line(4, "e").length + RECORD_SEPARATOR.length,
				line(4, "e"),
			);
			store(before);
			const cache = new BatchCachePool(1 << 20).open("rewritten");
			const first = readLog(sql, 0, 2, 1 << 20, cache);
			const paging = cache.pagingBase;
			// Compaction's rewrite, without the `forgetThrough` every rewrite makes: the read must not go on.
			store(after);
			let stale: string | null = null;
			try {
				readLog(sql, 1, 10, 1 << 20, cache);
			} catch (error) {
				stale = String(error);
			}
			cache.forgetThrough(0);
			return { first, paging, stale, second: readLog(sql, 1, 10, 1 << 20, cache) };
		});
		expect(reads.first.records).toBe(before.slice(0, 2).join(RECORD_SEPARATOR));
		expect(reads.paging).toBe(0);
		expect(reads.stale).toContain("cache is row");
		// From offset 1 the old text still holds record 1; the rewritten batch does not.
		expect(reads.second).toEqual({ records: [...after.slice(1), line(4, "e")].join(RECORD_SEPARATOR), recordCount: 3, nextOffset: 5 });
	});

	it("takes the cached batches' text instead of reading the rows again", async () => {
		const lines = [0, 1, 2, 3].map((offset) => encodeLine(0, offset, 1, `"key":null,"value":"v${offset}","headers":[]}`));
		const stub = partitionStubById(crypto.randomUUID());
		const reads = await runInDurableObject(stub, (_, state) => {
			const sql = state.storage.sql;
			const rows = [lines.slice(0, 3), lines.slice(3)].map((part, i) => ({
				baseOffset: i * 3,
				lastOffset: i * 3 + part.length - 1,
				recordCount: part.length,
				bytes: part.reduce((n, l) => n + l.length + RECORD_SEPARATOR.length, 0),
				text: part.join(RECORD_SEPARATOR),
			}));
			for (const row of rows) {
				sql.exec(
					"INSERT INTO batches (base_offset, last_offset, record_count, max_timestamp, timestamp_high, bytes, records) VALUES (?, ?, ?, 0, 0, ?, ?)",
					row.baseOffset,
					row.lastOffset,
					row.recordCount,
					row.bytes,
					row.text,
				);
			}
			// Marked copies of the same batches (same columns): only a read that skipped the rows can answer them.
			const marked = (row: CachedBatch): CachedBatch => ({ ...row, text: row.text.replace(/"v(\d)"/g, '"w$1"') });
			const [older, newer] = rows as [CachedBatch, CachedBatch];
			const cache = new BatchCachePool(1 << 20).open("marked");
			cache.committed([marked(newer)]);
			cache.keepPaging(marked(older));
			return { paged: readLog(sql, 1, 10, 1 << 20, cache), windowed: readLog(sql, 3, 10, 1 << 20, cache) };
		});
		expect(reads.paged.records).toBe(
			lines
				.slice(1)
				.join(RECORD_SEPARATOR)
				.replace(/"v(\d)"/g, '"w$1"'),
		);
		expect(reads.paged).toMatchObject({ recordCount: 3, nextOffset: 4 });
		expect(reads.windowed).toMatchObject({ records: lines[3]?.replace('"v3"', '"w3"'), recordCount: 1, nextOffset: 4 });
	});
});
