/**
 * The partition's long-poll waiters: `release(id)` ends the one wait its reader named, at once and as its timer
 * would, and leaves every other wait (named otherwise, or not named, as an edge of the earlier version's) waiting.
 * An id released before its wait began (its reader left while the read was on its way) ends a wait under it as it
 * begins, for `RELEASED_WAIT_KEPT_MS`, and at most `RELEASED_WAIT_IDS_MAX` such ids are kept.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { Waiters } from "../../src/partition/waiters.ts";
import { RELEASED_WAIT_IDS_MAX, RELEASED_WAIT_KEPT_MS } from "../../src/shared/limits.ts";

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

/** Whether `wait` has ended once the microtasks queued so far have run (an ended wait's promise is settled). */
async function ended(wait: Promise<void>): Promise<boolean> {
	return Promise.race([wait.then(() => true), Promise.resolve().then(() => false)]);
}

describe("Waiters.release before the wait", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("ends the wait named by it as it begins, and no other", async () => {
		const waiters = new Waiters();
		waiters.release("early");
		expect(await ended(waiters.wait(WAIT_MS, "early"))).toBe(true);
		expect(waiters.waiting).toBe(0);
		expect(await ended(waiters.wait(WAIT_MS, "other"))).toBe(false);
		expect(await ended(waiters.wait(WAIT_MS))).toBe(false);
		expect(waiters.waiting).toBe(2);
		waiters.wakeAll();
	});

	it("forgets the id after RELEASED_WAIT_KEPT_MS", async () => {
		const waiters = new Waiters();
		const now = vi.spyOn(Date, "now").mockReturnValue(1_000);
		waiters.release("late");
		now.mockReturnValue(1_000 + RELEASED_WAIT_KEPT_MS);
		expect(await ended(waiters.wait(WAIT_MS, "late"))).toBe(false);
		waiters.wakeAll();
	});

	it("keeps at most RELEASED_WAIT_IDS_MAX ids, forgetting the oldest", async () => {
		const waiters = new Waiters();
		for (let i = 0; i <= RELEASED_WAIT_IDS_MAX; i++) waiters.release(`id-${i}`);
		// Seen through waits alone: the oldest no longer ends one, every later id still does.
		expect(await ended(waiters.wait(WAIT_MS, "id-0")), "id-0, the oldest").toBe(false);
		const kept: string[] = [];
		for (let i = 1; i <= RELEASED_WAIT_IDS_MAX; i++) if (await ended(waiters.wait(WAIT_MS, `id-${i}`))) kept.push(`id-${i}`);
		expect(kept).toHaveLength(RELEASED_WAIT_IDS_MAX);
		waiters.wakeAll();
	});
});
