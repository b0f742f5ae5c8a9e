import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mayHoldUnsafeNumber, parseJsonExact, utf8ByteLength } from "../../src/shared/json.ts";

describe("parseJsonExact", () => {
	it.each([
		['{"id":12345678901234567890}', '{"id":12345678901234567890}'],
		['{"p":0.10000000000000000555}', '{"p":0.10000000000000000555}'],
		['{"big":1e400,"tiny":-1.5E-400}', '{"big":1e400,"tiny":-1.5E-400}'],
		["[ 99999999999999999 , 1 ]", "[99999999999999999,1]"],
	])("keeps the digits of %s", (text, expected) => {
		expect(JSON.stringify(parseJsonExact(text))).toBe(expected);
	});

	it("parses ordinary JSON exactly as JSON.parse, including numbers-in-strings that look unsafe", () => {
		for (const text of ['{"a":1,"b":[true,null,"x"]}', '{"s":"a:12345678901234567890","t":"e123"}', "1.5", '"str"']) {
			expect(parseJsonExact(text)).toEqual(JSON.parse(text));
		}
	});

	it("round-trips any JSON value as JSON.parse does when nothing is unsafe", () => {
		fc.assert(
			fc.property(fc.jsonValue(), (value) => {
				const text = JSON.stringify(value);
				expect(JSON.stringify(parseJsonExact(text))).toBe(JSON.stringify(JSON.parse(text)));
			}),
			{ numRuns: 300 },
		);
	});

	it("throws SyntaxError on malformed JSON", () => {
		expect(() => parseJsonExact('{"a":')).toThrow(SyntaxError);
		expect(() => parseJsonExact('{"a":12345678901234567890')).toThrow(SyntaxError);
	});
});

describe("mayHoldUnsafeNumber", () => {
	it.each([
		['{"a":12345678901234567890}', true],
		['{"a":0.10000000000000000555}', true],
		['{"a":-1.5E-308}', true],
		['{"a": [ 99999999999999999 ]}', true],
		["12345678901234567", true],
		['{"a":"x1e400","b":"id-12345678901234567890"}', false],
		['{"a":1.0,"b":[1,2,3]}', false],
	])("%s → %s", (text, expected) => {
		expect(mayHoldUnsafeNumber(text)).toBe(expected);
	});

	it("never misses a number that JSON.parse would change", () => {
		fc.assert(
			fc.property(fc.jsonValue(), fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (value, big) => {
				const text = JSON.stringify({ value, big: 0 }).replace('"big":0', `"big":${big}`);
				const exact = String(Number(big)) === String(big);
				if (!exact) expect(mayHoldUnsafeNumber(text)).toBe(true);
			}),
			{ numRuns: 300 },
		);
	});

	it("answers a megabyte of digits inside a string quickly and conservatively", () => {
		expect(typeof mayHoldUnsafeNumber(JSON.stringify({ v: "1".repeat(1_000_000) }))).toBe("boolean");
	});
});

describe("utf8ByteLength", () => {
	it("matches TextEncoder for any string, lone surrogates included", () => {
		const encoder = new TextEncoder();
		fc.assert(
			fc.property(fc.string({ unit: "binary" }), (s) => {
				expect(utf8ByteLength(s)).toBe(encoder.encode(s).length);
			}),
			{ numRuns: 500 },
		);
		for (const s of ["", "ascii", "é", "한국어", "😀", "\ud800", "\udc00x", "a\ud83d"])
			expect(utf8ByteLength(s)).toBe(encoder.encode(s).length);
	});
});
