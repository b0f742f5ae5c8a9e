// @ts-check
/**
 * The bench's rounds (bench/lib/rounds.mjs): the order targets run in, what a round-by-round ratio and its target
 * come to, and that the rounds drive each target's measurement as promised (warm-up once, rotated windows).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
	measureInRounds,
	medianOf,
	meetsTarget,
	mergeWindows,
	percentByRound,
	ratioCell,
	roundOrder,
	roundsResult,
} from "../../bench/lib/rounds.mjs";
import { derive, targetCell } from "../../bench/report.mjs";
import { KINDS } from "../../bench/scenarios/index.mjs";
import { MAIN_TARGETS } from "../../bench/settings.mjs";

test("each round is every target once, the last of a round first in the next, so none is always first or last", () => {
	assert.deepEqual(roundOrder(4, 0), [0, 1, 2, 3]);
	assert.deepEqual(roundOrder(4, 1), [3, 0, 1, 2]);
	assert.deepEqual(roundOrder(4, 2), [2, 3, 0, 1]);
	assert.deepEqual(roundOrder(1, 5), [0]);
	assert.deepEqual(roundOrder(0, 2), []);
	for (const count of [2, 3, 5]) {
		for (let r = 0; r < 7; r++) {
			const order = roundOrder(count, r);
			assert.deepEqual(
				[...order].sort((a, b) => a - b),
				Array.from({ length: count }, (_, k) => k),
				`round ${r} of ${count}`,
			);
			assert.equal(roundOrder(count, r + 1)[0], order.at(-1), `round ${r + 1} of ${count} starts with round ${r}'s last`);
		}
		// Over `count` rounds every target takes every place once.
		for (let target = 0; target < count; target++) {
			const places = Array.from({ length: count }, (_, r) => roundOrder(count, r).indexOf(target)).sort((a, b) => a - b);
			assert.deepEqual(
				places,
				Array.from({ length: count }, (_, k) => k),
				`target ${target} of ${count}`,
			);
		}
	}
	assert.throws(() => roundOrder(3, -1), /roundOrder/);
	assert.throws(() => roundOrder(2.5, 0), /roundOrder/);
});

test("the median is the middle sample, or the mean of the middle two", () => {
	assert.equal(medianOf([81.2, 63.8, 74.0]), 74.0);
	assert.equal(medianOf([4, 1, 3, 2]), 2.5);
	assert.equal(medianOf([7]), 7);
	assert.equal(medianOf([]), null);
});

/**
 * A window as runLoad answers it: `records` over `seconds`, server CPU `serverPercent`.
 * @param {number} records
 * @param {number} seconds
 * @param {{ serverPercent?: number, aborted?: boolean, latencies?: number[] }} [more]
 * @returns {import("../../bench/lib/load.mjs").LoadResult}
 */
function window(records, seconds, { serverPercent = 100, aborted = false, latencies = [1, 2] } = {}) {
	return {
		clients: 1,
		seconds,
		requests: records / 100,
		records,
		sentBytes: records * 1000,
		receivedBytes: 0,
		recordsPerSec: records / seconds,
		requestsPerSec: records / 100 / seconds,
		sentMBPerSec: (records * 1000) / 1e6 / seconds,
		receivedMBPerSec: 0,
		latencyMs: { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 },
		latenciesMs: latencies,
		cpu: { clientPercent: 10, serverPercent, otherPercent: 1, fsyncMs: 0.2, ioStallPercent: 0 },
		quietWaitMs: 0,
		errors: aborted ? 1 : 0,
		errorSamples: aborted ? [{ status: 503, error: "503 busy" }] : [],
		aborted,
	};
}

test("merged windows count the whole measured time: rates, latencies and CPU per record over all of it", () => {
	const merged = mergeWindows([
		window(1000, 1, { serverPercent: 50, latencies: [5, 9] }),
		window(3000, 2, { serverPercent: 80, latencies: [1] }),
	]);
	assert.equal(merged.records, 4000);
	assert.equal(merged.seconds, 3);
	assert.equal(merged.recordsPerSec, 1333.3);
	assert.equal(merged.latencyMs.p50, 5);
	assert.equal(merged.latencyMs.max, 9);
	// 0.5 s + 1.6 s of server CPU over 3 s.
	assert.equal(merged.cpu.serverPercent, 70);
	assert.equal(merged.aborted, false);
	assert.equal(mergeWindows([window(10, 1), window(10, 1, { aborted: true })]).aborted, true);
});

