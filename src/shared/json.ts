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
		isRawJSON(value: unknown): value is { readonly rawJSON: string };
	}
}

/**
 * JSON's structural characters, as `charCodeAt` gives them. Here, in a module that imports nothing, and before its
 * first constant esbuild cannot inline (a regular expression), because esbuild puts only such constants in place of
 * their names.
 */
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;

/**
 * A double holds ~15.9 significant digits and exponents up to ±308: 16 digits (a decimal point may fall among
 * them) or a 3-digit exponent may not survive, and `JSON.stringify` writes a negative zero as `0` (`-0`, `-0.0`,
 * `-0e5`; not `-0.5`, which a double keeps as written, and which is common in data). Such runs are
 * common inside strings (ids, hex, versions), so a run only counts when it belongs to a number, i.e. its number
 * text starts the document or follows ':', ',' or '['. A cheap scan finds the runs and a short look-back checks
 * each; a false alarm only costs the slower path, never correctness.
 */
const SUSPECT_RUN = /\d(?:\.?\d){15}|[eE][+-]?\d{3}|-0(?:\.0+)?(?![\d.])/g;
/** Longer number texts are treated as unsafe without looking further (also bounds the look-back). */
const NUMBER_LOOKBACK_MAX = 512;

function isNumberChar(c: number): boolean {
	return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65 || c === 0x45;
}

export function isJsonSpace(c: number): boolean {
	return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Whether `text` may hold a number that a double cannot represent exactly. */
export function mayHoldUnsafeNumber(text: string): boolean {
	const runs = new RegExp(SUSPECT_RUN);
	for (let match = runs.exec(text); match !== null; match = runs.exec(text)) {
		let i = match.index - 1;
		const floor = match.index - NUMBER_LOOKBACK_MAX;
		while (i >= 0 && isNumberChar(text.charCodeAt(i))) if (--i < floor) return true;
		while (i >= 0 && isJsonSpace(text.charCodeAt(i))) if (--i < floor) return true;
		if (i < 0) return true;
		const before = text.charCodeAt(i);
		if (before === 0x3a || before === 0x2c || before === 0x5b) return true;
	}
	return false;
}

type ReviverContext = { source?: string };

const NUMBER_PARTS = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The decimal a JSON number's text denotes, one way of writing it: `1e308`, `1E+308` and `10e307` are one,
 * `-0` is not `0`. Null for a text that is no number (`Infinity`).
 */
function decimalOf(text: string): string | null {
	const parts = NUMBER_PARTS.exec(text);
	if (parts === null) return null;
	const [, sign, whole = "", fraction = "", exponent = "0"] = parts;
	const digits = `${whole}${fraction}`.replace(/^0+/, "");
	const significant = digits.replace(/0+$/, "");
	if (significant === "") return `${sign}0`;
	return `${sign}${significant}e${Number(exponent) - fraction.length + digits.length - significant.length}`;
}

/** A number whose double is written back as another decimal (digits lost, out of range, a zero's sign) stays text. */
function keepExactNumbers(this: unknown, _key: string, value: unknown, context?: ReviverContext): unknown {
	if (typeof value === "number" && context?.source !== undefined && String(value) !== context.source) {
		if (decimalOf(String(value)) !== decimalOf(context.source)) return JSON.rawJSON(context.source);
	}
	return value;
}

/** As `keepExactNumbers`, but a zero stays a double whatever its sign: where a number is a parameter, -0 means 0. */
function keepExactNonZero(this: unknown, key: string, value: unknown, context?: ReviverContext): unknown {
	return value === 0 ? value : keepExactNumbers.call(this, key, value, context);
}

/**
 * `JSON.parse` that preserves the digits of numbers a double cannot hold, and the sign of a zero unless
 * `keepZeroSign` is false (a body of parameters: only a record's value has a use for it). Throws `SyntaxError` like it.
 */
export function parseJsonExact(text: string, keepZeroSign = true): unknown {
	if (!mayHoldUnsafeNumber(text)) return JSON.parse(text);
	return JSON.parse(text, (keepZeroSign ? keepExactNumbers : keepExactNonZero) as (this: unknown, key: string, value: unknown) => unknown);
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

/**
 * Why a parsed JSON value is too deep or too wide to accept (null when it is fine): nesting deeper than
 * `depthMax`, or an object with more than `fieldsMax` members. Iterative, so hostile depth cannot overflow the
 * stack here; it visits only arrays and objects (about 0.5 ms per MB of a typical produce body, against
 * several ms per MB for `JSON.parse` itself), and stops at the first problem.
 */
export function jsonShapeProblem(root: unknown, depthMax: number, fieldsMax: number): string | null {
	if (root === null || typeof root !== "object") return null;
	const stack: object[] = [root];
	const depths: number[] = [1];
	while (stack.length > 0) {
		const value = stack.pop() as object;
		const depth = depths.pop() as number;
		if (depth > depthMax) return `JSON nests deeper than ${depthMax} levels`;
		if (Array.isArray(value)) {
			for (const item of value) {
				if (item !== null && typeof item === "object") {
					stack.push(item);
					depths.push(depth + 1);
				}
			}
			continue;
		}
		let fields = 0;
		for (const key in value) {
			if (++fields > fieldsMax) return `a JSON object has more than ${fieldsMax} fields`;
			const item = (value as Record<string, unknown>)[key];
			if (item !== null && typeof item === "object") {
				stack.push(item);
				depths.push(depth + 1);
			}
		}
	}
	return null;
}

/**
 * What a parsed body of parameters (names the API acts on, numbers it uses: never records) may not hold, in one
 * walk; null when it holds neither:
 * - an object member named `__proto__` (JSON.parse makes it an own field): a schema that copies a name-to-value map
 *   (zod's `record`) drops it without a word, as assigning it would set the copy's prototype;
 * - a number `parseJsonExact` kept as text (see `keepExactNumbers`): no parameter takes one, and it could not be
 *   sent to a Durable Object (RPC cannot clone it).
 * The first is named before the second, wherever each lies.
 */
export function parameterBodyProblem(root: unknown): string | null {
	let raw: string | null = null;
	const stack: unknown[] = [root];
	while (stack.length > 0) {
		const value = stack.pop();
		if (value === null || typeof value !== "object") continue;
		if (JSON.isRawJSON(value)) {
			raw ??= value.rawJSON;
			continue;
		}
		if (!Array.isArray(value) && Object.hasOwn(value, "__proto__")) return '"__proto__" is not a name this API takes';
		// One at a time: spread into push, a long array (a body may hold a million numbers) overflows the call's arguments.
		for (const item of Object.values(value)) if (item !== null && typeof item === "object") stack.push(item);
	}
	return raw === null ? null : `${raw} is not a number a double holds as written`;
}

/** A parsed JSON value that is an object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === "object" && !Array.isArray(value);
}
