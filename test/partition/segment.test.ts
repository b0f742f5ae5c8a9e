/**
 * The segment format shared by the offloading partition and the edge reader: keys that sort by offset, a body that
 * is the batches' records text back to back, and an index whose byte ranges cut the body into exactly those texts.
 */
import { describe, expect, it } from "vitest";
import {
	encodeSegment,
	parseSegmentIndex,
	parseSegmentKey,
	type SegmentBatch,
	segmentKey,
	serializeSegmentIndex,
} from "../../src/partition/tiering/segment.ts";
import { encodeLine, RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";

function batch(baseOffset: number, values: readonly string[]): SegmentBatch {
	const lines = values.map((v, i) =>
		encodeLine(0, baseOffset + i, 1_000 + baseOffset + i, `"key":null,"value":${JSON.stringify(v)},"headers":[]}`),
	);
	return {
		baseOffset,
		lastOffset: baseOffset + values.length - 1,
		recordCount: values.length,
		timestampHigh: 1_000 + baseOffset + values.length - 1,
		records: lines.join(RECORD_SEPARATOR),
	};
}

describe("segment keys", () => {
	it("pads the base offset to 20 digits so listings sort in offset order, and parse back", () => {
		const key = segmentKey("t-1", 3, 42, "n0nce");
		expect(key).toBe("t-1/3/00000000000000000042-n0nce.seg");
		expect(parseSegmentKey(key)).toEqual({ baseOffset: 42, nonce: "n0nce" });
		expect(segmentKey("t", 0, 9, "a") < segmentKey("t", 0, 10, "a")).toBe(true);
		expect(parseSegmentKey("t/0/notes.txt")).toBeNull();
	});
});

describe("encodeSegment", () => {
	const batches = [batch(0, ["a", "b"]), batch(2, ["ünïcødé ✓", "𝄞"]), batch(7, ["after a compaction gap"])];
	const { body, entries } = encodeSegment(batches);

	it("writes each batch's records text exactly, back to back, and indexes its byte range", () => {
		const decoder = new TextDecoder();
		expect(entries.map((e) => [e.baseOffset, e.lastOffset, e.recordCount, e.timestampHigh])).toEqual(
			batches.map((b) => [b.baseOffset, b.lastOffset, b.recordCount, b.timestampHigh]),
		);
		entries.forEach((e, i) => {
			expect(decoder.decode(body.subarray(e.byteStart, e.byteStart + e.byteLength))).toBe(batches[i]?.records);
		});
		expect(decoder.decode(body)).toBe(batches.map((b) => b.records).join(""));
		expect(entries[1]?.byteLength).toBeGreaterThan(batches[1]?.records.length ?? 0);
	});

	it("round-trips the index and refuses one that does not describe a body", () => {
		expect(parseSegmentIndex(serializeSegmentIndex(entries))).toEqual(entries);
		const gap = entries.map((e, i) => (i === 1 ? { ...e, byteStart: e.byteStart + 1 } : e));
		expect(() => parseSegmentIndex(JSON.stringify(gap))).toThrow();
		expect(() => parseSegmentIndex("[]")).toThrow();
	});

	it("refuses batches out of order", () => {
		expect(() => encodeSegment([batch(5, ["x"]), batch(0, ["y"])])).toThrow();
	});
});
