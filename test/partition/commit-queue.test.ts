/**
 * The commit queue alone, with a commit the test completes by hand: a lone producer is written at once and never
 * lingers; requests queued behind a commit form the next group; after groups of many, the next group waits for as
 * many (up to the linger) rather than going out with the first few, whether it found a commit in flight or the
 * queue idle, and then turn by turn while each turn brings more; a linger's timers are one per group plus one per
 * turn that brought requests, never one per request.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { CommitQueue } from "../../src/partition/commit-queue.ts";

function harness(lingerMs: number) {
	const groups: number[][] = [];
	let commits: ((failure?: Error) => void)[] = [];
	let writeFails: Error | null = null;
	/** What `failed` was told, one entry per request it answered. */
	const failures: string[] = [];
	let failedThrows: Error | null = null;
	let durableThrows: Error | null = null;
	const queue = new CommitQueue<number, number>({
		write: (requests) => {
			groups.push([...requests]);
			const thrown = writeFails;
			writeFails = null;
			if (thrown !== null) throw thrown;
			return requests.map((r) => r * 10);
		},
		failed: (request, cause) => {
			const thrown = failedThrows;
			failedThrows = null;
			if (thrown !== null) throw thrown;
			failures.push(`${request}: ${String(cause)}`);
			return -request;
		},
		durable: () => {
			const thrown = durableThrows;
			durableThrows = null;
			if (thrown !== null) throw thrown;
			return new Promise<void>((resolve, reject) => commits.push((failure) => (failure ? reject(failure) : resolve())));
		},
		weigh: () => 1,
		groupRequestsMax: 100,
		groupWeightMax: 1_000,
		lingerMs,
	});
	/**
	 * Lets one turn of the event loop pass (a timer armed before this one fires first); under fake timers
	 * (`lingerClock`), runs the timers due now instead, the clock standing still.
	 */
	const turn = () => (vi.isFakeTimers() ? vi.advanceTimersByTimeAsync(0) : new Promise((resolve) => setTimeout(resolve, 0)));
	/** Completes the commit in flight (or fails it with `failure`) and lets the queue react. */
	const commit = async (failure?: Error) => {
		const pending = commits;
		commits = [];
		for (const settle of pending) settle(failure);
		await turn();
	};
	/** Makes the next group's write throw `thrown` (its transaction rolled back). */
	const failNextWrite = (thrown: Error) => {
		writeFails = thrown;
	};
	/** Makes the next call of `failed` throw `thrown` (a bug in the partition's answer for a failure). */
	const breakFailed = (thrown: Error) => {
		failedThrows = thrown;
	};
	/** Makes the next call of `durable` throw `thrown` synchronously (a bug in the hook), not reject. */
	const breakDurable = (thrown: Error) => {
		durableThrows = thrown;
	};
	return { queue, groups, commit, turn, failNextWrite, breakFailed, breakDurable, failures };
}

/**
 * Fakes the queue's timers and `Date.now`, from now until the test ends: a linger then ends when the test moves the
 * clock past `lingerMs`, and not before, however slow the machine.
 */
function lingerClock(): { advance(ms: number): Promise<void> } {
	vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
	return {
		advance: async (ms) => {
			await vi.advanceTimersByTimeAsync(ms);
		},
	};
}

