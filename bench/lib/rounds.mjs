// @ts-check
/**
 * @module
 * Measuring a scenario's targets in rounds, and the ratios between them. One window per target, back to back, cannot
 * tell a slow minute from a slow server: produce-1c-1p read 63.8 % of ceiling+sqlite in one full run and 81.2 % in
 * the next with nothing relevant changed. So a kind that can be measured in windows (`open` in types.d.ts) has every
 * target of a scenario opened and warmed up once, then measured in BENCH_ROUNDS rounds of BENCH_DURATION_MS / BENCH_ROUNDS, all
 * targets in turn within a round and the order rotated from round to round; a ratio between two rows is the median
 * of its per-round ratios (round k's rate ÷ the reference's round k rate, windows seconds apart), its range beside it.
 * In five partial runs (Miniflare, 3 rounds of 2 s) the rounds of one run spread as widely as whole runs had:
 * produce-1c-1p against ceiling+sqlite 71–78 % in the tightest run, 54–82 % in another with no other process busy;
 * produce-32c-1r against the ceiling 51–78 % to 68–109 %. The medians moved less (67–82 % and 74–87 %), still by more
 * than a 10 % target's margin: a change is judged by `npm run bench:ab`'s CPU per record, not by one run's ratio.
 * (BENCH_ROUNDS=6, 1 s windows, once: 69–86 % and 68–100 %, medians 76 % and 80 %.)
 *
 * The rotation moves the last target of a round to the front of the next, so no target is always first or last, and
 * none waits more than one round's worth of windows (targets × window) between two of its own: workerd evicts a
 * Durable Object idle for about 10 s (a probe on Miniflare: still there after 9 s idle, rebuilt after 11 s), and
 * moving the first to the back instead would leave it idle for nearly two rounds. Any rotation leaves some target
 * idle for a whole round (each moving earlier needs another moving later), and produce-32c-1r's five targets make
 * that 10 s at the defaults, so every window after the first round follows a short unmeasured lead-in
 * (ROUND_LEAD_IN_MS): an object rebuilt after its idle time is rebuilt there, not in the measurement. The warm-ups
 * run back to back, in the first round's order, so none waits long before its first window.
 */

import { percentOf } from "./format.mjs";
import { latencySummary, round, totalsOver, waitForQuiet } from "./load.mjs";

/**
 * @typedef {import("./load.mjs").LoadResult} LoadResult
 * @typedef {import("../scenarios/types.js").Measurement} Measurement
 * @typedef {import("../scenarios/types.js").Result} Result
 * @typedef {import("../scenarios/types.js").Row} Row
 */

/** Unmeasured load before each window after the first round's: long enough to rebuild an evicted Durable Object. */
export const ROUND_LEAD_IN_MS = 200;

/**
 * The order of `count` targets (their indexes) in round `r`: the first round in the given order, each next one
 * with the previous round's last target moved to the front.
 * @param {number} count
 * @param {number} r
 * @returns {number[]}
 */
export function roundOrder(count, r) {
	if (!(Number.isInteger(count) && count >= 0 && Number.isInteger(r) && r >= 0)) throw new Error(`roundOrder(${count}, ${r})`);
	const shift = count === 0 ? 0 : r % count;
	return Array.from({ length: count }, (_, k) => (k - shift + count) % count);
}

/**
 * The median of `samples` (the mean of the middle two of an even count), or null when there are none.
 * @param {number[]} samples
 */
export function medianOf(samples) {
	if (samples.length === 0) return null;
	const sorted = [...samples].sort((a, b) => a - b);
	// The same middle twice for an odd count.
	const lower = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
	const upper = sorted[Math.floor(sorted.length / 2)] ?? 0;
	return (lower + upper) / 2;
}

/**
 * `row`'s `field` (a rate) as a percentage of `ref`'s: round by round when both were measured in the same rounds
 * (`<field>ByRound`, round k against round k), else over their whole windows. The figure is the median of the
 * per-round percentages; `byRound` keeps them (one entry for a row measured in one window). Null without a rate.
 * @param {Row} row
 * @param {Row} ref
 * @param {"recordsPerSec" | "requestsPerSec"} [field]
 * @returns {{ median: number, min: number, max: number, byRound: number[] } | null}
 */
