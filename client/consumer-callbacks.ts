/**
 * @module
 * A group consumer's rebalance callbacks (`onRevoke`, `onAssign`), run one after another in the order the
 * consumer followed the changes, apart from the poll, join or heartbeat that brought them: the consumer's state has
 * changed before a callback runs, so only the loop's next record and `join()` wait for it (as Kafka's poll()
 * returns after its rebalance listener), and the loop's next poll after a failed one, whose leave is queued too. A callback may then close or stop the consumer (Kafka's close() from the listener,
 * on the poll thread): the leave waits for the poll or join under way, then for the callbacks (`ran`), so a commit in
 * one finds the member still in the group; a close() while one runs (`running`) returns without waiting for it.
 */

import type { TopicPartition } from "./admin.ts";
import type { ConsumerOptions } from "./consumer-options.ts";

export class RebalanceCallbacks {
	/** The callbacks queued so far; rejected with the first that failed (none after it runs). */
	#ran: Promise<void> = Promise.resolve();
	#running = false;
	/** Set once the member's leave runs its own `onRevoke` (`end`): nothing is queued any more. */
	#ended = false;
	/** How many callbacks were queued so far: a `queueLast` step moves behind those queued while it waited. */
	#queued = 0;
	readonly #options: Pick<ConsumerOptions, "onAssign" | "onRevoke">;

	constructor(options: Pick<ConsumerOptions, "onAssign" | "onRevoke">) {
		this.#options = options;
	}

	/** Whether an `onRevoke` or `onAssign` of a rebalance runs now (a queued step of the consumer's is none). */
	get running(): boolean {
		return this.#running;
	}

	/**
	 * Runs `onRevoke(revoked)`, then `onAssign(added)` (each only if not empty), once those queued before ran, unless
	 * the membership they are for has left by then (`left`): its leave's `onRevoke` was given all it gave up, and Kafka
	 * revokes a partition once per ownership. Those of the next membership run.
	 */
	queue(revoked: TopicPartition[], added: TopicPartition[] = [], left = () => false): void {
		if (this.#ended || (revoked.length === 0 && added.length === 0)) return;
		this.#queued++;
		this.#ran = this.#ran.then(async () => {
			if (left()) return;
			this.#running = true;
			try {
				if (revoked.length > 0) await this.#options.onRevoke?.(revoked);
				if (added.length > 0) await this.#options.onAssign?.(added);
			} finally {
				this.#running = false;
			}
		});
		// Reported to the loop's next turn (`ran`); till then a failing callback must not be an unhandled rejection.
		this.#ran.catch(() => {});
	}

	/** Runs `step` (the consumer's, not a callback) once those queued before ran; the next ones wait for it. */
	queueStep(step: () => void | Promise<void>): void {
		this.#ran = this.#ran.then(step);
		this.#ran.catch(() => {});
	}

	/**
	 * Runs `step` once every callback queued before it ran, those queued while it waited included (it moves behind
	 * them): at its turn none is queued after it, so it sees the changes they were for as the callbacks told them.
	 */
	queueLast(step: () => void | Promise<void>): void {
		const queued = this.#queued;
		this.#ran = this.#ran.then(() => (this.#queued === queued ? step() : this.queueLast(step)));
		this.#ran.catch(() => {});
	}

	/**
	 * The member leaves for good and its leave's `onRevoke` covers what it gives up: a rebalance followed from here (a
	 * commit() in that callback, refused for the generation that ended, follows the new one) queues no callback.
	 */
	end(): void {
		this.#ended = true;
	}

	/** Resolves once every queued callback ran; rejects with the first failure. */
	get ran(): Promise<void> {
		return this.#ran;
	}

	/** Resolves once none is queued or running, those queued meanwhile included (`drained`); rejects with the first failure. */
	async allRan(): Promise<void> {
		await this.drained();
		return this.#ran;
	}

	/**
	 * Resolves once none is queued or running, those queued while waiting included (`ran` is what was queued when
	 * asked); never rejects: the failure is `ran`'s to report.
	 */
	async drained(): Promise<void> {
		for (let ran: Promise<void> | null = null; ran !== this.#ran; ) {
			ran = this.#ran;
			await ran.catch(() => {});
		}
	}
}
