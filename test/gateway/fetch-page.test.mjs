/**
 * A Fetch page parsed in pieces (gateway/fetch-page.js) must be what JSON.parse makes of the whole page, for any
 * page: seeded pages of records with escapes, controls, wide characters, lone surrogates, JSON values (with `,\n`
 * and `],"high_watermark":` inside their strings), headers and base64, joined as the Worker joins them, and also
 * pretty-printed, where `,\n` comes between values at every depth, and bytes that are not UTF-8, each page cut into
 * chunks as a response arrives. Small pieces make every page several. The brackets the parser writes over a piece's
 * separators while it parses the piece are put back (a page whose last record does not parse as a piece is then
 * parsed whole, from the same bytes), and a page parsed in the reused buffer is not changed by the next one.
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

/**
 * A page as the Worker writes it: records joined by `,\n` inside the envelope (the last record pretty-printed, with
 * `,\n` inside it too, when `lastIndent` is given, so pieces before it parse and its own does not).
 * @param {object[]} records @param {number} [lastIndent]
 */
function workerPage(records, lastIndent) {
	const lines = records.map((r, i) => JSON.stringify(r, null, i === records.length - 1 ? lastIndent : undefined));
	return `{"records":[${lines.join(",\n")}],"high_watermark":${records.length + 5},"log_start_offset":0,"next_offset":${records.length}}`;
}

/** Pieces of so few bytes that nearly every record is one. */
const PIECE_BYTES = 16;

/** `bytes` cut at `cuts` (fractions of its length) into chunks, as a response arrives. @param {Buffer} bytes @param {number[]} cuts */
function chunked(bytes, cuts) {
	const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
	return [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length)).filter((chunk) => chunk.length > 0);
}

test("fuzz: a page parsed in pieces is JSON.parse of the page, however its records are laid out and its bytes arrive", () => {
	fc.assert(
		fc.property(
			fc.array(record, { maxLength: 8 }),
			fc.constantFrom("worker", "pretty", "pretty last record", "one line", "trailing separator"),
			fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
			(records, layout, cuts) => {
				const page = { records, high_watermark: 9, log_start_offset: 0, next_offset: records.length };
				const jsonText =
					layout === "worker"
						? workerPage(records)
						: layout === "pretty last record"
							? workerPage(records, 1)
							: layout === "trailing separator"
								? workerPage(records).replace('],"high_watermark"', ',\n],"high_watermark"')
								: layout === "pretty"
									? JSON.stringify(page, null, 1)
									: JSON.stringify(page);
				const chunks = chunked(Buffer.from(jsonText), cuts);
				const copies = chunks.map((chunk) => Buffer.from(chunk));
				/** @type {unknown} */
				let expected;
				try {
					expected = JSON.parse(jsonText);
				} catch {
					assert.throws(() => parseFetchPage(chunks, { pieceBytes: PIECE_BYTES }), SyntaxError);
					return;
				}
				assert.deepEqual(parseFetchPage(chunks, { pieceBytes: PIECE_BYTES }), expected);
				// The brackets written over separators while a piece is parsed are put back.
				assert.deepEqual(chunks, copies);
			},
		),
		{ seed: SEED, numRuns: 2_000 },
	);
});

/** `count` stored records from offset 0, each with `value`, as the Worker answers them. @param {number} count @param {string} value */
const stored = (count, value) =>
	Array.from({ length: count }, (_, i) => ({ partition: 0, offset: i, timestamp: i, key: null, value, headers: [] }));

test("a page parsed in the reused buffer stays as parsed when the next page is parsed there", () => {
	const page = (/** @type {string} */ value) => workerPage(stored(30, value));
	const first = Buffer.from(page("a".repeat(5_000)));
	const parsed = parseFetchPage(chunked(first, [0.3, 0.6]));
	parseFetchPage(chunked(Buffer.from(page("b".repeat(5_000))), [0.5]));
	assert.deepEqual(parsed, JSON.parse(first.toString()));
});

test("a page over a piece is parsed in pieces when laid out as the Worker writes it", () => {
	const records = stored(40, "x".repeat(5_000));
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
		assert.deepEqual(parseFetchPage([bytes]), parse(bytes.toString()));
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
	assert.deepEqual(parseFetchPage([notUtf8], { pieceBytes: PIECE_BYTES }), JSON.parse(notUtf8.toString()));
	const cut = Buffer.from(`${head}${"b".repeat(40)}","headers":[]},\n{"partition":0`);
	assert.throws(() => parseFetchPage([cut], { pieceBytes: PIECE_BYTES }), SyntaxError);
});

test("a page parsed in pieces tells its envelope (where the next page starts) before its records are parsed", () => {
	const records = stored(40, "x".repeat(5_000));
	const parse = JSON.parse;
	/** @type {string[]} */
	const events = [];
	JSON.parse = (/** @type {string} */ s) => {
		events.push(s.startsWith("[") ? "records" : "envelope");
		return parse(s);
	};
	try {
		parseFetchPage([Buffer.from(workerPage(records))], {
			onEnvelope: (members, hasRecords) => events.push(`told ${members.next_offset} ${hasRecords}`),
		});
		parseFetchPage([Buffer.from(workerPage([]).replace('"records":[]', `"records":[${" ".repeat(PAGE_PIECE_BYTES)}]`))], {
			onEnvelope: (members, hasRecords) => events.push(`told ${members.next_offset} ${hasRecords}`),
		});
	} finally {
		JSON.parse = parse;
	}
	assert.deepEqual(events.slice(0, 2), ["envelope", "told 40 true"]);
	assert.ok(events.slice(2).includes("records"));
	assert.ok(events.includes("told 0 false"), "an empty records array: nothing follows");
});
