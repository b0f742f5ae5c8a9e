/**
 * A Fetch page parsed in pieces (gateway/fetch-page.js) must be what JSON.parse makes of the whole page, for any
 * page: seeded pages of records with escapes, controls, wide characters, lone surrogates, JSON values (with `,\n`
 * and `],"high_watermark":` inside their strings), headers and base64, joined as the Worker joins them, and also
 * pretty-printed, where `,\n` comes between values at every depth, and bytes that are not UTF-8. Small pieces make
 * every page several.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { PAGE_PIECE_BYTES, parseFetchPage } from "../../gateway/fetch-page.js";

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
console.log(`# fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay)`);

const text = fc.string({
	unit: fc.constantFrom("a", '"', "\\", "\n", ",", "]", "[", "{", "}", "\u0000", "é", "😀", "\ud800", ",\n", '],"high_watermark":'),
	maxLength: 12,
});
const json = fc.oneof(
	text,
	fc.integer(),
	fc.constant(null),
	fc.array(fc.oneof(text, fc.integer()), { maxLength: 3 }),
	fc.dictionary(text, text, { maxKeys: 3 }),
);
const record = fc.record({
	partition: fc.constant(0),
	offset: fc.nat({ max: 1_000 }),
	timestamp: fc.nat({ max: 2 ** 45 }),
	key: fc.oneof(fc.constant(null), text),
	value: json,
	headers: fc.array(fc.record({ key: text, value: fc.oneof(fc.constant(null), text) }), { maxLength: 2 }),
});

/** A page as the Worker writes it: records joined by `,\n` inside the envelope. @param {object[]} records */
function workerPage(records) {
	const lines = records.map((r) => JSON.stringify(r));
	return `{"records":[${lines.join(",\n")}],"high_watermark":${records.length + 5},"log_start_offset":0,"next_offset":${records.length}}`;
}

/** Pieces of so few bytes that nearly every record is one. */
const PIECE_BYTES = 16;

test("fuzz: a page parsed in pieces is JSON.parse of the page, however its records are laid out", () => {
	fc.assert(
		fc.property(fc.array(record, { maxLength: 8 }), fc.constantFrom("worker", "pretty", "one line"), (records, layout) => {
			const page = { records, high_watermark: 9, log_start_offset: 0, next_offset: records.length };
			const jsonText =
				layout === "worker" ? workerPage(records) : layout === "pretty" ? JSON.stringify(page, null, 1) : JSON.stringify(page);
			const bytes = Buffer.from(jsonText);
			assert.deepEqual(parseFetchPage(bytes, PIECE_BYTES), JSON.parse(jsonText));
		}),
		{ seed: SEED, numRuns: 2_000 },
	);
});

test("a page over a piece is parsed in pieces when laid out as the Worker writes it", () => {
	const records = Array.from({ length: 40 }, (_, i) => ({
		partition: 0,
		offset: i,
		timestamp: i,
		key: null,
		value: "x".repeat(5_000),
		headers: [],
	}));
	const bytes = Buffer.from(workerPage(records));
	assert.ok(bytes.length > 2 * PAGE_PIECE_BYTES);
	const parse = JSON.parse;
	/** @type {number[]} */
	const parsed = [];
	JSON.parse = (/** @type {string} */ s) => {
		parsed.push(s.length);
		return parse(s);
	};
	try {
		assert.deepEqual(parseFetchPage(bytes), parse(bytes.toString()));
	} finally {
		JSON.parse = parse;
	}
	assert.ok(parsed.length > 2, `${parsed.length} parses`);
	assert.ok(Math.max(...parsed) < PAGE_PIECE_BYTES + 6_000, `a piece of ${Math.max(...parsed)} characters`);
});

test("a page whose bytes are not UTF-8, or not JSON, is parsed (or refused) as JSON.parse of its text", () => {
	const head = '{"records":[{"partition":0,"offset":0,"timestamp":1,"key":null,"value":"';
	const tail = '","headers":[]}],"high_watermark":1,"log_start_offset":0,"next_offset":1}';
	const notUtf8 = Buffer.concat([Buffer.from(head), Buffer.from([0x61, 0xff, 0xc3]), Buffer.from(`${"b".repeat(40)}${tail}`)]);
	assert.deepEqual(parseFetchPage(notUtf8, PIECE_BYTES), JSON.parse(notUtf8.toString()));
	const cut = Buffer.from(`${head}${"b".repeat(40)}","headers":[]},\n{"partition":0`);
	assert.throws(() => parseFetchPage(cut, PIECE_BYTES), SyntaxError);
});
