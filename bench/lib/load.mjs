// @ts-check
/**
 * Closed-loop load: `clients` loops, each sending its next request when the previous one is answered.
 * A warm-up runs first and is not counted. Every phase is bounded by time and by request count, and the first
 * error (non-2xx or transport failure) stops all loops: the scenario is reported as aborted with its errors.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { descendantCpuSeconds, machineBusySeconds } from "../../scripts/lib/index.mjs";
import { DISK_SLOW_FSYNC_MS, fsyncProbeMs, ioStallSeconds } from "./disk.mjs";

const MAX_REQUESTS_PER_PHASE = 200_000;

/**
 * What one request of a load did.
 * @typedef {object} Outcome
 * @property {number} status
 * @property {number} [sentBytes]
 * @property {number} [receivedBytes]
 * @property {number} [records]
 * @property {string} [error]
 */

/**
 * Sends request `i` of `client`'s loop.
 * @typedef {(client: number, i: number) => Promise<Outcome>} Step
 */

/**
 * @typedef {import("../scenarios/types.js").LatencySummary} LatencySummary
 * @typedef {import("../scenarios/types.js").CpuShare} CpuShare
 */

/**
 * What runLoad measured.
 * @typedef {object} LoadResult
 * @property {number} clients
 * @property {number} seconds
 * @property {number} requests
 * @property {number} records
 * @property {number} sentBytes
 * @property {number} receivedBytes
 * @property {number} recordsPerSec
 * @property {number} requestsPerSec
 * @property {number} sentMBPerSec
 * @property {number} receivedMBPerSec
 * @property {LatencySummary} latencyMs
 * @property {number[]} [latenciesMs]  every measured latency, sorted (with keepLatencies)
 * @property {CpuShare} cpu
 * @property {number} quietWaitMs
 * @property {number} errors
 * @property {{ status: number, error: string }[]} errorSamples
 * @property {boolean} aborted
 */

/** Other processes' CPU (100 = one core) above which a measurement is not started, while the wait budget lasts. */
export const QUIET_OTHER_PERCENT = 20;
/** Total time one bench run may spend waiting for the machine to quieten down (BENCH_QUIET_WAIT_MS). */
export const QUIET_WAIT_BUDGET_MS = Number(process.env.BENCH_QUIET_WAIT_MS ?? 60_000);
let quietBudgetMs = QUIET_WAIT_BUDGET_MS;

/**
 * CPU % (100 = one core) used over `ms` by processes that are neither this one nor its descendants.
 * @param {number} ms
 */
async function otherCpuPercent(ms) {
	const m0 = await machineBusySeconds();
	const c0 = process.cpuUsage();
	const d0 = await descendantCpuSeconds();
	await sleep(ms);
	const c = process.cpuUsage(c0);
	const other = (await machineBusySeconds()) - m0 - (c.user + c.system) / 1e6 - ((await descendantCpuSeconds()) - d0);
	return Number.isFinite(other) ? Math.max(0, (other / (ms / 1000)) * 100) : 0;
}

/**
 * Waits, within what is left of the run's budget, until other processes use under QUIET_OTHER_PERCENT of a core
 * and the disk syncs in under DISK_SLOW_FSYNC_MS (disk.mjs), over two consecutive half-second samples. Returns
 * the milliseconds waited.
 */
export async function waitForQuiet() {
	const started = Date.now();
	let quietSamples = 0;
	while (quietSamples < 2) {
		const other = await otherCpuPercent(500);
		quietSamples = other < QUIET_OTHER_PERCENT && fsyncProbeMs() < DISK_SLOW_FSYNC_MS ? quietSamples + 1 : 0;
		if (Date.now() - started >= quietBudgetMs) break;
	}
	const waited = Date.now() - started;
	quietBudgetMs = Math.max(0, quietBudgetMs - Math.max(0, waited - 1_000));
	return waited;
}

/**
 * `step(client, i)` sends one request and resolves {status, sentBytes, receivedBytes, records, error?}.
 * Returns counts, bytes, latency percentiles and CPU used by this process (the client) and the server; with
 * `keepLatencies`, also every measured latency (`latenciesMs`, sorted), to merge windows. With `waitQuiet` false it
 * starts at once: for a load that compares servers measured over the same seconds, whom a busy machine slows alike.
 * @param {{ clients: number, warmupMs: number, durationMs: number, step: Step, serverCpu: () => number | Promise<number>, keepLatencies?: boolean, waitQuiet?: boolean }} options
 * @returns {Promise<LoadResult>}
 */
