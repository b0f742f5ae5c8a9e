/**
 * `npm run bench`: Tributary's produce and fetch throughput on one machine, served two ways (Miniflare from a
 * `wrangler deploy --dry-run` bundle, and `wrangler dev`), each figure set against a same-run ceiling: a Worker
 * with the same hops (edge → Durable Object RPC) and no work behind them. Redis streams and NATS JetStream, when
 * installed, run the same shapes of load for perspective. Then, on Tributary alone: what exactly-once produce
 * costs (an idempotent producer, an `Idempotency-Key`; against plain produce measured just before), a consumer
 * group's poll + commit throughput (bench/group-consume.mjs), and end-to-end latency from a produce's
 * acknowledgement to receipt by an SSE reader and by a webhook receiver. Not a test: it prints a table and writes
 * bench/results/latest.json and bench/results/latest.md.
 *
 * The Worker is served from a snapshot of src/ taken when the bench starts (src/ may be edited while it runs, and
 * `wrangler dev` would hot-reload mid-scenario); both runtimes serve that same snapshot.
 *
 * Knobs (environment): BENCH_DURATION_MS (6000), BENCH_WARMUP_MS (1000), BENCH_RUNTIMES ("miniflare,wrangler-dev"),
 * BENCH_PEERS ("1"; "0" skips Redis and NATS), BENCH_KEEP_TMP ("1" keeps the temp dirs and logs),
 * BENCH_QUIET_WAIT_MS (60000: how long in all the bench may wait for other processes to go quiet before a
 * measurement; rows measured while they were busy anyway are marked noisy), BENCH_GROUP_DURATION_MS (3000) and
 * BENCH_GROUP_BACKLOG (150000 records), BENCH_LATENCY_RECORDS (300), BENCH_SCENARIOS (all: a comma-separated list of
 * scenario id prefixes to run, e.g. "idem,e2e"; targets none of them needs are not started), BENCH_LOG_SCALE_BATCHES
 * (100000: stored batches in the log-scale scenario's partition).
 */

import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { groupConsumeScenario } from "./group-consume.mjs";
import { createClient } from "./lib/http.mjs";
import { openEventStream, startWebhookReceiver } from "./lib/live.mjs";
import { latencySummary, QUIET_OTHER_PERCENT, QUIET_WAIT_BUDGET_MS, round, runLoad, startCpuMeter, waitForQuiet } from "./lib/load.mjs";
import { bundleWorker, checkpointSqlite, durableObjectsFromToml, startMiniflare } from "./lib/miniflare.mjs";
import { connectNats } from "./lib/nats.mjs";
import { freePort, killAllPeersSync, startPeer, versionOf, which } from "./lib/peers.mjs";
import { descendantCpuSeconds } from "./lib/procstat.mjs";
import { produceBodies, valueString } from "./lib/records.mjs";
import { connectResp, encodeCommand, RedisError } from "./lib/resp.mjs";
import { killAllWranglerDevSync, startWranglerDev } from "./lib/wrangler-dev.mjs";
import { LOG_SCALE_BATCHES, logScaleScenario, logScaleSection } from "./log-scale.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const RESULTS = join(ROOT, "bench", "results");

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 6_000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1_000);
const RUNTIMES = (process.env.BENCH_RUNTIMES ?? "miniflare,wrangler-dev").split(",").filter(Boolean);
const PEERS = process.env.BENCH_PEERS !== "0";
const KEEP_TMP = process.env.BENCH_KEEP_TMP === "1";

const RECORDS_PER_PRODUCE = 100;
const FETCH_RECORDS = 1_000;
const PREFILL_RECORDS = 20_000;
const BODIES_PER_CLIENT = 8;
const TARGET_FRACTION = 0.6;
/** Idempotent produce should cost at most 10 % of plain produce's throughput. */
const IDEMPOTENCE_TARGET_FRACTION = 0.9;
/**
 * The idempotence variants are measured in rounds (plain, producer, key; then producer, key, plain; …) of short
 * windows: 6 × 1.5 s = 9 s per variant at the default duration. A 10 % difference needs it on a busy 2-core box.
 */
const IDEMPOTENCE_ROUNDS = 6;
const IDEMPOTENCE_WINDOW_MS = Math.round(DURATION_MS / 4);
const IDEMPOTENCE_WARMUP_MS = 500;
/** Group consume: a measured window (no warm-up) over a backlog filled beforehand (see bench/group-consume.mjs). */
const GROUP_DURATION_MS = Number(process.env.BENCH_GROUP_DURATION_MS ?? 3_000);
const GROUP_BACKLOG_RECORDS = Number(process.env.BENCH_GROUP_BACKLOG ?? 150_000);
/** End-to-end latency: records produced one at a time, each awaited at the reader before the next. */
const LATENCY_RECORDS = Number(process.env.BENCH_LATENCY_RECORDS ?? 300);
const LATENCY_WARMUP_RECORDS = 20;
const LATENCY_VALUE_CHARS = 100;
/** How long one record may take to reach the reader before it counts as lost; and the whole measurement. */
const LATENCY_RECEIPT_TIMEOUT_MS = 2_000;
const LATENCY_BUDGET_MS = 30_000;

const TOKEN = randomBytes(24).toString("hex");

const SCENARIOS = [
	{ id: "produce-1c-1p", label: "produce 100×1KB, 1 client, 1 partition", kind: "produce", clients: 1, partitions: 1 },
	{ id: "produce-4c-1p", label: "produce 100×1KB, 4 clients, 1 partition", kind: "produce", clients: 4, partitions: 1 },
	{ id: "produce-4c-4p", label: "produce 100×1KB, 4 clients, 4 partitions", kind: "produce", clients: 4, partitions: 4 },
	{ id: "fetch-1c-1p", label: "fetch 1000×1KB, 1 client, 1 partition", kind: "fetch", clients: 1, partitions: 1 },
	// Idempotence cost: produce-1c-1p's load in three variants, run back to back in rounds (see idempotenceRounds);
	// the first is the others' baseline.
	{
		id: "idem-plain-1c-1p",
		label: "produce 100×1KB, 1 client, 1 partition: plain (baseline)",
		kind: "idempotence",
		variant: "plain",
		clients: 1,
		partitions: 1,
	},
	{
		id: "idem-producer-1c-1p",
		label: "produce 100×1KB, 1 client, 1 partition: idempotent producer",
		kind: "idempotence",
		variant: "producer",
		clients: 1,
		partitions: 1,
	},
	{
		id: "idem-key-1c-1p",
		label: "produce 100×1KB, 1 client, 1 partition: Idempotency-Key",
		kind: "idempotence",
		variant: "idempotency-key",
		clients: 1,
		partitions: 1,
	},
	{ id: "group-4m-4p", label: "group poll 500 + commit, 4 members, 4 partitions", kind: "group", clients: 4, partitions: 4 },
	{ id: "e2e-sse", label: "produce ack → SSE event", kind: "latency", via: "sse", partitions: 1, targetP99Ms: 25 },
	{ id: "e2e-webhook", label: "produce ack → webhook POST", kind: "latency", via: "webhook", partitions: 1, targetP99Ms: 100 },
	// Runs after the runtimes, on Miniflare only: it restarts its own server (bench/log-scale.mjs).
	{ id: "log-scale", label: "fetch head vs tail and cold start on a 100k-batch partition", kind: "log-scale" },
];

const ONLY = (process.env.BENCH_SCENARIOS ?? "").split(",").filter(Boolean);
const ACTIVE_SCENARIOS = ONLY.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => ONLY.some((prefix) => s.id.startsWith(prefix)));

/** Config paths are inside the snapshot (see `snapshotProject`). */
const TARGETS = {
	ceiling: { config: "ceiling/wrangler.toml", vars: {}, kinds: ["produce", "fetch"] },
	/** Reference only: the ceiling plus one SQLite INSERT of the request body per produce (the bare cost of storing it). */
	"ceiling+sqlite": { config: "ceiling/wrangler.toml", vars: { CEILING_MODE: "sqlite" }, kinds: ["produce"] },
	/** WEBHOOK_ALLOW_PRIVATE lets subscriptions deliver to the bench's receiver on http://127.0.0.1. */
	tributary: {
		config: "wrangler.toml",
		vars: { WEBHOOK_ALLOW_PRIVATE: "true" },
		kinds: ["produce", "fetch", "idempotence", "group", "latency"],
	},
};

