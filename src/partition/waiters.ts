/**
 * @module
 * Long-poll waiters, woken by appends (not by a timer loop); the timer only bounds the wait.
 */

export class Waiters {
	/** Each waiter's wake-up, and the id its reader named it by (`release`), if any. */
	private pending = new Map<() => void, string | undefined>();

	/** Resolves on the next `wakeAll()`, on `release(id)`, or after `timeoutMs`, whichever comes first. */
	wait(timeoutMs: number, id?: string): Promise<void> {
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

	/** Ends the wait named `id` now, as its timer would: its reader has gone. None such (it ended already): nothing. */
	release(id: string): void {
		for (const [wake, named] of this.pending) if (named === id) wake();
	}
}
