/**
 * @module
 * The CLI's JSON: a number is read as a double when its text is a double's (`String(n)` gives it back), else kept as
 * its text (lossless-json's `LosslessNumber`) and written back so, as the broker keeps it. So `produce --json` sends
 * and `consume` prints a record's numbers digit for digit, as kcat passes bytes through; the SDK, given this codec,
 * does the same for keys it hashes.
 */

import { LosslessNumber, parse, stringify } from "lossless-json";
import type { JsonCodec } from "tributary/client";

function exactNumber(text: string): number | LosslessNumber {
	const n = Number(text);
	return String(n) === text ? n : new LosslessNumber(text);
}

export const exactJson: JsonCodec = {
	parse: (text) => parse(text, null, exactNumber),
	stringify: (value) => stringify(value) ?? "null",
};

/** `value` as indented JSON for people, numbers as `exactJson` keeps them. */
export function prettyJson(value: unknown): string {
	return stringify(value, null, 2) ?? "null";
}
