// @ts-check
/**
 * `npm run bench`: Tributary's produce and fetch throughput on one machine, served two ways (Miniflare from a
 * `wrangler deploy --dry-run` bundle, and `wrangler dev`), each figure set against a same-run ceiling: a Worker
 * with the same hops (edge → Durable Object RPC) and no work behind them. Redis streams and NATS JetStream, when
 * installed, run the same shapes of load for perspective. Then, on Tributary alone: what exactly-once produce
 * costs, a consumer group's poll + commit throughput, and end-to-end latency from a produce's acknowledgement to
 * receipt by an SSE reader and by a webhook receiver; and what a million records produced and consumed once cost
 * at Durable Objects prices, from the broker's own /metrics counters (bench/scenarios/cost.mjs). Not a test: it prints a table and writes
 * bench/results/latest.json and bench/results/latest.md.
 *
 * The produce, fetch and streaming scenarios are measured in rounds (bench/lib/rounds.mjs): all of a scenario's
 * targets in turn, BENCH_ROUNDS times, and a ratio between two of them is the median of the rounds' ratios.
 *
 * Layout: bench/scenarios/ (one file per kind of scenario, and the table from kind to runner in index.mjs: see
 * there how to add one), bench/peers/ (Redis, NATS), bench/report.mjs (tables, markdown, JSON), bench/targets.mjs
 * (the servers, started through scripts/lib), bench/settings.mjs (the knobs: BENCH_DURATION_MS, BENCH_SCENARIOS,
 * …), bench/lib/ (load generator, HTTP client, protocol clients, payloads).
 */

import { fmt, throughputSummary } from "./lib/format.mjs";
import { createClient } from "./lib/http.mjs";
import { measureInRounds, roundsResult } from "./lib/rounds.mjs";
import { holdServer, isInterrupted, runSession } from "./lib/session.mjs";
import { peerRuns } from "./peers/index.mjs";
import { derive, machine, report } from "./report.mjs";
import { activeScenarios, kindOf } from "./scenarios/index.mjs";
import { DURATION_MS, ONLY, PEERS, ROUNDS, RUNTIMES, TOKEN, WARMUP_MS } from "./settings.mjs";
import { bundleTargets, snapshotProject, startTarget, TARGET_NAMES, troubleLines } from "./targets.mjs";

/**
 * @typedef {import("./scenarios/types.js").Row} Row
 * @typedef {import("./scenarios/types.js").Scenario} Scenario
 * @typedef {import("./targets.mjs").TargetName} TargetName
 * @typedef {{ target: TargetName, server: import("./targets.mjs").Server, http: import("./lib/http.mjs").HttpClient, held: { release(): Promise<void> } }} Running
 */

const ACTIVE = activeScenarios(ONLY);
/** One keep-alive socket per client of the busiest scenario, so every client has its request in flight at once. */
const SOCKETS = Math.max(4, ...ACTIVE.map((s) => s.clients ?? 1));

/**
 * Whether `target` on `runtime` runs `scenario`.
 * @param {string} runtime
 * @param {TargetName} target
 * @param {Scenario} scenario
 */
function runsOn(runtime, target, scenario) {
	const kind = kindOf(scenario.kind);
	return (scenario.targets ?? kind.targets).includes(target) && (kind.runtimes === undefined || kind.runtimes.includes(runtime));
}

/**
 * Starts every target some active scenario runs on; a target that fails to start gets a failed row per scenario.
 * @param {string} runtime
 * @param {Record<string, string | Error> | null} bundles
 * @param {import("./targets.mjs").Snapshot} snapshot
 * @param {{ rows: Row[], startups: Record<string, number> }} out
 */
