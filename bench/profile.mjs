// @ts-check
/**
 * `npm run bench:profile -- <shape> [seconds]`: where the Worker's CPU goes under one of the bench's loads. Starts
 * Tributary on Miniflare (the bench's bundle path) with workerd's DevTools inspector open, runs the load, and takes
 * a sampling CPU profile of the Worker's isolate over the measured window through the inspector protocol. The edge
 * and every Durable Object of the Worker run in that one isolate, so one profile covers both sides of each hop.
 *
 * Prints the functions with the most self time (and their share of all samples, idle included), then inclusive time
 * per record by side of each hop (edge, partition object, other objects, the runtime's own work: see
 * lib/profile-split.mjs) and the costliest native calls with their callers, and writes the whole profile as a
 * .cpuprofile (open it in Chrome DevTools' Performance panel, or speedscope).
 *
 * Shapes: `small` (32 clients × 1 record of 1 KiB per request), `batch` (1 client × 100 records; `batch-producer`
 * and `batch-key` as an idempotent producer or with an `Idempotency-Key`, as the idempotence rows; `batch-keyed` with
 * a key and two headers on each record, as produce-keyed-1c-1p), `fetch` (fetch-1c-1p: 1 client
 * paging 1,000 records through 20,000, more than the batch cache holds, with the bench's own prefill, request and
 * reader thread; PROFILE_FETCH_REQUESTS=50 prefills 5,000, which it holds, as fetch-tail-1c-1p), `healthz` (32 clients on GET /healthz: the edge's fixed cost per request), `stream` and
 * `stream-ndjson` (1 client on the streaming produce channel, one 1 KiB record per message, the bench's window;
 * `stream-array`: the WebSocket with `?reports=array`),
 * `group` (the group-4m-4p scenario: 4 members poll 500 + commit with the next poll over 4 partitions; sampling
 * starts after its backlog fill, when the members join; the backlog lasts the window at GROUP_RATE_MAX_PER_SEC, its
 * fill stopped early on a busy machine, or PROFILE_GROUP_BACKLOG=<records>), `group-partitions` (the same, polls laid out by partition),
 * `group-fetch` (the group rows' plain-fetch reference: 4 clients each paging 500 records of one partition of such a
 * backlog, from its middle on, so its reads come from SQLite as the group's do; `fetch` pages a backlog the batch
 * cache mostly holds, and its partition object's share is no reference for a group's). `fetch`, for one (load ~4,
 * 4.0 µs of busy isolate a record): the partition object 35 % of the busy time (the body's `new Blob` 20 %, the read
 * 15 %, of which SQL 11 %: the 0.3 of batches the cache does not hold, rows of ~114 KB read by key), the edge 29 %
 * (the Response 8 %), the runtime with no script frame 35 % (GC 4 %). A shape may also be named by the bench's id of its
 * scenario (`SCENARIO_SHAPES`: group-4m-4p is `group`, produce-1c-1p `batch`, …), as bench:ab names its shapes.
 *
 * With PROFILE_HEAP=1 it also takes V8's sampling heap profile over the same window and prints the bytes allocated
 * per record by allocating function and caller (collected ones included). stream-array, for one: ~5.7 KB a 1 KiB
 * record, of which 2.2 KB allocated by the runtime through the V8 API (the messages received, the batch the
 * partition is handed), 1.0 KB where the edge calls the partition (the RPC's copy of the batch) and 1.1 KB the
 * stored row's text (`writeRow`'s join); the channel's own objects a few hundred bytes.
 *
 * Not a measurement of throughput: the sampler itself slows the isolate down, and on a loaded machine each sample
 * also carries the time the process waited for a core (samples are spaced by the wall clock): `stream-array` at load
 * ~2 showed 69.6 µs of busy isolate per record against ~27 µs of workerd CPU per record in the bench. Compare shares
 * within one profile, not µs across runs. Use it to find what to cut, then measure the cut with `npm run bench`. Two things it books wrongly, measured without the profiler: `console.log`
 * (the request log line in the `observe` middleware) looks about 90 times its cost, because the inspector session is
 * sent every log line (healthz: 1,413 µs of isolate time per request profiled, 741 without the line; unprofiled the
 * line costs ~8 µs of server CPU, about 1 % of a one-record produce: a bare Worker under 32 clients went from 241 to
 * 318 µs per request with 10 such lines more, 306 with a template string instead of `JSON.stringify`, 358 logging
 * the object itself); and every SQL statement of a metered object shows under
 * src/metrics/reporter.ts, the wrapper that calls it (the wrapper's own frames are ~2 % of a group poll's samples,
 * 5.2 vs 5.4 µs per metered vs bare statement; in a bare workerd, within the spread: bench/metered-shapes.mjs). A
 * third, unexplained: `Response ← createResponseInstance` (Hono's `c.json`) at 5.7 % of produce-1c-1p's busy samples
 * (load ~20), ~560 µs a request, where a bare workerd puts the produce's whole answer at ~34 (bench/answer-shapes.mjs).
 * A fourth: `sync ← durable` (3.9 % of produce-1c-1p's busy samples). In workerd `sync()` only waits for the output
 * gate; the group's COMMIT runs after the JS turn, in the task the implicit transaction opened at its first write
 * schedules. In a bare workerd (bench/profile-booking.mjs, one profile of interleaved calls) an awaited `sync()` was
 * booked 141-227 µs a call with nothing written, 256-293 after a 100 × 1 KiB write (three runs), where awaiting it added nothing
 * beyond the noise to a call's workerd CPU (333 µs bare, 340 awaiting it: partition-log.ts, the commit queue's
 * `durable`): the sampler books it time that is not its own, and it stays, since the commit queue's wait is what
 * groups commits (commit-queue.ts's dropped lead). `transactionSync ← writeGroup` (2.4 %) is its own work: the
 * implicit transaction's BEGIN, a SAVEPOINT and a RELEASE (the last two prepared afresh by workerd); by bench:ab the
 * savepoint costs ~1.3 µs a record of ~38 (bench/ceiling/worker.js), and a group of one append written without it
 * gained ~0.5 (partition-log.ts's writeGroup): it keeps a group all or nothing when a statement throws, which the
 * implicit transaction alone would commit. Compare such items in-process, not by their share here.
 */

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleWorker, descendantCpuSeconds, generateToken, startLocalBroker } from "../scripts/lib/index.mjs";
import { backlogWithin } from "./lib/group-backlog.mjs";
import { groupClient, groupConsumeScenario, openGroupLoad, POLL_RECORDS } from "./lib/group-consume.mjs";
import { createClient } from "./lib/http.mjs";
import { createThreadClient } from "./lib/http-thread.mjs";
import { inspect } from "./lib/inspector.mjs";
import { runLoad } from "./lib/load.mjs";
import { produceLoad } from "./lib/produce-load.mjs";
import { countedSamples, formatSplit, sideSplit, workerTarget } from "./lib/profile-split.mjs";
import { openStream, phase, streamMessages } from "./lib/stream-channel.mjs";
import { fetchStep, prefill } from "./scenarios/fetch.mjs";
import { fetchMeasurement } from "./scenarios/group.mjs";