// ---------------------------------------------------------------------------------------------------------------
// Clean-up: every server this run starts is stopped on the way out, including on errors and Ctrl-C.

const stoppers = new Set();
const tempDirs = [];

async function tempDir(prefix) {
	const dir = await mkdtemp(join(os.tmpdir(), `tributary-bench-${prefix}-`));
	tempDirs.push(dir);
	return dir;
}

async function stopAll() {
	for (const stop of [...stoppers]) {
		stoppers.delete(stop);
		await stop().catch(() => {});
	}
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
	process.on(signal, () => {
		if (interrupted) process.exit(130);
		interrupted = true;
		console.error(`\n${signal}: stopping servers…`);
		const force = setTimeout(() => {
			killAllWranglerDevSync();
			killAllPeersSync();
			process.exit(130);
		}, 5_000);
		stopAll().finally(() => {
			clearTimeout(force);
			killAllWranglerDevSync();
			killAllPeersSync();
			process.exit(130);
		});
	});
}
process.on("exit", () => {
	killAllWranglerDevSync();
	killAllPeersSync();
	if (!KEEP_TMP) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// Servers.

/** A private copy of what the Worker is built from (node_modules linked), and a hash of its src/. */
async function snapshotProject() {
	const dir = await tempDir("snapshot");
	for (const name of ["src", "wrangler.toml", "tsconfig.json", "package.json"]) {
		await cp(join(ROOT, name), join(dir, name), { recursive: true });
	}
	await cp(join(ROOT, "bench", "ceiling"), join(dir, "ceiling"), { recursive: true, filter: (path) => !path.includes(".wrangler") });
	await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
	const hash = createHash("sha256");
	const files = (await readdir(join(dir, "src"), { recursive: true })).sort();
	for (const file of files) {
		const text = await readFile(join(dir, "src", file)).catch(() => null);
		if (text !== null) hash.update(`${file}\0`).update(text);
	}
	return { dir, srcHash: hash.digest("hex").slice(0, 16), takenAt: new Date().toISOString() };
}

async function startTarget(runtime, target, bundles, snapshot) {
	const spec = TARGETS[target];
	const persistDir = await tempDir(`${runtime}-${target}-data`);
	if (runtime === "miniflare") {
		const bundle = bundles[spec.config];
		if (bundle instanceof Error) throw bundle;
		// Durable Objects as the config declares them (PARTITION_LOG, TOPIC_REGISTRY and any added since).
		const durableObjects = durableObjectsFromToml(await readFile(join(snapshot.dir, spec.config), "utf8"));
		const server = await startMiniflare({
			scriptPath: bundle,
			durableObjects,
			bindings: { ADMIN_TOKEN: TOKEN, ...spec.vars },
			persistDir,
		});
		return { url: server.url, stop: server.stop, logLines: () => server.logLines };
	}
	const logDir = await tempDir(`${runtime}-${target}-log`);
	const logPath = join(logDir, "wrangler-dev.log");
	const server = await startWranglerDev({
		root: snapshot.dir,
		wranglerBin: WRANGLER,
		configPath: spec.config,
		port: await freePort(),
		vars: { ADMIN_TOKEN: TOKEN, ...spec.vars },
		persistDir,
		logPath,
	});
	return {
		url: server.url,
		stop: server.stop,
		logLines: () => readFile(logPath, "utf8").then((text) => text.split("\n")),
	};
}

/** Lines of a server log that look like trouble (worker exceptions, wrangler errors). */
function troubleLines(lines) {
	return lines.filter((line) => /error|uncaught|exception|✘|failed/i.test(line)).slice(0, 20);
}

// ---------------------------------------------------------------------------------------------------------------
// Tributary and ceiling scenarios.

function bodiesFor(scenario, client, seed) {
	const partition = scenario.partitions === 1 ? 0 : client % scenario.partitions;
	return produceBodies({ count: BODIES_PER_CLIENT, perRequest: RECORDS_PER_PRODUCE, partition, seed: seed * 16 + client });
}

/**
 * How each request of an idempotence variant is sent (one client): "producer" gets an id from POST /v1/producers
 * and numbers its records (`sequence` advances by RECORDS_PER_PRODUCE per request, warm-up included);
 * "idempotency-key" sends a fresh `Idempotency-Key` per request. `next(body)` answers {body, headers}.
 */
async function idempotentRequests(http, variant, tag) {
	let n = 0;
	if (variant === "producer") {
		const { producer_id: producerId, epoch } = await http.json("POST", "/v1/producers", {});
		return {
			next(records) {
				// `{"records":[…]}` becomes `{"producer_id":…,"epoch":…,"sequence":…,"records":[…]}`.
				const head = Buffer.from(`{"producer_id":${producerId},"epoch":${epoch},"sequence":${n++ * RECORDS_PER_PRODUCE},`);
				return { body: Buffer.concat([head, records.subarray(1)]), headers: undefined };
			},
		};
	}
	if (variant === "idempotency-key") {
		const run = randomBytes(6).toString("hex");
		return { next: (records) => ({ body: records, headers: { "Idempotency-Key": `bench-${tag}-${run}-${n++}` } }) };
	}
	throw new Error(`unknown idempotence variant ${variant}`);
}

/**
 * A produce load on one topic, for one or more measured windows (`window(warmupMs, durationMs)`, each a runLoad),
 * then `verify()`: on Tributary every acknowledged record is in the log, and for an idempotent variant a retry of
 * the last request writes nothing.
 */
async function produceLoad(http, target, scenario, topic, seed) {
	const pools = Array.from({ length: scenario.clients }, (_, c) => bodiesFor(scenario, c, seed));
	const variant = scenario.variant ?? "plain";
	const idempotent = variant === "plain" ? null : await idempotentRequests(http, variant, scenario.id);
	/** The last acknowledged request of an idempotent variant, sent again after the load: it must write nothing. */
	let last = null;
	let acknowledged = 0;
	let checked = target !== "tributary";
	const check = [];
	const step = async (client, i) => {
		const pool = pools[client];
		const { body, headers } = idempotent === null ? { body: pool[i % pool.length] } : idempotent.next(pool[i % pool.length]);
		const response = await http.request("POST", `/v1/topics/${topic}/records`, body, headers);
		const ok = response.status >= 200 && response.status < 300;
		if (ok) acknowledged += RECORDS_PER_PRODUCE;
		if (ok && idempotent !== null) last = { body, headers, response };
		if (ok && !checked) {
			checked = true;
			const offsets = JSON.parse(response.body.toString("utf8")).offsets;
			const dense = offsets.length === RECORDS_PER_PRODUCE && offsets.every((p, k) => p.offset === offsets[0].offset + k);
			if (!dense) check.push(`first produce answered ${offsets.length} offsets, not ${RECORDS_PER_PRODUCE} consecutive ones`);
		}
		return {
			status: response.status,
			sentBytes: response.sentBytes,
			receivedBytes: response.receivedBytes,
			records: RECORDS_PER_PRODUCE,
			error: ok ? undefined : `${response.status} ${response.body.toString("utf8").slice(0, 300)}`,
		};
	};
	return {
		window: (warmupMs, durationMs, keepLatencies = false) =>
			runLoad({ clients: scenario.clients, warmupMs, durationMs, serverCpu: descendantCpuSeconds, step, keepLatencies }),
		async verify() {
			if (target === "tributary") {
				// Every acknowledged record must be in the log: the high watermarks add up to what was acknowledged.
				const stored = await storedRecords(http, topic);
				if (stored !== acknowledged) check.push(`acknowledged ${acknowledged} records but high watermarks sum to ${stored}`);
				if (last !== null) check.push(...(await retryWritesNothing(http, topic, variant, last, stored)));
			}
			return check.length === 0 ? "ok" : check;
		},
	};
}

async function produceScenario(http, target, scenario, topic, seed) {
	const load = await produceLoad(http, target, scenario, topic, seed);
	const result = await load.window(WARMUP_MS, DURATION_MS);
	return { ...result, payloadMBPerSec: result.sentMBPerSec, verification: await load.verify() };
}

/**
 * The idempotence variants, interleaved: IDEMPOTENCE_ROUNDS rounds of plain, producer and Idempotency-Key back to
 * back (the order rotating by one each round), each an IDEMPOTENCE_WINDOW_MS window after a short warm-up, each
 * variant on its own topic throughout. A
 * variant's row merges its windows; `percentOfPlainByRound` compares each window with the plain one of its round,
 * so a slow drift of the machine (or of the server) weighs on every variant alike.
 */
async function idempotenceRounds(http, target, scenarios, seed) {
	const runs = [];
	for (const [k, scenario] of scenarios.entries()) {
		const topic = `bench-${scenario.id}`;
		await http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
		runs.push({ scenario, load: await produceLoad(http, target, scenario, topic, seed + k), windows: [] });
	}
	for (let round = 0; round < IDEMPOTENCE_ROUNDS && !interrupted; round++) {
		// Each round starts one variant later (plain → producer → key, then producer → key → plain, …), so no variant
		// always runs first or last after the pause for quiet.
		for (const run of [...runs.slice(round % runs.length), ...runs.slice(0, round % runs.length)]) {
			const result = await run.load.window(IDEMPOTENCE_WARMUP_MS, IDEMPOTENCE_WINDOW_MS, true);
			run.windows.push(result);
			if (result.aborted) throw new Error(`${run.scenario.id}: ${result.errorSamples[0]?.error ?? "aborted"}`);
		}
	}
	const plain = runs.find((run) => run.scenario.variant === "plain");
	const results = new Map();
	for (const run of runs) {
		const merged = mergeWindows(run.windows);
		const byRound = run.windows.map((w, r) => percentOf(w.recordsPerSec, plain?.windows[r]?.recordsPerSec));
		results.set(run.scenario.id, {
			...merged,
			payloadMBPerSec: merged.sentMBPerSec,
			variant: run.scenario.variant,
			rounds: run.windows.length,
			windowRecordsPerSec: run.windows.map((w) => w.recordsPerSec),
			...(run === plain ? {} : { percentOfPlainByRound: byRound }),
			verification: await run.load.verify(),
		});
	}
	return results;
}

/** One row from several runLoad windows (run with keepLatencies): totals, rates, latency over all, CPU weighted. */
function mergeWindows(windows) {
	const sum = (pick) => windows.reduce((total, w) => total + pick(w), 0);
	const seconds = sum((w) => w.seconds);
	const weighted = (pick) =>
		windows.some((w) => pick(w) === null) || seconds === 0 ? null : round(sum((w) => pick(w) * w.seconds) / seconds, 1);
	const latencies = windows.flatMap((w) => w.latenciesMs).sort((a, b) => a - b);
	const totals = {
		requests: sum((w) => w.requests),
		records: sum((w) => w.records),
		sentBytes: sum((w) => w.sentBytes),
		receivedBytes: sum((w) => w.receivedBytes),
	};
	return {
		clients: windows[0].clients,
		seconds: round(seconds, 3),
		...totals,
		recordsPerSec: seconds > 0 ? round(totals.records / seconds, 1) : 0,
		requestsPerSec: seconds > 0 ? round(totals.requests / seconds, 1) : 0,
		sentMBPerSec: seconds > 0 ? round(totals.sentBytes / 1e6 / seconds, 2) : 0,
		receivedMBPerSec: seconds > 0 ? round(totals.receivedBytes / 1e6 / seconds, 2) : 0,
		latencyMs: latencySummary(latencies),
		cpu: {
			clientPercent: weighted((w) => w.cpu.clientPercent),
			serverPercent: weighted((w) => w.cpu.serverPercent),
			otherPercent: weighted((w) => w.cpu.otherPercent),
		},
		quietWaitMs: sum((w) => w.quietWaitMs),
		errors: sum((w) => w.errors),
		errorSamples: windows.flatMap((w) => w.errorSamples).slice(0, 5),
		aborted: windows.some((w) => w.aborted),
	};
}

async function storedRecords(http, topic) {
	const described = await http.json("GET", `/v1/topics/${topic}`);
	return described.partitions.reduce((sum, p) => sum + p.high_watermark, 0);
}

/** Sends the last request again, as a client retry would: same offsets back, nothing written. */
async function retryWritesNothing(http, topic, variant, last, stored) {
	const problems = [];
	const retry = await http.request("POST", `/v1/topics/${topic}/records`, last.body, last.headers);
	const original = JSON.parse(last.response.body.toString("utf8")).offsets[0];
	const again = retry.status === 200 ? JSON.parse(retry.body.toString("utf8")).offsets[0] : null;
	if (again === null) problems.push(`a retry of the last request answered ${retry.status} ${retry.body.toString("utf8").slice(0, 200)}`);
	else if (again.offset !== original.offset) problems.push(`a retry answered offset ${again.offset}, the original ${original.offset}`);
	if (variant === "idempotency-key" && retry.headers["idempotent-replayed"] !== "true") {
		problems.push("a retry with the same Idempotency-Key came back without Idempotent-Replayed: true");
	}
	const after = await storedRecords(http, topic);
	if (after !== stored) problems.push(`a retry of the last request wrote ${after - stored} records again`);
	return problems;
}

async function prefill(http, topic) {
	const bodies = produceBodies({ count: 16, perRequest: RECORDS_PER_PRODUCE, partition: 0, seed: 999 });
	let next = 0;
	const requests = PREFILL_RECORDS / RECORDS_PER_PRODUCE;
	const started = Date.now();
	await Promise.all(
		Array.from({ length: 4 }, async () => {
			while (next < requests) {
				const i = next++;
				const response = await http.request("POST", `/v1/topics/${topic}/records`, bodies[i % bodies.length]);
				if (response.status !== 200) throw new Error(`prefill: ${response.status} ${response.body.toString("utf8").slice(0, 300)}`);
			}
		}),
	);
	return Date.now() - started;
}

const NEXT_OFFSET = /"next_offset":(\d+)/;

async function fetchScenario(http, target, topic) {
	const check = [];
	let prefillMs = null;
	if (target === "tributary") {
		prefillMs = await prefill(http, topic);
		const described = await http.json("GET", `/v1/topics/${topic}`);
		if (described.partitions[0].high_watermark !== PREFILL_RECORDS) {
			check.push(`prefill left high watermark ${described.partitions[0].high_watermark}, not ${PREFILL_RECORDS}`);
		}
	}
	let offset = 0;
	let checked = false;
	const result = await runLoad({
		clients: 1,
		warmupMs: WARMUP_MS,
		durationMs: DURATION_MS,
		serverCpu: descendantCpuSeconds,
		step: async () => {
			const from = offset;
			const path = `/v1/topics/${topic}/partitions/0/records?offset=${from}&max_records=${FETCH_RECORDS}&max_bytes=16777216`;
			const response = await http.request("GET", path);
			if (response.status !== 200) {
				return { status: response.status, error: `${response.status} ${response.body.toString("utf8").slice(0, 300)}` };
			}
			// Page on next_offset, read from the tail of the body; the first page is parsed in full and checked.
			const tail = response.body.toString("latin1", Math.max(0, response.body.length - 160));
			const next = Number(NEXT_OFFSET.exec(tail)?.[1] ?? Number.NaN);
			if (!checked) {
				checked = true;
				const page = JSON.parse(response.body.toString("utf8"));
				const dense = page.records.length === FETCH_RECORDS && page.records.every((r, k) => r.offset === from + k);
				if (!dense || page.next_offset !== from + FETCH_RECORDS) {
					check.push(`first fetch from ${from}: ${page.records.length} records, next_offset ${page.next_offset}`);
				}
			}
			if (!Number.isSafeInteger(next) || next <= from) {
				return { status: response.status, error: `fetch from ${from} answered next_offset ${next}` };
			}
			offset = next >= PREFILL_RECORDS ? 0 : next;
			return { status: response.status, sentBytes: 0, receivedBytes: response.receivedBytes, records: next - from };
		},
	});
	return {
		...result,
		payloadMBPerSec: result.receivedMBPerSec,
		meanResponseBytes: result.requests > 0 ? Math.round(result.receivedBytes / result.requests) : 0,
		prefillMs,
		verification: check.length === 0 ? "ok" : check,
	};
}

/**
 * Consumer-group throughput (bench/group-consume.mjs: 4 members poll + commit over 4 partitions, 1 KiB records);
 * this process and the server's CPU are counted around its measured part only (not the backlog fill).
 */
async function groupScenario(url) {
	let quietWaitMs = 0;
	let cpu = null;
	const result = await groupConsumeScenario({
		baseUrl: url,
		token: TOKEN,
		durationMs: GROUP_DURATION_MS,
		backlogRecords: GROUP_BACKLOG_RECORDS,
		measure: async (run) => {
			quietWaitMs = await waitForQuiet();
			const meter = await startCpuMeter(descendantCpuSeconds);
			const measured = await run();
			cpu = await meter.stop(measured.seconds);
			return measured;
		},
	});
	const { records, bytes, requests, seconds } = result;
	const check = [];
	if (result.committed !== records) check.push(`polled ${records} records; the group's committed offsets add up to ${result.committed}`);
	return {
		clients: 4,
		seconds: round(seconds, 3),
		requests,
		records,
		sentBytes: 0,
		receivedBytes: bytes,
		recordsPerSec: seconds > 0 ? round(records / seconds, 1) : 0,
		requestsPerSec: seconds > 0 ? round(requests / seconds, 1) : 0,
		sentMBPerSec: 0,
		receivedMBPerSec: seconds > 0 ? round(bytes / 1e6 / seconds, 2) : 0,
		payloadMBPerSec: seconds > 0 ? round(bytes / 1e6 / seconds, 2) : 0,
		latencyMs: latencySummary([...result.latenciesMs].sort((a, b) => a - b)),
		cpu,
		quietWaitMs,
		errors: 0,
		errorSamples: [],
		aborted: false,
		backlogRecords: result.backlogRecords,
		backlogFillMs: result.fillMs,
		drained: result.drained,
		verification: check.length === 0 ? "ok" : check,
	};
}

/**
 * End-to-end latency: small records produced one at a time to partition 0; each one's acknowledgement time is
 * set against when the reader (an SSE stream, or a webhook receiver subscribed with batch_max_records 1) got it,
 * on the same clock. The next record is produced once this one arrived (or after LATENCY_RECEIPT_TIMEOUT_MS:
 * lost). Negative values: the record reached the reader before its producer had the acknowledgement.
 */
async function latencyScenario(http, url, scenario, topic) {
	const bodies = Array.from({ length: 16 }, (_, i) =>
		Buffer.from(`{"records":[{"partition":0,"value":${JSON.stringify(valueString(31_000 + i, LATENCY_VALUE_CHARS))}}]}`),
	);
	const check = [];
	let reader = null;
	let subscription = null;
	try {
		if (scenario.via === "sse") {
			reader = await openEventStream({ baseUrl: url, token: TOKEN, path: `/v1/topics/${topic}/partitions/0/records?offset=0` });
		} else {
			reader = await startWebhookReceiver();
			const body = { url: reader.url, start: "latest", batch_max_records: 1 };
			subscription = await http.json("POST", `/v1/topics/${topic}/subscriptions`, body, [201]);
		}
		let sent = 0;
		const produceOne = async (receiptTimeoutMs) => {
			const t0 = performance.now();
			const response = await http.request("POST", `/v1/topics/${topic}/records`, bodies[sent++ % bodies.length]);
			const ackMs = performance.now();
			if (response.status !== 200) throw new Error(`produce → ${response.status} ${response.body.toString("utf8").slice(0, 300)}`);
			const { offset } = JSON.parse(response.body.toString("utf8")).offsets[0];
			const arrived = await reader.waitFor(offset, receiptTimeoutMs);
			return { t0, ackMs, offset, arrived, sentBytes: response.sentBytes };
		};
		const quietWaitMs = await waitForQuiet();
		// Warm-up (not counted): the first records also show the reader is live (the subscription's lane started).
		for (let i = 0; i < LATENCY_WARMUP_RECORDS; i++) {
			const { arrived, offset } = await produceOne(i === 0 ? 15_000 : LATENCY_RECEIPT_TIMEOUT_MS);
			if (!arrived) throw new Error(`warm-up record at offset ${offset} never reached the ${scenario.via} reader`);
		}
		const ackToReceipt = [];
		const ackTimes = [];
		const sendToReceipt = [];
		let lost = 0;
		let sentBytes = 0;
		const meter = await startCpuMeter(descendantCpuSeconds);
		const started = performance.now();
		const budgetEnd = started + LATENCY_BUDGET_MS;
		let measuredCount = 0;
		while (measuredCount < LATENCY_RECORDS && performance.now() < budgetEnd) {
			const one = await produceOne(LATENCY_RECEIPT_TIMEOUT_MS);
			measuredCount++;
			sentBytes += one.sentBytes;
			ackTimes.push(one.ackMs - one.t0);
			if (!one.arrived) {
				lost++;
				continue;
			}
			const atMs = reader.arrivedAt(one.offset);
			ackToReceipt.push(atMs - one.ackMs);
			sendToReceipt.push(atMs - one.t0);
		}
		const seconds = (performance.now() - started) / 1000;
		const cpu = await meter.stop(seconds);
		const sorted = (values) => [...values].sort((a, b) => a - b);
		if (measuredCount < LATENCY_RECORDS)
			check.push(`measured ${measuredCount} of ${LATENCY_RECORDS} records within ${LATENCY_BUDGET_MS} ms`);
		if (lost > 0) check.push(`${lost} records did not reach the reader within ${LATENCY_RECEIPT_TIMEOUT_MS} ms`);
		if (reader.duplicates > 0) check.push(`${reader.duplicates} records arrived more than once`);
		if (reader.errorEvents > 0) check.push(`${reader.errorEvents} SSE error events`);
		if (reader.badBodies > 0) check.push(`${reader.badBodies} webhook bodies were not {"records":[…]} JSON`);
		return {
			clients: 1,
			seconds: round(seconds, 3),
			requests: measuredCount,
			records: measuredCount,
			sentBytes,
			receivedBytes: 0,
			latencyMs: latencySummary(sorted(ackToReceipt)),
			produceLatencyMs: latencySummary(sorted(ackTimes)),
			sendToReceiptMs: latencySummary(sorted(sendToReceipt)),
			receivedBeforeAck: ackToReceipt.filter((ms) => ms < 0).length,
			lost,
			targetP99Ms: scenario.targetP99Ms,
			cpu,
			quietWaitMs,
			errors: 0,
			errorSamples: [],
			aborted: false,
			verification: check.length === 0 ? "ok" : check,
		};
	} finally {
		if (subscription !== null) {
			await http.request("DELETE", `/v1/topics/${topic}/subscriptions/${subscription.id}`).catch(() => {});
		}
		await reader?.close();
	}
}

/**
 * One runtime: every target (Tributary, the ceiling and its SQLite variant) is started, then each scenario runs
 * on each target back to back, so a ratio compares measurements taken within seconds of each other.
 */
async function runRuntime(runtime, bundles, snapshot) {
	const servers = [];
	const rows = [];
	const startups = {};
	const troubles = {};
	const failRows = (target, message) => {
		for (const scenario of ACTIVE_SCENARIOS.filter((s) => TARGETS[target].kinds.includes(s.kind))) {
			rows.push({
				scenario: scenario.id,
				label: scenario.label,
				kind: scenario.kind,
				runtime,
				server: target,
				failed: message,
				aborted: true,
			});
		}
	};
	try {
		for (const target of Object.keys(TARGETS)) {
			if (interrupted) break;
			if (!ACTIVE_SCENARIOS.some((s) => TARGETS[target].kinds.includes(s.kind))) continue;
			const started = Date.now();
			try {
				const server = await startTarget(runtime, target, bundles, snapshot);
				stoppers.add(server.stop);
				startups[`${runtime}/${target}`] = Date.now() - started;
				console.error(`  ${target} on ${runtime} ready at ${server.url} in ${Date.now() - started} ms`);
				servers.push({ target, server, http: createClient(server.url, { token: TOKEN, sockets: 4 }) });
			} catch (error) {
				console.error(`  ${target} on ${runtime} failed to start: ${error?.message ?? error}`);
				failRows(target, String(error?.message ?? error));
			}
		}
		let seed = 1;
		/** The idempotence rounds, run when the first idempotence scenario comes up; each of their rows is taken from it. */
		let idempotence = null;
		for (const scenario of ACTIVE_SCENARIOS) {
			for (const { target, server, http } of servers) {
				if (interrupted || !TARGETS[target].kinds.includes(scenario.kind)) continue;
				const topic = `bench-${scenario.id}`;
				const t0 = Date.now();
				let result;
				try {
					// The group scenario makes (and deletes) its own topic; the idempotence rounds make theirs.
					if (scenario.kind !== "group" && scenario.kind !== "idempotence") {
						await http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
					}
					if (scenario.kind === "produce") result = await produceScenario(http, target, scenario, topic, seed++);
					else if (scenario.kind === "idempotence") {
						const variants = ACTIVE_SCENARIOS.filter((s) => s.kind === "idempotence");
						if (idempotence === null) {
							idempotence = idempotenceRounds(http, target, variants, seed);
							seed += variants.length;
						}
						result = (await idempotence).get(scenario.id);
					} else if (scenario.kind === "fetch") result = await fetchScenario(http, target, topic);
					else if (scenario.kind === "group") result = await groupScenario(server.url);
					else result = await latencyScenario(http, server.url, scenario, topic);
				} catch (error) {
					result = { failed: String(error?.message ?? error), aborted: true, errors: 1 };
				}
				rows.push({ scenario: scenario.id, label: scenario.label, kind: scenario.kind, runtime, server: target, ...result });
				const shown =
					result.failed ??
					(scenario.kind === "latency"
						? `ack → receipt p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms over ${result.records} records`
						: `${fmt(result.recordsPerSec)} records/s, p50 ${result.latencyMs.p50} ms${result.aborted ? ", ABORTED" : ""}`);
				console.error(`    ${scenario.id} on ${target}: ${shown} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
			}
		}
	} finally {
		for (const { target, server, http } of servers) {
			http.close();
			const lines = await Promise.resolve(server.logLines()).catch(() => []);
			stoppers.delete(server.stop);
			await server.stop();
			const trouble = troubleLines(lines);
			if (trouble.length > 0) troubles[`${runtime}/${target}`] = trouble;
		}
	}
	return { rows, startups, troubles };
}

/** The log-scale scenario on Miniflare, restarted on one data directory as often as the scenario asks. */
async function logScaleRow(bundles, snapshot) {
	const row = { scenario: "log-scale", label: SCENARIOS.at(-1).label, kind: "log-scale", runtime: "miniflare", server: "tributary" };
	try {
		const bundle = bundles[TARGETS.tributary.config];
		if (bundle instanceof Error) throw bundle;
		const durableObjects = durableObjectsFromToml(await readFile(join(snapshot.dir, TARGETS.tributary.config), "utf8"));
		const persistDir = await tempDir("log-scale-data");
		const start = async () => {
			const server = await startMiniflare({ scriptPath: bundle, durableObjects, bindings: { ADMIN_TOKEN: TOKEN }, persistDir });
			stoppers.add(server.stop);
			return { url: server.url, stop: () => stoppers.delete(server.stop) && server.stop() };
		};
		const sqlite3 = which("sqlite3");
		const checkpoint = async () => sqlite3 !== null && (await checkpointSqlite(persistDir, sqlite3)) > 0;
		const batches = Number(process.env.BENCH_LOG_SCALE_BATCHES ?? LOG_SCALE_BATCHES);
		const log = (line) => console.error(`    ${line}`);
		return { ...row, ...(await logScaleScenario({ start, checkpoint, token: TOKEN, batches, log })) };
	} catch (error) {
		return { ...row, failed: String(error?.message ?? error), aborted: true };
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Peers.

async function redisRuns(mode) {
	const bin = which("redis-server");
	if (bin === null) return [{ skipped: "redis-server is not installed (apt-get install -y redis-server)" }];
	const dir = await tempDir(`redis-${mode}`);
	const port = await freePort();
	const persistence = mode === "aof" ? ["--appendonly", "yes", "--appendfsync", "everysec"] : ["--appendonly", "no"];
	const peer = await startPeer({
		bin,
		args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--protected-mode", "yes", ...persistence],
		port,
		logPath: join(dir, "redis.log"),
	});
	stoppers.add(peer.stop);
	const runtime = `redis ${versionOf(bin, ["--version"]).match(/v=(\S+)/)?.[1] ?? ""} (${mode === "aof" ? "AOF, fsync everysec" : "no persistence"})`;
	const redis = await connectResp({ port });
	const out = [];
	try {
		const pipelines = Array.from({ length: BODIES_PER_CLIENT }, (_, b) =>
			Buffer.concat(
				Array.from({ length: RECORDS_PER_PRODUCE }, (_, r) =>
					encodeCommand(["XADD", "bench", "*", "v", valueString(7_000_003 + b * RECORDS_PER_PRODUCE + r)]),
				),
			),
		);
		const xadd = await runLoad({
			clients: 1,
			warmupMs: WARMUP_MS,
			durationMs: DURATION_MS,
			serverCpu: descendantCpuSeconds,
			step: async (_client, i) => {
				const before = redis.receivedBytes;
				const { replies, sentBytes } = await redis.pipelineRaw(pipelines[i % pipelines.length], RECORDS_PER_PRODUCE);
				const bad = replies.find((r) => r instanceof RedisError);
				return {
					status: bad ? 500 : 200,
					error: bad?.message,
					sentBytes,
					receivedBytes: redis.receivedBytes - before,
					records: replies.length,
				};
			},
		});
		out.push({
			scenario: "produce-1c-1p",
			label: "XADD 100×1KB per pipeline, 1 client",
			runtime,
			server: "redis",
			...xadd,
			payloadMBPerSec: xadd.sentMBPerSec,
		});

		// Fetch: XRANGE 1,000 entries at a time over a 20,000-entry stream, wrapping at the end.
		for (let i = 0; i < PREFILL_RECORDS / RECORDS_PER_PRODUCE; i++) {
			const commands = Array.from({ length: RECORDS_PER_PRODUCE }, (_, r) => [
				"XADD",
				"fetch",
				"*",
				"v",
				valueString(9_000_001 + i * 100 + r),
			]);
			await redis.pipeline(commands);
		}
		let start = "-";
		const xrange = await runLoad({
			clients: 1,
			warmupMs: WARMUP_MS,
			durationMs: DURATION_MS,
			serverCpu: descendantCpuSeconds,
			step: async () => {
				const before = redis.receivedBytes;
				const { replies, sentBytes } = await redis.pipeline([["XRANGE", "fetch", start, "+", "COUNT", String(FETCH_RECORDS)]]);
				const entries = replies[0];
				if (entries instanceof RedisError || !Array.isArray(entries)) return { status: 500, error: String(entries) };
				const last = entries.at(-1);
				start = entries.length < FETCH_RECORDS || last === undefined ? "-" : `(${last[0].toString("latin1")}`;
				return { status: 200, sentBytes, receivedBytes: redis.receivedBytes - before, records: entries.length };
			},
		});
		out.push({
			scenario: "fetch-1c-1p",
			label: "XRANGE COUNT 1000, 1 client",
			runtime,
			server: "redis",
			...xrange,
			payloadMBPerSec: xrange.receivedMBPerSec,
		});
	} finally {
		redis.close();
		stoppers.delete(peer.stop);
		await peer.stop();
	}
	return out;
}

async function natsRuns() {
	const bin = which("nats-server");
	if (bin === null) return [{ skipped: "nats-server is not installed (apt-get install -y nats-server)" }];
	const dir = await tempDir("nats");
	const port = await freePort();
	const peer = await startPeer({
		bin,
		args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir],
		port,
		logPath: join(dir, "nats.log"),
	});
	stoppers.add(peer.stop);
	const runtime = `nats-server ${versionOf(bin, ["--version"]).replace(/^nats-server:\s*/, "")} (JetStream, file storage)`;
	const nats = await connectNats({ port });
	try {
		const stream = { name: "BENCH", subjects: ["bench.s"], storage: "file", retention: "limits", discard: "old", num_replicas: 1 };
		const created = await nats.request("$JS.API.STREAM.CREATE.BENCH", [JSON.stringify(stream)]);
		const answer = created.answers[0];
		if (answer.error !== undefined || JSON.parse(answer.payload).error !== undefined) {
			throw new Error(`JetStream stream create failed: ${answer.error ?? answer.payload}`);
		}
		const batches = Array.from({ length: BODIES_PER_CLIENT }, (_, b) =>
			Array.from({ length: RECORDS_PER_PRODUCE }, (_, r) => Buffer.from(valueString(5_000_011 + b * RECORDS_PER_PRODUCE + r))),
		);
		const publish = await runLoad({
			clients: 1,
			warmupMs: WARMUP_MS,
			durationMs: DURATION_MS,
			serverCpu: descendantCpuSeconds,
			step: async (_client, i) => {
				const before = nats.receivedBytes;
				const { answers, sentBytes } = await nats.request("bench.s", batches[i % batches.length]);
				const bad = answers.find((a) => a.error !== undefined || a.headers.includes(" 503") || !a.payload.includes('"seq"'));
				return {
					status: bad ? 500 : 200,
					error: bad ? String(bad.error ?? (bad.headers || bad.payload)) : undefined,
					sentBytes,
					receivedBytes: nats.receivedBytes - before,
					records: answers.length,
				};
			},
		});
		return [
			{
				scenario: "produce-1c-1p",
				label: "JetStream publish 100×1KB awaiting +ACKs, 1 client",
				runtime,
				server: "nats",
				...publish,
				payloadMBPerSec: publish.sentMBPerSec,
			},
		];
	} finally {
		nats.close();
		stoppers.delete(peer.stop);
		await peer.stop();
	}
}

async function peerRuns() {
	const runs = [];
	for (const [name, run] of [
		["redis (no persistence)", () => redisRuns("memory")],
		["redis (AOF everysec)", () => redisRuns("aof")],
		["nats JetStream", natsRuns],
	]) {
		if (interrupted) break;
		console.error(`  peer: ${name}`);
		try {
			const results = await run();
			for (const r of results) {
				if (r.skipped) console.error(`    skipped: ${r.skipped}`);
				else console.error(`    ${r.scenario}: ${fmt(r.recordsPerSec)} records/s, p50 ${r.latencyMs.p50} ms`);
			}
			runs.push(...results.map((r) => (r.skipped ? { peer: name, ...r } : r)));
		} catch (error) {
			console.error(`    failed: ${error?.message ?? error}`);
			runs.push({ peer: name, failed: String(error?.message ?? error) });
		}
	}
	return runs;
}

// ---------------------------------------------------------------------------------------------------------------
// Report.

/** Text fit for one markdown table cell. */
function oneLine(text, max) {
	const flat = String(text).replace(/\s+/g, " ").replaceAll("|", "\\|").trim();
	return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** CPU used by processes that are not the bench's during a measurement; over NOISY_PERCENT it is flagged. */
const NOISY_PERCENT = QUIET_OTHER_PERCENT;
function otherCpu(row) {
	const other = row.cpu?.otherPercent;
	if (other === null || other === undefined) return "—";
	return other > NOISY_PERCENT ? `**${other}** (noisy)` : String(other);
}

function fmt(n) {
	return typeof n === "number" ? Math.round(n).toLocaleString("en-US") : "—";
}

function machine() {
	const git = (args) => {
		try {
			return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
		} catch {
			return null;
		}
	};
	const pkg = (name) => {
		try {
			return JSON.parse(execFileSync("node", ["-p", `JSON.stringify(require("${name}/package.json"))`], { cwd: ROOT, encoding: "utf8" }))
				.version;
		} catch {
			return null;
		}
	};
	const dirty = git(["status", "--porcelain", "--", "src"]);
	return {
		date: new Date().toISOString(),
		node: process.version,
		platform: `${os.type()} ${os.release()} ${os.arch()}`,
		cpuModel: os.cpus()[0]?.model ?? "unknown",
		nproc: os.availableParallelism(),
		memoryGiB: round(os.totalmem() / 2 ** 30, 1),
		wrangler: pkg("wrangler"),
		miniflare: pkg("miniflare"),
		workerd: pkg("workerd"),
		gitCommit: git(["rev-parse", "--short", "HEAD"]),
		srcUncommittedFiles: dirty === null ? null : dirty.split("\n").filter(Boolean).length,
	};
}

function percentOfCeiling(row, all) {
	if (!(row.server in TARGETS) || row.server === "ceiling" || !row.recordsPerSec) return null;
	const ceiling = all.find((r) => r.server === "ceiling" && r.runtime === row.runtime && r.scenario === row.scenario);
	if (!ceiling?.recordsPerSec) return null;
	return round((row.recordsPerSec / ceiling.recordsPerSec) * 100, 1);
}

function tables(rows) {
	const main = [
		"| scenario | runtime | server | records/s | MB/s | p50 ms | p99 ms | % of ceiling | target ≥60% |",
		"|---|---|---|--:|--:|--:|--:|--:|:-:|",
	];
	const detail = [
		"| scenario | runtime | server | requests | seconds | errors | server CPU % | client CPU % | other CPU % | verification |",
		"|---|---|---|--:|--:|--:|--:|--:|--:|---|",
	];
	for (const row of rows) {
		if (row.skipped || (row.failed && row.scenario === undefined)) continue;
		if (row.kind === "log-scale") continue;
		if (row.kind === "latency") {
			// Latency has its own table; its CPU and checks go with the others.
			if (!row.failed) detail.push(detailLine(row));
			continue;
		}
		const pct = row.percentOfCeiling;
		const target = pct === null || pct === undefined || row.server !== "tributary" ? "" : pct >= TARGET_FRACTION * 100 ? "yes" : "**no**";
		const label = row.failed ? `failed: ${oneLine(row.failed, 100)}` : row.aborted ? "ABORTED" : null;
		main.push(
			`| ${row.scenario} | ${row.runtime} | ${row.server} | ${label ?? fmt(row.recordsPerSec)} | ${label ? "" : row.payloadMBPerSec.toFixed(1)} | ${label ? "" : row.latencyMs.p50.toFixed(2)} | ${label ? "" : row.latencyMs.p99.toFixed(2)} | ${pct === null || pct === undefined ? "" : `${pct.toFixed(1)}%`} | ${target} |`,
		);
		if (!row.failed) detail.push(detailLine(row));
	}
	return { main: main.join("\n"), detail: detail.join("\n") };
}

function detailLine(row) {
	const verification = row.verification === undefined ? "" : row.verification === "ok" ? "ok" : row.verification.join("; ");
	return `| ${row.scenario} | ${row.runtime} | ${row.server} | ${row.requests} | ${row.seconds} | ${row.errors}${row.errorSamples?.length ? ` (${oneLine(row.errorSamples[0].error, 100)})` : ""} | ${row.cpu?.serverPercent ?? "—"} | ${row.cpu?.clientPercent ?? "—"} | ${otherCpu(row)} | ${verification} |`;
}

/** Marks a figure as measured while other processes were busy. */
function noisy(row) {
	return (row.cpu?.otherPercent ?? 0) > NOISY_PERCENT ? " (noisy)" : "";
}

/** The plain produce row measured just before an idempotence variant, same runtime. */
function plainBaseline(row, all) {
	return all.find((r) => r.scenario === "idem-plain-1c-1p" && r.runtime === row.runtime && r.server === row.server);
}

/** Tributary's plain fetch row in the same runtime, for the group-consume comparison. */
function plainFetch(row, all) {
	return all.find((r) => r.scenario === "fetch-1c-1p" && r.runtime === row.runtime && r.server === "tributary");
}

/** Server CPU (every process the bench started) per record, in µs: less sensitive to a busy machine than records/s. */
function serverCpuPerRecord(row) {
	const percent = row.cpu?.serverPercent;
	if (typeof percent !== "number" || !(row.recordsPerSec > 0)) return null;
	return round((percent / 100 / row.recordsPerSec) * 1e6, 1);
}

function percentOf(value, base) {
	return typeof value === "number" && typeof base === "number" && base > 0 ? round((value / base) * 100, 1) : null;
}

const VARIANT_NAMES = {
	plain: "plain",
	producer: "idempotent producer (producer_id, epoch, sequence)",
	"idempotency-key": "Idempotency-Key header, unique per request",
};

/** The three tables of the issue-specific scenarios: idempotence cost, group consume, end-to-end latency. */
function extraTables(rows) {
	const idempotence = [
		`| runtime | variant | records/s | p50 ms | p99 ms | % of plain (per round) | target ≥${IDEMPOTENCE_TARGET_FRACTION * 100}% | server CPU µs/record (vs plain) |`,
		"|---|---|--:|--:|--:|--:|:-:|--:|",
	];
	const group = [
		"| runtime | group poll + commit records/s | MB/s | p50 ms | p99 ms | plain fetch records/s (fetch-1c-1p) | group ÷ fetch | window |",
		"|---|--:|--:|--:|--:|--:|--:|---|",
	];
	const latency = [
		"| path | runtime | records | ack→receipt p50 ms | p90 ms | p99 ms | max ms | received before ack | produce ack p50 ms | target p99 | met |",
		"|---|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
	];
	// Runtime first, so each runtime's variants sit together (the main table goes by scenario first).
	const byRuntime = rows
		.filter((row) => ["idempotence", "group", "latency"].includes(row.kind))
		.sort(
			(a, b) =>
				RUNTIMES.indexOf(a.runtime) - RUNTIMES.indexOf(b.runtime) ||
				SCENARIOS.findIndex((s) => s.id === a.scenario) - SCENARIOS.findIndex((s) => s.id === b.scenario),
		);
	for (const row of byRuntime) {
		if (row.failed) {
			const failed = `failed: ${oneLine(row.failed, 120)}`;
			if (row.kind === "idempotence") idempotence.push(`| ${row.runtime} | ${row.scenario} | ${failed} | | | | | |`);
			if (row.kind === "group") group.push(`| ${row.runtime} | ${failed} | | | | | | |`);
			if (row.kind === "latency") latency.push(`| ${row.scenario} | ${row.runtime} | ${failed} | | | | | | | | |`);
			continue;
		}
		if (row.kind === "idempotence") {
			const pct = row.percentOfPlain;
			const met = pct === null || pct === undefined ? "" : pct >= IDEMPOTENCE_TARGET_FRACTION * 100 ? "yes" : "**no**";
			const cost = row.serverCpuMicrosPerRecord;
			const costVs = row.serverCpuVsPlainPercent;
			const costCell =
				cost === null || cost === undefined
					? "—"
					: `${cost.toFixed(1)}${costVs === null || costVs === undefined ? "" : ` (${costVs >= 100 ? "+" : "−"}${Math.abs(costVs - 100).toFixed(0)}%)`}`;
			const rounds = (row.percentOfPlainByRound ?? []).filter((p) => p !== null);
			const spread = rounds.length > 1 ? ` (${Math.min(...rounds).toFixed(0)}–${Math.max(...rounds).toFixed(0)}%)` : "";
			idempotence.push(
				`| ${row.runtime} | ${VARIANT_NAMES[row.variant ?? "plain"]} | ${row.aborted ? "ABORTED" : fmt(row.recordsPerSec)}${noisy(row)} | ${row.latencyMs.p50.toFixed(2)} | ${row.latencyMs.p99.toFixed(2)} | ${pct === null || pct === undefined ? "" : `${pct.toFixed(1)}%${spread}`} | ${met} | ${costCell} |`,
			);
		} else if (row.kind === "group") {
			const window = `${row.seconds} s over a ${fmt(row.backlogRecords)}-record backlog${row.drained ? " (a member ran dry: window cut short)" : ""}`;
			group.push(
				`| ${row.runtime} | ${fmt(row.recordsPerSec)}${noisy(row)} | ${row.payloadMBPerSec.toFixed(1)} | ${row.latencyMs.p50.toFixed(2)} | ${row.latencyMs.p99.toFixed(2)} | ${fmt(row.plainFetchRecordsPerSec)} | ${row.percentOfFetch === null ? "" : `${row.percentOfFetch.toFixed(1)}%`} | ${window} |`,
			);
		} else if (row.kind === "latency") {
			const l = row.latencyMs;
			const met = row.lost > 0 ? "**no** (lost records)" : l.p99 < row.targetP99Ms ? "yes" : "**no**";
			latency.push(
				`| ${row.scenario} | ${row.runtime} | ${row.records} | ${l.p50.toFixed(2)}${noisy(row)} | ${l.p90.toFixed(2)} | ${l.p99.toFixed(2)} | ${l.max.toFixed(2)} | ${row.receivedBeforeAck} | ${row.produceLatencyMs.p50.toFixed(2)} | < ${row.targetP99Ms} ms | ${met} |`,
			);
		}
	}
	return { idempotence: idempotence.join("\n"), group: group.join("\n"), latency: latency.join("\n") };
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
	const started = Date.now();
	const info = machine();
	console.error(
		`tributary bench: ${info.cpuModel} ×${info.nproc}, node ${info.node}, ${DURATION_MS} ms per scenario after ${WARMUP_MS} ms warm-up`,
	);
	const rows = [];
	const startups = {};
	/** Server log lines that look like trouble, per runtime/target. */
	const troubles = {};

	const snapshot = await snapshotProject();
	console.error(`serving a snapshot of src/ (sha256 ${snapshot.srcHash}) taken ${snapshot.takenAt}`);
	let bundles = null;
	if (RUNTIMES.includes("miniflare")) {
		const t0 = Date.now();
		bundles = {};
		for (const config of new Set(Object.values(TARGETS).map((spec) => spec.config))) {
			try {
				bundles[config] = await bundleWorker({ root: snapshot.dir, configPath: config, wranglerBin: WRANGLER });
				tempDirs.push(dirname(bundles[config]));
			} catch (error) {
				bundles[config] = new Error(error?.message ?? String(error));
				console.error(`  ${config}: ${bundles[config].message}`);
			}
		}
		console.error(`bundled with wrangler deploy --dry-run in ${Date.now() - t0} ms`);
	}

	for (const runtime of RUNTIMES) {
		if (interrupted) break;
		console.error(runtime);
		const done = await runRuntime(runtime, bundles, snapshot);
		rows.push(...done.rows);
		Object.assign(startups, done.startups);
		Object.assign(troubles, done.troubles);
	}
	if (ACTIVE_SCENARIOS.some((s) => s.kind === "log-scale") && RUNTIMES.includes("miniflare") && !interrupted) {
		console.error("log-scale (miniflare)");
		rows.push(await logScaleRow(bundles, snapshot));
	}
	if (PEERS && !interrupted) {
		console.error("peers");
		rows.push(...(await peerRuns()));
	}
	for (const row of rows) {
		row.percentOfCeiling = percentOfCeiling(row, rows);
		if (row.kind === "idempotence" && !row.failed) {
			row.serverCpuMicrosPerRecord = serverCpuPerRecord(row);
		}
	}
	for (const row of rows) {
		if (row.kind === "idempotence" && row.variant !== "plain" && !row.aborted && !row.failed) {
			const plain = plainBaseline(row, rows);
			row.percentOfPlain = percentOf(row.recordsPerSec, plain?.recordsPerSec);
			row.serverCpuVsPlainPercent = percentOf(row.serverCpuMicrosPerRecord, plain?.serverCpuMicrosPerRecord);
		}
		if (row.kind === "group" && !row.failed) {
			row.plainFetchRecordsPerSec = plainFetch(row, rows)?.recordsPerSec ?? null;
			row.percentOfFetch = percentOf(row.recordsPerSec, row.plainFetchRecordsPerSec);
		}
	}

	// Table order: scenario, then runtime, Tributary before its ceiling, peers last within each scenario.
	const order = (row) => [
		SCENARIOS.findIndex((s) => s.id === row.scenario),
		row.server in TARGETS ? RUNTIMES.indexOf(row.runtime) : 99,
		row.server in TARGETS ? ["tributary", "ceiling", "ceiling+sqlite"].indexOf(row.server) : 9,
	];
	const sorted = [...rows].sort((a, b) => {
		const x = order(a);
		const y = order(b);
		return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
	});
	const { main: mainTable, detail } = tables(sorted);
	const extra = extraTables(sorted);
	const totalSeconds = round((Date.now() - started) / 1000, 1);
	const measured = rows.filter((r) => r.cpu !== undefined);
	const quietWaitMs = measured.reduce((sum, r) => sum + (r.quietWaitMs ?? 0), 0);
	const measuredRows = measured.length;
	const noisyRows = measured.filter((r) => (r.cpu.otherPercent ?? 0) > NOISY_PERCENT).length;
	const notes = [
		"records/s and MB/s are over the measured window (after warm-up); MB = 10^6 bytes of HTTP bodies sent (produce) or received (fetch, group poll).",
		"Peers count RESP/NATS protocol bytes on the wire. Latency is per request (per pipeline/batch for peers), client-side.",
		"% of ceiling = Tributary records/s ÷ the ceiling Worker's records/s, same runtime, same scenario, same run.",
		"ceiling+sqlite (reference, produce only) = the ceiling plus one SQLite INSERT of each request body: what storing the bytes alone costs.",
		`All processes share one machine: server CPU % is every child process of the bench, other CPU % is everything else on the machine (100% = one core). Before each scenario the bench waits (${QUIET_WAIT_BUDGET_MS / 1000} s in all at most) for other processes to go under ${QUIET_OTHER_PERCENT}%; rows where they were above ${QUIET_OTHER_PERCENT}% during the measurement are marked noisy.`,
	];
	const skipped = rows.filter((r) => r.skipped || (r.failed && r.scenario === undefined));
	const logScale = sorted.filter((row) => row.kind === "log-scale");
	const md = [
		"# Tributary bench",
		"",
		`${info.date} · ${info.cpuModel} ×${info.nproc} · ${info.memoryGiB} GiB · node ${info.node} · wrangler ${info.wrangler} · miniflare ${info.miniflare} · workerd ${info.workerd} · commit ${info.gitCommit}${info.srcUncommittedFiles ? ` + ${info.srcUncommittedFiles} uncommitted changes in src/` : ""} · src snapshot ${snapshot.srcHash}`,
		"",
		`Each throughput scenario (idempotence rounds and group consume aside: see their sections): ${WARMUP_MS} ms warm-up, then ${DURATION_MS} ms measured. Total bench time ${totalSeconds} s, of which ${round(quietWaitMs / 1000, 1)} s waiting for other processes to go quiet; ${noisyRows} of ${measuredRows} rows measured while they were busy (noisy).`,
		"",
		mainTable,
		"",
		"## Idempotence cost",
		"",
		`produce-1c-1p's load (100×1KB per request, explicit partition 0, 1 client), Tributary only, each variant on its own fresh topic. The variants run back to back in ${IDEMPOTENCE_ROUNDS} rounds (plain → idempotent producer → Idempotency-Key, the order rotating by one each round; each a ${IDEMPOTENCE_WINDOW_MS} ms window after ${IDEMPOTENCE_WARMUP_MS} ms of warm-up), so a drift of the machine over the minute weighs on all three alike; a row merges its variant's windows, and the range in brackets is each round's window against that round's plain one. The idempotent producer gets an id from \`POST /v1/producers\` and sends \`producer_id\`, \`epoch\` and \`sequence\` (advancing by 100 per request); the Idempotency-Key variant sends a new key with every request. After each run the last request is sent again: it must answer the original offsets and write nothing. Server CPU per record (server CPU % ÷ records/s) is the steadier figure when the machine is busy: one client waits for each answer, so records/s also moves with whatever else delays the server.`,
		"",
		extra.idempotence,
		"",
		"## Group consume",
		"",
		`bench/group-consume.mjs: a 4-partition topic is filled with 1 KiB records (keyed, ${fmt(GROUP_BACKLOG_RECORDS)} records, not measured), 4 members join one group from the earliest offset, then each member loops poll (max_records 500) → commit, for ${GROUP_DURATION_MS} ms with no warm-up (or until one member's partitions run dry: then all stop). The first poll of each member is parsed in full and checked; afterwards the group's committed offsets must add up to the records polled. Latency is per request (polls and commits together). Next to it: the plain fetch scenario (1 client, 1 partition, 1000 records per fetch) of the same runtime.`,
		"",
		extra.group,
		"",
		"## End-to-end latency",
		"",
		`One small record (${LATENCY_VALUE_CHARS}-character value, partition 0) produced at a time, ${LATENCY_RECORDS} measured after ${LATENCY_WARMUP_RECORDS} warm-up; each is awaited at the reader before the next is produced. ack→receipt = when the reader got the record minus when the producer got its 200, both on this process's clock; negative means the reader had it first. SSE: \`GET …/partitions/0/records\` with \`Accept: text/event-stream\`, events matched by \`id:\`. Webhook: a node:http receiver on 127.0.0.1 answering 204, subscribed with \`start: latest, batch_max_records: 1\` (the Worker runs with WEBHOOK_ALLOW_PRIVATE=true).`,
		"",
		extra.latency,
		"",
		logScaleSection(logScale),
		"",
		"## Details",
		"",
		detail,
		"",
		...notes.map((n) => `- ${n}`),
		...skipped.map((r) => `- ${r.peer ?? `${r.runtime}/${r.server}`}: ${r.skipped ?? `failed: ${oneLine(r.failed, 300)}`}`),
		"",
		...(Object.keys(troubles).length === 0
			? ["No server log line looked like an error."]
			: [
					"Server log lines that look like trouble:",
					"",
					...Object.entries(troubles).flatMap(([k, lines]) => [`- ${k}:`, ...lines.map((l) => `  - \`${oneLine(l, 200)}\``)]),
				]),
		"",
	].join("\n");

	await mkdir(RESULTS, { recursive: true });
	const json = {
		machine: info,
		srcSnapshot: { srcHash: snapshot.srcHash, takenAt: snapshot.takenAt, uncommittedFilesInSrc: info.srcUncommittedFiles },
		settings: {
			durationMs: DURATION_MS,
			warmupMs: WARMUP_MS,
			recordsPerProduce: RECORDS_PER_PRODUCE,
			valueChars: 1024,
			fetchRecords: FETCH_RECORDS,
			prefillRecords: PREFILL_RECORDS,
			targetFractionOfCeiling: TARGET_FRACTION,
			idempotenceTargetFractionOfPlain: IDEMPOTENCE_TARGET_FRACTION,
			idempotenceRounds: IDEMPOTENCE_ROUNDS,
			idempotenceWindowMs: IDEMPOTENCE_WINDOW_MS,
			idempotenceWarmupMs: IDEMPOTENCE_WARMUP_MS,
			groupDurationMs: GROUP_DURATION_MS,
			groupBacklogRecords: GROUP_BACKLOG_RECORDS,
			latencyRecords: LATENCY_RECORDS,
			latencyWarmupRecords: LATENCY_WARMUP_RECORDS,
			latencyValueChars: LATENCY_VALUE_CHARS,
			latencyReceiptTimeoutMs: LATENCY_RECEIPT_TIMEOUT_MS,
			runtimes: RUNTIMES,
		},
		startupMs: startups,
		serverTrouble: troubles,
		totalSeconds,
		results: sorted,
	};
	await writeFile(join(RESULTS, "latest.json"), `${JSON.stringify(json, null, "\t")}\n`);
	await writeFile(join(RESULTS, "latest.md"), md);
	console.log(`\n${mainTable}\n\n${extra.idempotence}\n\n${extra.group}\n\n${extra.latency}\n\n${detail}\n`);
	if (logScale.length > 0) console.log(`${logScaleSection(logScale)}\n`);
	console.log(`${noisyRows} of ${measuredRows} rows noisy; ${round(quietWaitMs / 1000, 1)} s spent waiting for quiet.`);
	console.log(`Total ${totalSeconds} s. Wrote bench/results/latest.json and bench/results/latest.md.`);
}

try {
	await main();
} catch (error) {
	console.error(error);
	process.exitCode = 1;
} finally {
	await stopAll();
	killAllWranglerDevSync();
	killAllPeersSync();
	if (!KEEP_TMP) for (const dir of tempDirs) await rm(dir, { recursive: true, force: true }).catch(() => {});
	else console.error(`kept temp dirs:\n  ${tempDirs.join("\n  ")}`);
}
