/**
 * @module
 * Kafka's default keyed partitioner, bit-for-bit compatible with the Java client.
 *
 * A keyed record must land on the same partition here as it would if a Java
 * (or librdkafka "murmur2") producer wrote it, otherwise per-key ordering breaks
 * as soon as clients are mixed. The Java client computes
 * `Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions`
 * (`BuiltInPartitioner.partitionForKey`, formerly `DefaultPartitioner`; KIP-480/KIP-794
 * changed only how keyless records are spread, not the keyed formula).
 * Source: `clients/src/main/java/org/apache/kafka/common/utils/Utils.java`.
 *
 * Pure TypeScript with no runtime dependencies, so it works in Workers, Node and browsers.
 */

import { utf8Encoder } from "./bytes.ts";

// Constants from Kafka's Utils.murmur2 (MurmurHash2 by Austin Appleby). Java holds the seed in
// an int, so 0x9747b28c is negative there; `^` converts it to the same int32 here.
const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/**
 * Kafka's `Utils.murmur2`: the 32-bit MurmurHash2 of `data`, returned as a signed int32,
 * exactly the `int` Java returns (e.g. `murmur2(utf8("21")) === -973932308`).
 *
 * Every step must stay in int32: `Math.imul` stands in for Java's wrapping `int *`,
 * `>>>` for Java's `>>>`, and `^`/`|` truncate back to int32 the way Java's `int` does.
 */
export function murmur2(data: Uint8Array): number {
	const length = data.length;
	// DataView honours byteOffset, so subarrays and Node Buffers from a pool hash correctly.
	const view = new DataView(data.buffer, data.byteOffset, data.byteLength);

	let h = SEED ^ length;
	const length4 = length >>> 2;

	for (let i = 0; i < length4; i++) {
		// Java builds k from (b & 0xff) << 0/8/16/24: an unsigned little-endian word.
		let k = view.getUint32(i * 4, true);
		k = Math.imul(k, M);
		k ^= k >>> R;
		k = Math.imul(k, M);
		h = Math.imul(h, M);
		h ^= k;
	}

	// Java's `switch (length % 4)` falls through 3 -> 2 -> 1. tsconfig forbids switch
	// fall-through, so the cascade is spelled out; getUint8 is unsigned like Java's `& 0xff`.
	const rest = length & 3;
	const tail = length & ~3;
	if (rest === 3) {
		h ^= view.getUint8(tail + 2) << 16;
	}
	if (rest >= 2) {
		h ^= view.getUint8(tail + 1) << 8;
	}
	if (rest >= 1) {
		h ^= view.getUint8(tail);
		h = Math.imul(h, M);
	}

	h ^= h >>> 13;
	h = Math.imul(h, M);
	h ^= h >>> 15;
	return h | 0;
}

/**
 * Java's `Utils.toPositive`: clears the sign bit (`n & 0x7fffffff`).
 * Not `Math.abs`: Kafka masks, so e.g. -1 maps to 2147483647, not 1.
 */
export function toPositive(n: number): number {
	return n & 0x7fffffff;
}

/**
 * The partition the Java client picks for a keyed record:
 * `toPositive(murmur2(keyBytes)) % partitionCount`.
 *
 * @param keyBytes The serialized key, exactly as sent on the wire.
 * @param partitionCount Number of partitions in the topic; a positive integer.
 * @returns A partition index in `[0, partitionCount)`.
 * @throws Error if `partitionCount` is not a positive integer.
 *
 * @example
 * ```ts
 * partitionForKey(utf8("foobar"), 12); // 6, as the Java producer would choose
 * partitionForKey(utf8("21"), 12); // 0
 * ```
 */
export function partitionForKey(keyBytes: Uint8Array, partitionCount: number): number {
	if (!Number.isInteger(partitionCount) || partitionCount <= 0) {
		throw new Error(`partitionCount must be a positive integer, got ${String(partitionCount)}`);
	}
	return toPositive(murmur2(keyBytes)) % partitionCount;
}

/**
 * UTF-8 bytes of `s`, matching Java's `StringSerializer` (UTF-8) for any well-formed string.
 *
 * One difference: a lone UTF-16 surrogate becomes U+FFFD (EF BF BD) here but `?` (0x3F) in
 * Java's `String.getBytes(UTF_8)`, so such malformed keys may partition differently.
 */
export function utf8(s: string): Uint8Array {
	return utf8Encoder.encode(s);
}
