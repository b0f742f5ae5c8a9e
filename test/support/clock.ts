/**
 * A held clock for tests whose answer depends on elapsed time (token buckets): `Date.now()` returns what the test
 * sets, for the test and for the Worker and Durable Objects, which share its isolate under vitest-pool-workers.
 * On a loaded machine a second can pass between two requests and refill a bucket; with the clock held, none does.
 * Timers (`setTimeout`) keep real time.
 */

import { afterEach, beforeEach, vi } from "vitest";

export interface HeldClock {
	/** What `Date.now()` returns while held. */
	readonly nowMs: number;
	/** Moves the held time forward by `ms`. */
	advance(ms: number): void;
	/** Gives `Date.now()` back to the real clock: past the held time unless held ahead or `advance` moved it beyond. */
	release(): void;
}

/**
 * Holds `Date.now()` at the current time, or `aheadMs` past it, until `release()` (or `vi.restoreAllMocks()`). An
 * alarm an object sets a few seconds from the held time falls due in real time while the clock stands still, and
 * workerd runs it by itself; held far enough ahead, only the test's `runDurableObjectAlarm` runs it.
 */
export function holdClock(aheadMs = 0): HeldClock {
	let nowMs = Date.now() + aheadMs;
	const spy = vi.spyOn(Date, "now").mockImplementation(() => nowMs);
	return {
		get nowMs() {
			return nowMs;
		},
		advance(ms: number) {
			nowMs += ms;
		},
		release() {
			spy.mockRestore();
		},
	};
}

export interface FakedDate {
	/** What `Date.now()` returns in the running test. */
	readonly nowMs: number;
	/** Sets the time `Date.now()` returns (and `new Date()`), for the test and the objects it calls. */
	at(ms: number): void;
}

/**
 * Fakes `Date` for each test of the file or `describe` block it is called in, starting at the real time: for tests
 * that move time past a deadline (a session's, a retention's) instead of waiting it out. Timers keep real time.
 */
export function fakeDateEachTest(): FakedDate {
	let nowMs = 0;
	const clock: FakedDate = {
		get nowMs() {
			return nowMs;
		},
		at(ms: number) {
			nowMs = ms;
			vi.setSystemTime(ms);
		},
	};
	beforeEach(() => {
		vi.useFakeTimers({ toFake: ["Date"] });
		clock.at(Date.now());
	});
	afterEach(() => {
		vi.useRealTimers();
	});
	return clock;
}
