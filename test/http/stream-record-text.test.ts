import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseJson, validate } from "../../src/http/body.ts";
import { parseMessage } from "../../src/http/produce-channel.ts";
import { fastProduceBody } from "../../src/http/produce-fast-path.ts";
import { ProduceBody, ProduceRecordBody, toProduceInput } from "../../src/http/schemas.ts";
import { plainProduceBody, plainStreamRecord } from "../../src/http/stream-record-text.ts";
import { utf8ByteLength } from "../../src/shared/json.ts";
import { HEADER_KEY_LENGTH_MAX, PARTITIONS_MAX, PRODUCE_RECORDS_MAX, RECORD_HEADERS_MAX } from "../../src/shared/limits.ts";
import { encodeTail } from "../../src/shared/record-codec.ts";
import { DEFAULT_TOPIC_CONFIG } from "../../src/shared/topic-config.ts";
import { checkProduce, type ProduceInput } from "../../src/topic/produce.ts";

/** The schema path's record for `text`, or null where it refuses it. */
function schemaRecord(text: string): ProduceInput | null {
	try {
		return toProduceInput(validate(ProduceRecordBody, parseJson(text)));
	} catch {
		return null;
	}
}

/** The record's `ProduceInput` fields (its value read through the getter), as the schema path's record has them. */
function plain(record: ProduceInput) {
	const { key, value, headers, timestampMs, keyEncoding, valueEncoding, partition } = record;
	return { key, value, headers, timestampMs, keyEncoding, valueEncoding, partition };
}

/** The reader's answer must be the schema path's record, encoded into exactly `encodeTail`'s string. */
function agrees(text: string, ascii: boolean): boolean {
	const record = plainStreamRecord(text, ascii);
	if (record === null) return false;
	const expected = schemaRecord(text);
	expect(expected, text).not.toBeNull();
	expect(plain(record)).toEqual(expected);
	expect(record.encoded?.tail).toBe(encodeTail(record));
	expect(record.encoded?.bytes ?? utf8ByteLength(record.encoded?.tail as string)).toBe(utf8ByteLength(record.encoded?.tail as string));
	return true;
}

const isAscii = (text: string) => new TextEncoder().encode(text).length === text.length;

/** Headers as a producer writes them (`{"key":…,"value":…}`), strings of any characters. */
const validHeaders = fc.array(
	fc.record({
		key: fc.oneof({ weight: 4, arbitrary: fc.string() }, fc.string({ unit: "binary" })),
		value: fc.oneof({ weight: 4, arbitrary: fc.string() }, fc.string({ unit: "binary" }), fc.constant(null)),
	}),
	{ maxLength: 3 },
);
/** Headers, and near misses the schema refuses or the reader leaves to it. */
const headers = fc.oneof(
	{ weight: 12, arbitrary: validHeaders },
	fc.constant([{ key: "k".repeat(HEADER_KEY_LENGTH_MAX), value: "v" }]),
	fc.constant([{ key: "k".repeat(HEADER_KEY_LENGTH_MAX + 1), value: "v" }]),
	fc.constant(Array.from({ length: RECORD_HEADERS_MAX }, (_, i) => ({ key: `k${i}`, value: null }))),
	fc.constant(Array.from({ length: RECORD_HEADERS_MAX + 1 }, (_, i) => ({ key: `k${i}`, value: null }))),
	fc.constant([{ value: "v", key: "k" }]),
	fc.constant([{ key: "k" }]),
	fc.constant([{ key: "k", value: 1 }]),
	fc.constant([{ key: null, value: "v" }]),
	fc.constant([{ key: "k", value: "v", other: 1 }]),
	fc.constant([["k", "v"]]),
	fc.constant({ key: "k", value: "v" }),
	fc.constant(null),
	fc.constant("h"),
);

/** Plain records and near misses: strings of any characters, numbers, nulls, other fields. */
const message = fc.oneof(
	{
		weight: 3,
		arbitrary: fc.record(
			{
				partition: fc.oneof(fc.nat({ max: PARTITIONS_MAX + 1 }), fc.constant(-1), fc.constant(1.5)),
				key: fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constant(null), fc.integer()),
				value: fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constant(null), fc.string({ unit: "grapheme" })),
				timestamp: fc.oneof(fc.nat(), fc.constant(null), fc.constant(-5), fc.constant(8_640_000_000_000_001)),
				headers,
			},
			{ requiredKeys: ["value"] },
		),
	},
	fc.record({ value: fc.jsonValue(), headers: fc.constant([]), extra: fc.constant(1), partition: fc.constant(null) }, { requiredKeys: [] }),
);