test("a ratio pairs round k with the reference's round k and is the median of those, with their range", () => {
	// Over the whole time 900 / 1000 = 90 %; round by round 50 %, 100 %, 80 %: the median 80.
	const row = { recordsPerSec: 900, recordsPerSecByRound: [500, 1000, 1200] };
	const ref = { recordsPerSec: 1000, recordsPerSecByRound: [1000, 1000, 1500] };
	assert.deepEqual(percentByRound(row, ref), { median: 80, min: 50, max: 100, byRound: [50, 100, 80] });
	// Requests, when asked; a reference with fewer rounds pairs the rounds both have.
	assert.deepEqual(
		percentByRound({ requestsPerSec: 1, requestsPerSecByRound: [30, 60, 90] }, { requestsPerSecByRound: [60, 60] }, "requestsPerSec"),
		{
			median: 75,
			min: 50,
			max: 100,
			byRound: [50, 100],
		},
	);
	// One window each: the whole time's ratio.
	assert.deepEqual(percentByRound({ recordsPerSec: 450 }, { recordsPerSec: 600 }), { median: 75, min: 75, max: 75, byRound: [75] });
	assert.equal(percentByRound({ recordsPerSec: 450 }, { recordsPerSec: 0 }), null);
});

/**
 * The rows of one scenario on one runtime, measured in three rounds at `byServer` rates.
 * @param {string} scenario
 * @param {Record<string, number[]>} byServer
 * @returns {import("../../bench/scenarios/types.js").Row[]}
 */
function scenarioRows(scenario, byServer) {
	return Object.entries(byServer).map(([server, rates]) => ({
		scenario,
		kind: "produce",
		runtime: "miniflare",
		server,
		recordsPerSec: rates.reduce((a, b) => a + b, 0) / rates.length,
		recordsPerSecByRound: rates,
	}));
}

test("the main table's ratios and target are the rounds' median, the range beside it", () => {
	const target = MAIN_TARGETS["produce-1c-1p"];
	assert.equal(target?.of, "ceiling+sqlite");
	// Whole time 91.7 % of ceiling+sqlite (would pass); the rounds 80, 100, 85: the median 85 fails.
	const rows = scenarioRows("produce-1c-1p", {
		tributary: [800, 1500, 850],
		ceiling: [2000, 2000, 2000],
		"ceiling+sqlite": [1000, 1500, 1000],
		"ceiling+sqlite+parse": [1000, 1000, 1000],
	});
	derive(rows);
	const [tributary, ceiling, sqlite] = rows;
	assert.ok(tributary && ceiling && sqlite);
	assert.equal(tributary.percentOfCeilingSqlite, 85);
	assert.deepEqual(tributary.percentOfCeilingSqliteByRound, [80, 100, 85]);
	assert.equal(ratioCell(tributary, "percentOfCeilingSqlite"), "85.0% (80.0–100.0)");
	assert.equal(targetCell(tributary), "**no** (≥90% of ceiling+sqlite)");
	assert.equal(meetsTarget(tributary, "percentOfCeilingSqlite", 0.85), true);
	assert.equal(tributary.percentOfCeiling, 42.5);
	assert.equal(tributary.percentOfCeilingSqliteParse, 85);
	assert.equal(sqlite.percentOfCeiling, 50);
	assert.equal(ceiling.percentOfCeiling, null);
	assert.equal(ratioCell(ceiling, "percentOfCeiling"), "");
	assert.equal(targetCell(sqlite), "");

	// Whole time 88.9 % (would fail); the rounds 95, 60, 92: the median 92 passes.
	const passing = scenarioRows("produce-1c-1p", { tributary: [950, 600, 920], "ceiling+sqlite": [1000, 1000, 1000] });
	derive(passing);
	assert.equal(passing[0]?.percentOfCeilingSqlite, 92);
	assert.equal(targetCell(/** @type {import("../../bench/scenarios/types.js").Row} */ (passing[0])), "yes (≥90% of ceiling+sqlite)");
});

test("the many small producers' ratios are the rounds' median of requests/s", () => {
	const rows = ["tributary", "ceiling", "ceiling+group-commit", "ceiling+sqlite"].map((server, k) => ({
		scenario: "produce-32c-1r",
		kind: "small-produce",
		runtime: "miniflare",
		server,
		recordsPerSec: 1,
		requestsPerSec: 1,
		requestsPerSecByRound: [
			[2000, 2100, 1900],
			[3000, 3000, 3000],
			[2500, 2000, 2000],
			[1000, 1000, 1000],
		][k],
	}));
	derive(rows);
	const tributary = rows[0];
	assert.ok(tributary);
	assert.equal(tributary.requestsPercentOfCeiling, 66.7);
	assert.deepEqual(tributary.requestsPercentOfGroupCommitByRound, [80, 105, 95]);
	assert.equal(tributary.requestsPercentOfGroupCommit, 95);
	assert.equal(ratioCell(tributary, "requestsPercentOfGroupCommit"), "95.0% (80.0–105.0)");
});