describe("commit queue", () => {
	afterEach(() => {
		vi.useRealTimers();
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

	it("after a group of many, lingers until as many are queued, then for as long as each turn brings more", async () => {
		const { queue, groups, commit, turn } = harness(60_000);
		const first = [0, 1, 2, 3, 4].map((n) => queue.submit(n));
		await commit(); // [0] committed; [1..4] written as one group of four
		expect(groups).toEqual([[0], [1, 2, 3, 4]]);
		const next = [5, 6].map((n) => queue.submit(n));
		await commit(); // two queued, four expected: it lingers
		expect(groups.length).toBe(2);
		const more = [7, 8].map((n) => queue.submit(n)); // four are queued: from now on it waits turn by turn
		expect(groups.length).toBe(2);
		await turn(); // a turn that brought none ends it
		expect(groups).toEqual([[0], [1, 2, 3, 4], [5, 6, 7, 8]]);
		await commit();
		expect(await Promise.all([...first, ...next, ...more])).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
	});

	it("ends a linger after lingerMs with what is queued", async () => {
		const clock = lingerClock();
		const { queue, groups, commit } = harness(5);
		[0, 1, 2, 3].map((n) => queue.submit(n));
		await commit();
		expect(groups).toEqual([[0], [1, 2, 3]]);
		const late = queue.submit(4);
		await commit();
		expect(groups.length).toBe(2);
		await clock.advance(4);
		expect(groups.length, "still lingering 1 ms before lingerMs").toBe(2);
		await clock.advance(1);
		expect(groups).toEqual([[0], [1, 2, 3], [4]]);
		await commit();
		expect(await late).toBe(40);
	});

	it("after groups of many, a request that finds the queue idle lingers for the others instead of going out alone", async () => {
		const { queue, groups, commit, turn } = harness(60_000);
		const first = [0, 1, 2, 3, 4].map((n) => queue.submit(n));
		await commit();
		await turn();
		await commit(); // [0] and [1..4] are durable; nothing is queued: the queue is idle
		expect(groups).toEqual([[0], [1, 2, 3, 4]]);
		// Producers come back one at a time, as they do from an edge under load: no group of one per drained queue.
		const staggered: Promise<number>[] = [];
		for (const n of [5, 6, 7]) {
			staggered.push(queue.submit(n));
			await new Promise((resolve) => setTimeout(resolve, 0));
			expect(groups.length).toBe(2);
		}
		staggered.push(queue.submit(8)); // the fourth: one more turn, which brings none
		await turn();
		expect(groups).toEqual([[0], [1, 2, 3, 4], [5, 6, 7, 8]]);
		await commit();
		expect(await Promise.all([...first, ...staggered])).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
	});

	it("arms one timer per lingering group and one per turn that brought requests, not one per request", async () => {
		const { queue, groups, commit, turn } = harness(60_000);
		const first = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => queue.submit(n));
		await commit();
		await turn();
		await commit();
		expect(groups).toEqual([[0], [1, 2, 3, 4, 5, 6, 7]]);
		const timers = vi.spyOn(globalThis, "setTimeout");
		const cleared = vi.spyOn(globalThis, "clearTimeout");
		const next = [8, 9, 10, 11, 12, 13].map((n) => queue.submit(n));
		expect(groups.length).toBe(2);
		expect(timers).toHaveBeenCalledTimes(1);
		next.push(queue.submit(14)); // the seventh: the linger's timer gives way to one for the turn
		expect(timers).toHaveBeenCalledTimes(2);
		expect(cleared).toHaveBeenCalledTimes(1);
		next.push(...[15, 16, 17].map((n) => queue.submit(n))); // more in the same turn: no more timers
		expect(timers).toHaveBeenCalledTimes(2);
		await turn(); // that turn brought three: one more
		expect(groups.length).toBe(2);
		next.push(queue.submit(18));
		await turn(); // brought one: one more
		expect(groups.length).toBe(2);
		await turn(); // brought none: written
		expect(groups).toEqual([[0], [1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]]);
		// The spy counts the test's own turns too: three of them.
		expect(timers).toHaveBeenCalledTimes(2 + 2 + 3);
		await commit();
		expect(await Promise.all([...first, ...next])).toEqual([
			0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180,
		]);
	});

	it("stops waiting turn by turn at lingerMs however steadily requests keep coming", async () => {
		const { queue, groups, commit, turn } = harness(5);
		const first = [0, 1, 2, 3].map((n) => queue.submit(n));
		await commit();
		await turn();
		await commit(); // [0] and [1, 2, 3] are durable: three expected
		expect(groups).toEqual([[0], [1, 2, 3]]);
		const answers: Promise<number>[] = [];
		// One arrival every turn, for ever: only the linger's bound can write the group. Bounded so a failure ends.
		for (let n = 4; groups.length === 2 && n < 100_000; n++) {
			answers.push(queue.submit(n));
			await turn();
		}
		expect(groups.length).toBe(3);
		expect(groups[2]).toEqual(answers.map((_, i) => 4 + i));
		await commit();
		expect(await Promise.all([...first, ...answers])).toEqual([0, 10, 20, 30, ...answers.map((_, i) => (4 + i) * 10)]);
	});

	it("writes a full group at once, even while waiting turn by turn", async () => {
		const { queue, groups, commit, turn } = harness(60_000);
		const first = [0, 1, 2].map((n) => queue.submit(n));
		await commit();
		await turn();
		await commit(); // [0] and [1, 2] are durable: two expected
		expect(groups).toEqual([[0], [1, 2]]);
		const answers = [queue.submit(3), queue.submit(4)]; // two queued: waiting turn by turn
		expect(groups.length).toBe(2);
		for (let n = 5; n < 103; n++) answers.push(queue.submit(n)); // the hundredth fills the group
		expect(groups.length).toBe(3);
		expect(groups[2]).toEqual(answers.map((_, i) => 3 + i));
		await commit();
		expect(await Promise.all([...first, ...answers])).toEqual([0, 10, 20, ...answers.map((_, i) => (3 + i) * 10)]);
	});

	it("a lone producer after a burst lingers only until a short group shows the burst is over", async () => {
		const clock = lingerClock();
		const { queue, groups, commit } = harness(5);
		[0, 1, 2, 3].map((n) => queue.submit(n));
		await commit();
		await commit();
		expect(groups).toEqual([[0], [1, 2, 3]]);
		const alone = queue.submit(4);
		expect(groups.length).toBe(2); // three were expected: it lingers
		await clock.advance(4);
		expect(groups.length, "still lingering 1 ms before lingerMs").toBe(2);
		await clock.advance(1);
		expect(groups).toEqual([[0], [1, 2, 3], [4]]);
		await commit();
		expect(await alone).toBe(40);
	});

	it("answers each request of a group whose write threw, and each queued behind a commit that failed, with `failed`: none rejects", async () => {
		const { queue, groups, commit, failNextWrite, failures } = harness(0);
		failNextWrite(new Error("rolled back"));
		const answers = [1, 2, 3].map((n) => queue.submit(n)); // [1] is written at once and throws; [2, 3] queue behind it
		await commit();
		expect(groups).toEqual([[1], [2, 3]]);
		const late = [4, 5].map((n) => queue.submit(n)); // [4, 5] queue behind [2, 3]'s commit, which fails
		await commit(new Error("sync failed"));
		expect(groups).toEqual([[1], [2, 3]]);
		const settled = await Promise.allSettled([...answers, ...late]);
		expect(settled.map((s) => (s.status === "fulfilled" ? s.value : `rejected: ${String(s.reason)}`))).toEqual([-1, 20, 30, -4, -5]);
		expect(failures).toEqual(["1: Error: rolled back", "4: Error: sync failed", "5: Error: sync failed"]);
		// The queue goes on: the next request is written as a group of its own.
		const next = queue.submit(6);
		await commit();
		expect(await next).toBe(60);
	});

	it("logs a commit that failed with its cause, once: nothing else logs it (the writer logs only a write that threw)", async () => {
		const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { queue, commit } = harness(0);
		const answers = [1, 2].map((n) => queue.submit(n)); // [1] is written at once; [2] queues behind its commit
		await commit(new Error("sync failed"));
		expect(await Promise.all(answers)).toEqual([10, -2]);
		expect(error.mock.calls.map(([logged]) => String(logged))).toEqual(["Error: sync failed"]);
	});

	it("answers a request whose `failed` threw with that throw (a rejection), logged, and goes on with the next group", async () => {
		const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { queue, groups, commit, failNextWrite, breakFailed } = harness(0);
		failNextWrite(new Error("rolled back"));
		breakFailed(new TypeError("failed broke"));
		// Its handler attached before the commit that rejects it: else the rejection is unhandled and fails the run.
		const broken = expect(queue.submit(1)).rejects.toThrow("failed broke");
		const next = queue.submit(2); // queued behind [1]'s commit
		await commit();
		expect(groups).toEqual([[1], [2]]);
		await commit();
		expect(await next).toBe(20);
		await broken;
		expect(error.mock.calls.map(([logged]) => String(logged))).toEqual(["TypeError: failed broke"]);
	});

	it("takes a `durable` that throws synchronously as one that rejects: the requests queued behind it fail, logged, and the queue goes on", async () => {
		const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { queue, groups, commit, turn, breakDurable, failures } = harness(0);
		breakDurable(new TypeError("durable broke"));
		const first = queue.submit(1); // written at once: its commit's hook throws
		const queued = queue.submit(2); // queued behind that commit
		const pending = Symbol("pending");
		const now = (answer: Promise<number>) => Promise.race([answer, turn().then(() => pending)]);
		expect([await now(first), await now(queued)]).toEqual([10, -2]);
		expect(failures).toEqual(["2: TypeError: durable broke"]);
		// The queue goes on: the next request is written as a group of its own.
		const next = queue.submit(3);
		await commit();
		expect([groups, await now(next)]).toEqual([[[1], [3]], 30]);
		expect(error.mock.calls.map(([logged]) => String(logged))).toEqual(["TypeError: durable broke"]);
	});
});
