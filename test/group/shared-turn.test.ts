/**
 * The shared commit turn on its own (src/group/shared-turn.ts): it ends at once when every expected caller is
 * waiting, goes on timer turn by timer turn while each brings more callers, and ends after the first that brings
 * none. Callers are made to arrive at known timer turns (a timer set before another fires first); no test waits on
 * the clock.
 */

import { describe, expect, it } from "vitest";
import { SharedTurn } from "../../src/group/shared-turn.ts";

/** Resolves after the timer turns queued so far (and the one this sets) have run. */
const afterTimers = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The turn count each caller saw when its wait ended. */
function track(turn: SharedTurn, expected: number, seen: number[]): Promise<void> {
	return turn.wait(expected).then(() => {
		seen.push(turn.ended);
	});
}

describe("the shared commit turn", () => {
	it("ends at once, with no timer turn, when every expected caller is waiting", async () => {
		const turn = new SharedTurn(1_000);
		const seen: number[] = [];
		const waits = [track(turn, 3, seen), track(turn, 3, seen), track(turn, 3, seen)];
		// Microtasks only: a timer turn has not run yet.
		await Promise.resolve();
		await Promise.resolve();
		expect(seen).toEqual([1, 1, 1]);
		await Promise.all(waits);
		// The timer the first caller set is gone with the turn: a later caller gets a turn of its own.
		await afterTimers();
		expect(turn.ended).toBe(1);
	});

	it("goes on while each timer turn brings callers, so all of them share one turn", async () => {
		for (const [lingerMs, expected] of [
			[1_000, [1, 1, 1]],
			// Not going on: the caller of the second timer turn gets a turn of its own.
			[0, [1, 1, 2]],
		] as const) {
			const turn = new SharedTurn(lingerMs);
			const seen: number[] = [];
			const waits: Promise<void>[] = [];
			// The second caller's timer is set before the turn's, so it arrives within the turn's first timer turn; it
			// sets the third caller's timer, which fires before the turn's next.
			setTimeout(() => {
				waits.push(track(turn, 10, seen));
				setTimeout(() => waits.push(track(turn, 10, seen)), 0);
			}, 0);
			waits.push(track(turn, 10, seen));
			while (seen.length < 3) await afterTimers();
			await Promise.all(waits);
			expect(seen, `lingerMs ${lingerMs}`).toEqual(expected);
		}
	});
});