/**
 * Fake targets whose every call is logged as "<event>:<target>".
 * @param {number} count
 * @param {{ failOpen?: number, abortAt?: [number, number] }} [faults]  a target that cannot open; [target, window] that aborts
 */
function fakeTargets(count, { failOpen, abortAt } = {}) {
	/** @type {string[]} */
	const log = [];
	const targets = Array.from({ length: count }, (_, t) => ({
		async open() {
			log.push(`open:${t}`);
			if (t === failOpen) throw new Error("topic refused");
			let measured = 0;
			/** @type {import("../../bench/scenarios/types.js").Measurement} */
			const measurement = {
				async warmUp(ms) {
					log.push(`warm:${t}:${ms}`);
				},
				async measure(ms) {
					log.push(`measure:${t}:${ms}`);
					const aborted = abortAt !== undefined && abortAt[0] === t && abortAt[1] === measured;
					measured++;
					return window(100 * (t + 1), 1, { aborted });
				},
				async close() {
					return {};
				},
			};
			return measurement;
		},
	}));
	return { log, targets };
}

test("the rounds open every target, wait for quiet once, warm each up once, then measure them round by round, each window after the first round's led in", async () => {
	const { log, targets } = fakeTargets(3);
	const { results, quietWaitMs } = await measureInRounds(targets, {
		rounds: 3,
		windowMs: 2000,
		warmupMs: 1000,
		leadInMs: 200,
		waitQuiet: async () => {
			log.push("quiet");
			return 1234;
		},
	});
	assert.equal(quietWaitMs, 1234);
	assert.deepEqual(log, [
		"open:0",
		"open:1",
		"open:2",
		"quiet",
		"warm:0:1000",
		"warm:1:1000",
		"warm:2:1000",
		...roundOrder(3, 0).map((t) => `measure:${t}:2000`),
		...[1, 2].flatMap((r) => roundOrder(3, r).flatMap((t) => [`warm:${t}:200`, `measure:${t}:2000`])),
	]);
	for (const [t, result] of results.entries()) {
		assert.equal(result.failed, null);
		assert.equal(result.windows.length, 3);
		assert.deepEqual(
			result.positions,
			[0, 1, 2].map((r) => roundOrder(3, r).indexOf(t)),
		);
		const row = roundsResult(result);
		assert.deepEqual(row.recordsPerSecByRound, [100 * (t + 1), 100 * (t + 1), 100 * (t + 1)]);
		assert.equal(row.rounds, 3);
	}
});

test("no target waits more than one round's windows between two of its own", async () => {
	for (const count of [2, 4, 5]) {
		const { log, targets } = fakeTargets(count);
		await measureInRounds(targets, { rounds: 4, windowMs: 1, warmupMs: 1, waitQuiet: async () => 0 });
		const measures = log.filter((e) => e.startsWith("measure:")).map((e) => Number(e.split(":")[1]));
		for (let t = 0; t < count; t++) {
			const at = measures.flatMap((m, k) => (m === t ? [k] : []));
			for (let k = 1; k < at.length; k++) assert.ok((at[k] ?? 0) - (at[k - 1] ?? 0) - 1 <= count, `target ${t} of ${count}: ${at}`);
		}
	}
});

test("a target that cannot open, or whose window aborts, leaves the rounds; the others go on", async () => {
	const { log, targets } = fakeTargets(3, { failOpen: 1, abortAt: [2, 0] });
	const { results } = await measureInRounds(targets, { rounds: 3, windowMs: 10, warmupMs: 5, waitQuiet: async () => 0 });
	assert.equal(results[1]?.failed, "topic refused");
	assert.equal(results[1]?.windows.length, 0);
	assert.ok(!log.includes("warm:1:5"));
	assert.equal(results[2]?.windows.length, 1);
	assert.equal(results[2]?.windows[0]?.aborted, true);
	assert.equal(results[0]?.windows.length, 3);
	assert.throws(() => roundOrder(-1, 0));
	await assert.rejects(measureInRounds(targets, { rounds: 0, windowMs: 1, warmupMs: 1 }), /rounds/);
});

test("the kinds measured in rounds are those whose rows carry the main table's targets", () => {
	const inRounds = new Set(KINDS.filter((kind) => kind.open !== undefined).flatMap((kind) => kind.scenarios.map((s) => s.id)));
	for (const id of Object.keys(MAIN_TARGETS)) assert.ok(inRounds.has(id), id);
	for (const kind of KINDS) assert.ok(kind.open !== undefined || kind.run !== undefined, `${kind.kind} has a runner`);
});