async function startServers(runtime, bundles, snapshot, out) {
	/** @type {Running[]} */
	const servers = [];
	for (const target of TARGET_NAMES) {
		if (isInterrupted()) break;
		if (!ACTIVE.some((s) => runsOn(runtime, target, s))) continue;
		const started = Date.now();
		try {
			const server = await startTarget(runtime, target, bundles, snapshot);
			out.startups[`${runtime}/${target}`] = Date.now() - started;
			console.error(`  ${target} on ${runtime} ready at ${server.url} in ${Date.now() - started} ms`);
			servers.push({ target, server, held: holdServer(server.stop), http: createClient(server.url, { token: TOKEN, sockets: SOCKETS }) });
		} catch (error) {
			const message = String(error instanceof Error ? error.message : error);
			console.error(`  ${target} on ${runtime} failed to start: ${message}`);
			for (const scenario of ACTIVE.filter((s) => runsOn(runtime, target, s))) {
				out.rows.push({
					scenario: scenario.id,
					label: scenario.label,
					kind: scenario.kind,
					runtime,
					server: target,
					failed: message,
					aborted: true,
				});
			}
		}
	}
	return servers;
}

/**
 * The context a scenario's runner gets on one target (seeds are shared by the whole runtime).
 * @param {string} runtime
 * @param {Running} running
 * @param {{ seed: number }} seeds
 * @param {Map<string, Promise<unknown>>} memo
 * @param {import("./scenarios/types.js").RunContext["startServer"]} startServer
 * @returns {import("./scenarios/types.js").RunContext}
 */
function context(runtime, { target, server, http }, seeds, memo, startServer) {
	return {
		runtime,
		target,
		url: server.url,
		token: TOKEN,
		http,
		persistTo: server.persistTo,
		active: ACTIVE,
		nextSeed(count = 1) {
			const seed = seeds.seed;
			seeds.seed += count;
			return seed;
		},
		once(key, make) {
			const memoKey = `${target}:${key}`;
			if (!memo.has(memoKey)) memo.set(memoKey, make());
			return /** @type {Promise<any>} */ (memo.get(memoKey));
		},
		interrupted: isInterrupted,
		startServer,
	};
}

/**
 * Runs one scenario on one target and prints how it went.
 * @param {import("./scenarios/types.js").RunContext} ctx
 * @param {Scenario} scenario
 * @returns {Promise<Row>}
 */
