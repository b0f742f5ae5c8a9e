/**
 * @module
 * Long-poll waiters, woken by appends (not by a timer loop); the timer only bounds the wait.
 */

export class Waiters {
	private pending = new Set<() => void>();

	/** Resolves on the next `wakeAll()` or after `timeoutMs`, whichever comes first. */
	wait(timeoutMs: number): Promise<void> {
		return new Promise((resolve) => {
			const done = (): void => {
				clearTimeout(timer);
				this.pending.delete(done);
				resolve();
			};
			const timer = setTimeout(done, timeoutMs);
			this.pending.add(done);
		});
	}

	/** Readers waiting for the next append. */
	get waiting(): number {
		return this.pending.size;
	}

	wakeAll(): void {
		if (this.pending.size === 0) return;
		const woken = [...this.pending];
		this.pending.clear();
		for (const wake of woken) wake();
	}
}