/**
 * PROFILE_HEAP=1 also samples where the isolate allocates over the window (V8's sampling heap profiler): bytes per
 * record by allocating function, the ones still live at the end included. What a collection then has to sweep.
 */
const HEAP_SAMPLING = process.env.PROFILE_HEAP === "1";
/** Mean bytes between heap samples: V8's default, fine enough for allocations of a few hundred bytes a record. */
const HEAP_SAMPLING_INTERVAL_BYTES = 32_768;
const TOP_ALLOCATORS = 25;

/**
 * @typedef {{ callFrame: { functionName: string, url: string, lineNumber: number }, selfSize: number, children: HeapNode[] }} HeapNode
 */

/**
 * Prints the functions that allocated the most sampled bytes, per record, each with its caller.
 * @param {HeapNode} head
 * @param {number} records
 */
function printAllocations(head, records) {
	/** @type {Map<string, number>} */
	const bytes = new Map();
	let total = 0;
	/** @param {HeapNode} node @param {string} caller */
	const walk = (node, caller) => {
		const name = `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url}:${node.callFrame.lineNumber + 1}`;
		if (node.selfSize > 0) {
			const key = `${name} ← ${caller}`;
			bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
			total += node.selfSize;
		}
		for (const child of node.children) walk(child, node.callFrame.functionName || "(anonymous)");
	};
	walk(head, "");
	console.log(`\nallocated (sampled) bytes per record: ${(total / records).toFixed(0)}; by function ← its caller`);
	for (const [key, n] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, TOP_ALLOCATORS)) {
		console.log(`${(n / records).toFixed(0).padStart(8)}  ${((n / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
	}
}

const SHAPES = [
	"small",
	"batch",
	"batch-producer",
	"batch-key",
	"batch-keyed",
	"fetch",
	"healthz",
	"stream",
	"stream-array",
	"stream-ndjson",
	"group",
	"group-partitions",
	"group-fetch",
];
/** The bench's scenario ids (bench:ab's shapes) of the loads above, which may name them too. */
/** @type {Record<string, string>} */
const SCENARIO_SHAPES = {
	"produce-32c-1r": "small",
	"produce-1c-1p": "batch",
	"produce-keyed-1c-1p": "batch-keyed",
	"idem-producer-1c-1p": "batch-producer",
	"idem-key-1c-1p": "batch-key",
	"fetch-1c-1p": "fetch",
	"stream-ws-array-1p": "stream-array",
	"group-4m-4p": "group",
	"group-4m-4p-partitions": "group-partitions",
};
const WARMUP_MS = 2_000;
/** Microseconds between samples: fine enough for functions that take tens of µs per request. */
const SAMPLING_INTERVAL_US = 100;
const TOP_FUNCTIONS = 40;
/** Produce requests of 100 records that fill the fetch shape's partition. */
const FETCH_PREFILL_REQUESTS = Number(process.env.PROFILE_FETCH_REQUESTS ?? 200);
/**
 * The rate the group shapes' backlog is sized for, records/s: a fixed 300,000 records ran dry within the window on a
 * quiet machine (the group-4m-4p row read ~180,000 records/s in the last full bench, unprofiled; the sampler slows the
 * isolate). The fill stops early on a busy machine, where the group reads slower too (`backlogWithin`);
 * PROFILE_GROUP_BACKLOG=<records> fills that many, however long it takes.
 */
const GROUP_RATE_MAX_PER_SEC = 150_000;
/**
 * The fill's time for each ms of the window, above bench:ab's: one server fills alone here, and at load ~11 it filled
 * 71,040 records in 18 s (3 ms a ms of the window) and its members, profiled, read them at 15,400 records/s: dry 4.6 s
 * into the 6.
 */
const GROUP_FILL_MS_PER_READ_MS = 6;

/**
 * The group shapes' backlog for a window of `durationMs`.
 * @param {number} durationMs
 * @returns {{ records: number } & import("./lib/group-consume.mjs").Fill}
 */
function groupBacklog(durationMs) {
	const fixed = process.env.PROFILE_GROUP_BACKLOG;
	return fixed === undefined ? backlogWithin(GROUP_RATE_MAX_PER_SEC, durationMs, GROUP_FILL_MS_PER_READ_MS) : { records: Number(fixed) };
}

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number, columnNumber: number }, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} Profile
 */

/**
 * Self time per function (name and source position), largest first, as shares of the profile's whole time.
 * @param {Profile} profile
 */
function selfTimes(profile) {
	const { samples, gapUs } = countedSamples(profile);
	/** @type {Map<string, number>} */
	const micros = new Map();
	let total = 0;
	for (const { node, us } of samples) {
		total += us;
		if (node === undefined) continue;
		const { functionName, url, lineNumber } = node.callFrame;
		const where = url === "" ? "" : ` ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
		const name = `${functionName || "(anonymous)"}${where}`;
		micros.set(name, (micros.get(name) ?? 0) + us);
	}
	return { total, gaps: gapUs, rows: [...micros].sort((a, b) => b[1] - a[1]) };
}