export function percentByRound(row, ref, field = "recordsPerSec") {
	const mine = row[`${field}ByRound`];
	const theirs = ref[`${field}ByRound`];
	const paired = Array.isArray(mine) && Array.isArray(theirs) && mine.length > 0 && theirs.length > 0;
	const percents = (
		paired
			? mine.slice(0, Math.min(mine.length, theirs.length)).map((value, k) => percentOf(value, theirs[k]))
			: [percentOf(row[field], ref[field])]
	).filter((p) => typeof p === "number");
	const median = medianOf(percents);
	if (median === null) return null;
	return { median: round(median, 1), min: Math.min(...percents), max: Math.max(...percents), byRound: percents };
}

/**
 * Sets `row[key]` to a ratio's median (null when there is none) and, for a ratio of several rounds,
 * `row[key + "ByRound"]` to the per-round percentages.
 * @param {Row} row
 * @param {string} key
 * @param {ReturnType<typeof percentByRound>} ratio
 */
export function setRatio(row, key, ratio) {
	row[key] = ratio?.median ?? null;
	if (ratio !== null && ratio.byRound.length > 1) row[`${key}ByRound`] = ratio.byRound;
	else delete row[`${key}ByRound`];
}

/**
 * A ratio's table cell: its median, and its per-round range when it has several rounds (`81.2% (74.0–85.1)`).
 * @param {Row} row
 * @param {string} key
 */
export function ratioCell(row, key) {
	const median = row[key];
	if (typeof median !== "number") return "";
	const byRound = row[`${key}ByRound`];
	const range =
		Array.isArray(byRound) && byRound.length > 1 ? ` (${Math.min(...byRound).toFixed(1)}–${Math.max(...byRound).toFixed(1)})` : "";
	return `${median.toFixed(1)}%${range}`;
}

/**
 * Whether a ratio meets a target of `fraction` (0.9: 90 %): judged on its median, so one slow round neither fails
 * nor passes it. Null when the row has no such ratio.
 * @param {Row} row
 * @param {string} key
 * @param {number} fraction
 */
export function meetsTarget(row, key, fraction) {
	const median = row[key];
	return typeof median === "number" ? median >= fraction * 100 : null;
}

/**
 * One result from several windows (each a runLoad with keepLatencies): counts summed, rates over the whole measured
 * time, latency percentiles over every request of every window, CPU shares weighted by each window's seconds (so
 * server CPU per record is the whole time's CPU over the whole time's records).
 * @param {LoadResult[]} windows
 */
export function mergeWindows(windows) {
	const sum = (/** @type {(w: LoadResult) => number} */ pick) => windows.reduce((total, w) => total + pick(w), 0);
	const seconds = sum((w) => w.seconds);
	const weighted = (/** @type {(w: LoadResult) => number | null} */ pick) =>
		windows.some((w) => pick(w) === null) || seconds === 0 ? null : round(sum((w) => (pick(w) ?? 0) * w.seconds) / seconds, 1);
	const latencies = windows.flatMap((w) => w.latenciesMs ?? []).sort((a, b) => a - b);
	const totals = {
		requests: sum((w) => w.requests),
		records: sum((w) => w.records),
		sentBytes: sum((w) => w.sentBytes),
		receivedBytes: sum((w) => w.receivedBytes),
	};
	return {
		clients: windows[0]?.clients ?? 1,
		...totalsOver(totals, seconds),
		latencyMs: latencySummary(latencies),
		cpu: {
			clientPercent: weighted((w) => w.cpu.clientPercent) ?? 0,
			serverPercent: weighted((w) => w.cpu.serverPercent),
			otherPercent: weighted((w) => w.cpu.otherPercent),
			fsyncMs: windows.length === 0 ? null : Math.max(...windows.map((w) => w.cpu.fsyncMs ?? 0)),
			ioStallPercent: weighted((w) => w.cpu.ioStallPercent ?? null),
		},
		quietWaitMs: sum((w) => w.quietWaitMs),
		errors: sum((w) => w.errors),
		errorSamples: windows.flatMap((w) => w.errorSamples).slice(0, 5),
		aborted: windows.some((w) => w.aborted),
	};
}

