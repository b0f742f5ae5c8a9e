/**
 * @module
 * The turns of a group consumer's loop: the record the loop is processing (handed out, not moved past yet), what
 * waits for the loop to move past it (`stop()`), and how long the loop has kept it, against `maxPollIntervalMs`
 * (Kafka's `max.poll.interval.ms`): a member whose heartbeat goes on while its loop is stuck would keep its
 * partitions for ever.
 */

import type { ConsumerRecord } from "./records.ts";

export class LoopTurn {
	/**
	 * The record the loop is processing: handed out, not moved past yet; null too once it is no longer this member's
	 * to commit (its partition taken), though the loop may still be processing it.
	 */
	inHand: ConsumerRecord | null = null;
	/** Whether the loop is inside a turn (a record handed out, not moved past), whatever became of that record. */
	#inTurn = false;
	/** Whether the loop is inside a turn: `stop()` waits for its end even once the record in hand was dropped. */
	get inTurn(): boolean {
		return this.#inTurn;
	}
	#movedOn: (() => void) | null = null;
	#handedOutAtMs = 0;
	/** One timer at a time, set again on firing for the record then in hand: a fast loop does not set one per record. */
	#timer: ReturnType<typeof setTimeout> | null = null;
	readonly #maxPollIntervalMs: number;
	readonly #expired: () => void;

	/** `expired` is called when the loop has kept a record `maxPollIntervalMs` without coming back for the next. */
	constructor(maxPollIntervalMs: number, expired: () => void) {
		this.#maxPollIntervalMs = maxPollIntervalMs;
		this.#expired = expired;
	}

	hand(record: ConsumerRecord): void {
		this.inHand = record;
		this.#inTurn = true;
		this.#handedOutAtMs = Date.now();
		if (this.#timer === null) this.#arm(this.#maxPollIntervalMs);
	}

	/** The loop moved past the record in hand (or it is no longer waited for): ends the waits for that. */
	moveOn(): void {
		this.inHand = null;
		this.#inTurn = false;
		this.release();
	}

	/** Ends a wait of `movesOn` now. */
	release(): void {
		this.#movedOn?.();
		this.#movedOn = null;
	}

	/** Resolves when the loop moves past the record in hand, or after `boundMs` if it does not. */
	movesOn(boundMs: number): Promise<void> {
		return new Promise<void>((resolve) => {
			const bound = setTimeout(resolve, boundMs);
			this.#movedOn = () => {
				clearTimeout(bound);
				resolve();
			};
		});
	}

	/** Whether the loop has been inside its turn for `maxPollIntervalMs` or longer. */
	get overdue(): boolean {
		return this.#inTurn && Date.now() - this.#handedOutAtMs >= this.#maxPollIntervalMs;
	}

	/** Times the turn in progress, if any, from now: the loop came back (`join()`) without asking for a record. */
	restart(): void {
		if (!this.#inTurn) return;
		this.#handedOutAtMs = Date.now();
		if (this.#timer === null) this.#arm(this.#maxPollIntervalMs);
	}

	stopTimer(): void {
		if (this.#timer !== null) clearTimeout(this.#timer);
		this.#timer = null;
	}

	#arm(delayMs: number): void {
		this.#timer = setTimeout(() => {
			this.#timer = null;
			// The turn, not the record: a loop stuck on a record whose partition was taken still holds the others.
			if (!this.#inTurn) return;
			const leftMs = this.#handedOutAtMs + this.#maxPollIntervalMs - Date.now();
			if (leftMs > 0) this.#arm(leftMs);
			else this.#expired();
		}, delayMs);
		// A forgotten consumer must not keep a Node process alive.
		(this.#timer as { unref?: () => void }).unref?.();
	}
}
