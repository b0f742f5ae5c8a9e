/**
 * @module
 * The producer's bounded buffer (Kafka's `buffer.memory` and `max.block.ms`): the estimated JSON bytes of the
 * sends it holds, from admission until they settle, at most `bytesMax`. A send that finds no room waits for it in
 * a FIFO behind earlier waiting sends, so sends enter in the order they were made; one that has waited
 * `maxBlockMs` is refused with `buffer_full`. `whenRoom()` waits in the same FIFO without taking room, so a loop
 * that awaits it before each send holds at most `bytesMax` and one record.
 */

import { TributaryError } from "./errors.ts";

/**
 * Estimated JSON bytes of records the producer holds at most, each from its send until it settles (Kafka's
 * `buffer.memory`, same default). Room for a 1 MiB batch in flight and the next one ready on 16 partitions at once.
 */
export const BUFFER_BYTES_DEFAULT = 32 * 1024 * 1024;
/** How long a send waits for room in the buffer before it is refused with `buffer_full` (Kafka's `max.block.ms`). */
export const MAX_BLOCK_MS_DEFAULT = 60_000;
/** The longest `maxBlockMs` (a timer's limit, about 24.8 days). */
export const MAX_BLOCK_MS_MAX = 2 ** 31 - 1;

/** What the buffer tells its owner about an item that waited: it got its room, or it was refused. */
export interface BufferOwner<T> {
	admitted(item: T): void;
	refused(item: T, error: TributaryError): void;
}

/** What waits for room, oldest first: an item taking `bytes`, or a `whenRoom()` taking none. */
type Waiting<T> =
	| { readonly item: T; readonly bytes: number; readonly deadlineMs: number }
	| {
			readonly item?: undefined;
			readonly deadlineMs: number;
			readonly resolve: () => void;
			readonly reject: (error: TributaryError) => void;
	  };

export class ProducerBuffer<T> {
	/** Estimated bytes of the items in the buffer (admitted and not yet released). */
	#bytes = 0;
	/** Items and `whenRoom()` calls waiting for room, oldest first. */
	#waiting: Waiting<T>[] = [];
	/** Fires at the earliest deadline of a wait; cleared when nothing waits, so it keeps no process alive. */
	#timer: ReturnType<typeof setTimeout> | null = null;
	#timerDueMs = 0;
	#admitting = false;

	constructor(
		readonly bytesMax: number,
		readonly maxBlockMs: number,
		readonly owner: BufferOwner<T>,
	) {}

	/** Estimated bytes held now (waiting items are not held). */
	get bytes(): number {
		return this.#bytes;
	}

	/** The deadline of a wait for room that starts now (a send waiting for its topic's metadata starts it early). */
	deadlineFromNow(): number {
		return Date.now() + this.maxBlockMs;
	}

