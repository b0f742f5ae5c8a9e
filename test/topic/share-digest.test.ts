/**
 * The `Idempotency-Key` digest of a partition's share. Partitions keep the digests of keys already used, and a retry
 * is compared with what was stored: whatever way the digest is computed, its value must stay what it always was,
 * SHA-256 of `JSON.stringify(timestamps) + "\n" + tails.join("\n")`, in base64, whichever form the tails cross RPC in.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8ByteLength } from "../../src/shared/json.ts";
import { type EncodedBatch, encodeBatch, encodeTail } from "../../src/shared/record-codec.ts";
import { shareDigest } from "../../src/topic/produce.ts";

/** The digest as partitions have stored it since keys were first remembered. */
async function storedForm(timestamps: readonly (number | null)[] | null, tails: readonly string[]): Promise<string> {
	const text = `${JSON.stringify(timestamps)}\n${tails.join("\n")}`;
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
	return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

function encodedOf(records: { key: unknown; value: unknown; timestampMs: number | null }[]) {
	return records.map((record) => {
		const tail = encodeTail({ ...record, headers: [], keyEncoding: "json", valueEncoding: "json" });
		return { timestampMs: record.timestampMs, tail, bytes: utf8ByteLength(tail), keyId: null, tombstone: record.value === null };
	});
}

function batchOf(records: { key: unknown; value: unknown; timestampMs: number | null }[]) {
	return encodeBatch(encodedOf(records));
}

describe("shareDigest", () => {
	it("is the digest partitions have stored, for any records (any characters, with timestamps or without)", async () => {
		const record = fc.record({
			key: fc.oneof(fc.constant(null), fc.string({ unit: "binary" })),
			value: fc.oneof(fc.constant(null), fc.string({ unit: "binary" }), fc.jsonValue()),
			timestampMs: fc.oneof(fc.constant(null), fc.nat()),
		});
		await fc.assert(
			fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 8 }), async (records) => {
				const encoded = encodedOf(records);
				const batch = encodeBatch(encoded);
				const tails = encoded.map((r) => r.tail);
				expect(await shareDigest(batch)).toBe(await storedForm(batch.timestamps, tails));
			}),
			{ numRuns: 300 },
		);
	});

	it("is the same whether the share's tails cross joined or as an array (an earlier edge's form)", async () => {
		const value = "v".repeat(1024);
		const records = Array.from({ length: 256 }, (_, i) => ({ key: null, value, timestampMs: i }));
		const encoded = encodedOf(records);
		const joined = encodeBatch(encoded);
		expect(typeof joined.tails).toBe("string");
		const tails = encoded.map((r) => r.tail);
		const array: EncodedBatch = { ...joined, tails };
		expect(await shareDigest(joined)).toBe(await storedForm(joined.timestamps, tails));
		expect(await shareDigest(array)).toBe(await storedForm(array.timestamps, tails));
	});

	it("keeps the value of a digest stored before", async () => {
		const batch = batchOf([
			{ key: null, value: 'a " b \\ é 😀', timestampMs: null },
			{ key: "k", value: { n: 1 }, timestampMs: 1_700_000_000_000 },
		]);
		expect(await shareDigest(batch)).toBe("L8JN09pnf68wKsrTZoz0QSRYrZh/jYjfMPx7QMkhutU=");
	});
});
