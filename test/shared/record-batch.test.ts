import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8ByteLength } from "../../src/shared/json.ts";
import { type ReadRoom, takeLines, takeLinesUtf8 } from "../../src/shared/line-cut.ts";
import {
	decodeBatch,
	type EncodedBatch,
	type EncodedRecord,
	encodeBatch,
	encodeLine,
	encodeTail,
	lineOffset,
	type ProducedRecord,
	RECORD_SEPARATOR,
} from "../../src/shared/record-codec.ts";
import { recordEnds } from "../../src/shared/record-scan.ts";

const produced = fc.record({
	key: fc.oneof(fc.constant(null), fc.string(), fc.jsonValue()),
	value: fc.oneof(fc.constant(null), fc.string({ unit: "binary" }), fc.jsonValue()),
	headers: fc.array(fc.record({ key: fc.string(), value: fc.oneof(fc.constant(null), fc.string()) }), { maxLength: 3 }),
	timestampMs: fc.oneof(fc.constant(null), fc.nat()),
	keyEncoding: fc.constant("json" as const),
	valueEncoding: fc.constant("json" as const),
});

function encoded(record: ProducedRecord, keyId: string | null): EncodedRecord {
	const tail = encodeTail(record);
	return { timestampMs: record.timestampMs, tail, bytes: utf8ByteLength(tail), keyId, tombstone: record.value === null };
}

describe("EncodedBatch (one payload per partition share)", () => {
	it("decodes to exactly the records it was encoded from, whatever their text, keys, timestamps and tombstones", () => {
		fc.assert(
			fc.property(fc.array(fc.tuple(produced, fc.option(fc.string())), { minLength: 1, maxLength: 20 }), (items) => {
				const records = items.map(([record, keyId]) => encoded(record, keyId));
				// Through structured clone, as it crosses the RPC boundary.
				expect(decodeBatch(structuredClone(encodeBatch(records)))).toEqual(records);
			}),
			{ numRuns: 200 },
		);
	});

	it("leaves out the per-record fields no record uses", () => {
		const record = encoded({ key: null, value: "v", headers: [], timestampMs: null, keyEncoding: "json", valueEncoding: "json" }, null);
		expect(encodeBatch([record, record])).toEqual({
			count: 2,
			tails: `${record.tail}\n${record.tail}`,
			bytes: [record.bytes, record.bytes],
			timestamps: null,
			keyIds: null,
			tombstones: null,
		});
	});

	it("joins a share's tails however many there are, and still decodes the array an earlier edge sent", () => {
		const value = "v".repeat(1000);
		const record = encoded({ key: "k", value, headers: [], timestampMs: 7, keyEncoding: "json", valueEncoding: "json" }, 'j:"k"');
		// 256 × 1 KiB, a streamed run's size: past V8's 128 KiB ordinary string, where the array form was chosen.
		const large = encodeBatch(Array(256).fill(record));
		expect(typeof large.tails).toBe("string");
		expect(decodeBatch(structuredClone(large))).toEqual(Array(256).fill(record));
		const array: EncodedBatch = { ...large, tails: Array(256).fill(record.tail) };
		expect(decodeBatch(structuredClone(array))).toEqual(Array(256).fill(record));
	});

	it("refuses a tail of two lines, in either form", () => {
		const record = encoded({ key: "k", value: "v", headers: [], timestampMs: 7, keyEncoding: "json", valueEncoding: "json" }, 'j:"k"');
		const batch: EncodedBatch = encodeBatch([record, record]);
		expect(() => decodeBatch({ ...batch, tails: [record.tail, `${record.tail}\n${record.tail}`] })).toThrow();
		expect(() => decodeBatch({ ...batch, tails: `${record.tail}\n${record.tail}\n${record.tail}` })).toThrow();
	});

	it("refuses a batch whose fields disagree on the record count", () => {
		const record = encoded({ key: null, value: "v", headers: [], timestampMs: null, keyEncoding: "json", valueEncoding: "json" }, null);
		const batch = encodeBatch([record, record]);
		expect(() => decodeBatch({ ...batch, bytes: [1] })).toThrow();
		expect(() => decodeBatch({ ...batch, count: 3 })).toThrow();
	});
});

