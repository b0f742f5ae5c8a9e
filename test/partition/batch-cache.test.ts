/**
 * The batch cache (src/partition/batch-cache.ts): a pool never holds more than its budget, whatever its caches do;
 * objects that all read share it evenly; a reader catching up on a backlog never evicts a tail; a tail read runs
 * no SQL; and, seeded and randomized over real partition objects, reads answer exactly what the SQL path answers
 * across single and group-committed appends, retention, compaction, evictions of the objects and a budget short
 * of room for several objects. Replay a run with `SIM_SEED=<seed> npx vitest run test/partition/batch-cache.test.ts`.
 */

import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import {
	type BatchCache,
	BatchCachePool,
	type CachedBatch,
	heapBytes,
	isolateBatchCachePool,
	Utf8Batch,
} from "../../src/partition/batch-cache.ts";
import { readLog } from "../../src/partition/log-store.ts";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import type { FetchBody } from "../../src/partition/types.ts";
import { BATCH_CACHE_BYTES_MAX, BATCH_CACHE_IDLE_MS } from "../../src/shared/limits.ts";
import { encodeLine, RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";
import { scrapeUntil } from "../metrics/exposition.ts";
import { countGroupWrites } from "../support/group-writes.ts";
import { heldBatches, windowBatches } from "../support/held-batches.ts";
import { uniqueTopic } from "../support/names.ts";
import { seededRandom, seedsToRun } from "../support/seed.ts";
import { countRows } from "../support/sql-rows.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { createTopic, fetchRecords, json, produce } from "../support/worker.ts";

/** A synthetic stored batch of `count` ASCII records of `valueChars` from `base`. */
function synthetic(base: number, count: number, valueChars: number): CachedBatch {
	const lines = Array.from({ length: count }, (_, i) =>
		encodeLine(0, base + i, 1, `"key":null,"value":"${"v".repeat(valueChars)}","headers":[]}`),
	);
	const bytes = lines.reduce((n, l) => n + l.length + RECORD_SEPARATOR.length, 0);
	return { baseOffset: base, lastOffset: base + count - 1, recordCount: count, bytes, text: lines.join(RECORD_SEPARATOR) };
}

/** What a pool's caches hold, checked against its own count and budget; an error names what is wrong. */
function checkPool(pool: BatchCachePool, caches: readonly BatchCache[]): void {
	const held = caches.reduce((n, c) => n + heldBatches(c).reduce((m, b) => m + heapBytes(b), 0), 0);
	if (pool.bytes !== held) throw new Error(`the pool counts ${pool.bytes} bytes; its caches hold ${held}`);
	if (pool.bytes > pool.bytesMax) throw new Error(`the pool holds ${pool.bytes} bytes, over its budget of ${pool.bytesMax}`);
	for (const cache of caches) {
		const offsets = heldBatches(cache).map((b) => b.baseOffset);
		if (offsets.some((o, i) => i > 0 && o <= (offsets[i - 1] as number))) throw new Error(`out of order: ${offsets}`);
	}
}

describe("the batch cache pool", () => {
	for (const seed of seedsToRun([21, 22])) {
		it(`never holds more than its budget, whatever its caches do (seed ${seed})`, () => {
			console.log(`batch-cache pool seed ${seed}`);
			const random = seededRandom(seed);
			const pool = new BatchCachePool(120_000);
			const objects = ["a", "b", "c"].map((id) => ({ id, cache: pool.open(id), next: 0 }));
			for (let step = 0; step < 2_000; step++) {
				const object = objects[Math.floor(random() * objects.length)] as (typeof objects)[number];
				const { cache } = object;
				const roll = random();
				if (roll < 0.5) {
					const batch = synthetic(object.next, 1 + Math.floor(random() * 20), Math.floor(random() * 2_000));
					object.next = batch.lastOffset + 1;
					cache.committed([batch]);
				} else if (roll < 0.65) {
					// A read below the window: batches that end where the window starts.
					const end = Math.min(cache.windowBase, object.next);
					if (end >= 10) cache.readUpTo([synthetic(end - 10, 5, 300), synthetic(end - 5, 5, 300)]);
				} else if (roll < 0.8) {
					const end = Math.min(cache.windowBase, object.next);
					if (end >= 1) cache.keepPaging(synthetic(end - 1, 1, Math.floor(random() * 5_000)));
				} else if (roll < 0.97) {
					cache.forgetThrough(Math.floor(random() * object.next));
				} else {
					// The object restarts: its old cache is emptied (its instance never runs again).
					object.cache = pool.open(object.id);
					if (heldBatches(cache).length > 0) throw new Error("a superseded cache still holds batches");
				}
				checkPool(
					pool,
					objects.map((o) => o.cache),
				);
			}
			expect(pool.bytes).toBeLessThanOrEqual(pool.bytesMax);
		});
	}

	it("shares the budget evenly among objects that all append, and evicts no window for a backlog", () => {
		// Room for 100 batches of one record at a three-digit offset.
		const pool = new BatchCachePool(100 * heapBytes(synthetic(100, 1, 100)));
		const caches = ["a", "b", "c", "d"].map((id) => pool.open(id));
		for (let offset = 0; offset < 400; offset++) for (const cache of caches) cache.committed([synthetic(offset, 1, 100)]);
		// 100 batches of room for 4 objects: 25 each, the newest.
		expect(caches.map((c) => heldBatches(c).length)).toEqual([25, 25, 25, 25]);
		expect(caches.map((c) => c.windowBase)).toEqual([375, 375, 375, 375]);
		// A consumer of "a" catching up on its backlog, reaching the window a page at a time: no room, nothing taken.
		const a = caches[0] as BatchCache;
		for (let page = 0; page < 10; page++) a.readUpTo([synthetic(a.windowBase - 2, 1, 100), synthetic(a.windowBase - 1, 1, 100)]);
		expect(caches.map((c) => c.windowBase)).toEqual([375, 375, 375, 375]);
		// With room (another object restarted, its cache emptied), it grows down into it, and no further.
		pool.open("d");
		for (let page = 0; page < 20; page++) a.readUpTo([synthetic(a.windowBase - 2, 1, 100), synthetic(a.windowBase - 1, 1, 100)]);
		// 25 batches of room, two a page: 12 pages taken, the 13th finds one.
		expect(heldBatches(a).length).toBe(49);
		expect(caches.slice(1, 3).map((c) => c.windowBase)).toEqual([375, 375]);
		checkPool(pool, caches.slice(0, 3));
		// A woken object's tail reader, its window empty, is taken whatever the room: from the object holding most.
		// (99 of 100 held; two more: one batch of "a" goes.)
		const d = pool.open("d");
		d.readUpTo([synthetic(398, 1, 100), synthetic(399, 1, 100)]);
		expect(heldBatches(d).length).toBe(2);
		expect(heldBatches(a).length).toBe(48);
		checkPool(pool, [...caches.slice(0, 3), d]);
	});

	it("gives an idle object's batches up first, and lets a reader take their room", () => {
		const start = 1_000_000;
		let now = start;
		const pool = new BatchCachePool(100 * heapBytes(synthetic(100, 1, 100)), () => now);
		const [a, b, c, d] = ["a", "b", "c", "d"].map((id) => pool.open(id)) as [BatchCache, BatchCache, BatchCache, BatchCache];
		for (let offset = 0; offset < 400; offset++) for (const cache of [a, b, c, d]) cache.committed([synthetic(offset, 1, 100)]);
		// "a" and "d" go on writing a little later; all four are live, so each keeps an equal share.
		now += 5;
		a.committed([synthetic(400, 1, 100)]);
		d.committed([synthetic(400, 1, 100)]);
		expect([a, b, c, d].map((x) => heldBatches(x).length)).toEqual([25, 25, 25, 25]);
		// Not yet idle: live objects' windows are no reader's room.
		now = start + BATCH_CACHE_IDLE_MS - 1;
		const base = a.windowBase;
		a.readUpTo([synthetic(base - 2, 1, 100), synthetic(base - 1, 1, 100)]);
		expect(a.windowBase).toBe(base);
		// "b" and "c" are idle now: their batches go before any live one's ("b" before "c", idle as long).
		now = start + BATCH_CACHE_IDLE_MS;
		for (let offset = 401; offset < 421; offset++) for (const cache of [a, d]) cache.committed([synthetic(offset, 1, 100)]);
		expect([a, b, c, d].map((x) => heldBatches(x).length)).toEqual([45, 0, 10, 45]);
		// A reader of "a" catching up takes the idle "c"'s room, and none of the live "d"'s.
		for (let page = 0; page < 20; page++) a.readUpTo([synthetic(a.windowBase - 2, 1, 100), synthetic(a.windowBase - 1, 1, 100)]);
		expect([a, b, c, d].map((x) => heldBatches(x).length)).toEqual([55, 0, 0, 45]);
		checkPool(pool, [a, b, c, d]);
	});

	it("keeps an unread log's commits as bytes while free or idle room lasts, then none until a reader comes", () => {
		const start = 1_000_000;
		let now = start;
		const unit = heapBytes(synthetic(100, 1, 100));
		const pool = new BatchCachePool(100 * unit, () => now);
		const [live, idle, unread] = ["live", "idle", "unread"].map((id) => pool.open(id)) as [BatchCache, BatchCache, BatchCache];
		for (let offset = 100; offset < 140; offset++) for (const cache of [live, idle]) cache.committed([synthetic(offset, 1, 100)]);
		now += BATCH_CACHE_IDLE_MS;
		live.committed([synthetic(140, 1, 100)]);
		// 19 batches of free room and the idle object's 40: the unread log takes them, as bytes.
		for (let offset = 100; offset < 159; offset++) unread.committedAhead([synthetic(offset, 1, 100)]);
		expect([live, idle, unread].map((c) => heldBatches(c).length)).toEqual([41, 0, 59]);
		expect(heldBatches(unread).every((b) => b.utf8 instanceof Uint8Array)).toBe(true);
		checkPool(pool, [live, idle, unread]);
		// No room left but the live object's: the window cannot reach the next commit, so it goes, and nothing more
		// is kept ahead, though room is free again.
		unread.committedAhead([synthetic(159, 1, 100)]);
		unread.committedAhead([synthetic(160, 1, 100)]);
		expect([live, unread].map((c) => heldBatches(c).length)).toEqual([41, 0]);
		// A reader came: the next commit nobody follows is kept again.
		unread.hit();
		unread.committedAhead([synthetic(161, 1, 100)]);
		expect(unread.windowBase).toBe(161);
		checkPool(pool, [live, idle, unread]);
	});

	it("hands a UTF-8 read a batch held as bytes without decoding its text", () => {
		const text = synthetic(0, 3, 100);
		let decoded = 0;
		// Its text, were it asked for, is decoded from the bytes: counted here.
		const held = new (class extends Utf8Batch {
			override get text(): string {
				decoded++;
				return super.text;
			}
		})(text.baseOffset, text.lastOffset, text.recordCount, text.bytes, new TextEncoder().encode(text.text));
		const cache = new BatchCachePool(1 << 20).open("a");
		cache.committed([held]);
		expect([...cache.from(1, true)]).toEqual([held]);
		expect(decoded).toBe(0);
	});

	it("holds a batch larger than its budget not at all", () => {
		const pool = new BatchCachePool(10_000);
		const cache = pool.open("a");
		cache.committed([synthetic(0, 1, 100)]);
		cache.committed([synthetic(1, 1, 20_000)]);
		expect(heldBatches(cache)).toEqual([]);
		expect(pool.bytes).toBe(0);
		cache.committed([synthetic(2, 1, 100)]);
		expect(cache.windowBase).toBe(2);
	});

	it("counts two bytes a character for text V8 may hold in two-byte strings", () => {
		const ascii = synthetic(0, 1, 1000);
		const wide = { ...ascii, text: ascii.text.replace("vv", "€"), bytes: ascii.bytes + 1 };
		expect(heapBytes(wide) - heapBytes(ascii)).toBe(wide.text.length - 1);
	});

	it("references no batch it evicted: its window array holds only what it counts", () => {
		// Room for about eight batches; a writer commits a hundred, each evicting the oldest.
		const pool = new BatchCachePool(8 * heapBytes(synthetic(99, 1, 1_000)));
		const cache = pool.open("a");
		const window = () => (cache as unknown as { window: (CachedBatch | undefined)[] }).window;
		for (let base = 0; base < 100; base++) {
			cache.committed([synthetic(base, 1, 1_000)]);
			const referenced = windowBatches(cache);
			expect(referenced.reduce((n, b) => n + heapBytes(b), 0)).toBe(cache.bytes);
			expect(referenced.map((b) => b.baseOffset)).toEqual(
				Array.from({ length: referenced.length }, (_, i) => base + 1 - referenced.length + i),
			);
			expect(window().length).toBeLessThanOrEqual(2 * referenced.length + 1);
		}
		expect(heldBatches(cache).length).toBe(8);
	});
});

interface ReadCheck {
	readonly label: string;
	readonly offset: number;
	readonly maxRecords: number;
	readonly maxBytes: number;
}

/** Decodes strictly: the same text is the same bytes. */
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * In the object: each read answered by the partition (its cache) and by the SQL path alone, compared; then what its
 * cache holds, compared with the rows. Answers the mismatches.
 */
async function compareReads(stub: DurableObjectStub<PartitionLog>, topicId: string, checks: (hw: number, start: number) => ReadCheck[]) {
	return runInDurableObject(stub, async (instance: PartitionLog, state) => {
		const sql = state.storage.sql;
		const { highWatermark, logStartOffset } = instance.offsets();
		const failed: string[] = [];
		const next = new Map<string, number>();
		const bodies: { label: string; body: FetchBody; records: string; nextOffset: number }[] = [];
		for (const check of checks(highWatermark, logStartOffset)) {
			const answer = await instance.read({
				topicId,
				offset: check.offset,
				maxRecords: check.maxRecords,
				maxBytes: check.maxBytes,
				waitMs: 0,
			});
			if (!answer.ok || "remote" in answer.value) {
				failed.push(`${check.label}: ${JSON.stringify(answer)}`);
				continue;
			}
			const { records, recordCount, nextOffset } = answer.value;
			next.set(check.label, nextOffset);
			const expected = readLog(sql, check.offset, check.maxRecords, check.maxBytes);
			if (records !== expected.records || recordCount !== expected.recordCount || nextOffset !== expected.nextOffset) {
				failed.push(
					`${check.label} at ${check.offset} (max ${check.maxRecords}, ${check.maxBytes} B): ${recordCount} → ${nextOffset}, SQL ${expected.recordCount} → ${expected.nextOffset}`,
				);
			}
			// The fetch route's read, right after (the cache as the first left it): the same page, as its UTF-8.
			const bytes = await instance.readUtf8({
				topicId,
				offset: check.offset,
				maxRecords: check.maxRecords,
				maxBytes: check.maxBytes,
				waitMs: 0,
			});
			if (!bytes.ok || "remote" in bytes.value) {
				failed.push(`${check.label} as UTF-8: ${JSON.stringify(bytes)}`);
				continue;
			}
			// Decoded strictly: the same text is the same bytes.
			const sameBytes = bytes.value.records.map((part) => decoder.decode(part)).join(RECORD_SEPARATOR) === expected.records;
			if (!sameBytes || bytes.value.recordCount !== expected.recordCount || bytes.value.nextOffset !== expected.nextOffset) {
				failed.push(`${check.label} at ${check.offset} as UTF-8: ${bytes.value.recordCount} → ${bytes.value.nextOffset}, not the SQL page`);
			}
			// And as the fetch route's whole body, built by the partition: the SQL page in its envelope, and its size.
			const page = await instance.readFetchBody({
				topicId,
				offset: check.offset,
				maxRecords: check.maxRecords,
				maxBytes: check.maxBytes,
				waitMs: 0,
			});
			if (!page.ok || "remote" in page.value) {
				failed.push(`${check.label} as a body: ${JSON.stringify(page)}`);
				continue;
			}
			bodies.push({
				label: `${check.label} at ${check.offset}`,
				body: page.value,
				records: expected.records,
				nextOffset: expected.nextOffset,
			});
		}
		// What the cache holds is the rows as stored, and its window is every row from its base on.
		const cache = (instance as unknown as { hot: BatchCache }).hot;
		for (const batch of heldBatches(cache)) {
			const row = sql
				.exec<{ last_offset: number; bytes: number; records: string }>(
					"SELECT last_offset, bytes, records FROM batches WHERE base_offset = ?",
					batch.baseOffset,
				)
				.toArray()[0];
			if (row?.records !== batch.text || row.bytes !== batch.bytes || row.last_offset !== batch.lastOffset) {
				failed.push(`cached batch ${batch.baseOffset} is not its row`);
			}
		}
		if (cache.windowBase !== Number.POSITIVE_INFINITY) {
			const rows = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM batches WHERE base_offset >= ?", cache.windowBase).one().n;
			const held = heldBatches(cache).filter((b) => b.baseOffset >= cache.windowBase).length;
			if (rows !== held) failed.push(`window from ${cache.windowBase}: ${held} batches, ${rows} rows`);
		}
		// The bodies are read last: reading a stream lets an alarm in, which may move the log start under the checks.
		for (const { label, body, records, nextOffset } of bodies) {
			const bytes = new Uint8Array(await new Response(body.body).arrayBuffer());
			const text = decoder.decode(bytes);
			const head = `{"records":[${records}],`;
			const envelope = text.startsWith(head) ? (JSON.parse(`{${text.slice(head.length)}`) as Record<string, number>) : null;
			if (envelope?.next_offset !== nextOffset || body.bytes !== bytes.byteLength) {
				failed.push(`${label} as a body: ${body.bytes} B, not the SQL page in its envelope`);
			}
		}
		return { failed, next, hits: cache.hits };
	});
}

describe("reads with the cache", () => {
	afterEach(() => {
		isolateBatchCachePool.bytesMax = BATCH_CACHE_BYTES_MAX;
	});

	for (const seed of seedsToRun([31, 32])) {
		it(`answer what the SQL path answers across appends, retention, compaction, evictions and a short budget (seed ${seed})`, async () => {
			console.log(`batch-cache reads seed ${seed}`);
			const random = seededRandom(seed);
			// Room for a few dozen small batches across four objects: evictions all the time.
			isolateBatchCachePool.bytesMax = 40_000;
			const plain = uniqueTopic("hot");
			const compacted = uniqueTopic("hot-compact");
			await createTopic(plain, 3, { "retention.bytes": 30_000 });
			await createTopic(compacted, 1, { "cleanup.policy": "compact" });
			const partitions = [...[0, 1, 2].map((partition) => ({ topic: plain, partition })), { topic: compacted, partition: 0 }];
			const topicIds = new Map([
				[plain, await topicIdOf(plain)],
				[compacted, await topicIdOf(compacted)],
			]);
			const pagers = new Map<string, number>();
			const failures: string[] = [];
			// What the run must have gone through for its comparisons to mean anything.
			const seen = { hits: false, grouped: false, full: false };
			const record = (partition: number) => {
				const chars = Math.floor(random() * (random() < 0.2 ? 3_000 : 200));
				const value = random() < 0.2 ? "é€😀".repeat(1 + Math.floor(chars / 50)) : "v".repeat(chars);
				return { key: `k${Math.floor(random() * 8)}`, value, partition };
			};
			for (let step = 0; step < 120; step++) {
				const { topic, partition } = partitions[Math.floor(random() * partitions.length)] as (typeof partitions)[number];
				const stub = await partitionStub(topic, partition);
				const roll = random();
				if (roll < 0.35) {
					await produce(
						topic,
						Array.from({ length: 1 + Math.floor(random() * 5) }, () => record(partition)),
					);
				} else if (roll < 0.55) {
					// Concurrent requests: group-committed, several to a stored batch.
					const writes = await runInDurableObject(stub, (instance: PartitionLog) => countGroupWrites(instance));
					await Promise.all(Array.from({ length: 2 + Math.floor(random() * 6) }, () => produce(topic, [record(partition)])));
					seen.grouped ||= writes.largestGroup > 1;
				} else if (roll < 0.65) {
					await runDurableObjectAlarm(stub);
				} else if (roll < 0.72) {
					await runInDurableObject(stub, (_, state) => state.storage.sql.exec("UPDATE partition_state SET compaction_due_ms = 0"));
					await runDurableObjectAlarm(stub);
				} else if (roll < 0.75) {
					await abortAllDurableObjects();
				}
				const key = `${topic}/${partition}`;
				const { failed, next, hits } = await compareReads(stub, topicIds.get(topic) as string, (hw, start) => {
					const span = hw - start;
					const pager = pagers.get(key) ?? start;
					const paging = pager < start || pager > hw ? start : pager;
					return [
						{
							label: "tail",
							offset: Math.max(start, hw - Math.floor(random() * 6)),
							maxRecords: 1 + Math.floor(random() * 20),
							maxBytes: 1 << 20,
						},
						{
							label: "any",
							offset: start + Math.floor(random() * (span + 1)),
							maxRecords: 1 + Math.floor(random() * 50),
							maxBytes: 1 + Math.floor(random() * 20_000),
						},
						{ label: "pager", offset: paging, maxRecords: 1 + Math.floor(random() * 7), maxBytes: 1 << 20 },
					];
				});
				pagers.set(key, next.get("pager") ?? 0);
				seen.hits ||= hits > 0;
				seen.full ||= isolateBatchCachePool.bytes > isolateBatchCachePool.bytesMax / 2;
				failures.push(...failed.map((f) => `step ${step}, ${key}: ${f}`));
				if (isolateBatchCachePool.bytes > isolateBatchCachePool.bytesMax) failures.push(`step ${step}: the pool is over its budget`);
			}
			expect(failures).toEqual([]);
			expect(seen).toEqual({ hits: true, grouped: true, full: true });
		});
	}

	it("brings the window in for a reader whose pages end exactly at the end of the log, then at the window", async () => {
		const topic = uniqueTopic("exact-end");
		await createTopic(topic);
		// Two appends, two stored batches of two records: pages of two end exactly at a batch's end.
		await produce(topic, [{ value: "a" }, { value: "b" }]);
		await produce(topic, [{ value: "c" }, { value: "d" }]);
		// A new instance opens an empty cache: what the appends kept ahead is gone, as after a wake-up.
		await abortAllDurableObjects();
		const topicId = await topicIdOf(topic);
		const rows = await runInDurableObject(await partitionStub(topic), async (instance: PartitionLog, state) => {
			const read = async (offset: number, maxRecords: number) => {
				const counted = await countRows(
					state.storage.sql,
					() => instance.read({ topicId, offset, maxRecords, maxBytes: 1 << 20, waitMs: 0 }),
					true,
				);
				const answer = counted.result;
				if (!answer.ok || "remote" in answer.value) throw new Error(`expected a local read: ${JSON.stringify(answer)}`);
				return { rowsRead: counted.rowsRead, recordCount: answer.value.recordCount, nextOffset: answer.value.nextOffset };
			};
			// The newest batch, its page full at the log's end; then the batch below, its page full at the window.
			const last = await read(2, 2);
			const below = await read(0, 2);
			// Both now in the window: a read over them runs no SQL.
			const again = await read(0, 4);
			return { last, below, again };
		});
		expect(rows.last).toMatchObject({ recordCount: 2, nextOffset: 4 });
		expect(rows.last.rowsRead).toBeGreaterThan(0);
		expect(rows.below).toMatchObject({ recordCount: 2, nextOffset: 2 });
		expect(rows.below.rowsRead).toBeGreaterThan(0);
		expect(rows.again).toEqual({ rowsRead: 0, recordCount: 4, nextOffset: 4 });
	});

	it("answers a read at the end of the log empty with no SQL, even with nothing cached", async () => {
		const topic = uniqueTopic("at-end");
		await createTopic(topic);
		await produce(topic, [{ value: "a" }, { value: "b" }]);
		// A new instance: its cache is empty, so only the log's end can tell the read there is nothing to walk.
		await abortAllDurableObjects();
		const topicId = await topicIdOf(topic);
		const counted = await runInDurableObject(await partitionStub(topic), (instance: PartitionLog, state) =>
			countRows(state.storage.sql, () => instance.read({ topicId, offset: 2, maxRecords: 10, maxBytes: 1 << 20, waitMs: 0 }), true),
		);
		expect(counted.rowsRead).toBe(0);
		expect(counted.result).toMatchObject({ ok: true, value: { records: "", recordCount: 0, nextOffset: 2, highWatermark: 2 } });
	});

	it("answers a tail read from memory, with no SQL", async () => {
		const topic = uniqueTopic("hot-tail");
		await createTopic(topic);
		await produce(topic, [{ value: "a" }, { value: "b" }]);
		// A reader at the tail: its walk to the end of the log brings the window in, and commits then join it.
		expect((await fetchRecords(topic, 0, "offset=0")).records).toHaveLength(2);
		await produce(topic, [{ value: "c" }]);
		const topicId = await topicIdOf(topic);
		const counted = await runInDurableObject(await partitionStub(topic), (instance: PartitionLog, state) =>
			countRows(state.storage.sql, () => instance.read({ topicId, offset: 1, maxRecords: 10, maxBytes: 1 << 20, waitMs: 0 }), true),
		);
		expect(counted.rowsRead).toBe(0);
		const read = counted.result;
		if (!read.ok || "remote" in read.value) throw new Error(`expected a local read: ${JSON.stringify(read)}`);
		expect(read.value.records).toContain('"value":"b"');
		expect(read.value).toMatchObject({ recordCount: 2, nextOffset: 3, highWatermark: 3 });
		// The same read over HTTP, counted in /metrics beside the SQL cursor counters.
		const hits = `tributary_storage_cache_hits_total{class="PartitionLog"}`;
		const before = (await scrapeUntil(() => true)).get(hits) ?? 0;
		expect((await fetchRecords(topic, 0, "offset=2")).records.map((r: { value: unknown }) => r.value)).toEqual(["c"]);
		const samples = await scrapeUntil((s) => (s.get(hits) ?? 0) > before);
		expect(samples.get(hits)).toBeGreaterThan(before);
		expect(samples.has(`tributary_storage_cache_misses_total{class="PartitionLog"}`)).toBe(true);
		expect(await json("GET", `/v1/topics/${topic}`, 200)).toMatchObject({ partitions: [{ high_watermark: 3 }] });
	});
});
