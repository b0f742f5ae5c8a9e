/**
 * @module
 * Long-poll waiters, woken by appends (not by a timer loop); the timer only bounds the wait.
 */

import { RELEASED_WAIT_IDS_MAX, RELEASED_WAIT_KEPT_MS } from "../shared/limits.ts";

export class Waiters {
	/** Each waiter's wake-up, and the id its reader named it by (`release`), if any. */
	private pending = new Map<() => void, string | undefined>();

	/**
	 * Ids released with no wait to end, each with when it stops counting, oldest first: the reader left before its
	 * read arrived, which then ends as it begins instead of waiting for nobody. Ids are random UUIDs, so none matches
	 * another reader's; the oldest is dropped past `RELEASED_WAIT_IDS_MAX`.
	 */
	private released = new Map<string, number>();

	/**
	 * Resolves on the next `wakeAll()`, on `release(id)`, or after `timeoutMs`, whichever comes first; at once if `id`
	 * was released before (`RELEASED_WAIT_KEPT_MS`).
	 */
	wait(timeoutMs: number, id?: string): Promise<void> {
		if (id !== undefined && (this.released.get(id) ?? 0) > Date.now()) return Promise.resolve();
		return new Promise((resolve) => {
			const done = (): void => {
				clearTimeout(timer);
				this.pending.delete(done);
				resolve();
			};
			const timer = setTimeout(done, timeoutMs);
			this.pending.set(done, id);
		});
	}

	/** Readers waiting for the next append. */
	get waiting(): number {
		return this.pending.size;
	}

	wakeAll(): void {
		if (this.pending.size === 0) return;
		const woken = [...this.pending.keys()];
		this.pending.clear();
		for (const wake of woken) wake();
	}

	/**
	 * Ends the wait named `id` now, as its timer would: its reader has gone. None such (it ended already, or has not
	 * begun): the id is kept a while (`RELEASED_WAIT_KEPT_MS`), so a wait that begins under it ends as it begins.
	 */
	release(id: string): void {
		let found = false;
		for (const [wake, named] of this.pending) {
			if (named === id) {
				wake();
				found = true;
			}
		}
		if (found) return;
		if (this.released.size >= RELEASED_WAIT_IDS_MAX) this.released.delete(this.released.keys().next().value as string);
		this.released.set(id, Date.now() + RELEASED_WAIT_KEPT_MS);
	}
}