	/**
	 * Takes `bytes` of room for `item`: true when taken at once (room, and nothing waits before it). Otherwise the
	 * owner is told later, `admitted` once the waits before it are over and it fits, or `refused` with `buffer_full`
	 * at `deadlineMs` (0: `maxBlockMs` from now); an item larger than the whole buffer is refused at once
	 * (`record_too_large`), as is one whose deadline has passed.
	 */
	take(item: T, bytes: number, deadlineMs: number): boolean {
		if (bytes > this.bytesMax) {
			const message = `the record is about ${bytes} bytes as JSON, more than the whole buffer (bufferBytes ${this.bytesMax})`;
			this.owner.refused(
				item,
				new TributaryError("record_too_large", message, { details: { record_bytes: bytes, buffer_bytes: this.bytesMax } }),
			);
			return false;
		}
		if (this.#waiting.length === 0 && this.#bytes + bytes <= this.bytesMax) {
			this.#bytes += bytes;
			return true;
		}
		const now = Date.now();
		const due = deadlineMs === 0 ? now + this.maxBlockMs : deadlineMs;
		if (due <= now) this.owner.refused(item, this.#full());
		else this.#wait({ item, bytes, deadlineMs: due }, now);
		return false;
	}

	/** Gives back the room an admitted item took (its send settled); waiting items are let in on the next microtask. */
	release(bytes: number): void {
		this.#bytes -= bytes;
		if (this.#bytes < 0) throw new Error("invariant: the producer's buffer holds no negative bytes");
		if (this.#waiting.length > 0 && !this.#admitting) {
			// Once per turn, not per record: a batch's answer settles all of its sends at once.
			this.#admitting = true;
			queueMicrotask(() => {
				this.#admitting = false;
				this.#admitWaiting();
			});
		}
	}

	/** Resolves once the buffer has room and nothing waits before it; refused with `buffer_full` at `deadlineMs`. */
	whenRoom(deadlineMs: number): Promise<void> {
		if (this.#waiting.length === 0 && this.#bytes < this.bytesMax) return Promise.resolve();
		const now = Date.now();
		if (deadlineMs <= now) return Promise.reject(this.#full());
		return new Promise<void>((resolve, reject) => this.#wait({ deadlineMs, resolve, reject }, now));
	}

	#wait(waiting: Waiting<T>, now: number): void {
		this.#waiting.push(waiting);
		// Sends let out of a topic's wait for metadata may have earlier deadlines than those already waiting.
		if (this.#timer === null || waiting.deadlineMs < this.#timerDueMs) this.#armTimer(waiting.deadlineMs, now);
	}

	#armTimer(dueMs: number, now: number): void {
		this.#clearTimer();
		this.#timerDueMs = dueMs;
		this.#timer = setTimeout(() => this.#expire(), dueMs - now);
	}

	#clearTimer(): void {
		if (this.#timer === null) return;
		clearTimeout(this.#timer);
		this.#timer = null;
	}

	/** Lets waiting items in, oldest first, while the oldest fits; a `whenRoom()` reached with room resolves. */
	#admitWaiting(): void {
		let taken = 0;
		for (; taken < this.#waiting.length; taken++) {
			const next = this.#waiting[taken] as Waiting<T>;
			if (!("bytes" in next)) {
				if (this.#bytes >= this.bytesMax) break;
				continue;
			}
			if (this.#bytes + next.bytes > this.bytesMax) break;
			this.#bytes += next.bytes;
		}
		if (taken === 0) return;
		const admitted = this.#waiting.splice(0, taken);
		if (this.#waiting.length === 0) this.#clearTimer();
		for (const next of admitted) {
			if ("bytes" in next) this.owner.admitted(next.item);
			else next.resolve();
		}
	}

	/** Refuses what has waited past its deadline; what waits behind it keeps its order. */
	#expire(): void {
		this.#timer = null;
		const now = Date.now();
		let nextDeadlineMs = Number.POSITIVE_INFINITY;
		const expired: Waiting<T>[] = [];
		this.#waiting = this.#waiting.filter((next) => {
			if (next.deadlineMs > now) {
				nextDeadlineMs = Math.min(nextDeadlineMs, next.deadlineMs);
				return true;
			}
			expired.push(next);
			return false;
		});
		const error = this.#full();
		for (const next of expired) {
			if ("bytes" in next) this.owner.refused(next.item, error);
			else next.reject(error);
		}
		if (nextDeadlineMs !== Number.POSITIVE_INFINITY) this.#armTimer(nextDeadlineMs, now);
		// What waited behind a refused item may fit now.
		this.#admitWaiting();
	}

	#full(): TributaryError {
		const message =
			`no room in the producer's buffer (bufferBytes ${this.bytesMax}) within maxBlockMs ${this.maxBlockMs}: ` +
			"sends outpace the broker; await producer.ready() between sends, or raise bufferBytes or maxBlockMs";
		return new TributaryError("buffer_full", message, {
			retriable: true,
			details: { buffer_bytes: this.bytesMax, max_block_ms: this.maxBlockMs },
		});
	}
}
