/**
 * @module
 * An idempotent producer's sequence arithmetic: sequences run from 0 to `PRODUCER_SEQUENCE_MAX` and then start
 * again at 0, as Kafka's int32 sequence does (KIP-98), so a producer never runs out of them and a batch may span the
 * wrap. A batch holds far fewer than 2^31 records, so the distance forward between two sequences is never ambiguous.
 */

import { PRODUCER_SEQUENCE_MAX } from "./limits.ts";

const SEQUENCE_SPAN = PRODUCER_SEQUENCE_MAX + 1;

/** The sequence `count` records after `sequence` (`count` ≥ 0), wrapping after `PRODUCER_SEQUENCE_MAX`. */
export function sequenceAfter(sequence: number, count: number): number {
	return (sequence + count) % SEQUENCE_SPAN;
}

/** How many records forward from sequence `from` sequence `to` is, across the wrap: 0 to `PRODUCER_SEQUENCE_MAX`. */
export function sequencesFrom(from: number, to: number): number {
	return (to - from + SEQUENCE_SPAN) % SEQUENCE_SPAN;
}
