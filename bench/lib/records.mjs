// @ts-check
/**
 * Bench payloads: 1 KiB printable-ASCII values (quotes and backslashes included, so JSON escaping costs what it
 * would for real text), built before a scenario starts so the load generator spends no time on them.
 */

/** Characters per value; the ceiling Worker (bench/ceiling/worker.js) builds its fetch body with this and `valueString`. */
export const VALUE_CHARS = 1024;
const ALPHABET = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).join("");

/**
 * A deterministic printable string (xorshift32), so runs are comparable.
 * @param {number} seed
 * @param {number} [length]
 */
export function valueString(seed, length = VALUE_CHARS) {
	let state = seed >>> 0 || 1;
	let out = "";
	for (let i = 0; i < length; i++) {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		out += ALPHABET[(state >>> 0) % ALPHABET.length];
	}
	return out;
}

/**
 * `count` distinct produce bodies of `perRequest` records each, for `partition` ("partition" is written first in
 * every record: the ceiling Worker routes on it without parsing).
 * @param {{ count: number, perRequest: number, partition: number, seed: number }} options
 */
export function produceBodies({ count, perRequest, partition, seed }) {
	const bodies = [];
	for (let b = 0; b < count; b++) {
		const records = [];
		for (let r = 0; r < perRequest; r++) {
			const value = valueString(seed * 1_000_003 + b * perRequest + r + 1);
			records.push(`{"partition":${partition},"value":${JSON.stringify(value)}}`);
		}
		bodies.push(Buffer.from(`{"records":[${records.join(",")}]}`));
	}
	return bodies;
}
