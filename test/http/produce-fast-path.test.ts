import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { parseJson, validate } from "../../src/http/body.ts";
import { parseMessage } from "../../src/http/produce-channel.ts";
import { fastProduceBody, fastProduceRecords, parsesToAscii } from "../../src/http/produce-fast-path.ts";
import { ProduceBody, ProduceRecordBody, toProduceInput } from "../../src/http/schemas.ts";
import { utf8ByteLength } from "../../src/shared/json.ts";
import { PARTITIONS_MAX } from "../../src/shared/limits.ts";
import { encodeTail } from "../../src/shared/record-codec.ts";
import type { ProduceInput } from "../../src/topic/produce.ts";

/** The schema path, as the produce route maps it: what the fast path must agree with whenever it answers. */
function schemaRecords(text: string) {
	const body = validate(ProduceBody, parseJson(text));
	return body.records.map(toProduceInput);
}

/** The schema path's records and other fields, as the produce route takes them. */
function schemaBody(text: string) {
	const { records, ...fields } = validate(ProduceBody, parseJson(text));
	return { records: records.map(toProduceInput), fields };
}

/** A record's `ProduceInput` fields but its encoding (a streamed record's value is a getter: read, not copied). */
function withoutEncoded(record: ProduceInput) {
	const { key, value, headers, timestampMs, keyEncoding, valueEncoding, partition } = record;
	return { key, value, headers, timestampMs, keyEncoding, valueEncoding, partition };
}

/** Mostly valid fields, with a fair share of wrong ones, so both paths are exercised. */
const field = {
	key: fc.oneof(fc.string(), fc.constant(null), fc.jsonValue(), fc.constant("aGk="), fc.constant("not base64!")),
	value: fc.oneof(
		fc.string(),
		fc.string({ unit: "binary" }),
		fc.constant(null),
		fc.jsonValue(),
		fc.constant("aGk="),
		fc.constant(12345678901234567890n),
	),
	headers: fc.oneof(
		fc.array(fc.record({ key: fc.string(), value: fc.oneof(fc.string(), fc.constant(null)) }), { maxLength: 3 }),
		fc.constant([{ key: "k" }]),
		fc.constant([{ key: "k", value: 1 }]),
		fc.constant("h"),
	),
	partition: fc.oneof(
		fc.integer({ min: 0, max: PARTITIONS_MAX - 1 }),
		fc.constant(PARTITIONS_MAX),
		fc.constant(-1),
		fc.constant(1.5),
		fc.constant(null),
	),
	timestamp: fc.oneof(fc.nat(), fc.constant(null), fc.constant(-5), fc.constant("now")),
	key_encoding: fc.constantFrom("json", "base64", "hex"),
	value_encoding: fc.constantFrom("json", "base64", "utf8"),
	extra: fc.constant(1),
};
const record = fc.record(field, { requiredKeys: [] });
const body = fc.oneof(
	{ weight: 4, arbitrary: fc.record({ records: fc.array(record, { maxLength: 5 }) }) },
	fc.record({ records: fc.array(record, { minLength: 1, maxLength: 3 }), expected_offset: fc.nat() }),
	fc.constant({ records: [] }),
	fc.constant([]),
);

/** Bodies the fast path takes: keys and values of every kind, strings of any characters, headers or none. */
const validBody = fc.record({
	records: fc.array(
		fc.record(
			{
				key: fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constant(null), fc.jsonValue()),
				value: fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constant(null), fc.jsonValue()),
				headers: fc.array(
					fc.record({ key: fc.string({ maxLength: 8 }), value: fc.oneof(fc.string({ unit: "binary" }), fc.constant(null)) }),
					{
						maxLength: 2,
					},
				),
			},
			{ requiredKeys: ["value"] },
		),
		{ minLength: 1, maxLength: 5 },
	),
});

/** JSON text of a generated body; bigints are written as their digits (a number no double holds). */
function text(value: unknown): string {
	return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? JSON.rawJSON(v.toString()) : v));
}

