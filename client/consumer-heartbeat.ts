/**
 * @module
 * The timer that keeps a group member's session alive while its loop body is slow: the polls and commits are
 * heartbeats too, so it only sends one when nothing else went out for a period (`heartbeatIntervalMs`).
 */

export class HeartbeatTimer {
	#timer: ReturnType<typeof setInterval> | null = null;

	/** Calls `beat` every `everyMs` (the timer running before is replaced), with that period. */
	start(everyMs: number, beat: (everyMs: number) => void): void {
		this.stop();
		this.#timer = setInterval(() => beat(everyMs), everyMs);
		// A forgotten consumer must not keep a Node process alive; its session simply expires.
		(this.#timer as { unref?: () => void }).unref?.();
	}

	stop(): void {
		if (this.#timer !== null) clearInterval(this.#timer);
		this.#timer = null;
	}
}
