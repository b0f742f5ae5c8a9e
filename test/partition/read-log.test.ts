/**
 * `readLog` as a whole, over seeded random batches (compaction gaps inside and at the end, some values not ASCII)
 * stored in a real partition object's table, against the all-line-by-line read it was before batches were cut as
 * one substring: the same answer for any offset, record and byte limit (bytes carried across batches included).
 * Replay a run with `SIM_SEED=<seed> npx vitest run test/partition/read-log.test.ts`.
 */

import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readLog } from "../../src/partition/log-store.ts";
import { utf8ByteLength } from "../../src/shared/json.ts";
import { encodeLine, lineOffset, RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";
import { seededRandom, seedsToRun } from "../support/seed.ts";
import { partitionStubById } from "../support/stubs.ts";

const SEEDS = seedsToRun([11, 12, 13]);
const CASES_PER_SEED = 400;

/** A stored batch from `base`: rising offsets with random gaps, values of random length (some short, some not ASCII). */
function batch(random: () => number, base: number): { records: string; lastOffset: number } {
	const count = 1 + Math.floor(random() * 40);
	const lines: string[] = [];
	let offset = base;
	for (let i = 0; i < count; i++) {
		const value = random() < 0.2 ? "é€😀".repeat(1 + Math.floor(random() * 3)) : "v".repeat(Math.floor(random() * 200));
		lines.push(encodeLine(3, offset, 1_700_000_000_000 + i, `"key":null,"value":${JSON.stringify(value)},"headers":[]}`));
		offset += random() < 0.25 ? 2 + Math.floor(random() * 5) : 1;
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
					sql.exec(
						"INSERT INTO batches (base_offset, last_offset, record_count, max_timestamp, timestamp_high, bytes, records) VALUES (?, ?, ?, 0, 0, ?, ?)",
						b.baseOffset,
						b.lastOffset,
						b.recordCount,
						b.bytes,
						b.records,
					);
				}
				const failed: string[] = [];
				for (let i = 0; i < CASES_PER_SEED; i++) {
					const offset = Math.floor(random() * (base + 1));
					const maxRecords = 1 + Math.floor(random() * 120);
					const maxBytes = random() < 0.5 ? 16 * 1024 * 1024 : 1 + Math.floor(random() * 20_000);
					const expected = referenceRead(batches, offset, maxRecords, maxBytes);
					const actual = readLog(sql, offset, maxRecords, maxBytes);
					if (JSON.stringify(actual) !== JSON.stringify(expected)) failed.push(`offset ${offset}, max ${maxRecords}, bytes ${maxBytes}`);
				}
				return failed;
			});
			expect(mismatches).toEqual([]);
		});
	}
});