export async function runLoad({ clients, warmupMs, durationMs, step, serverCpu, keepLatencies = false, waitQuiet = true }) {
	/** @type {Failures} */
	const failures = { aborted: false, samples: [] };
	const quietWaitMs = waitQuiet ? await waitForQuiet() : 0;
	await runPhase({ clients, ms: warmupMs, keep: false, step, failures });
	const meter = await startCpuMeter(serverCpu);
	const measured = failures.aborted
		? { latenciesMs: [], totals: { requests: 0, records: 0, sentBytes: 0, receivedBytes: 0 }, seconds: 0 }
		: await runPhase({ clients, ms: durationMs, keep: true, step, failures });
	const cpu = await meter.stop(measured.seconds);
	const { latenciesMs, totals, seconds } = measured;
	latenciesMs.sort((a, b) => a - b);
	return {
		clients,
		...totalsOver(totals, seconds),
		latencyMs: latencySummary(latenciesMs),
		...(keepLatencies ? { latenciesMs } : {}),
		cpu,
		quietWaitMs,
		errors: failures.samples.length,
		errorSamples: failures.samples,
		aborted: failures.aborted,
	};
}

/**
 * A load's totals with its seconds and the rates over them: what every window reports, and what windows merged
 * (bench/lib/rounds.mjs) report over their whole time.
 * @param {{ requests: number, records: number, sentBytes: number, receivedBytes: number }} totals
 * @param {number} seconds
 */
export function totalsOver(totals, seconds) {
	const rate = (/** @type {number} */ n, /** @type {number} */ digits) => (seconds > 0 ? round(n / seconds, digits) : 0);
	return {
		seconds: round(seconds, 3),
		...totals,
		recordsPerSec: rate(totals.records, 1),
		requestsPerSec: rate(totals.requests, 1),
		sentMBPerSec: rate(totals.sentBytes / 1e6, 2),
		receivedMBPerSec: rate(totals.receivedBytes / 1e6, 2),
	};
}

/**
 * Server CPU (every process the bench started) per record, in µs: server CPU % ÷ records/s, steadier than records/s
 * on a busy machine. Null without both figures.
 * @param {{ cpu?: { serverPercent: number | null } | null, recordsPerSec?: unknown } | undefined} result
 */
export function serverCpuMicrosPerRecord(result) {
	const percent = result?.cpu?.serverPercent;
	const rate = result?.recordsPerSec;
	if (typeof percent !== "number" || !(typeof rate === "number" && rate > 0)) return null;
	return round((percent / 100 / rate) * 1e6, 1);
}

/**
 * The first failure of a load stops every loop; up to ERROR_SAMPLES_MAX of them are kept.
 * @typedef {{ aborted: boolean, samples: { status: number, error: string }[] }} Failures
 */
const ERROR_SAMPLES_MAX = 5;

/**
 * One request of a loop; a thrown error is a failed outcome.
 * @param {Step} step
 * @param {number} client
 * @param {number} i
 * @returns {Promise<Outcome>}
 */
async function attempt(step, client, i) {
	try {
		return await step(client, i);
	} catch (error) {
		return { status: 0, error: String(error instanceof Error ? error.message : error) };
	}
}

/**
 * One phase: `clients` closed loops until `ms` pass, MAX_REQUESTS_PER_PHASE are sent or one fails. With `keep`,
 * counts and latencies are kept (the measured phase); without, the phase only warms up.
 * @param {{ clients: number, ms: number, keep: boolean, step: Step, failures: Failures }} options
 */
