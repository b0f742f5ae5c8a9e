/**
 * The pure parts of the log lifecycle: producer sequence decisions, retention planning, compaction filtering.
 */
import { describe, expect, it } from "vitest";
import { compactLines, type LatestRecord } from "../../src/partition/compaction.ts";
import { afterAppend, checkSequence, type ProducerState } from "../../src/partition/producer-state.ts";
import { planRetention, retentionDueMs } from "../../src/partition/retention.ts";
import { PRODUCER_RECENT_BATCHES } from "../../src/shared/limits.ts";
import { encodeLine } from "../../src/shared/record-codec.ts";
import { DEFAULT_TOPIC_CONFIG, type TopicConfig } from "../../src/shared/topic-config.ts";

const config = (changes: Partial<TopicConfig>): TopicConfig => ({ ...DEFAULT_TOPIC_CONFIG, ...changes });

describe("checkSequence", () => {
	const batch = (baseSequence: number, recordCount: number, baseOffset: number) => ({
		baseSequence,
		recordCount,
		baseOffset,
		appendTimeMs: 1,
	});
	let state: ProducerState | null = null;
	state = afterAppend(state, 7, 0, batch(0, 3, 10), 1);
	state = afterAppend(state, 7, 0, batch(3, 2, 20), 2);

	it("accepts any start for an unknown producer, and the next sequence for a known one", () => {
		expect(checkSequence(null, 0, 42, 1)).toEqual({ kind: "append" });
		expect(checkSequence(state, 0, 5, 1)).toEqual({ kind: "append" });
	});

	it("recognises retries of recent batches", () => {
		expect(checkSequence(state, 0, 0, 3)).toEqual({ kind: "duplicate", batch: batch(0, 3, 10) });
		expect(checkSequence(state, 0, 3, 2)).toEqual({ kind: "duplicate", batch: batch(3, 2, 20) });
	});

	it("recognises a retry of part of a batch (one message of a coalesced stream append) at its own offsets", () => {
		expect(checkSequence(state, 0, 1, 1)).toEqual({ kind: "duplicate", batch: batch(1, 1, 11) });
		expect(checkSequence(state, 0, 0, 2)).toEqual({ kind: "duplicate", batch: batch(0, 2, 10) });
		expect(checkSequence(state, 0, 4, 1)).toEqual({ kind: "duplicate", batch: batch(4, 1, 21) });
	});

	it("rejects gaps, overlaps, changed batches and stale epochs", () => {
		expect(checkSequence(state, 0, 6, 1)).toMatchObject({
			kind: "reject",
			error: { code: "out_of_order_sequence", details: { expected_sequence: 5 } },
		});
		expect(checkSequence(state, 0, 2, 2)).toMatchObject({ kind: "reject", error: { code: "out_of_order_sequence" } });
		expect(checkSequence(state, 0, 3, 5)).toMatchObject({ kind: "reject", error: { code: "out_of_order_sequence" } });
		const bumped = afterAppend(state, 7, 1, batch(0, 1, 30), 3);
		expect(checkSequence(bumped, 0, 5, 1)).toMatchObject({ kind: "reject", error: { code: "fenced", details: { current_epoch: 1 } } });
	});

	it("starts a new epoch at sequence 0 and forgets the old epoch's batches", () => {
		expect(checkSequence(state, 1, 0, 1)).toEqual({ kind: "append" });
		expect(checkSequence(state, 1, 5, 1)).toMatchObject({ kind: "reject", error: { code: "out_of_order_sequence" } });
		expect(afterAppend(state, 7, 1, batch(0, 1, 30), 3).recent).toEqual([batch(0, 1, 30)]);
	});

	it("keeps only the newest PRODUCER_RECENT_BATCHES batches", () => {
		let s: ProducerState | null = null;
		for (let i = 0; i < PRODUCER_RECENT_BATCHES + 3; i++) s = afterAppend(s, 1, 0, batch(i, 1, i), i);
		expect(s?.recent.map((b) => b.baseSequence)).toEqual(Array.from({ length: PRODUCER_RECENT_BATCHES }, (_, i) => i + 3));
		expect(checkSequence(s, 0, 0, 1)).toMatchObject({ kind: "reject" });
	});

	describe("wraps as Kafka's int32 sequence does: after 2147483647 comes 0", () => {
		const MAX = 2_147_483_647;
		// 20 records from 2147483640: 8 up to the top (…640 to …647), then 0 to 11.
		const spanning = afterAppend(null, 7, 0, batch(MAX - 7, 20, 100), 1);

		it("ends a batch that spans the top at its sequence modulo 2^31, and expects the one after it", () => {
			expect(spanning.lastSequence).toBe(11);
			expect(checkSequence(spanning, 0, 12, 1)).toEqual({ kind: "append" });
			expect(checkSequence(spanning, 0, 13, 1)).toMatchObject({ kind: "reject", error: { details: { expected_sequence: 12 } } });
			// The edge takes no sequence above the highest; one that got here would not be taken for the one expected.
			expect(checkSequence(spanning, 0, MAX + 13, 1)).toMatchObject({ kind: "reject", error: { details: { expected_sequence: 12 } } });
		});

		it("takes 0 after a batch that ends at 2147483647, and nothing else", () => {
			const atTop = afterAppend(null, 7, 0, batch(MAX - 1, 2, 50), 1);
			expect(atTop.lastSequence).toBe(MAX);
			expect(checkSequence(atTop, 0, 0, 3)).toEqual({ kind: "append" });
			expect(checkSequence(atTop, 0, 1, 1)).toMatchObject({ kind: "reject", error: { details: { expected_sequence: 0 } } });
			const after = afterAppend(atTop, 7, 0, batch(0, 3, 52), 2);
			expect(after.lastSequence).toBe(2);
			expect(checkSequence(after, 0, 3, 1)).toEqual({ kind: "append" });
			// The batch before the wrap is still recognised when retried.
			expect(checkSequence(after, 0, MAX - 1, 2)).toEqual({ kind: "duplicate", batch: batch(MAX - 1, 2, 50) });
		});

		it("recognises retries of a batch that spans the top, whole or in part, at their own offsets", () => {
			expect(checkSequence(spanning, 0, MAX - 7, 20)).toEqual({ kind: "duplicate", batch: batch(MAX - 7, 20, 100) });
			expect(checkSequence(spanning, 0, MAX - 2, 5)).toEqual({ kind: "duplicate", batch: batch(MAX - 2, 5, 105) });
			expect(checkSequence(spanning, 0, 0, 12)).toEqual({ kind: "duplicate", batch: batch(0, 12, 108) });
			expect(checkSequence(spanning, 0, 11, 1)).toEqual({ kind: "duplicate", batch: batch(11, 1, 119) });
		});

		it("runs a producer started near the top across it: the batch after, a retry, a gap and an overlap", () => {
			// 5 records from 2147483645: …645, …646, …647, 0, 1 (Kafka's DefaultRecordBatch.incrementSequence).
			const wrapping = afterAppend(null, 7, 0, batch(MAX - 2, 5, 0), 1);
			expect(wrapping.lastSequence).toBe(1);
			expect(checkSequence(wrapping, 0, 2, 1)).toEqual({ kind: "append" });
			const after = afterAppend(wrapping, 7, 0, batch(2, 1, 5), 2);
			expect(after.lastSequence).toBe(2);
			expect(checkSequence(after, 0, MAX - 2, 5)).toEqual({ kind: "duplicate", batch: batch(MAX - 2, 5, 0) });
			expect(checkSequence(after, 0, 4, 1)).toMatchObject({
				kind: "reject",
				error: { code: "out_of_order_sequence", details: { expected_sequence: 3 } },
			});
			// From inside the wrapping batch (1) on past the last one written (2): Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER.
			expect(checkSequence(after, 0, 1, 3)).toMatchObject({
				kind: "reject",
				error: { code: "out_of_order_sequence", details: { expected_sequence: 3 } },
			});
			expect(checkSequence(after, 0, MAX, 4)).toMatchObject({ kind: "reject", error: { code: "out_of_order_sequence" } });
		});

		it("refuses a batch that overlaps one across the top, or runs past it", () => {
			expect(checkSequence(spanning, 0, 5, 10)).toMatchObject({ kind: "reject", error: { code: "out_of_order_sequence" } });
			expect(checkSequence(spanning, 0, MAX - 7, 21)).toMatchObject({ kind: "reject", error: { code: "out_of_order_sequence" } });
			expect(checkSequence(spanning, 0, MAX, 1)).toEqual({ kind: "duplicate", batch: batch(MAX, 1, 107) });
			expect(checkSequence(spanning, 0, MAX - 8, 1)).toMatchObject({ kind: "reject", error: { code: "out_of_order_sequence" } });
		});
	});
});

