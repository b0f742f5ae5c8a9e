/**
 * Test support for tiered storage reads: moves a partition's oldest stored batches into R2 segments exactly as the
 * contract with the offloader says (segment.ts body and index, a `remote_segments` row per object, the local log
 * start advanced, the batches deleted, in one transaction after the object is written), so read paths can be
 * checked across the local log start independently of when the offloader runs.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { encodeSegment, type SegmentBatch, segmentKey, serializeSegmentIndex } from "../../src/partition/tiering/segment.ts";
import { partitionStub } from "./stubs.ts";
import { type FetchedRecord, fetchRecords } from "./worker.ts";

interface BatchRow extends Record<string, SqlStorageValue> {
	base_offset: number;
	last_offset: number;
	record_count: number;
	timestamp_high: number;
	bytes: number;
	records: string;
}

/**
 * Moves every local batch that ends below `upTo` to R2, `batchesPerSegment` batches per object. Returns the new
 * local log start offset (the first batch left local).
 */
export async function offloadBatches(topic: string, upTo: number, batchesPerSegment = 3, partition = 0): Promise<number> {
	const stub = await partitionStub(topic, partition);
	return runInDurableObject(stub, async (instance, state) => {
		const sql = state.storage.sql;
		const { topic_id: topicId } = sql.exec<{ topic_id: string }>("SELECT topic_id FROM partition_state WHERE id = 1").one();
		const rows = sql.exec<BatchRow>("SELECT * FROM batches WHERE last_offset < ? ORDER BY base_offset", upTo).toArray();
		for (let i = 0; i < rows.length; i += batchesPerSegment) {
			const group = rows.slice(i, i + batchesPerSegment);
			const batches: SegmentBatch[] = group.map((r) => ({
				baseOffset: r.base_offset,
				lastOffset: r.last_offset,
				recordCount: r.record_count,
				timestampHigh: r.timestamp_high,
				records: r.records,
			}));
			const { body, entries } = encodeSegment(batches);
			const first = group[0] as BatchRow;
			const last = group.at(-1) as BatchRow;
			// A segment weighs what its batches weighed locally (manifest.ts), not its object's size.
			const segmentBytes = group.reduce((n, r) => n + r.bytes, 0);
			const key = segmentKey(topicId, partition, first.base_offset, crypto.randomUUID().replaceAll("-", ""));
			await env.SEGMENTS.put(key, body);
			state.storage.transactionSync(() => {
				sql.exec(
					"INSERT INTO remote_segments (base_offset, last_offset, object_key, bytes, record_count, timestamp_high, batch_index, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
					first.base_offset,
					last.last_offset,
					key,
					segmentBytes,
					group.reduce((n, r) => n + r.record_count, 0),
					last.timestamp_high,
					serializeSegmentIndex(entries),
					Date.now(),
				);
				sql.exec("DELETE FROM batches WHERE base_offset BETWEEN ? AND ?", first.base_offset, last.base_offset);
				sql.exec(
					`UPDATE partition_state SET local_log_start_offset = ?1, next_offset_floor = MAX(next_offset_floor, ?1), remote_bytes = remote_bytes + ?2, remote_records = remote_records + ?3,
					 stored_bytes = (SELECT COALESCE(SUM(bytes), 0) FROM batches), stored_batches = (SELECT COUNT(*) FROM batches),
					 stored_records = (SELECT COALESCE(SUM(record_count), 0) FROM batches),
					 totals_next_offset = (SELECT COALESCE(MAX(last_offset) + 1, 0) FROM batches) WHERE id = 1`,
					last.last_offset + 1,
					segmentBytes,
					group.reduce((n, r) => n + r.record_count, 0),
				);
			});
		}
		// Rebuild the object's view from SQLite, as after a restart.
		(instance as unknown as { load(): void }).load();
		return instance.offsets().localLogStartOffset;
	});
}

/**
 * Lowers partition_full's limit of one partition to `bytes` (the field, not the constant). The field lives in the
 * object's memory, which an eviction loses: on a loaded machine an object left idle while the test works on another
 * is evicted and comes back with the constant's limit, so a test sets it before each append it counts on.
 */
export async function limitPartitionBytes(topic: string, bytes: number, partition = 0): Promise<void> {
	await runInDurableObject(await partitionStub(topic, partition), (instance: PartitionLog) => {
		instance.partitionBytesMax = bytes;
	});
}

/** Every record of partition `partition` from its log start, in pages of `pageRecords`. */
export async function everyRecord(topic: string, partition = 0, pageRecords = 1_000): Promise<FetchedRecord[]> {
	const out: FetchedRecord[] = [];
	let offset = (await fetchRecords(topic, partition, "max_records=1")).log_start_offset;
	for (;;) {
		const page = await fetchRecords(topic, partition, `offset=${offset}&max_records=${pageRecords}`);
		if (page.records.length === 0) return out;
		out.push(...page.records);
		offset = page.next_offset;
	}
}

/** Produces `requests` requests of `perRequest` records each (one stored batch per request), values `${i}`. */
export async function produceBatches(topic: string, requests: number, perRequest: number, timestampMs?: (i: number) => number) {
	const { produce } = await import("./worker.ts");
	let n = 0;
	for (let r = 0; r < requests; r++) {
		const records = Array.from({ length: perRequest }, () => {
			const i = n++;
			return {
				key: `k${i % 5}`,
				value: `v${i}`,
				headers: [{ key: "h", value: `${i}` }],
				...(timestampMs ? { timestamp: timestampMs(i) } : {}),
			};
		});
		await produce(topic, records);
	}
	return n;
}

/** The offsets of `records`, asserting they are dense from `from`. */
export function expectDense(records: readonly { offset: number }[], from: number, count: number): void {
	expect(records.map((r) => r.offset)).toEqual(Array.from({ length: count }, (_, i) => from + i));
}
