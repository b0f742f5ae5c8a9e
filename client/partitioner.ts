/**
 * @module
 * Kafka's default keyed partitioner, `toPositive(murmur2(keyBytes)) % partitions`, bit-for-bit the Java
 * client's (`Utils.murmur2`, MurmurHash2 with seed 0x9747b28c). The SDK carries its own copy so it stays free
 * of the Worker's sources; a test checks it against the broker's partitioner on random keys. `choosePartition` is
 * the producer's whole choice: an explicit partition, else the key's, else the sticky partition (KIP-480).
 */

import { invalidArgument, TributaryError } from "./errors.ts";
import { keyBytes, type ProducerRecord } from "./records.ts";

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's `Utils.murmur2` as a signed int32 (`Math.imul` and `>>>` stand in for Java's wrapping int maths). */
export function murmur2(data: Uint8Array): number {
	const length = data.length;
	const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
	let h = SEED ^ length;
	const words = length >>> 2;
	for (let i = 0; i < words; i++) {
		let k = view.getUint32(i * 4, true);
		k = Math.imul(k, M);
		k ^= k >>> R;
		k = Math.imul(k, M);
		h = Math.imul(h, M);
		h ^= k;
	}
	const rest = length & 3;
	const tail = length & ~3;
	if (rest === 3) h ^= view.getUint8(tail + 2) << 16;
	if (rest >= 2) h ^= view.getUint8(tail + 1) << 8;
	if (rest >= 1) {
		h ^= view.getUint8(tail);
		h = Math.imul(h, M);
	}
	h ^= h >>> 13;
	h = Math.imul(h, M);
	h ^= h >>> 15;
	return h | 0;
}

/** The partition Kafka's Java producer picks for these key bytes. */
export function partitionForKey(keyBytes: Uint8Array, partitions: number): number {
	return (murmur2(keyBytes) & 0x7fffffff) % partitions;
}

/**
 * The partition a record goes to among `partitions`: the one it names (refused with `partition_not_found` when there
 * is no such partition), else its key's (murmur2, as Kafka's producer), else `sticky` for a record without a key.
 */
export function choosePartition(
	record: ProducerRecord,
	partitions: number,
	sticky: number,
	stringify: (value: unknown) => string = JSON.stringify,
): number {
	if (record === null || typeof record !== "object") throw invalidArgument("a record is an object with a value");
	if (record.partition !== undefined) {
		if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= partitions) {
			throw new TributaryError("partition_not_found", `partition ${record.partition} is not one of 0 to ${partitions - 1}`, {
				details: { partition: record.partition, partitions },
			});
		}
		return record.partition;
	}
	const bytes = keyBytes(record.key, stringify);
	return bytes === null ? sticky : partitionForKey(bytes, partitions);
}