/** Characters that matter to JSON's grammar, for mutations. */
const SIGNIFICANT = ['"', "\\", ",", ":", "{", "}", " ", "\n", "0", "-", "u", "/", "n", "\u0001", "\ud800", "é"];

/** A valid record as a producer writes it: a partition, maybe a key, a value (strings or null), maybe headers. */
const validRecord = fc.record(
	{
		partition: fc.nat({ max: 3 }),
		key: fc.oneof(fc.string(), fc.constant(null)),
		value: fc.oneof(fc.string(), fc.constant(null)),
		headers: fc.array(fc.record({ key: fc.string({ maxLength: 3 }), value: fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null)) }), {
			maxLength: 2,
		}),
	},
	{ requiredKeys: ["value"] },
);

describe("plainStreamRecord", () => {
	it("answers the schema path's record whenever it answers, and takes the plain ones", () => {
		let taken = 0;
		let withHeaders = 0;
		fc.assert(
			fc.property(message, fc.boolean(), (value, spaced) => {
				const text = spaced ? JSON.stringify(value, null, " ").replaceAll("\n", "") : JSON.stringify(value);
				if (!agrees(text, isAscii(text))) return;
				taken++;
				if ((plainStreamRecord(text, false)?.headers.length ?? 0) > 0) withHeaders++;
			}),
			{ numRuns: 2000 },
		);
		// Fewer than half are plain (out-of-range partitions, number keys, near-miss headers): about 70 of 2,000.
		expect(taken).toBeGreaterThan(40);
		expect(withHeaders).toBeGreaterThan(10);
	});

	it("never takes a text JSON.parse would not read as that record (one character inserted, removed or replaced)", () => {
		fc.assert(
			fc.property(
				validRecord,
				fc.nat(),
				fc.constantFrom(...SIGNIFICANT),
				fc.constantFrom("insert", "remove", "replace"),
				(value, at, char, edit) => {
					const text = JSON.stringify(value);
					const i = at % (text.length + 1);
					const mutated =
						edit === "insert"
							? text.slice(0, i) + char + text.slice(i)
							: text.slice(0, i) + (edit === "replace" ? char : "") + text.slice(i + 1);
					agrees(mutated, isAscii(mutated));
				},
			),
			{ numRuns: 5000 },
		);
	});

	it("steps aside for escapes it does not write back, repeats, control characters, surrogates and other fields", () => {
		for (const text of [
			'{"value":"\\u0041"}',
			'{"value":"a\\/b"}',
			'{"value":"a","value":"b"}',
			'{"value":"a\u0001"}',
			'{"value":"a"}\n',
			'{"value":"\ud83d\ude00"}',
			'{"value":"a","headers":[{"key":"k","value":"\\u0041"}]}',
			'{"value":"a","headers":[{"value":"v","key":"k"}]}',
			'{"value":"a","headers":[{"key":"k","value":"v"}],"headers":[]}',
			'{"value":"a","headers":[{"key":"k","value":"v"},]}',
			'{"value":"a","headers":[{"key":"k","value":"v"}}',
			'{"value":"a","headers":null}',
			'{"value":1}',
			'{"value":"a","partition":01}',
			'{"value":"a","timestamp":"1"}',
			'{"value":"a",}',
			'{"key":"k"}',
		]) {
			expect(plainStreamRecord(text, isAscii(text)), text).toBeNull();
		}
	});

	it("takes headers of canonical strings, spaced or not, and stores them as the schema path does", () => {
		for (const text of [
			'{"value":"a","headers":[]}',
			'{"value":"a","headers":[{"key":"k","value":null}]}',
			'{ "key" : "k" , "headers" : [ { "key" : "t\\"x" , "value" : "v\\n" } , {"key":"","value":""} ] , "value" : "a" }',
		]) {
			expect(agrees(text, true), text).toBe(true);
		}
	});

	it("keeps its value unparsed through a partition's choice, and parses it when asked", () => {
		const record = plainStreamRecord('{"key":"k","value":"a\\"b"}', true);
		if (record === null) throw new Error("not taken");
		const placed = record.withPartition(2);
		expect(placed.partition).toBe(2);
		expect(placed.valueJson).toBe('"a\\"b"');
		expect(placed.value).toBe('a"b');
		expect(placed.key).toBe("k");
	});
});

