/**
 * The concatenated-JSON splitter of Confluent's streaming produce, on its own: any sequence of JSON
 * values, concatenated with or without whitespace and cut into chunks anywhere, comes back value by value.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConcatenatedJsonSplitter, type SplitItem } from "../../src/http/compat/confluent/concatenated-json.ts";

function split(chunks: readonly string[], limit = 1_000_000): SplitItem[] {
	const splitter = new ConcatenatedJsonSplitter(limit);
	return [...chunks.flatMap((chunk) => splitter.push(chunk)), ...splitter.end()];
}

/** Cuts `text` at the given fractions of its length. */
function cut(text: string, points: readonly number[]): string[] {
	const at = [...new Set(points.map((p) => Math.floor(p * text.length)))].sort((a, b) => a - b);
	const chunks: string[] = [];
	let from = 0;
	for (const to of at) {
		chunks.push(text.slice(from, to));
		from = to;
	}
	chunks.push(text.slice(from));
	return chunks;
}

const whitespace = fc.constantFrom("", " ", "\n", "\r\n", "\t  ");

describe("ConcatenatedJsonSplitter", () => {
	it("splits the published streaming example: records back to back, no separator", () => {
		const items = split(['{"value":{"type":"JSON","data":1}}{"value":{"type":"STRING","data":"}{"}}']);
		expect(items).toEqual([
			{ kind: "value", text: '{"value":{"type":"JSON","data":1}}' },
			{ kind: "value", text: '{"value":{"type":"STRING","data":"}{"}}' },
		]);
	});

	it("keeps escaped quotes and backslashes inside strings", () => {
		const text = '{"a":"x\\"}\\\\"}';
		expect(split([text.slice(0, 7), text.slice(7)])).toEqual([{ kind: "value", text }]);
	});

	it("returns every value of any concatenation, however it is chunked", () => {
		// Objects and arrays need no separator; scalars are separated by whitespace, as a JSON reader needs them.
		const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })));
		fc.assert(
			fc.property(
				fc.array(fc.tuple(value, whitespace), { maxLength: 12 }),
				fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
				(values, points) => {
					let text = "";
					for (const [v, space] of values) {
						const json = JSON.stringify(v);
						text += json + (/^[[{"]/.test(json) && space === "" ? "" : space || " ");
					}
					const items = split(cut(text, points));
					expect(items.every((item) => item.kind === "value")).toBe(true);
					expect(items.map((item) => JSON.parse((item as { text: string }).text))).toEqual(
						values.map(([v]) => JSON.parse(JSON.stringify(v))),
					);
				},
			),
			{ numRuns: 500 },
		);
	});

	it("reports a value over the limit as too_large without buffering it, then goes on", () => {
		const big = JSON.stringify({ data: "x".repeat(100) });
		const items = split(cut(`{"a":1}${big}{"b":2}`, [0.1, 0.3, 0.5, 0.7]), 50);
		expect(items).toEqual([
			{ kind: "value", text: '{"a":1}' },
			{ kind: "too_large", length: big.length },
			{ kind: "value", text: '{"b":2}' },
		]);
	});

	it("reports a value the stream ends inside as truncated, and a bare token as complete", () => {
		expect(split(['{"a":1} {"b":'])).toEqual([
			{ kind: "value", text: '{"a":1}' },
			{ kind: "truncated", length: 5 },
		]);
		expect(split(["12 tr", "ue"])).toEqual([
			{ kind: "value", text: "12" },
			{ kind: "value", text: "true" },
		]);
	});

	it("hands stray text between values back as its own item, so it can be answered in place", () => {
		expect(split(['{"a":1},{"b":2}'])).toEqual([
			{ kind: "value", text: '{"a":1}' },
			{ kind: "value", text: "," },
			{ kind: "value", text: '{"b":2}' },
		]);
		expect(split(["} ]"]).map((i) => i.kind === "value" && i.text)).toEqual(["}", "]"]);
	});

	it("never loses or invents text: items are the input in order, with only whitespace between them", () => {
		fc.assert(
			fc.property(fc.string({ maxLength: 200 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), (text, points) => {
				const items = split(cut(text, points));
				let at = 0;
				for (const item of items) {
					const gap = /^[ \n\r\t]*/.exec(text.slice(at))?.[0].length ?? 0;
					at += gap;
					if (item.kind === "value") {
						expect(text.slice(at, at + item.text.length)).toBe(item.text);
						at += item.text.length;
					} else {
						expect(item.kind).toBe("truncated");
						expect(item.length).toBe(text.length - at);
						at = text.length;
					}
				}
				expect(text.slice(at).trim()).toBe("");
			}),
			{ numRuns: 500 },
		);
	});
});