describe("planRetention", () => {
	const head = [
		{ baseOffset: 0, lastOffset: 9, maxTimestamp: 100, bytes: 1000 },
		{ baseOffset: 10, lastOffset: 19, maxTimestamp: 200, bytes: 1000 },
		{ baseOffset: 20, lastOffset: 29, maxTimestamp: 300, bytes: 1000 },
	];

	it("deletes batches whose newest record is older than retention.ms, from the head only", () => {
		expect(planRetention(head, 3000, config({ "retention.ms": 100 }), 299)).toBe(1);
		expect(planRetention(head, 3000, config({ "retention.ms": 100 }), 300)).toBe(2);
		expect(planRetention(head, 3000, config({ "retention.ms": 100 }), 199)).toBe(0);
		expect(
			planRetention(
				[head[1], head[0]].filter((b) => b !== undefined),
				2000,
				config({ "retention.ms": 100 }),
				250,
			),
		).toBe(0);
		expect(planRetention(head, 3000, config({ "retention.ms": -1 }), 1e12)).toBe(0);
	});

	it("deletes by size while at least retention.bytes would remain", () => {
		expect(planRetention(head, 3000, config({ "retention.ms": -1, "retention.bytes": 1500 }), 0)).toBe(1);
		expect(planRetention(head, 3000, config({ "retention.ms": -1, "retention.bytes": 1000 }), 0)).toBe(2);
		expect(planRetention(head, 3000, config({ "retention.ms": -1, "retention.bytes": 3000 }), 0)).toBe(0);
	});

	it("does nothing for cleanup.policy=compact", () => {
		expect(planRetention(head, 3000, config({ "cleanup.policy": "compact", "retention.ms": 1 }), 1e12)).toBe(0);
		expect(planRetention(head, 3000, config({ "cleanup.policy": "compact,delete", "retention.ms": 1 }), 1e12)).toBe(3);
	});

	it("deletes batches wholly below the log start (a DeleteRecords moved it), whatever the cleanup policy", () => {
		const keepAll = config({ "retention.ms": -1, "retention.bytes": -1 });
		expect(planRetention(head, 3000, keepAll, 0, 19)).toBe(1);
		expect(planRetention(head, 3000, keepAll, 0, 20)).toBe(2);
		expect(planRetention(head, 3000, keepAll, 0, 30)).toBe(3);
		expect(planRetention(head, 3000, config({ "cleanup.policy": "compact" }), 0, 20)).toBe(2);
		expect(retentionDueMs(head[0] ?? null, 3000, config({ "cleanup.policy": "compact" }), 7, 10)).toBe(7);
		expect(retentionDueMs(head[0] ?? null, 3000, keepAll, 7, 9)).toBeNull();
	});

	it("says when retention is next due", () => {
		expect(retentionDueMs(head[0] ?? null, 3000, config({ "retention.ms": 50 }), 0)).toBe(150);
		expect(retentionDueMs(head[0] ?? null, 3000, config({ "retention.ms": -1, "retention.bytes": 100 }), 7)).toBe(7);
		expect(retentionDueMs(head[0] ?? null, 3000, config({ "retention.ms": -1 }), 7)).toBeNull();
		expect(retentionDueMs(null, 0, config({}), 7)).toBeNull();
	});
});