/**
 * @typedef {{ records: number, recordsPerSec: number }} LoadResult
 * @typedef {{ starts: () => void, ends: () => void }} Window
 * @typedef {(durationMs: number, window: Window) => Promise<LoadResult>} Load
 */

/**
 * A load that warms up for WARMUP_MS inside its window: sampling starts when the warm-up is over. So the load must
 * start at once (`waitQuiet: false`): a load that first waited for a quiet machine was still waiting, or warming up,
 * when sampling started.
 * @param {(durationMs: number) => Promise<LoadResult>} run
 * @returns {Load}
 */
function warmedUp(run) {
	return (durationMs, window) => {
		setTimeout(window.starts, WARMUP_MS);
		return run(durationMs).finally(window.ends);
	};
}

/**
 * One client on the streaming produce channel of `topic`: a warm-up phase, then the measured one.
 * @param {"websocket" | "ndjson"} via
 * @param {{ url: string, token: string }} server
 * @param {string} topic
 * @param {"message" | "array"} [reports]
 */
async function streamLoad(via, server, topic, reports = "message") {
	const channel = await openStream(via, `${server.url}/v1/topics/${topic}/records/stream`, server.token, reports);
	const messages = streamMessages(1);
	const expect = { nextOffset: 0 };
	return warmedUp(async (durationMs) => {
		await phase(channel, messages, WARMUP_MS, expect);
		const measured = await phase(channel, messages, durationMs, expect);
		await channel.close();
		if (measured.problem !== null) throw new Error(measured.problem);
		return { records: measured.records, recordsPerSec: measured.records / measured.seconds };
	});
}

