/**
 * @module
 * The timer that keeps a group member's session alive while its loop body is slow: the polls and commits are
 * heartbeats too, so it only sends one when nothing else went out for a third of the session.
 */

/** Heartbeats go out at a third of the session timeout, as Kafka's `heartbeat.interval.ms` suggests. */
const HEARTBEATS_PER_SESSION = 3;

export class HeartbeatTimer {
	#timer: ReturnType<typeof setInterval> | null = null;

	/** Calls `beat` every third of `sessionTimeoutMs` (the timer running before is replaced), with that period. */
	start(sessionTimeoutMs: number, beat: (everyMs: number) => void): void {
		this.stop();
		const everyMs = Math.floor(sessionTimeoutMs / HEARTBEATS_PER_SESSION);
		this.#timer = setInterval(() => beat(everyMs), everyMs);
		// A forgotten consumer must not keep a Node process alive; its session simply expires.
		(this.#timer as { unref?: () => void }).unref?.();
	}

	stop(): void {
		if (this.#timer !== null) clearInterval(this.#timer);
		this.#timer = null;
	}
}
