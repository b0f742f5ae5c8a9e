/**
 * The commit queue alone, with a commit the test completes by hand: a lone producer is written at once and never
 * lingers; requests queued behind a commit form the next group; after groups of many, the next group waits for as
 * many (up to the linger) rather than going out with the first few, whether it found a commit in flight or the
 * queue idle; a linger is one timer per group.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { CommitQueue } from "../../src/partition/commit-queue.ts";

function harness(lingerMs: number) {
	const groups: number[][] = [];
	let commits: (() => void)[] = [];
	const queue = new CommitQueue<number, number>({
		write: (requests) => {
			groups.push([...requests]);
			return requests.map((r) => r * 10);
		},
		durable: () => new Promise<void>((resolve) => commits.push(resolve)),
		weigh: () => 1,
		groupRequestsMax: 100,
		groupWeightMax: 1_000,
		lingerMs,
	});
	/** Completes the commit in flight and lets the queue react. */
	const commit = async () => {
		const pending = commits;
		commits = [];
		for (const resolve of pending) resolve();
		await new Promise((resolve) => setTimeout(resolve, 0));
	};
	return { queue, groups, commit };
}

describe("commit queue", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("writes a lone producer's requests at once, one group each, however long the linger", async () => {
		const { queue, groups, commit } = harness(60_000);
		for (let i = 0; i < 5; i++) {
			const answer = queue.submit(i);
			expect(groups.length).toBe(i + 1);
			await commit();
			expect(await answer).toBe(i * 10);
		}
		expect(groups).toEqual([[0], [1], [2], [3], [4]]);
	});

	it("groups what queued behind a commit, answering each its own result in order", async () => {
		const { queue, groups, commit } = harness(0);
		const answers = [1, 2, 3, 4].map((n) => queue.submit(n));
		expect(groups).toEqual([[1]]);
		await commit();
		expect(groups).toEqual([[1], [2, 3, 4]]);
		await commit();
		expect(await Promise.all(answers)).toEqual([10, 20, 30, 40]);
	});

	it("after a group of many, lingers until as many are queued, then writes them together", async () => {
		const { queue, groups, commit } = harness(60_000);
		const first = [0, 1, 2, 3, 4].map((n) => queue.submit(n));
		await commit(); // [0] committed; [1..4] written as one group of four
		expect(groups).toEqual([[0], [1, 2, 3, 4]]);
		const next = [5, 6].map((n) => queue.submit(n));
		await commit(); // two queued, four expected: it lingers
		expect(groups.length).toBe(2);
		const more = [7, 8].map((n) => queue.submit(n)); // the fourth ends the linger
		expect(groups).toEqual([[0], [1, 2, 3, 4], [5, 6, 7, 8]]);
		await commit();
		expect(await Promise.all([...first, ...next, ...more])).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
	});

	it("ends a linger after lingerMs with what is queued", async () => {
		const { queue, groups, commit } = harness(5);
		[0, 1, 2, 3].map((n) => queue.submit(n));
		await commit();
		expect(groups).toEqual([[0], [1, 2, 3]]);
		const late = queue.submit(4);
		await commit();
		expect(groups.length).toBe(2);
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(groups).toEqual([[0], [1, 2, 3], [4]]);
		await commit();
		expect(await late).toBe(40);
	});

	it("after groups of many, a request that finds the queue idle lingers for the others instead of going out alone", async () => {
		const { queue, groups, commit } = harness(60_000);
		const first = [0, 1, 2, 3, 4].map((n) => queue.submit(n));
		await commit();
		await commit(); // [0] and [1..4] are durable; nothing is queued: the queue is idle
		expect(groups).toEqual([[0], [1, 2, 3, 4]]);
		// Producers come back one at a time, as they do from an edge under load: no group of one per drained queue.
		const staggered: Promise<number>[] = [];
		for (const n of [5, 6, 7]) {
			staggered.push(queue.submit(n));
			await new Promise((resolve) => setTimeout(resolve, 0));
			expect(groups.length).toBe(2);
		}
		staggered.push(queue.submit(8)); // the fourth ends the linger
		expect(groups).toEqual([[0], [1, 2, 3, 4], [5, 6, 7, 8]]);
		await commit();
		expect(await Promise.all([...first, ...staggered])).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
	});

	it("arms one timer per lingering group, not one per request", async () => {
		const { queue, groups, commit } = harness(60_000);
		const first = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => queue.submit(n));
		await commit();
		await commit();
		expect(groups).toEqual([[0], [1, 2, 3, 4, 5, 6, 7]]);
		const timers = vi.spyOn(globalThis, "setTimeout");
		const cleared = vi.spyOn(globalThis, "clearTimeout");
		const next = [8, 9, 10, 11, 12, 13].map((n) => queue.submit(n));
		expect(groups.length).toBe(2);
		expect(timers).toHaveBeenCalledTimes(1);
		next.push(queue.submit(14)); // the seventh ends the linger, and its timer
		expect(groups).toEqual([[0], [1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14]]);
		expect(timers).toHaveBeenCalledTimes(1);
		expect(cleared).toHaveBeenCalledTimes(1);
		await commit();
		expect(await Promise.all([...first, ...next])).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140]);
	});

	it("a lone producer after a burst lingers only until a short group shows the burst is over", async () => {
		const { queue, groups, commit } = harness(5);
		[0, 1, 2, 3].map((n) => queue.submit(n));
		await commit();
		await commit();
		expect(groups).toEqual([[0], [1, 2, 3]]);
		const alone = queue.submit(4);
		expect(groups.length).toBe(2); // three were expected: it lingers
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(groups).toEqual([[0], [1, 2, 3], [4]]);
		await commit();
		expect(await alone).toBe(40);
	});
});