/** The line-by-line walk `takeLines` replaces: split, read each offset, measure each line. */
function takeBySplit(text: string, offset: number, room: ReadRoom) {
	const taken: string[] = [];
	let bytes = 0;
	let lastOffset = -1;
	for (const line of text.split(RECORD_SEPARATOR)) {
		const at = lineOffset(line);
		if (at < offset) continue;
		const lineBytes = utf8ByteLength(line) + RECORD_SEPARATOR.length;
		if ((taken.length > 0 || !room.firstOfRead) && (taken.length >= room.records || bytes + lineBytes > room.bytes)) {
			return { text: taken.join(RECORD_SEPARATOR), count: taken.length, bytes, lastOffset, complete: false };
		}
		taken.push(line);
		bytes += lineBytes;
		lastOffset = at;
	}
	return { text: taken.join(RECORD_SEPARATOR), count: taken.length, bytes, lastOffset, complete: true };
}

describe("takeLines and takeLinesUtf8 (part of a stored batch, as one substring, one copy of its bytes or a view of them)", () => {
	const batch = fc.record({
		baseOffset: fc.nat({ max: 1000 }),
		// Per line: the gap before it (0 = dense), and its value.
		lines: fc.array(fc.tuple(fc.oneof(fc.constant(0), fc.nat({ max: 3 })), fc.string({ unit: "binary", maxLength: 40 })), {
			minLength: 1,
			maxLength: 12,
		}),
		ascii: fc.boolean(),
	});
	it("take exactly the lines the split-and-measure walk takes, on dense or compacted, ASCII or wider batches, text or bytes, paging on from a cut or not", () => {
		fc.assert(
			fc.property(batch, fc.nat({ max: 20 }), fc.nat({ max: 14 }), fc.nat({ max: 600 }), fc.boolean(), (b, skip, records, bytes, first) => {
				let at = b.baseOffset - 1;
				const lines = b.lines.map(([gap, value]) => {
					at += 1 + gap;
					const text = b.ascii ? value.replace(/[^\x20-\x7e]/g, "a") : value;
					return encodeLine(
						0,
						at,
						1700000000000,
						encodeTail({ key: null, value: text, headers: [], timestampMs: null, keyEncoding: "json", valueEncoding: "json" }),
					);
				});
				const text = lines.join(RECORD_SEPARATOR);
				const offset = b.baseOffset + skip;
				const room = { records, bytes, firstOfRead: first };
				const dense = at - b.baseOffset + 1 === lines.length;
				const ascii = utf8ByteLength(text) === text.length;
				const expected = takeBySplit(text, offset, room);
				const batch = { text, utf8: new TextEncoder().encode(text), baseOffset: b.baseOffset, lastOffset: at, dense, ascii };
				const { stop, start, ...take } = takeLines(batch, offset, room);
				expect(take).toEqual(expected);
				expect(text.slice(start, start + take.text.length)).toBe(take.text);
				const withoutEnds = takeLinesUtf8(batch, offset, room, null);
				const { stop: stopUtf8, text: bytesTaken, start: startUtf8, ...takeUtf8 } = withoutEnds;
				expect({ ...takeUtf8, text: new TextDecoder().decode(bytesTaken) }).toEqual(expected);
				expect(batch.utf8.subarray(startUtf8, startUtf8 + bytesTaken.length)).toEqual(bytesTaken);
				// Its separators looked up in the batch's record ends instead of searched for: the same cut.
				const ends = recordEnds(batch.utf8);
				expect(ends.length).toBe(lines.length);
				expect(takeLinesUtf8(batch, offset, room, null, ends)).toEqual(withoutEnds);
				// A copy in a buffer of its own (what crosses RPC), or asked for views, the same bytes seen in the batch's.
				expect(bytesTaken.byteLength).toBe(bytesTaken.buffer.byteLength);
				const viewed = takeLinesUtf8(batch, offset, room, null, ends, true);
				expect(viewed).toEqual(withoutEnds);
				if (viewed.count > 0) expect(viewed.text.buffer).toBe(batch.utf8.buffer);
				if (stopUtf8 === null) return;
				// The next page, from where this cut stopped, with and without the mark: the same lines.
				const next = { records: 3, bytes: 200, firstOfRead: true };
				const marked = takeLinesUtf8(batch, stopUtf8.offset, next, stopUtf8);
				expect({ ...marked, text: new TextDecoder().decode(marked.text), stop: null, start: 0 }).toEqual({
					...takeBySplit(text, stopUtf8.offset, next),
					stop: null,
					start: 0,
				});
				expect(takeLinesUtf8(batch, stopUtf8.offset, next, stopUtf8, ends)).toEqual(marked);
				expect(stop?.offset).toBe(stopUtf8.offset);
			}),
			{ numRuns: 500 },
		);
	});
});
