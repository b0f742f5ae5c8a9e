/**
 * @module
 * Idempotent producers, as Kafka's broker does it (KIP-98): per producer id, the epoch and the last sequence
 * written to this partition, plus the last few batches so a retried one is answered with its original offsets.
 * Pure: the partition loads the state, asks for a decision, and stores what this returns.
 */

import type { DomainError } from "../shared/errors.ts";
import { PRODUCER_RECENT_BATCHES } from "../shared/limits.ts";
import { sequenceAfter, sequencesFrom } from "../shared/producer-sequence.ts";

export interface ProducerBatch {
	readonly baseSequence: number;
	readonly recordCount: number;
	readonly baseOffset: number;
	readonly appendTimeMs: number;
}

export interface ProducerState {
	readonly producerId: number;
	readonly epoch: number;
	/** Sequence of the last record written; the next batch must start at the one after it (0 after the highest). */
	readonly lastSequence: number;
	/** The newest batches, oldest first, at most `PRODUCER_RECENT_BATCHES`. */
	readonly recent: readonly ProducerBatch[];
	readonly updatedAtMs: number;
}

export type SequenceDecision =
	| { readonly kind: "append" }
	| { readonly kind: "duplicate"; readonly batch: ProducerBatch }
	| { readonly kind: "reject"; readonly error: DomainError };

/**
 * Decides what to do with a batch of `recordCount` records starting at `baseSequence` from `epoch`.
 * An unknown producer (new, or expired after its idle time) may start at any sequence.
 */
export function checkSequence(state: ProducerState | null, epoch: number, baseSequence: number, recordCount: number): SequenceDecision {
	if (state === null) return { kind: "append" };
	if (epoch < state.epoch) {
		return reject("fenced", `producer epoch ${epoch} is fenced by epoch ${state.epoch}`, { current_epoch: state.epoch });
	}
	if (epoch > state.epoch) {
		if (baseSequence === 0) return { kind: "append" };
		return reject("out_of_order_sequence", `a new epoch starts at sequence 0, not ${baseSequence}`, { expected_sequence: 0 });
	}
	// A retry covers a remembered batch, or part of one: a streamed produce writes consecutive messages of a
	// producer as one batch, and each message may come back on its own (sequences name records, not requests).
	// Distances forward from a batch's first sequence, so a batch across the wrap is covered as any other.
	const covering = state.recent.find((b) => sequencesFrom(b.baseSequence, baseSequence) + recordCount <= b.recordCount);
	if (covering !== undefined) {
		const skip = sequencesFrom(covering.baseSequence, baseSequence);
		return { kind: "duplicate", batch: { ...covering, baseSequence, recordCount, baseOffset: covering.baseOffset + skip } };
	}
	const expected = sequenceAfter(state.lastSequence, 1);
	const retried = state.recent.find((b) => b.baseSequence === baseSequence);
	if (retried !== undefined) {
		return reject("out_of_order_sequence", `sequence ${baseSequence} was written with ${retried.recordCount} records, not ${recordCount}`, {
			expected_sequence: expected,
		});
	}
	if (baseSequence === expected) return { kind: "append" };
	return reject("out_of_order_sequence", `expected sequence ${expected}, got ${baseSequence}`, { expected_sequence: expected });
}

function reject(code: "fenced" | "out_of_order_sequence", message: string, details: Record<string, number>): SequenceDecision {
	return { kind: "reject", error: { code, message, details } };
}

/** The state after `batch` was appended by `producerId` at `epoch`. */
export function afterAppend(
	state: ProducerState | null,
	producerId: number,
	epoch: number,
	batch: ProducerBatch,
	nowMs: number,
): ProducerState {
	const sameEpoch = state !== null && state.epoch === epoch;
	const recent = [...(sameEpoch ? state.recent : []), batch].slice(-PRODUCER_RECENT_BATCHES);
	return { producerId, epoch, lastSequence: sequenceAfter(batch.baseSequence, batch.recordCount - 1), recent, updatedAtMs: nowMs };
}