/**
 * A Measurement from a load's `window(warmupMs, durationMs)` (a runLoad that keeps its latencies and starts at once:
 * the rounds wait for quiet themselves) and what to add to the row once every round is in.
 * @param {(warmupMs: number, durationMs: number) => Promise<LoadResult>} window
 * @param {Measurement["close"]} close
 * @returns {Measurement}
 */
export function windowed(window, close) {
	return {
		async warmUp(ms) {
			const warm = await window(ms, 0);
			if (warm.aborted) throw new Error(`warm-up: ${warm.errorSamples[0]?.error ?? "aborted"}`);
		},
		measure: (ms) => window(0, ms),
		close,
	};
}

/**
 * What measuring one target in rounds gave: its windows in round order (it leaves the rounds after a failed one) and
 * its place in each round, or why it could not be measured.
 * @typedef {{ windows: LoadResult[], positions: number[], measurement: Measurement | null, failed: string | null }} TargetRounds
 */

/**
 * Measures `targets` in `rounds` rounds of `windowMs` each: opens every target (its setup), waits once for the
 * machine to go quiet, warms every target up once, back to back, then runs the rounds (each target's window in
 * `roundOrder`, back to back: windows seconds apart are what a per-round ratio compares; after the first round each
 * after a `leadInMs` lead-in). A target that fails to open or warm up, or whose window aborts, leaves the rounds;
 * the others go on.
 * @param {{ open(): Promise<Measurement> }[]} targets
 * @param {{ rounds: number, windowMs: number, warmupMs: number, leadInMs?: number, interrupted?: () => boolean, waitQuiet?: () => Promise<number> }} plan
 * @returns {Promise<{ results: TargetRounds[], quietWaitMs: number }>}
 */
export async function measureInRounds(
	targets,
	{ rounds, windowMs, warmupMs, leadInMs = ROUND_LEAD_IN_MS, interrupted = () => false, waitQuiet = waitForQuiet },
) {
	if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`rounds must be a whole number ≥ 1, not ${rounds}`);
	/** @type {TargetRounds[]} */
	const results = targets.map(() => ({ windows: [], positions: [], measurement: null, failed: null }));
	const fail = (/** @type {TargetRounds} */ result, /** @type {unknown} */ error) => {
		result.failed = String(error instanceof Error ? error.message : error);
	};
	for (const [k, target] of targets.entries()) {
		const result = /** @type {TargetRounds} */ (results[k]);
		try {
			result.measurement = await target.open();
		} catch (error) {
			fail(result, error);
		}
	}
	const live = (/** @type {TargetRounds} */ result) =>
		result.measurement !== null && result.failed === null && !result.windows.some((w) => w.aborted);
	const quietWaitMs = await waitQuiet();
	for (const k of roundOrder(targets.length, 0)) {
		const result = /** @type {TargetRounds} */ (results[k]);
		if (!live(result) || interrupted()) continue;
		await result.measurement?.warmUp(warmupMs).catch((error) => fail(result, error));
	}
	for (let r = 0; r < rounds && !interrupted(); r++) {
		for (const [position, k] of roundOrder(targets.length, r).entries()) {
			const result = /** @type {TargetRounds} */ (results[k]);
			if (!live(result) || result.measurement === null) continue;
			try {
				if (r > 0 && leadInMs > 0) await result.measurement.warmUp(leadInMs);
				result.windows.push(await result.measurement.measure(windowMs));
				result.positions.push(position);
			} catch (error) {
				fail(result, error);
			}
		}
	}
	return { results, quietWaitMs };
}

/**
 * A target's row figures from its rounds: the merged windows, each round's rates (`recordsPerSecByRound`,
 * `requestsPerSecByRound`, which the ratios pair round by round) and its place in each round.
 * @param {TargetRounds} measured
 * @returns {Result}
 */
export function roundsResult(measured) {
	const { windows, positions } = measured;
	return {
		...mergeWindows(windows),
		rounds: windows.length,
		roundPositions: positions,
		recordsPerSecByRound: windows.map((w) => w.recordsPerSec),
		requestsPerSecByRound: windows.map((w) => w.requestsPerSec),
	};
}
