/**
 * @module
 * The producer's state, per topic and per partition (Kafka's RecordAccumulator): the sends waiting, the batch
 * prepared, what is in flight and on which channel, and the sequence numbers. The producer (producer.ts) moves it.
 */

import type { ProduceStream } from "./produce-stream.ts";
import type { Identity } from "./producer-identity.ts";
import type { ProducerRecord, RecordMetadata } from "./records.ts";

/**
 * A send waiting for its request: one object per send (a send costs this, its promise and its two resolvers).
 * Its JSON is made when its batch is (so queued records hold no copies).
 */
export interface Pending {
	readonly topic: TopicState;
	readonly record: ProducerRecord;
	/** -1 until the topic's partition count is known. */
	partition: number;
	/** JSON text, made early only for values that must be serialised to be measured. */
	wire: string | null;
	estimatedBytes: number;
	/** Whether `estimatedBytes` are counted in the producer's buffer (from admission until the send settles). */
	held: boolean;
	/** When a send waiting for its topic's metadata, then for room, is refused; 0 while it has not waited. */
	deadlineMs: number;
	readonly resolve: (metadata: RecordMetadata) => void;
	readonly reject: (error: unknown) => void;
	/** The send's promise, given a handler only when it is rejected (most never are: no handler, no reaction). */
	promise: Promise<RecordMetadata> | null;
}

export interface PartitionQueue {
	readonly topic: TopicState;
	readonly partition: number;
	records: Pending[];
	/** Estimated JSON bytes of `records`. */
	bytes: number;
	/** When the oldest queued record arrived (or its wait restarted behind a request in flight). */
	firstAtMs: number;
	/** Batches sent and not yet answered: at most one over plain requests, `STREAM_BATCHES_IN_FLIGHT` streamed. */
	inFlight: number;
	/**
	 * The next batch, taken from the head of `records` and serialised while a plain request is in flight, so
	 * it leaves the moment that request is answered. Its records come before every one in `records`.
	 */
	prepared: { readonly batch: Pending[]; readonly json: string } | null;
	preparing: ReturnType<typeof setTimeout> | null;
	/** Whether the batches in flight went over the channel; chosen when none is in flight, so order is kept. */
	streamed: boolean;
	/** Batches resent over plain requests after the channel broke, one after another in sequence order. */
	resends: Promise<unknown>;
	/**
	 * The channel the batches in flight went on (null when none is in flight). Once it broke, nothing new goes until
	 * they are all resent and answered: on a fresh channel a later batch would be written first, and the resent
	 * ones would fall out of the broker's window of recent batches (its duplicate check).
	 */
	channel: ProduceStream | null;
	/**
	 * A streamed batch failed with later ones in flight, or was refused as retriable: those in flight come back
	 * refused too (their sequences follow a batch that was not written), and every record goes back, in send order,
	 * once nothing is in flight and not before `retryAtMs` (a retriable refusal's backoff). Null otherwise.
	 */
	held: { readonly records: Pending[]; readonly baseSequence: number; readonly generation: number; retryAtMs: number } | null;
	/** Streamed batches refused as retriable and held for another attempt since the last one written. */
	retries: number;
	timer: ReturnType<typeof setTimeout> | null;
	/**
	 * The identity generation under which a batch of this partition was last written. Until one is written under the
	 * identity in use, one batch at a time goes: the partition does not know the producer yet, and would take a later
	 * batch's sequence as its first if the first batch were refused, writing it ahead of that batch's records.
	 */
	writtenGeneration: number;
	/** The sequence of the next record, under producer identity `identityGeneration`. */
	nextSequence: number;
	identityGeneration: number;
}

export interface TopicState {
	readonly name: string;
	partitions: number | null;
	loadedAtMs: number;
	/** The partition count's request under way (settles after its waiting sends are let in or refused), or null. */
	loading: Promise<void> | null;
	/** Sends that arrived before the partition count was known, in order. */
	readonly waiting: Pending[];
	sticky: number;
	readonly queues: Map<number, PartitionQueue>;
}

/** A batch as it was sent: what a failure needs to retry it, or to give its sequence numbers back. */
export interface SentBatch {
	readonly batch: Pending[];
	readonly records: string;
	readonly identity: Identity | null;
	readonly baseSequence: number;
	readonly attempt: number;
	/** Whether an earlier attempt's answer was lost (the channel broke): the broker may have written the batch. */
	readonly answerLost: boolean;
}

export function newPartitionQueue(topic: TopicState, partition: number): PartitionQueue {
	return {
		topic,
		partition,
		records: [],
		bytes: 0,
		firstAtMs: 0,
		inFlight: 0,
		prepared: null,
		preparing: null,
		streamed: false,
		resends: Promise.resolve(),
		channel: null,
		held: null,
		retries: 0,
		timer: null,
		writtenGeneration: -1,
		nextSequence: 0,
		identityGeneration: -1,
	};
}

/**
 * The highest sequence of a record (the broker's `PRODUCER_SEQUENCE_MAX`): sequences are Kafka's int32 (KIP-98), and
 * after this one the next is 0, so a long-lived producer never runs out of them and a batch may span the wrap.
 */
export const PRODUCER_SEQUENCE_MAX = 2_147_483_647;

/** The sequence `count` records after `sequence`, wrapping to 0 after `PRODUCER_SEQUENCE_MAX`. */
export function sequenceAfter(sequence: number, count: number): number {
	return (sequence + count) % (PRODUCER_SEQUENCE_MAX + 1);
}

/** Puts `records` back at the head of the queue, in order, ahead of every record queued. */
export function putBack(queue: PartitionQueue, records: readonly Pending[]): void {
	queue.records.unshift(...records);
	queue.bytes += records.reduce((sum, p) => sum + p.estimatedBytes, 0);
}

/**
 * Holds a streamed batch refused as retriable for another attempt at `retryAtMs` (see `held`), behind the records
 * already held under the same producer identity. False when it may not be: another identity's records are held, or
 * the queue has used its `budget` of retries since a batch was last written.
 */
export function holdForRetry(queue: PartitionQueue, sent: SentBatch, generation: number, retryAtMs: number, budget: number): boolean {
	const held = queue.held;
	if (held !== null) {
		if (held.generation !== generation) return false;
		held.records.push(...sent.batch);
		held.retryAtMs = Math.max(held.retryAtMs, retryAtMs);
		return true;
	}
	if (queue.retries >= budget) return false;
	queue.retries++;
	queue.held = { records: [...sent.batch], baseSequence: sent.baseSequence, generation, retryAtMs };
	return true;
}