/**
 * The load of `shape` against `baseUrl`, as a function of the window it runs for and of callbacks it calls when
 * its measured part starts and ends (sampling covers that part only).
 * @param {string} shape
 * @param {ReturnType<typeof createClient>} http
 * @param {{ url: string, token: string }} server
 * @returns {Promise<Load>}
 */
async function loadFor(shape, http, server) {
	const topic = `profile-${shape}`;
	if (shape === "group" || shape === "group-partitions") {
		// The scenario fills its own backlog first; `measure` wraps the joins and the poll loop.
		return async (durationMs, window) => {
			const backlog = groupBacklog(durationMs);
			const result = await groupConsumeScenario({
				baseUrl: server.url,
				token: server.token,
				durationMs,
				backlogRecords: backlog.records,
				fill: backlog,
				layout: shape === "group" ? "records" : "partitions",
				measure: (run) => {
					window.starts();
					return run().finally(window.ends);
				},
			});
			const filled = `backlog ${result.backlogRecords} filled in ${(result.fillMs / 1000).toFixed(1)} s`;
			if (result.drained) console.error(`group: a member ran dry before the window ended (${filled}); set PROFILE_GROUP_BACKLOG higher`);
			else console.log(`group: ${filled}`);
			return { records: result.records, recordsPerSec: result.records / result.seconds };
		};
	}
	if (shape === "group-fetch") {
		return async (durationMs, window) => {
			const api = groupClient(server.url, server.token);
			// The group's topic and backlog; no member joins.
			const backlog = groupBacklog(WARMUP_MS + durationMs);
			const setup = await openGroupLoad(api, { backlogRecords: backlog.records, fill: backlog });
			try {
				const perPartition = setup.backlogRecords / setup.partitions;
				const { measurement, check } = fetchMeasurement(api.http, setup.topic, perPartition, POLL_RECORDS);
				await measurement.warmUp(WARMUP_MS);
				window.starts();
				const result = await measurement.measure(durationMs).finally(window.ends);
				const failed = check();
				if (failed.length > 0) throw new Error(`group-fetch: ${failed[0]}`);
				return { records: result.records, recordsPerSec: result.recordsPerSec };
			} finally {
				await setup.tearDown();
			}
		};
	}
	if (shape === "healthz") {
		return warmedUp((durationMs) =>
			runLoad({
				clients: 32,
				warmupMs: WARMUP_MS,
				durationMs,
				serverCpu: descendantCpuSeconds,
				waitQuiet: false,
				step: async () => {
					const response = await http.request("GET", "/healthz");
					return { status: response.status, sentBytes: 0, receivedBytes: response.receivedBytes, records: 1 };
				},
			}),
		);
	}
	await http.json("POST", "/v1/topics", { name: topic, partitions: 1 }, [201]);
	if (shape.startsWith("stream")) {
		return streamLoad(shape === "stream-ndjson" ? "ndjson" : "websocket", server, topic, shape === "stream-array" ? "array" : "message");
	}
	if (shape === "fetch") {
		// The bench's own prefill and page request (max_bytes, next_offset followed, the first page checked), in
		// the bench's own reader thread (lib/http-thread.mjs), so the client takes no core from the isolate's.
		const backlog = FETCH_PREFILL_REQUESTS * 100;
		await prefill(http, topic, backlog);
		const reader = createThreadClient(server.url, { token: server.token, sockets: 1 });
		const cursor = { offset: 0, checked: false, check: /** @type {string[]} */ ([]) };
		const step = fetchStep(reader, topic, cursor, backlog);
		return warmedUp(async (durationMs) => {
			try {
				const result = await runLoad({
					clients: 1,
					warmupMs: WARMUP_MS,
					durationMs,
					serverCpu: descendantCpuSeconds,
					waitQuiet: false,
					step,
				});
				if (cursor.check.length > 0) throw new Error(`fetch: ${cursor.check[0]}`);
				return result;
			} finally {
				await reader.close();
			}
		});
	}
	// batch-producer and batch-key: the batch load as the idempotence rows send it (see scenarios/idempotence.mjs).
	const variant = { "batch-producer": "producer", "batch-key": "idempotency-key" }[shape] ?? "plain";
	const scenario =
		shape === "small"
			? { id: topic, clients: 32, partitions: 1, perRequest: 1 }
			: { id: topic, clients: 1, partitions: 1, variant, records: shape === "batch-keyed" ? "keyed" : "plain" };
	const load = await produceLoad(http, "tributary", /** @type {any} */ (scenario), topic, 1);
	return warmedUp((durationMs) => load.window(WARMUP_MS, durationMs, { waitQuiet: false }));
}

