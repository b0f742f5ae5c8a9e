/**
 * `npm run bench`: Tributary's produce and fetch throughput on one machine, served two ways (Miniflare from a
 * `wrangler deploy --dry-run` bundle, and `wrangler dev`), each figure set against a same-run ceiling: a Worker
 * with the same hops (edge → Durable Object RPC) and no work behind them. Redis streams and NATS JetStream, when
 * installed, run the same shapes of load for perspective. Not a test: it prints a table and writes
 * bench/results/latest.json and bench/results/latest.md.
 *
 * The Worker is served from a snapshot of src/ taken when the bench starts (src/ may be edited while it runs, and
 * `wrangler dev` would hot-reload mid-scenario); both runtimes serve that same snapshot.
 *
 * Knobs (environment): BENCH_DURATION_MS (6000), BENCH_WARMUP_MS (1000), BENCH_RUNTIMES ("miniflare,wrangler-dev"),
 * BENCH_PEERS ("1"; "0" skips Redis and NATS), BENCH_KEEP_TMP ("1" keeps the temp dirs and logs),
 * BENCH_QUIET_WAIT_MS (60000: how long in all the bench may wait for other processes to go quiet before a
 * measurement; rows measured while they were busy anyway are marked noisy).
 */

import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "./lib/http.mjs";
import { QUIET_OTHER_PERCENT, QUIET_WAIT_BUDGET_MS, round, runLoad } from "./lib/load.mjs";
import { bundleWorker, durableObjectsFromToml, startMiniflare } from "./lib/miniflare.mjs";
import { connectNats } from "./lib/nats.mjs";
import { freePort, killAllPeersSync, startPeer, versionOf, which } from "./lib/peers.mjs";
import { descendantCpuSeconds } from "./lib/procstat.mjs";
import { produceBodies, valueString } from "./lib/records.mjs";
import { connectResp, encodeCommand, RedisError } from "./lib/resp.mjs";
import { killAllWranglerDevSync, startWranglerDev } from "./lib/wrangler-dev.mjs";

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

const TOKEN = randomBytes(24).toString("hex");

const SCENARIOS = [
	{ id: "produce-1c-1p", label: "produce 100×1KB, 1 client, 1 partition", kind: "produce", clients: 1, partitions: 1 },
	{ id: "produce-4c-1p", label: "produce 100×1KB, 4 clients, 1 partition", kind: "produce", clients: 4, partitions: 1 },
	{ id: "produce-4c-4p", label: "produce 100×1KB, 4 clients, 4 partitions", kind: "produce", clients: 4, partitions: 4 },
	{ id: "fetch-1c-1p", label: "fetch 1000×1KB, 1 client, 1 partition", kind: "fetch", clients: 1, partitions: 1 },
];

