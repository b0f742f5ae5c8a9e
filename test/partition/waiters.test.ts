/**
 * The partition's long-poll waiters: `release(id)` ends the one wait its reader named, at once and as its timer
 * would, and leaves every other wait (named otherwise, or not named, as an edge of the earlier version's) waiting.
 */
import { describe, expect, it } from "vitest";
import { Waiters } from "../../src/partition/waiters.ts";

/** Far longer than the test: a wait seen ended was ended by the code, not by its timer. */
const WAIT_MS = 60_000;

describe("Waiters.release", () => {
	it("ends the named wait only", async () => {
		const waiters = new Waiters();
		const ended: string[] = [];
		const named = waiters.wait(WAIT_MS, "a").then(() => ended.push("a"));
		void waiters.wait(WAIT_MS, "b").then(() => ended.push("b"));
		void waiters.wait(WAIT_MS).then(() => ended.push("unnamed"));
		waiters.release("a");
		await named;
		expect(ended).toEqual(["a"]);
		expect(waiters.waiting).toBe(2);
		waiters.release("a"); // ended already: nothing to do
		waiters.release("unknown");
		expect(waiters.waiting).toBe(2);
		waiters.wakeAll();
		expect(waiters.waiting).toBe(0);
	});
});