/** The schema path's records for a produce body, or null where it refuses it. */
function schemaBody(text: string): ProduceInput[] | null {
	try {
		return validate(ProduceBody, parseJson(text)).records.map(toProduceInput);
	} catch {
		return null;
	}
}

/** The body reader's answer must be the schema path's records, each encoded into exactly `encodeTail`'s string. */
function bodyAgrees(text: string): boolean {
	const body = plainProduceBody(text, isAscii(text));
	if (body === null) return false;
	const { records, fields } = body;
	expect(fields.size).toBe(0);
	const expected = schemaBody(text);
	expect(expected, text).not.toBeNull();
	expect(records.map(plain)).toEqual(expected);
	for (const record of records) {
		expect(record.encoded?.tail).toBe(encodeTail(record));
		expect(record.encoded?.bytes ?? utf8ByteLength(record.encoded?.tail as string)).toBe(utf8ByteLength(record.encoded?.tail as string));
	}
	return true;
}

describe("plainProduceBody", () => {
	it("answers the schema path's records whenever it answers, and takes bodies of plain records", () => {
		let taken = 0;
		fc.assert(
			// Valid records mixed in: of bodies of `message`s alone, too few are plain (about 10 in 2,000) to count on.
			fc.property(fc.array(fc.oneof(message, validRecord), { maxLength: 4 }), fc.boolean(), (records, spaced) => {
				const body = { records };
				const text = spaced ? JSON.stringify(body, null, " ").replaceAll("\n", "") : JSON.stringify(body);
				if (bodyAgrees(text)) taken++;
			}),
			{ numRuns: 2000 },
		);
		expect(taken).toBeGreaterThan(10);
	});

	it("never takes a body JSON.parse would not read as those records (one character inserted, removed or replaced)", () => {
		fc.assert(
			fc.property(
				fc.array(validRecord, { minLength: 1, maxLength: 3 }),
				fc.nat(),
				fc.constantFrom(...SIGNIFICANT, "[", "]"),
				fc.constantFrom("insert", "remove", "replace"),
				(records, at, char, edit) => {
					const text = JSON.stringify({ records });
					const i = at % (text.length + 1);
					const mutated =
						edit === "insert"
							? text.slice(0, i) + char + text.slice(i)
							: text.slice(0, i) + (edit === "replace" ? char : "") + text.slice(i + 1);
					bodyAgrees(mutated);
				},
			),
			{ numRuns: 5000 },
		);
	});

	it("steps aside for other members, repeats, no records and more records than a request holds", () => {
		const many = JSON.stringify({ records: Array.from({ length: PRODUCE_RECORDS_MAX + 1 }, () => ({ value: "v" })) });
		for (const text of [
			'{"records":[]}',
			'{"records":[{"value":"a"}],"expected_offset":0}',
			'{"records":[{"value":"a"}],"records":[{"value":"b"}]}',
			'{"records":[{"value":"a"}]}x',
			'{"records":[{"value":"a"},]}',
			'{"records":{"value":"a"}}',
			'{"rec\\u006frds":[{"value":"a"}]}',
			many,
		]) {
			expect(plainProduceBody(text, isAscii(text)), text.slice(0, 80)).toBeNull();
		}
		const most = JSON.stringify({ records: Array.from({ length: PRODUCE_RECORDS_MAX }, () => ({ value: "v" })) });
		expect(plainProduceBody(most, true)?.records).toHaveLength(PRODUCE_RECORDS_MAX);
	});

	it("reads the members it is told of as the digits written, before or after the records, and steps aside for others", () => {
		const names = new Set(["sequence", "epoch"]);
		const records = '"records":[{"value":"a"}]';
		const read = (text: string) => {
			const body = plainProduceBody(text, true, names);
			return body === null ? null : { count: body.records.length, fields: Object.fromEntries(body.fields) };
		};
		expect(read(`{"sequence":100, "epoch" : 0 ,${records}}`)).toEqual({ count: 1, fields: { sequence: "100", epoch: "0" } });
		expect(read(`{${records},"sequence":007}`)).toEqual({ count: 1, fields: { sequence: "007" } });
		for (const text of [
			`{"sequence":1}`,
			`{${records},"producer_id":1}`,
			`{${records},"sequence":1,"sequence":2}`,
			`{${records},"sequence":-1}`,
			`{${records},"sequence":1.5}`,
			`{${records},"sequence":1e3}`,
			`{${records},"sequence":"1"}`,
			`{${records},"sequence":null}`,
			`{${records},"sequence":1,}`,
			`{${records},"seq\\u0075ence":1}`,
			`{${records},${records}}`,
		]) {
			expect(read(text), text).toBeNull();
		}
	});

	it("is how the fast path reads a batch with keys and headers: no JSON.parse of the body, sizes not counted", () => {
		const value = JSON.stringify(`${'x"\\'.repeat(340)}`);
		const headers =
			'[{"key":"traceparent","value":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},{"key":"content-type","value":"application/json"}]';
		const text = `{"records":[${Array.from({ length: 100 }, (_, i) => `{"partition":0,"key":"order-${i}","headers":${headers},"value":${value}}`).join(",")}]}`;
		const parse = vi.spyOn(JSON, "parse");
		const body = fastProduceBody(text, text.length);
		const bodyParsed = parse.mock.calls.some(([arg]) => arg === text);
		parse.mockRestore();
		expect(bodyParsed).toBe(false);
		expect(body?.records.map(plain)).toEqual(schemaBody(text));
		expect(body?.records.map((r) => r.encoded?.tail)).toEqual(schemaBody(text)?.map(encodeTail));
		expect(body?.records.every((r) => r.encoded?.bytes === r.encoded?.tail.length)).toBe(true);
	});

	it("is how the fast path reads a batch of plain records: no JSON.parse of 100 values of 1 KiB", () => {
		const value = JSON.stringify(`${'x"\\'.repeat(340)}`);
		const text = `{"records":[${Array.from({ length: 100 }, () => `{"partition":0,"value":${value}}`).join(",")}]}`;
		const parse = vi.spyOn(JSON, "parse");
		const body = fastProduceBody(text, text.length);
		expect(parse).not.toHaveBeenCalled();
		parse.mockRestore();
		expect(body?.fields).toEqual({});
		expect(body?.records.map(plain)).toEqual(schemaBody(text));
		expect(body?.records.every((r) => r.encoded?.bytes === r.encoded?.tail.length)).toBe(true);
	});
});

