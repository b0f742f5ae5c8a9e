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
 * What a keyed record carries besides its value, as Kafka producers commonly send it: a short key (an order id) and
 * two small headers (a W3C trace id and a content type), written as the SDK writes them (`{"key":…,"value":…}`).
 * @param {number} n  the record's number in its pool
 */
function keyedFields(n) {
	const trace = `00-${n.toString(16).padStart(32, "0")}-${(n * 7).toString(16).padStart(16, "0")}-01`;
	const headers = [
		{ key: "traceparent", value: trace },
		{ key: "content-type", value: "application/json" },
	];
	return `"key":${JSON.stringify(`order-${n}`)},"headers":${JSON.stringify(headers)},`;
}

/**
 * `count` distinct produce bodies of `perRequest` records each, for `partition` ("partition" is written first in
 * every record: the ceiling Worker routes on it without parsing); `keyed`: each record with a key and two headers
 * (`keyedFields`), between its partition and its value.
 * @param {{ count: number, perRequest: number, partition: number, seed: number, keyed?: boolean }} options
 */
export function produceBodies({ count, perRequest, partition, seed, keyed = false }) {
	const bodies = [];
	for (let b = 0; b < count; b++) {
		const records = [];
		for (let r = 0; r < perRequest; r++) {
			const n = seed * 1_000_003 + b * perRequest + r + 1;
			const value = valueString(n);
			records.push(`{"partition":${partition},${keyed ? keyedFields(n) : ""}"value":${JSON.stringify(value)}}`);
		}
		bodies.push(Buffer.from(`{"records":[${records.join(",")}]}`));
	}
	return bodies;
}
