/**
 * @module
 * Cursor pagination for listings (`GET /v1/topics`, `/v1/groups`, `/v1/keys`, a topic's subscriptions). A listing
 * is ordered by a unique key; a page asks for the rows after a key, at most `limit` of them, and a cursor is that
 * key of a page's last row, opaque to clients (base64url of its JSON). Each listing's object seeks to the key in
 * an index, so a page costs the same wherever it starts. Pure.
 *
 * @example
 * const page = pageOf(rowsAfterCursorPlusOne, request.limit, (row) => [row.name]);
 * // { items: rows (≤ limit), next: ["last-name"] | null }; the edge answers next_cursor: encodeCursor(page.next)
 */

import { assert } from "./assert.ts";
import { base64UrlEncode } from "./base64.ts";
import { utf8Encoder } from "./bytes.ts";
import { CURSOR_LENGTH_MAX } from "./limits.ts";

/** A row's position in its listing's order: the values of its sort key. */
export type PageKey = readonly (string | number)[];

export interface PageRequest {
	/** The key of the last row of the previous page; null for the first page. */
	readonly after: PageKey | null;
	readonly limit: number;
}

export interface Page<T> {
	readonly items: T[];
	/** The key to ask for the next page after; null on the last page. */
	readonly next: PageKey | null;
}

/** A page from `rows`, read as `limit + 1` rows after the cursor: the extra row only says whether more follow. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => PageKey): Page<T> {
	assert(limit >= 1 && rows.length <= limit + 1, "page rows");
	if (rows.length <= limit) return { items: rows, next: null };
	const items = rows.slice(0, limit);
	return { items, next: keyOf(items[limit - 1] as T) };
}

export function encodeCursor(key: PageKey): string {
	return base64UrlEncode(utf8Encoder.encode(JSON.stringify(key)));
}

/** The key of a cursor whose values have the types of `shape` (e.g. `["number", "string"]`); null if it is not one. */
export function decodeCursor(text: string, shape: readonly ("string" | "number")[]): PageKey | null {
	if (text.length > CURSOR_LENGTH_MAX || !/^[A-Za-z0-9_-]*$/.test(text)) return null;
	let key: unknown;
	try {
		const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
		key = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
	} catch {
		return null;
	}
	if (!Array.isArray(key) || key.length !== shape.length) return null;
	const typed = key.every((value, i) => (shape[i] === "number" ? Number.isSafeInteger(value) : typeof value === "string"));
	return typed ? (key as PageKey) : null;
}