describe("a streamed plain record (parseMessage)", () => {
	afterEach(() => vi.restoreAllMocks());

	it("is read without JSON.parse of its value: about 3 µs of a 1 KiB value with escapes", () => {
		const text = `{"partition":0,"value":${JSON.stringify(`${'x"\\'.repeat(300)}`)}}`;
		const parse = vi.spyOn(JSON, "parse");
		const parsed = parseMessage(text);
		expect(parse).not.toHaveBeenCalled();
		if ("code" in parsed) throw new Error(parsed.message);
		expect(parsed.records[0]?.encoded?.tail).toBe(`"key":null,"value":${text.slice(23, -1)},"headers":[]}`);
	});

	it("is not parsed on its way to the partition: produce learns a tombstone from its text", () => {
		const value = JSON.stringify(`${'x"\\'.repeat(300)}`);
		const meta = {
			name: "t",
			topicId: "t-1",
			partitions: 1,
			config: DEFAULT_TOPIC_CONFIG,
			configVersion: 1,
			createdAtMs: 0,
			locationHint: null,
		};
		const records = [`{"partition":0,"value":${value}}`, '{"partition":0,"value":null}'].map((text) => {
			const parsed = parseMessage(text);
			if ("code" in parsed) throw new Error(parsed.message);
			return parsed.records[0] as ProduceInput;
		});
		expect(records.map((r) => r.encoded?.tombstone)).toEqual([false, true]);
		const parse = vi.spyOn(JSON, "parse");
		expect(checkProduce(meta, records).ok).toBe(true);
		expect(parse).not.toHaveBeenCalled();
	});
});