async function runScenario(ctx, scenario) {
	const kind = kindOf(scenario.kind);
	const t0 = Date.now();
	/** @type {import("./scenarios/types.js").Result} */
	let result;
	try {
		if (kind.run === undefined) throw new Error(`${scenario.kind} has no runner`);
		result = await kind.run(ctx, scenario);
	} catch (error) {
		result = { failed: String(error instanceof Error ? error.message : error), aborted: true, errors: 1 };
	}
	const shown = result.failed ?? (kind.summary ?? throughputSummary)(result);
	console.error(`    ${scenario.id} on ${ctx.target}: ${shown} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
	return { scenario: scenario.id, label: scenario.label, kind: scenario.kind, runtime: ctx.runtime, server: ctx.target, ...result };
}

/**
 * Runs one scenario of a kind measured in rounds (`open`, bench/lib/rounds.mjs) on all its targets together: one row
 * per target, its rates by round kept for the ratios.
 * @param {Scenario} scenario
 * @param {{ target: TargetName, ctx: import("./scenarios/types.js").RunContext }[]} on
 * @returns {Promise<Row[]>}
 */
async function runRounds(scenario, on) {
	const kind = kindOf(scenario.kind);
	const open = kind.open;
	if (open === undefined) throw new Error(`${scenario.kind} is not measured in rounds`);
	const t0 = Date.now();
	const { results, quietWaitMs } = await measureInRounds(
		on.map(({ ctx }) => ({ open: () => open(ctx, scenario) })),
		{ rounds: ROUNDS, windowMs: DURATION_MS / ROUNDS, warmupMs: WARMUP_MS, interrupted: isInterrupted },
	);
	/** @type {Row[]} */
	const rows = [];
	for (const [k, { target, ctx }] of on.entries()) {
		const measured = /** @type {import("./lib/rounds.mjs").TargetRounds} */ (results[k]);
		const head = { scenario: scenario.id, label: scenario.label, kind: scenario.kind, runtime: ctx.runtime, server: target };
		if (measured.windows.length === 0 && measured.failed === null && isInterrupted()) continue;
		/** @type {import("./scenarios/types.js").Result} */
		let result = measured.windows.length === 0 ? {} : roundsResult(measured);
		// The one wait for quiet came before the first target's warm-up (the first round runs them in this order).
		result.quietWaitMs = k === 0 ? quietWaitMs : 0;
		try {
			if (measured.measurement !== null) result = { ...result, ...(await measured.measurement.close(result)) };
		} catch (error) {
			measured.failed ??= String(error instanceof Error ? error.message : error);
		}
		if (measured.failed !== null) result = { ...result, failed: measured.failed, aborted: true, errors: (result.errors ?? 0) + 1 };
		const byRound = measured.windows.map((w) => fmt(w.recordsPerSec)).join(" · ");
		const shown = result.failed ?? `${(kind.summary ?? throughputSummary)(result)}; by round ${byRound}`;
		console.error(`    ${scenario.id} on ${target}: ${shown}`);
		rows.push({ ...head, ...result });
	}
	console.error(`    ${scenario.id}: ${on.length} targets in ${ROUNDS} rounds, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	return rows;
}

/**
 * One runtime: every target is started, then each scenario runs on each target back to back (or, for a kind measured
 * in rounds, on all its targets in turn, round after round), so a ratio compares measurements taken within seconds
 * of each other.
 * @param {string} runtime
 * @param {Record<string, string | Error> | null} bundles
 * @param {import("./targets.mjs").Snapshot} snapshot
 */
async function runRuntime(runtime, bundles, snapshot) {
	const out = { rows: /** @type {Row[]} */ ([]), startups: {}, troubles: /** @type {Record<string, string[]>} */ ({}) };
	const servers = await startServers(runtime, bundles, snapshot, out);
	const seeds = { seed: 1 };
	const memo = new Map();
	try {
		for (const scenario of ACTIVE) {
			const on = servers
				.filter((running) => runsOn(runtime, running.target, scenario))
				.map((running) => {
					const startServer = async (/** @type {string} */ persistTo) => {
						const server = await startTarget(runtime, running.target, bundles, snapshot, persistTo);
						const held = holdServer(server.stop);
						return { url: server.url, stop: () => held.release() };
					};
					return { target: running.target, ctx: context(runtime, running, seeds, memo, startServer) };
				});
			if (isInterrupted() || on.length === 0) continue;
			if (kindOf(scenario.kind).open !== undefined) {
				out.rows.push(...(await runRounds(scenario, on)));
				continue;
			}
			for (const { ctx } of on) {
				if (isInterrupted()) break;
				out.rows.push(await runScenario(ctx, scenario));
			}
		}
	} finally {
		for (const { target, server, http, held } of servers) {
			http.close();
			const lines = await server.logLines().catch(() => []);
			await held.release();
			const trouble = troubleLines(lines);
			if (trouble.length > 0) out.troubles[`${runtime}/${target}`] = trouble;
		}
	}
	return out;
}

async function main() {
	const started = Date.now();
	const info = machine();
	console.error(
		`tributary bench: ${info.cpuModel} ×${info.nproc}, node ${info.node}, ${DURATION_MS} ms per scenario after ${WARMUP_MS} ms warm-up (${ROUNDS} rounds where measured in rounds)`,
	);
	const run = { rows: /** @type {Row[]} */ ([]), startups: {}, troubles: {}, started, info, snapshot: await snapshotProject() };
	console.error(`serving a snapshot of src/ (sha256 ${run.snapshot.srcHash}) taken ${run.snapshot.takenAt}`);
	let bundles = null;
	if (RUNTIMES.includes("miniflare")) {
		const t0 = Date.now();
		bundles = await bundleTargets(run.snapshot);
		console.error(`bundled with wrangler deploy --dry-run in ${Date.now() - t0} ms`);
	}
	for (const runtime of RUNTIMES) {
		if (isInterrupted()) break;
		console.error(runtime);
		const done = await runRuntime(runtime, bundles, run.snapshot);
		run.rows.push(...done.rows);
		Object.assign(run.startups, done.startups);
		Object.assign(run.troubles, done.troubles);
	}
	if (PEERS && !isInterrupted()) {
		console.error("peers");
		run.rows.push(...(await peerRuns()));
	}
	derive(run.rows);
	await report(run);
}

await runSession(main);