describe("fastProduceRecords", () => {
	it("answers exactly what the schema path answers, or steps aside (null) for the schema to decide", () => {
		fc.assert(
			fc.property(body, (value) => {
				const json = text(value);
				const fast = fastProduceRecords(json);
				let slow: ReturnType<typeof schemaRecords> | null = null;
				try {
					slow = schemaRecords(json);
				} catch {
					slow = null;
				}
				if (fast !== null) expect(fast.map(withoutEncoded)).toEqual(slow);
			}),
			{ numRuns: 1000 },
		);
	});

	it("encodes a record from the body's own text only into exactly encodeTail's string, with its true UTF-8 size", () => {
		let fromText = 0;
		fc.assert(
			fc.property(validBody, fc.boolean(), (value, spaced) => {
				const json = spaced ? JSON.stringify(JSON.parse(text(value)), null, 1) : text(value);
				const bytes = utf8ByteLength(json);
				for (const record of fastProduceRecords(json, bytes) ?? []) {
					if (record.encoded === undefined) continue;
					fromText++;
					expect(record.encoded.tail).toBe(encodeTail(record));
					if (record.encoded.bytes !== null) expect(record.encoded.bytes).toBe(utf8ByteLength(record.encoded.tail));
				}
			}),
			{ numRuns: 1000 },
		);
		expect(fromText).toBeGreaterThan(100);
	});

	it("takes a value's text only where it is canonical, and the last of repeated members, as JSON.parse does", () => {
		const cases: [string, boolean][] = [
			['{"records":[{"value":"a \\" b \\n \\\\ c"}]}', true],
			['{"records":[{"value":"a\\/b"}]}', false],
			['{"records":[{"value":"\\u0041"}]}', false],
			['{"records":[{"value":"\\\\u0041"}]}', true],
			['{"records":[{"value":"x","value":"y"}]}', true],
			['{"records":[{"value":{"value":"inner"},"key":"k"}]}', false],
			['{"records":[{"val\\u0075e":"x"}]}', false],
			['{"records":[{"value":1.50}]}', false],
			[' { "records" : [ { "key" : null , "value" : "v" } ] } ', true],
			['{"records":[{"value":"v","headers":[{"key":"h","value":"\\u00e9"}]}]}', true],
			// Strings without escapes before and after ones with them (the walk remembers the next backslash).
			['{"records":[{"value":"plain"},{"key":"k","value":"a\\"b"},{"value":"c"},{"value":"d\\\\"}]}', true],
		];
		for (const [json, fromText] of cases) {
			const records = fastProduceRecords(json, utf8ByteLength(json));
			expect(records, json).not.toBeNull();
			for (const record of records ?? []) {
				expect(record.encoded !== undefined, json).toBe(fromText);
				if (record.encoded !== undefined) {
					expect(record.encoded.tail).toBe(encodeTail(record));
					expect(record.encoded.bytes ?? utf8ByteLength(record.encoded.tail)).toBe(utf8ByteLength(record.encoded.tail));
				}
			}
		}
	});

	it("notices an escape that is not written back alike after strings without any", () => {
		const records = fastProduceRecords('{"records":[{"value":"plain"},{"value":"x"},{"value":"a\\/b"},{"value":"y"}]}');
		expect(records?.map((r) => r.encoded !== undefined)).toEqual([true, true, false, true]);
	});

	it("takes the usual bodies itself", () => {
		const records = [
			{ value: "plain" },
			{ key: "k", value: { nested: ["a", null, true] }, headers: [{ key: "h", value: null }], partition: 0, timestamp: 1700000000000 },
			{ key: "aGk=", key_encoding: "base64", value: null },
			{ value: { amount: 12.5 } },
		];
		expect(fastProduceRecords(JSON.stringify({ records }))?.map(withoutEncoded)).toEqual(schemaRecords(JSON.stringify({ records })));
	});

	it("steps aside for malformed JSON, other fields, unknown fields and numbers whose digits must be kept", () => {
		for (const json of [
			'{"records":[{"value":1}]',
			'{"records":[{"value":1}],"expected_offset":0}',
			'{"records":[{"value":1,"vlaue":2}]}',
			'{"records":[{"value":12345678901234567890}]}',
			'{"records":[{"value":{"p":0.10000000000000000555}}]}',
			'{"records":[{"key":"x","value":"v","partition":256}]}',
			'{"records":[]}',
		]) {
			expect(fastProduceRecords(json)).toBeNull();
		}
	});
});

describe("fastProduceBody", () => {
	/** Exactly-once fields, valid and not: negative, fractional, unsafe, too big for a double, a string. */
	const integerField = fc.oneof(
		{ weight: 6, arbitrary: fc.nat() },
		fc.constant(0),
		fc.constant(-1),
		fc.constant(1.5),
		fc.constant(2 ** 53),
		fc.constant(12345678901234567890n),
		fc.constant("1"),
	);
	const producer = fc.record({ producer_id: integerField, epoch: integerField, sequence: integerField });
	const anyFields = fc.record(
		{
			producer_id: integerField,
			epoch: integerField,
			sequence: integerField,
			sequences: fc.constant({ "0": 5 }),
			expected_offset: integerField,
			other: fc.constant(true),
		},
		{ requiredKeys: [] },
	);
	const withFields = fc
		.tuple(
			fc.oneof(
				validBody.map((b) => b.records),
				fc.array(record, { minLength: 1, maxLength: 3 }),
			),
			fc.oneof(producer, fc.record({ expected_offset: integerField }), anyFields),
		)
		.map(([records, fields]) => ({ ...fields, records }));

	it("answers exactly the schema path's records and exactly-once fields, or steps aside (null)", () => {
		let taken = 0;
		fc.assert(
			fc.property(withFields, fc.boolean(), (value, spaced) => {
				const json = spaced ? text(value).replaceAll(",", " , ").replaceAll(":", " : ") : text(value);
				const fast = fastProduceBody(json);
				let slow: ReturnType<typeof schemaBody> | null = null;
				try {
					slow = schemaBody(json);
				} catch {
					slow = null;
				}
				if (fast === null) return;
				taken++;
				expect(slow).not.toBeNull();
				expect({ records: fast.records.map(withoutEncoded), fields: fast.fields }).toEqual(slow);
			}),
			{ numRuns: 2000 },
		);
		expect(taken).toBeGreaterThan(50);
	});

	it("takes an idempotent producer's body, and steps aside for fields it does not read as the schema does", () => {
		const records = '"records":[{"partition":0,"value":"v"}]';
		// Plain records and plain integers: read from the text, no JSON.parse of the body.
		const parse = vi.spyOn(JSON, "parse");
		expect(fastProduceBody(`{"producer_id":7,"epoch":0,"sequence":100,${records}}`)?.fields).toEqual({
			producer_id: 7,
			epoch: 0,
			sequence: 100,
		});
		expect(parse).not.toHaveBeenCalled();
		parse.mockRestore();
		expect(fastProduceBody(`{${records},"expected_offset":12}`)?.fields).toEqual({ expected_offset: 12 });
		for (const head of [
			'"producer_id":1.0,"epoch":0,"sequence":0',
			'"producer_id":1,"epoch":0,"sequence":1e2',
			'"producer_id":1,"epoch":0,"sequence":9007199254740991',
			'"producer_id":0,"epoch":0,"sequence":0',
			'"producer_id":1,"epoch":0',
			'"producer_id":1,"epoch":0,"sequences":{"0":1}',
			'"producer_id":1,"epoch":0,"sequence":"1"',
			'"producer_id":1,"epoch":0,"sequence":-0',
			'"__proto__":1',
		]) {
			expect(fastProduceBody(`{${head},${records}}`), head).toBeNull();
		}
	});
});

