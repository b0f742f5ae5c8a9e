import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8ByteLength } from "../../src/shared/json.ts";
import { decodeBatch, type EncodedRecord, encodeBatch, encodeTail, type ProducedRecord } from "../../src/shared/record-codec.ts";

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

	it("refuses a batch whose fields disagree on the record count", () => {
		const record = encoded({ key: null, value: "v", headers: [], timestampMs: null, keyEncoding: "json", valueEncoding: "json" }, null);
		const batch = encodeBatch([record, record]);
		expect(() => decodeBatch({ ...batch, bytes: [1] })).toThrow();
		expect(() => decodeBatch({ ...batch, count: 3 })).toThrow();
	});
});