async function runPhase({ clients, ms, keep, step, failures }) {
	/** @type {number[]} */
	const latenciesMs = [];
	const totals = { requests: 0, records: 0, sentBytes: 0, receivedBytes: 0 };
	const started = process.hrtime.bigint();
	const deadline = started + BigInt(Math.round(ms * 1e6));
	let issued = 0;
	const loop = async (/** @type {number} */ client) => {
		for (let i = 0; !failures.aborted && process.hrtime.bigint() < deadline && issued < MAX_REQUESTS_PER_PHASE; i++) {
			issued++;
			const t0 = process.hrtime.bigint();
			const outcome = await attempt(step, client, i);
			const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
			if (outcome.error !== undefined || outcome.status < 200 || outcome.status >= 300) {
				failures.aborted = true;
				if (failures.samples.length < ERROR_SAMPLES_MAX)
					failures.samples.push({ status: outcome.status, error: outcome.error ?? "non-2xx" });
				return;
			}
			if (!keep) continue;
			latenciesMs.push(elapsedMs);
			totals.requests++;
			totals.records += outcome.records ?? 0;
			totals.sentBytes += outcome.sentBytes ?? 0;
			totals.receivedBytes += outcome.receivedBytes ?? 0;
		}
	};
	await Promise.all(Array.from({ length: clients }, (_, client) => loop(client)));
	return { latenciesMs, totals, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/**
 * Starts counting CPU: this process (the client), the server (`serverCpu()`, e.g. the bench's descendants) and
 * the whole machine. `stop(seconds)` answers each as a percentage of one core over `seconds`; "other" is what
 * neither the client nor the server used (other processes, the kernel): a noisy measurement. Also the disk
 * (disk.mjs): an fsync probe taken as the meter starts, and the share of the meter's time some task stalled on I/O.
 * @param {() => number | Promise<number>} serverCpu
 */
export async function startCpuMeter(serverCpu) {
	// Probed before the counters start, so the probe's own sync is not in the measurement.
	const fsyncMs = round(fsyncProbeMs(), 2);
	const wallStarted = process.hrtime.bigint();
	const before = { client: process.cpuUsage(), server: await serverCpu(), machine: await machineBusySeconds(), ioStall: ioStallSeconds() };
	return {
		/**
		 * @param {number} seconds
		 * @returns {Promise<CpuShare>}
		 */
		async stop(seconds) {
			const clientCpu = process.cpuUsage(before.client);
			const serverCpuSeconds = (await serverCpu()) - before.server;
			const machineCpuSeconds = (await machineBusySeconds()) - before.machine;
			const clientCpuSeconds = (clientCpu.user + clientCpu.system) / 1e6;
			// Over the meter's own wall time: the stall counter runs through the whole meter, not only `seconds`.
			const wallSeconds = Number(process.hrtime.bigint() - wallStarted) / 1e9;
			const ioStall = (ioStallSeconds() - before.ioStall) / wallSeconds;
			const otherCpuSeconds = Math.max(0, machineCpuSeconds - serverCpuSeconds - clientCpuSeconds);
			return {
				clientPercent: seconds > 0 ? round((clientCpuSeconds / seconds) * 100, 1) : 0,
				serverPercent: seconds > 0 && Number.isFinite(serverCpuSeconds) ? round((serverCpuSeconds / seconds) * 100, 1) : null,
				otherPercent: seconds > 0 && Number.isFinite(otherCpuSeconds) ? round((otherCpuSeconds / seconds) * 100, 1) : null,
				fsyncMs,
				ioStallPercent: Number.isFinite(ioStall) ? round(ioStall * 100, 1) : null,
			};
		},
	};
}

/**
 * p50, p90, p99, max and mean of latencies in ms, sorted ascending.
 * @param {number[]} sortedMs
 * @returns {LatencySummary}
 */
export function latencySummary(sortedMs) {
	return {
		p50: round(percentile(sortedMs, 0.5), 2),
		p90: round(percentile(sortedMs, 0.9), 2),
		p99: round(percentile(sortedMs, 0.99), 2),
		max: round(sortedMs.at(-1) ?? 0, 2),
		mean: round(sortedMs.length === 0 ? 0 : sortedMs.reduce((a, b) => a + b, 0) / sortedMs.length, 2),
	};
}

/**
 * Nearest-rank percentile of sorted values.
 * @param {number[]} sorted
 * @param {number} q
 */
export function percentile(sorted, q) {
	if (sorted.length === 0) return 0;
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/**
 * The median of `samples`, in any order: of an even count, the mean of the two middle ones (bench:ab's 4 or 6 rounds:
 * the lower one alone can read a gain where the rounds disagree and their midpoint is near nothing).
 * @param {number[]} samples
 */
export function median(samples) {
	const sorted = [...samples].sort((a, b) => a - b);
	const middle = sorted.length >> 1;
	if (sorted.length % 2 === 1 || sorted.length === 0) return percentile(sorted, 0.5);
	return ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * `n` rounded to `digits` decimals.
 * @param {number} n
 * @param {number} digits
 */
export function round(n, digits) {
	const f = 10 ** digits;
	return Math.round(n * f) / f;
}