/** Config paths are inside the snapshot (see `snapshotProject`). */
const TARGETS = {
	ceiling: { config: "ceiling/wrangler.toml", vars: {}, kinds: ["produce", "fetch"] },
	/** Reference only: the ceiling plus one SQLite INSERT of the request body per produce (the bare cost of storing it). */
	"ceiling+sqlite": { config: "ceiling/wrangler.toml", vars: { CEILING_MODE: "sqlite" }, kinds: ["produce"] },
	tributary: { config: "wrangler.toml", vars: {}, kinds: ["produce", "fetch"] },
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

async function produceScenario(http, target, scenario, topic, seed) {
	const pools = Array.from({ length: scenario.clients }, (_, c) => bodiesFor(scenario, c, seed));
	let acknowledged = 0;
	let checked = target !== "tributary";
	const check = [];
	const result = await runLoad({
		clients: scenario.clients,
		warmupMs: WARMUP_MS,
		durationMs: DURATION_MS,
		serverCpu: descendantCpuSeconds,
		step: async (client, i) => {
			const pool = pools[client];
			const response = await http.request("POST", `/v1/topics/${topic}/records`, pool[i % pool.length]);
			const ok = response.status >= 200 && response.status < 300;
			if (ok) acknowledged += RECORDS_PER_PRODUCE;
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
		},
	});
	if (target === "tributary") {
		// Every acknowledged record must be in the log: the high watermarks add up to what was acknowledged.
		const described = await http.json("GET", `/v1/topics/${topic}`);
		const stored = described.partitions.reduce((sum, p) => sum + p.high_watermark, 0);
		if (stored !== acknowledged) check.push(`acknowledged ${acknowledged} records but high watermarks sum to ${stored}`);
	}
	return { ...result, payloadMBPerSec: result.sentMBPerSec, verification: check.length === 0 ? "ok" : check };
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
 * One runtime: every target (Tributary, the ceiling and its SQLite variant) is started, then each scenario runs
 * on each target back to back, so a ratio compares measurements taken within seconds of each other.
 */
async function runRuntime(runtime, bundles, snapshot) {
	const servers = [];
	const rows = [];
	const startups = {};
	const troubles = {};
	const failRows = (target, message) => {
		for (const scenario of SCENARIOS.filter((s) => TARGETS[target].kinds.includes(s.kind))) {
			rows.push({ scenario: scenario.id, label: scenario.label, runtime, server: target, failed: message, aborted: true });
		}
	};
	try {
		for (const target of Object.keys(TARGETS)) {
			if (interrupted) break;
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
		for (const scenario of SCENARIOS) {
			for (const { target, http } of servers) {
				if (interrupted || !TARGETS[target].kinds.includes(scenario.kind)) continue;
				const topic = `bench-${scenario.id}`;
				const t0 = Date.now();
				let result;
				try {
					await http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
					result =
						scenario.kind === "produce"
							? await produceScenario(http, target, scenario, topic, seed++)
							: await fetchScenario(http, target, topic);
				} catch (error) {
					result = { failed: String(error?.message ?? error), aborted: true, errors: 1 };
				}
				rows.push({ scenario: scenario.id, label: scenario.label, kind: scenario.kind, runtime, server: target, ...result });
				const shown =
					result.failed ?? `${fmt(result.recordsPerSec)} records/s, p50 ${result.latencyMs.p50} ms${result.aborted ? ", ABORTED" : ""}`;
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
		const pct = row.percentOfCeiling;
		const target = pct === null || pct === undefined || row.server !== "tributary" ? "" : pct >= TARGET_FRACTION * 100 ? "yes" : "**no**";
		const label = row.failed ? `failed: ${oneLine(row.failed, 100)}` : row.aborted ? "ABORTED" : null;
		main.push(
			`| ${row.scenario} | ${row.runtime} | ${row.server} | ${label ?? fmt(row.recordsPerSec)} | ${label ? "" : row.payloadMBPerSec.toFixed(1)} | ${label ? "" : row.latencyMs.p50.toFixed(2)} | ${label ? "" : row.latencyMs.p99.toFixed(2)} | ${pct === null || pct === undefined ? "" : `${pct.toFixed(1)}%`} | ${target} |`,
		);
		if (!row.failed) {
			const verification = row.verification === undefined ? "" : row.verification === "ok" ? "ok" : row.verification.join("; ");
			detail.push(
				`| ${row.scenario} | ${row.runtime} | ${row.server} | ${row.requests} | ${row.seconds} | ${row.errors}${row.errorSamples?.length ? ` (${oneLine(row.errorSamples[0].error, 100)})` : ""} | ${row.cpu.serverPercent ?? "—"} | ${row.cpu.clientPercent} | ${otherCpu(row)} | ${verification} |`,
			);
		}
	}
	return { main: main.join("\n"), detail: detail.join("\n") };
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
	if (PEERS && !interrupted) {
		console.error("peers");
		rows.push(...(await peerRuns()));
	}
	for (const row of rows) row.percentOfCeiling = percentOfCeiling(row, rows);

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
	const totalSeconds = round((Date.now() - started) / 1000, 1);
	const measured = rows.filter((r) => r.cpu !== undefined);
	const quietWaitMs = measured.reduce((sum, r) => sum + (r.quietWaitMs ?? 0), 0);
	const measuredRows = measured.length;
	const noisyRows = measured.filter((r) => (r.cpu.otherPercent ?? 0) > NOISY_PERCENT).length;
	const notes = [
		"records/s and MB/s are over the measured window (after warm-up); MB = 10^6 bytes of HTTP bodies sent (produce) or received (fetch).",
		"Peers count RESP/NATS protocol bytes on the wire. Latency is per request (per pipeline/batch for peers), client-side.",
		"% of ceiling = Tributary records/s ÷ the ceiling Worker's records/s, same runtime, same scenario, same run.",
		"ceiling+sqlite (reference, produce only) = the ceiling plus one SQLite INSERT of each request body: what storing the bytes alone costs.",
		`All processes share one machine: server CPU % is every child process of the bench, other CPU % is everything else on the machine (100% = one core). Before each scenario the bench waits (${QUIET_WAIT_BUDGET_MS / 1000} s in all at most) for other processes to go under ${QUIET_OTHER_PERCENT}%; rows where they were above ${QUIET_OTHER_PERCENT}% during the measurement are marked noisy.`,
	];
	const skipped = rows.filter((r) => r.skipped || (r.failed && r.scenario === undefined));
	const md = [
		"# Tributary bench",
		"",
		`${info.date} · ${info.cpuModel} ×${info.nproc} · ${info.memoryGiB} GiB · node ${info.node} · wrangler ${info.wrangler} · miniflare ${info.miniflare} · workerd ${info.workerd} · commit ${info.gitCommit}${info.srcUncommittedFiles ? ` + ${info.srcUncommittedFiles} uncommitted changes in src/` : ""} · src snapshot ${snapshot.srcHash}`,
		"",
		`Each scenario: ${WARMUP_MS} ms warm-up, then ${DURATION_MS} ms measured. Total bench time ${totalSeconds} s, of which ${round(quietWaitMs / 1000, 1)} s waiting for other processes to go quiet; ${noisyRows} of ${measuredRows} rows measured while they were busy (noisy).`,
		"",
		mainTable,
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
			runtimes: RUNTIMES,
		},
		startupMs: startups,
		serverTrouble: troubles,
		totalSeconds,
		results: sorted,
	};
	await writeFile(join(RESULTS, "latest.json"), `${JSON.stringify(json, null, "\t")}\n`);
	await writeFile(join(RESULTS, "latest.md"), md);
	console.log(`\n${mainTable}\n\n${detail}\n`);
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
