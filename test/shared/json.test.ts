import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mayHoldUnsafeNumber, parseJsonExact, utf8ByteLength } from "../../src/shared/json.ts";

/** A JSON number's value as a canonical decimal: sign, digits without leading or trailing zeros, and exponent. */
function decimalValue(text: string): string {
	const [, sign = "", whole = "", fraction = "", exponent = "0"] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text) ?? [];
	const digits = `${whole}${fraction}`.replace(/^0+/, "");
	const trimmed = digits.replace(/0+$/, "");
	return `${sign}${trimmed}e${Number(exponent) - fraction.length + (digits.length - trimmed.length)}`;
}

describe("parseJsonExact", () => {
	it.each([
		['{"id":12345678901234567890}', '{"id":12345678901234567890}'],
		['{"p":0.10000000000000000555}', '{"p":0.10000000000000000555}'],
		['{"big":1e400,"tiny":-1.5E-400}', '{"big":1e400,"tiny":-1.5E-400}'],
		["[ 99999999999999999 , 1 ]", "[99999999999999999,1]"],
		// Seventeen or more significant digits split by the decimal point: a double keeps about sixteen.
		['{"n":1234567890.1234567891}', '{"n":1234567890.1234567891}'],
		["[123456789012345.6789]", "[123456789012345.6789]"],
		// A negative zero: JSON.stringify writes a double's -0 as 0.
		['{"z":-0,"y":-0.0,"x":-0e5}', '{"z":-0,"y":-0.0,"x":-0e5}'],
		["-0", "-0"],
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

	it("parses a number a double holds exactly as a number, however it is spelled (only its spelling changes)", () => {
		expect(parseJsonExact("[1e308,1E+308,1.0,-0.5,12345678901234567890]")).toEqual([1e308, 1e308, 1, -0.5, expect.anything()]);
		expect(JSON.stringify(parseJsonExact("[1e308,1.50,12345678901234567890]"))).toBe("[1e+308,1.5,12345678901234567890]");
	});

	it("keeps the value of any decimal text, whatever its digits and where its point falls", () => {
		fc.assert(
			fc.property(fc.boolean(), fc.stringMatching(/^[1-9][0-9]{12,24}$/), fc.nat({ max: 25 }), (negative, digits, point) => {
				const at = Math.min(point, digits.length - 1);
				const text = `${negative ? "-" : ""}${digits.slice(0, digits.length - at)}${at > 0 ? `.${digits.slice(digits.length - at)}` : ""}`;
				expect(decimalValue(JSON.stringify(parseJsonExact(text)))).toBe(decimalValue(text));
			}),
			{ numRuns: 500 },
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
		['{"a":-0}', true],
		['{"a":[-0.000e5]}', true],
		// A negative fraction keeps its sign through a double: common in data, so it stays on the fast path.
		['{"a":-0.5,"b":-0.05,"c":"2024-01-05"}', false],
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