async function main() {
	const named = process.argv[2] ?? "small";
	const shape = SCENARIO_SHAPES[named] ?? named;
	const seconds = Number(process.argv[3] ?? 6);
	if (!SHAPES.includes(shape) || !(seconds > 0)) {
		console.error(`usage: npm run bench:profile -- <${[...SHAPES, ...Object.keys(SCENARIO_SHAPES)].join("|")}> [seconds]`);
		process.exit(2);
	}
	const token = generateToken();
	const persistTo = join(tmpdir(), `tributary-profile-${process.pid}`);
	// Unminified, so the profile names functions and source lines (the bench measures the minified bundle).
	const scriptPath = await bundleWorker({ outdir: join(persistTo, "bundle"), minify: false });
	const broker = await startLocalBroker({ token, port: 0, persistTo, scriptPath, quiet: true, captureOutput: true, inspectorPort: 0 });
	try {
		const http = createClient(broker.url, { token, sockets: 32 });
		const run = await loadFor(shape, http, { url: broker.url, token });
		const session = await inspect(/** @type {number} */ (broker.inspectorPort), (targets) => workerTarget(targets));
		await session.send("Profiler.enable");
		await session.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
		// The warm-up (or a backlog fill) and the teardown run unprofiled: sampling covers the measured part.
		const window = { starts: () => {}, ends: () => {} };
		const started = new Promise((resolve) => {
			window.starts = () => resolve(undefined);
		});
		const ended = new Promise((resolve) => {
			window.ends = () => resolve(undefined);
		});
		const loading = run(seconds * 1000, window);
		await Promise.race([started, loading]);
		await session.send("Profiler.start");
		if (HEAP_SAMPLING) {
			await session.send("HeapProfiler.enable");
			await session.send("HeapProfiler.startSampling", {
				samplingInterval: HEAP_SAMPLING_INTERVAL_BYTES,
				// Every allocation counts, not only what is still live when sampling stops.
				includeObjectsCollectedByMajorGC: true,
				includeObjectsCollectedByMinorGC: true,
			});
		}
		await Promise.race([ended, loading]);
		/** @type {{ profile: Profile }} */
		const { profile } = await session.send("Profiler.stop");
		/** @type {{ profile: { head: HeapNode } } | null} */
		const heap = HEAP_SAMPLING ? await session.send("HeapProfiler.stopSampling") : null;
		const result = await loading;
		session.close();
		const path = join(tmpdir(), `tributary-${shape}-${Date.now()}.cpuprofile`);
		writeFileSync(path, JSON.stringify(profile));
		const { total, gaps, rows } = selfTimes(profile);
		if (gaps > 0) console.log(`left out: ${(gaps / 1e6).toFixed(1)} s of gaps between samples (the sampler starved)`);
		const idle = rows.find(([name]) => name.startsWith("(idle)"))?.[1] ?? 0;
		const perUnit = result.records > 0 ? ((total - idle) / result.records).toFixed(1) : "?";
		console.log(
			`${shape}: ${Math.round(result.recordsPerSec)} records/s under the profiler; isolate busy ${(((total - idle) / total) * 100).toFixed(1)} % of ${(total / 1e6).toFixed(1)} s, ${perUnit} µs per record`,
		);
		console.log(`profile: ${path}\n`);
		console.log("self µs    share  function");
		for (const [name, us] of rows.slice(0, TOP_FUNCTIONS)) {
			console.log(`${String(Math.round(us)).padStart(9)}  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}`);
		}
		if (result.records > 0) console.log(`\n${formatSplit(sideSplit(profile, readFileSync(scriptPath, "utf8")), result.records)}`);
		if (heap !== null && result.records > 0) printAllocations(heap.profile.head, result.records);
	} finally {
		await broker.dispose();
		rmSync(persistTo, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
	process.exit(1);
});
