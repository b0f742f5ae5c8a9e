// @ts-check
/**
 * @module
 * A Fetch page's JSON (`{"records":[…],"high_watermark":…,…}`, up to the Kafka client's byte cap, 1 MiB by default)
 * parsed in pieces of PAGE_PIECE_BYTES, so no string of the page outgrows V8's regular heap objects. A string over
 * 128 KiB goes to V8's large-object space, on pages fresh from the system every time: decoding a 1.1 MB page to one
 * string cost 280 page faults and about 0.9 ms of CPU, against 0.5 ms for the same bytes decoded in pieces, and
 * JSON.parse takes the pieces as fast.
 *
 * The pieces are cut after a `,\n` between records (how the Worker joins them) and parsed as arrays. A raw newline
 * cannot stand inside a JSON string, so every `,\n` is between values; a cut that is not between two records leaves
 * a piece whose brackets do not match, which JSON.parse refuses, and then the page is parsed whole. So the pieces
 * give exactly what JSON.parse of the whole page gives, or are not used.
 *
 * Tried and dropped: decoding the page as latin1 (one character per UTF-8 byte, written back the same way) halves
 * the decoding of one whole-page string (0.48 against 1.04 ms) but not decoding and JSON.parse together (2.74
 * against 2.67 ms): Node keeps such a string outside V8's heap, which JSON.parse reads more slowly. Writing ASCII
 * keys and values into the batch with Buffer's latin1 writer rather than its UTF-8 one saved 0.2 ms per page on
 * strings written again and again, and nothing on freshly parsed ones (1.07 against 1.01 ms per page). Copying a
 * string value's bytes from the page into the batch with a JS loop that undoes its escapes, instead of parsing it
 * into a string and writing that: 2.36 µs per 1 KiB value with escapes (quotes and backslashes, as JSON texts
 * carry) for the loop alone, against 2.7 µs for JSON.parse of the whole record and writing its value.
 */

/** Bytes of page text parsed at once: under V8's largest regular heap object (128 KiB). */
export const PAGE_PIECE_BYTES = 96 * 1024;
/**
 * Largest page gathered into the reused buffer: a Kafka client's default byte cap per partition (1 MiB) and the
 * envelope fit. A larger page is joined into a buffer of its own, not kept.
 */
export const PAGE_GATHER_BYTES_MAX = 2 * 1024 * 1024;

const HEAD = Buffer.from('{"records":[', "latin1");
const RECORDS_END = Buffer.from('],"high_watermark":', "latin1");
const SEPARATOR = Buffer.from(",\n", "latin1");
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;

/**
 * Where a page's chunks are joined, reused from page to page: a fresh 1 MiB buffer per page came from the system
 * every time (page faults as it was filled). Only `parseFetchPage` uses it, and only until it returns: JSON.parse
 * copies what it keeps into strings.
 */
let gathered = Buffer.alloc(0);

/**
 * Told a page's members after its records (`high_watermark`, `next_offset`, …) and whether it holds records,
 * before its records are parsed (`hasRecords` false may still be a page with records, laid out otherwise).
 * @typedef {(members: any, hasRecords: boolean) => void} OnEnvelope
 */

/**
 * The JSON value of a Fetch page's bytes (UTF-8), received in `chunks`, as JSON.parse of their text; throws as it
 * does. The chunks are read, never changed. A page parsed in pieces tells `onEnvelope` its members first.
 * @param {Buffer[]} chunks @param {{ pieceBytes?: number, onEnvelope?: OnEnvelope }} [options] `pieceBytes` for tests
 */
export function parseFetchPage(chunks, { pieceBytes = PAGE_PIECE_BYTES, onEnvelope } = {}) {
	let length = 0;
	for (const chunk of chunks) length += chunk.length;
	if (length <= pieceBytes) return JSON.parse((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length)).toString("utf8"));
	const bytes = gather(chunks, length);
	return parsePieces(bytes, pieceBytes, onEnvelope) ?? JSON.parse(bytes.toString("utf8"));
}

/** The chunks joined: in the reused buffer when they fit it. @param {Buffer[]} chunks @param {number} length */
function gather(chunks, length) {
	if (length > PAGE_GATHER_BYTES_MAX) return Buffer.concat(chunks, length);
	if (gathered.length < length) gathered = Buffer.allocUnsafeSlow(Math.min(PAGE_GATHER_BYTES_MAX, Math.max(length, 2 * gathered.length)));
	let at = 0;
	for (const chunk of chunks) at += chunk.copy(gathered, at);
	return gathered.subarray(0, length);
}

/**
 * The page parsed piece by piece, or null when its bytes are not laid out as the Worker writes them. `bytes` is
 * the same again when this returns.
 * @param {Buffer} bytes @param {number} pieceBytes @param {OnEnvelope} [onEnvelope]
 */
function parsePieces(bytes, pieceBytes, onEnvelope) {
	if (HEAD.compare(bytes, 0, HEAD.length) !== 0) return null;
	const recordsEnd = bytes.lastIndexOf(RECORDS_END);
	if (recordsEnd < HEAD.length) return null;
	try {
		// `{` and the members after the records array: `{"high_watermark":…,…}`.
		const rest = JSON.parse(`{${bytes.toString("utf8", recordsEnd + 2)}`);
		// A record object right after `[`: the array holds one at least (whitespace first, and it is not told so).
		onEnvelope?.(rest, bytes[HEAD.length] === OPEN_BRACE);
		/** @type {unknown[]} */
		const records = [];
		for (let start = HEAD.length; start <= recordsEnd; ) {
			const cut = start + pieceBytes >= recordsEnd ? -1 : bytes.indexOf(SEPARATOR, start + pieceBytes);
			const end = cut === -1 || cut > recordsEnd ? recordsEnd : cut;
			// `,\n]`: a separator and no record after it, which JSON.parse refuses (the whole page is parsed to say so).
			if (end === start && start !== HEAD.length) return null;
			const piece = /** @type {unknown[]} */ (parseBracketed(bytes, start - 1, end));
			for (const record of piece) records.push(record);
			start = end + SEPARATOR.length;
		}
		return { records, ...rest };
	} catch {
		return null;
	}
}

/**
 * JSON.parse of `[`, the text of the bytes between `open` and `close`, and `]`, read with the brackets written over
 * the bytes at `open` and `close` (the `[` or the `\n` before a piece, the `,` or the `]` after it), which are put
 * back afterwards. Adding the brackets to the piece's text instead made V8 copy the whole piece once more, to
 * flatten the concatenated string before parsing it.
 * @param {Buffer} bytes @param {number} open @param {number} close
 */
function parseBracketed(bytes, open, close) {
	const before = bytes[open];
	const after = bytes[close];
	bytes[open] = OPEN_BRACKET;
	bytes[close] = CLOSE_BRACKET;
	try {
		return JSON.parse(bytes.toString("utf8", open, close + 1));
	} finally {
		bytes[open] = before;
		bytes[close] = after;
	}
}
