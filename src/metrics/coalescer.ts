/**
 * @module
 * Coalesces "something changed" into at most one send per interval, never losing the last change: the first
 * trigger after a quiet spell sends at once, triggers during a send or within the interval mark the figures dirty
 * and one more send follows. A failed send is logged and retried by the next trigger.
 */

import { thrownMessage } from "../shared/errors.ts";

export class Coalescer {
	#running: Promise<void> | null = null;
	#dirty = false;
	#lastSentMs = 0;

	constructor(
		private readonly intervalMs: number,
		private readonly send: () => Promise<void>,
	) {}

	/** Starts a send unless one is pending; returns its promise when it started one (for `waitUntil`). */
	trigger(): Promise<void> | null {
		this.#dirty = true;
		if (this.#running !== null) return null;
		this.#running = this.#run().finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	async #run(): Promise<void> {
		while (this.#dirty) {
			// Always yield first: the trigger may come from inside a constructor or a transaction, and the changes
			// of one turn of the event loop make one report.
			const waitMs = Math.max(0, this.#lastSentMs + this.intervalMs - Date.now());
			await new Promise((resolve) => setTimeout(resolve, waitMs));
			this.#dirty = false;
			this.#lastSentMs = Date.now();
			try {
				await this.send();
			} catch (error) {
				console.error(`metrics: report failed: ${thrownMessage(error)}`);
				return;
			}
		}
	}
}
