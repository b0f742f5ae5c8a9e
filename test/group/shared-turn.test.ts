/**
 * The shared commit turn on its own (src/group/shared-turn.ts): it ends at once when every expected caller is
 * waiting, goes on timer turn by timer turn while each brings more callers, and ends after the first that brings
 * none, unless every caller so far lingers the whole linger (polls carrying a commit). Callers are made to arrive at
 * known timer turns (a timer set before another fires first); no test waits on the clock.
 */

import { describe, expect, it } from "vitest";
import { SharedTurn } from "../../src/group/shared-turn.ts";

/** Resolves after the timer turns queued so far (and the one this sets) have run. */
const afterTimers = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The turn count each caller saw when its wait ended. */
function track(turn: SharedTurn, expected: number, seen: number[], lingersWhole = false): Promise<void> {
	return turn.wait(expected, lingersWhole).then(() => {
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

	it("lasts across quiet timer turns while every caller lingers the whole linger, and not once one does not", async () => {
		for (const [kinds, expected] of [
			// Polls carrying a commit: the quiet timer turns do not end it; the last member's arrival does.
			[
				[true, true, true],
				[1, 1, 1],
			],
			// Commit requests: the first quiet timer turn ends it, so the late caller gets a turn of its own.
			[
				[false, false, false],
				[1, 1, 2],
			],
			// A commit request joining a poll's turn brings back the early end.
			[
				[true, false, false],
				[1, 1, 2],
			],
		] as const) {
			const turn = new SharedTurn(1_000);
			const seen: number[] = [];
			const waits: Promise<void>[] = [];
			const [first, second, ...late] = kinds;
			// The second caller arrives within the turn's first timer turn (its timer is set first); the late ones only
			// after several timer turns that brought no one.
			setTimeout(() => waits.push(track(turn, kinds.length, seen, second)), 0);
			waits.push(track(turn, kinds.length, seen, first));
			for (let quiet = 0; quiet < 4; quiet++) await afterTimers();
			for (const kind of late) waits.push(track(turn, kinds.length, seen, kind));
			while (seen.length < kinds.length) await afterTimers();
			await Promise.all(waits);
			expect(seen, `lingersWhole ${kinds.join(", ")}`).toEqual(expected);
		}
	});

	it("ends a whole-linger turn once its linger has passed", async () => {
		const turn = new SharedTurn(0);
		const seen: number[] = [];
		const waits = [track(turn, 2, seen, true)];
		while (seen.length < 1) await afterTimers();
		waits.push(track(turn, 2, seen, true));
		while (seen.length < 2) await afterTimers();
		await Promise.all(waits);
		expect(seen).toEqual([1, 2]);
	});
});