describe("a streamed message's record (parseMessage)", () => {
	/** One record alone, as a stream message: strings of any characters, headers or none. */
	const message = fc.record(
		{
			partition: fc.nat({ max: 3 }),
			key: fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constant(null), fc.jsonValue()),
			value: fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constant(null), fc.jsonValue(), fc.string({ unit: "grapheme" })),
			headers: fc.array(
				fc.record({ key: fc.string({ maxLength: 8 }), value: fc.oneof(fc.string({ unit: "binary" }), fc.constant(null)) }),
				{
					maxLength: 2,
				},
			),
		},
		{ requiredKeys: ["value"] },
	);

	it("is the schema path's record, encoded from its own text into exactly encodeTail's string, with its true UTF-8 size", () => {
		let fromText = 0;
		let counted = 0;
		fc.assert(
			fc.property(message, fc.boolean(), (value, spaced) => {
				const json = spaced ? JSON.stringify(JSON.parse(text(value)), null, 1) : text(value);
				const parsed = parseMessage(json);
				if ("code" in parsed) throw new Error(`refused ${json}: ${parsed.message}`);
				const [record] = parsed.records as [ProduceInput];
				expect(withoutEncoded(record)).toEqual(toProduceInput(validate(ProduceRecordBody, parseJson(json))));
				if (record.encoded === undefined) return;
				fromText++;
				expect(record.encoded.tail).toBe(encodeTail(record));
				if (record.encoded.bytes === null) counted++;
				else expect(record.encoded.bytes).toBe(utf8ByteLength(record.encoded.tail));
			}),
			{ numRuns: 1000 },
		);
		expect(fromText).toBeGreaterThan(200);
		// Wide characters and lone surrogates reach the text: their sizes are left to be counted, never guessed.
		expect(counted).toBeGreaterThan(20);
	});

	it("takes its size from its length only when every character is one byte", () => {
		for (const [json, bytes] of [
			['{"value":"plain"}', "length"],
			['{"value":"é"}', "counted"],
			['{"value":"\uD800"}', "counted"],
			['{"value":"\uFFFD"}', "counted"],
			[`{"value":"${"x".repeat(70_000)}"}`, "counted"],
		] as const) {
			const parsed = parseMessage(json);
			if ("code" in parsed) throw new Error(`refused ${json.slice(0, 40)}`);
			const record = parsed.records[0] as ProduceInput;
			expect(record.encoded, json.slice(0, 40)).toBeDefined();
			const tail = record.encoded?.tail as string;
			expect(record.encoded?.bytes ?? null, json.slice(0, 40)).toBe(bytes === "length" ? tail.length : null);
		}
	});
});

describe("parsesToAscii", () => {
	it("is true only when the body is ASCII and holds no \\u escape", () => {
		const ascii = '{"records":[{"value":"plain"}]}';
		expect(parsesToAscii(ascii, ascii.length)).toBe(true);
		expect(parsesToAscii(ascii, null)).toBe(false);
		const wide = '{"records":[{"value":"é"}]}';
		expect(parsesToAscii(wide, new TextEncoder().encode(wide).byteLength)).toBe(false);
		const escaped = '{"records":[{"value":"\\u00e9"}]}';
		expect(parsesToAscii(escaped, escaped.length)).toBe(false);
		// An invalid byte decodes to one U+FFFD: as many characters as bytes, yet 3 bytes once stored.
		const replaced = '{"records":[{"value":"\uFFFD"}]}';
		expect(parsesToAscii(replaced, replaced.length)).toBe(false);
	});
});
