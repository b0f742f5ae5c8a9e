/**
 * @module
 * Splits a stream of Concatenated JSON (RFC 7464's cousin without separators: `{…}{…} {…}`) into one text per
 * top-level value, incrementally: text goes in chunk by chunk, in any split, and complete values come out.
 * Confluent's streaming produce sends records this way. Pure: it only tracks nesting and string state,
 * it never parses; the caller parses each value on its own, so one malformed record cannot derail the rest.
 *
 * A value longer than `valueLengthMax` is not buffered: it is scanned to its end and reported as `too_large`,
 * and splitting goes on after it. Text between values that is not JSON whitespace and cannot start a value
 * (a stray `}`, `,`) is reported as its own item, so the caller answers it in place.
 *
 * @example
 * const splitter = new ConcatenatedJsonSplitter(1024);
 * splitter.push('{"a":1}{"b"'); // [{ kind: "value", text: '{"a":1}' }]
 * splitter.push(":2}");         // [{ kind: "value", text: '{"b":2}' }]
 * splitter.end();               // []
 */

import { assert } from "../../../shared/assert.ts";
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, isJsonSpace, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "../../../shared/json.ts";

export type SplitItem =
	/** One top-level value's text, exactly as sent (it may still be malformed inside). */
	| { readonly kind: "value"; readonly text: string }
	/** A value longer than the limit; its text was dropped. */
	| { readonly kind: "too_large"; readonly length: number }
	/** The stream ended inside a value. */
	| { readonly kind: "truncated"; readonly length: number };

/** A bare token (number, literal or garbage) ends where whitespace or another value starts. */
function endsBareToken(c: number): boolean {
	return isJsonSpace(c) || c === OPEN_BRACE || c === OPEN_BRACKET || c === QUOTE;
}

type Mode = "between" | "container" | "string" | "bare";

export class ConcatenatedJsonSplitter {
	readonly #valueLengthMax: number;
	#mode: Mode = "between";
	/** Open braces and brackets of the current container value. */
	#depth = 0;
	#inString = false;
	#escaped = false;
	/** Text of the current value so far, in pieces; dropped once it passes the limit. */
	#parts: string[] = [];
	#length = 0;
	#oversized = false;

	constructor(valueLengthMax: number) {
		assert(Number.isSafeInteger(valueLengthMax) && valueLengthMax > 0, "value limit > 0");
		this.#valueLengthMax = valueLengthMax;
	}

	/** Feeds the next chunk; returns the values it completed, in order. */
	push(chunk: string): SplitItem[] {
		const items: SplitItem[] = [];
		let start = -1; // where the current value's text begins inside this chunk
		for (let i = 0; i < chunk.length; i++) {
			const c = chunk.charCodeAt(i);
			if (this.#mode === "between") {
				if (isJsonSpace(c)) continue;
				start = i;
				this.#begin(c);
			}
			if (!this.#step(c, i === start)) continue;
			// The value ends at i (inclusive), or just before i for a bare token.
			const endsBefore = this.#mode === "bare";
			const end = endsBefore ? i : i + 1;
			items.push(this.#finish(chunk.slice(Math.max(start, 0), end)));
			start = -1;
			if (endsBefore) i--; // re-read the character that ended the token as the start of what follows
		}
		if (this.#mode !== "between") this.#keep(chunk.slice(Math.max(start, 0)));
		return items;
	}

	/** The stream is over: a value still open is reported as truncated (a bare token is complete). */
	end(): SplitItem[] {
		if (this.#mode === "between") return [];
		if (this.#mode === "bare") return [this.#finish("")];
		const length = this.#length;
		this.#reset();
		return [{ kind: "truncated", length }];
	}

	/** Enters the value `c` starts; `#step` then reads `c` itself (the opening brace, bracket or quote). */
	#begin(c: number): void {
		if (c === OPEN_BRACE || c === OPEN_BRACKET) {
			this.#mode = "container";
		} else if (c === QUOTE) {
			this.#mode = "string";
		} else {
			this.#mode = "bare";
		}
	}

	/** Advances over one character of the current value; true when the value is complete. */
	#step(c: number, first: boolean): boolean {
		if (this.#mode === "bare") return !first && endsBareToken(c);
		if (this.#inString) {
			if (this.#escaped) this.#escaped = false;
			else if (c === BACKSLASH) this.#escaped = true;
			else if (c === QUOTE) {
				this.#inString = false;
				return this.#mode === "string";
			}
			return false;
		}
		if (c === QUOTE) this.#inString = true;
		else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.#depth++;
		else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
			this.#depth--;
			return this.#depth === 0;
		}
		return false;
	}

	/** Keeps an unfinished value's text, or only its length once it is over the limit. */
	#keep(text: string): void {
		this.#length += text.length;
		if (this.#oversized) return;
		if (this.#length > this.#valueLengthMax) {
			this.#oversized = true;
			this.#parts = [];
			return;
		}
		this.#parts.push(text);
	}

	#finish(tail: string): SplitItem {
		this.#keep(tail);
		const item: SplitItem = this.#oversized ? { kind: "too_large", length: this.#length } : { kind: "value", text: this.#parts.join("") };
		assert(item.kind === "too_large" || item.text.length === this.#length, "value scanned");
		this.#reset();
		return item;
	}

	#reset(): void {
		this.#mode = "between";
		this.#depth = 0;
		this.#inString = false;
		this.#escaped = false;
		this.#parts = [];
		this.#length = 0;
		this.#oversized = false;
	}
}