describe("compactLines", () => {
	const line = (offset: number, key: unknown, value: unknown) =>
		encodeLine(0, offset, 1, `${JSON.stringify({ key, value, headers: [] }).slice(1)}`);
	const latest = new Map<string, LatestRecord>([
		['j:"a"', { offset: 2, tombstone: false, appendedAtMs: 0 }],
		['j:"b"', { offset: 3, tombstone: true, appendedAtMs: 1000 }],
	]);
	const lookup = (keyId: string) => latest.get(keyId);
	const lines = [
		line(0, "a", 1),
		line(1, "b", 1),
		line(2, "a", 2),
		line(3, "b", null),
		line(4, null, "keyless"),
		line(5, "c", "unknown key"),
	];

	it("keeps each key's newest record, keyless records, and keys it knows nothing of", () => {
		const { kept, expiredKeys } = compactLines(lines, lookup, config({ "delete.retention.ms": 500 }), 1400);
		expect(kept).toEqual([lines[2], lines[3], lines[4], lines[5]]);
		expect(expiredKeys).toEqual([]);
	});

	it("drops a newest tombstone once delete.retention.ms has passed, and reports its key", () => {
		const { kept, expiredKeys } = compactLines(lines, lookup, config({ "delete.retention.ms": 500 }), 1500);
		expect(kept).toEqual([lines[2], lines[4], lines[5]]);
		expect(expiredKeys).toEqual(['j:"b"']);
	});
});
