// @ts-check
/**
 * `npm run bench:ab -- [A] [B]`: which of two builds costs the server less CPU per record under one load shape,
 * `AB_SHAPE` (default produce-32c-1r: 32 closed-loop clients, one 1 KiB record per request, one partition; also
 * produce-1c-1p: one client, 100 × 1 KiB per request; produce-4c-1p: the same from 4 clients; produce-keyed-1c-1p:
 * one client with a key and two headers on each record; idem-producer-1c-1p and idem-key-1c-1p: the same as an
 * idempotent producer, or with an Idempotency-Key per request; fetch-1c-1p: one client paging 1,000 records at a time through
 * a prefilled partition, mostly from SQLite; fetch-tail-1c-1p: the same through a backlog the batch cache holds, from
 * memory; stream-ws-array-1p: the WebSocket produce channel, one record per message; group-4m-4p: 4
 * members of one group polling 500 records over 4 partitions, each commit carried by the member's next poll;
 * group-4m-4p-partitions: the same with polls laid out by partition; group-4m-4p-commit-request: the same with each
 * commit a request of its own; see AB_SHAPES in lib/ab.mjs). Each
 * shape is the bench scenario of that id, driven by the bench's own load code. A and B are git refs
 * or `.` (the working tree, uncommitted edits included); default `main` against `.`; the same build twice
 * (`-- . .`) is an A/A run, the noise floor to read a difference against.
 *
 * Why not two bench runs one after the other: on a shared 2-core machine the load of other processes drifts by more
 * than the few µs a change to the edge saves, so sequential pairs could not resolve ~20 µs a request. Here both
 * builds are served at once (each its own workerd through Miniflare, as the bench serves Tributary), each gets the
 * same load over the same seconds (every request, or streamed message, goes to both, and the next waits for both
 * answers), and each workerd's own CPU is counted: whatever the machine does in that window it does to both. Every
 * round starts both servers afresh (in alternating order, on fresh data) and gives one difference; the summary is
 * their median and spread, in server CPU µs per record (for produce-32c-1r, per request).
 *
 * What an A/A run gave on this 2-core machine with other work on it (load 3-7), B − A median (min to max) against
 * the per-record figure: produce-1c-1p −0.67 µs (−1.7 to +0.75; 8 rounds) of ~40; fetch-1c-1p −0.28 (−0.45 to
 * +0.01; 4 rounds) of ~7 (−0.01, −0.02 to +0.07 in 4 rounds of ~2.6 with its pages read in a thread of their own);
 * fetch-tail-1c-1p +0.02 (−0.61 to +0.19, four of 5 rounds within ±0.03) of ~3.7; stream-ws-array-1p +0.25 (−0.4 to
 * +2.1; 4 rounds) of ~50; group-4m-4p −0.13 (−0.58 to +0.70; 6 rounds) of ~9.5 (−0.04, −0.04 to +0.07 in 4 rounds of
 * ~5.1 once the members' client ran in a thread of its own and the backlog lasted the window);
 * group-4m-4p-commit-request −0.19 (−0.60 to +0.31; 6 rounds) of ~9.4. A change smaller than that spread needs more
 * rounds than a session has, or a quieter machine. The group shapes' figure swings with
 * their rate (8.3 µs at 37,000 records/s a build, 12.6 at 9,600, in one run): a poll's fixed costs are spread over
 * fewer records when the machine is busy, so read a group difference against its round, not across rounds. Their
 * latencies are as noisy: A/A medians of the rounds' poll p99 were 209 and 160 ms (group-4m-4p), and one round's
 * commit p50 differed by −0.6 to +0.7 ms (group-4m-4p-commit-request, ~15 ms).
 *
 * Not the disk: each build keeps its storage under os.tmpdir() (lib/session.mjs), and produce-32c-1r's group commit
 * waits on it, so `TMPDIR=/dev/shm` (tmpfs) was tried for its A/A spread. Four A/A runs of 4 rounds in one quarter
 * hour (disk, tmpfs, tmpfs, disk; load 7-11): on disk −23.4, +0.4, +5.8, −59.9 µs of ~1,200 a request (83-104
 * requests/s a build) and +3.8, −13.9, −78.0, +1.1 of ~960 (189-231); on tmpfs −22.5, 0.0, +43.5, +31.8 of ~1,250
 * (108-170) and −64.9, 0.0, +46.4, −33.4 of ~970 (99-161). tmpfs did not narrow it (ranges 66 and 111 against 66 and
 * 82), nor did it raise the rate beyond what the load did: at these loads the spread is the CPU the builds share with
 * other work, not the disk. Either serves a CPU cut; `TMPDIR=/dev/shm npm run bench:ab` needs no option.
 *
 * Knobs: AB_SHAPE, AB_ROUNDS (6), AB_DURATION_MS (8000), AB_WARMUP_MS (2000), AB_RECORDS_PER_PRODUCE (the produce
 * shapes' records per request; by default the scenario's: 100, or 1 for produce-32c-1r), AB_GROUP_BACKLOG (records per
 * build for the group shapes; by default what lasts the warm-up and the window at GROUP_RATE_MAX_PER_SEC, its fill
 * stopped early on a busy machine: see `backlogWithin` in lib/group-backlog.mjs). Prints a line per round and the
 * summary (the group shapes add each round's backlog and fill time, and each build's poll and commit-request latency
 * p50/p99); writes nothing.
 *
 * AB_UNCOUPLED=1 (group shapes): each build's members loop on their own instead of every step waiting for both builds,
 * and each round also gives each build's records/s and how busy its server was; the summary adds B's records/s as a
 * percentage of A's. A paired step cannot show a change in how long a poll waits (a commit's storage write, a shared
 * turn) as opposed to the CPU it costs: the slower build sets both builds' pace. The bench's group ÷ fetch is a ratio
 * of records/s, and in the last full run the group's server was busy 92 % of the window against its fetch's 110 %
 * (group-4m-4p): part of the gap is waiting, which only an uncoupled round measures. The two builds still share the
 * machine, so a faster one takes CPU from the other: read B − A against an A/A run of the same mode.
 * Every acknowledged record is checked as the bench checks it: produced records in their log afterwards, fetched
 * pages dense, streamed reports dense and in order (and the same on both builds), each poll's records the next of
 * their partitions, both builds' polls as many records, and each group's committed offsets adding up to what it polled.
 */

import { execFileSync } from "node:child_process";
import { cp, rm, symlink } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { bundleWorker, descendants, startLocalBroker, threadCpuSeconds } from "../scripts/lib/index.mjs";
import {
	abBuilds,
	abScenario,
	abShape,
	cpuMicrosPerRecord,
	latencyTally,
	pairChannels,
	pairCursors,
	pairSteps,
	summarize,
	summarizeRates,
	talliedCursor,
	WORKING_TREE,
} from "./lib/ab.mjs";
import { backlogWithin } from "./lib/group-backlog.mjs";
import { consume, groupClient, memberCursor, setUpGroups } from "./lib/group-consume.mjs";
import { createClient } from "./lib/http.mjs";
import { createThreadClient } from "./lib/http-thread.mjs";
import { latencySummary, median, round, runLoad } from "./lib/load.mjs";
import { produceLoad } from "./lib/produce-load.mjs";
import { holdServer, isInterrupted, runSession, tempDir } from "./lib/session.mjs";
import { DISTINCT_MESSAGES, openStream, phase, streamMessages } from "./lib/stream-channel.mjs";
import { fetchStep, prefill } from "./scenarios/fetch.mjs";
import { groupLoad } from "./scenarios/group.mjs";
import { SCENARIOS } from "./scenarios/index.mjs";
import { KEEP_TMP, PREFILL_RECORDS, ROOT, TOKEN } from "./settings.mjs";

const ROUNDS = Number(process.env.AB_ROUNDS ?? 6);
const DURATION_MS = Number(process.env.AB_DURATION_MS ?? 8_000);
const WARMUP_MS = Number(process.env.AB_WARMUP_MS ?? 2_000);
/** Group shapes: each build's members on their own (see the module comment). */
const UNCOUPLED = process.env.AB_UNCOUPLED === "1";
const SHAPE = abShape(process.env.AB_SHAPE);
/** The shape's bench scenario; a produce shape's records per request from AB_RECORDS_PER_PRODUCE, if set. */
const SCENARIO = abScenario(SHAPE, SCENARIOS, process.env.AB_RECORDS_PER_PRODUCE);
/**
 * The rate a group shape's backlog is sized for, each build's, with both served at once: it lasts the warm-up and
 * the window at that rate (bench/lib/group-backlog.mjs's backlogFor). group-4m-4p read 83,000–108,000 records/s a
 * build in the last runs, its members' client in a thread of its own (at 50,000 a member ran dry 4.6–6.5 s into
 * the 10); a faster round runs dry early and says so (its CPU per record still holds: every member was busy until
 * then). Both builds' backlogs are filled together, and the fill stops early on a busy machine (`backlogWithin`):
 * sized for the quiet machine's rate, it took a loaded one minutes a round.
 */
const GROUP_RATE_MAX_PER_SEC = 110_000;
/** AB_GROUP_BACKLOG: that many records, however long their fill takes. */
const GROUP_BACKLOG =
	process.env.AB_GROUP_BACKLOG === undefined
		? backlogWithin(GROUP_RATE_MAX_PER_SEC, WARMUP_MS + DURATION_MS)
		: { records: Number(process.env.AB_GROUP_BACKLOG) };
/** What a build is made from; the console's assets come from this checkout (no API request reaches them). */
const BUILD_FILES = ["src", "wrangler.toml", "tsconfig.json", "package.json"];

/**
 * @typedef {{ name: string, label: string, dir: string, scriptPath: string }} Build
 */

/**
 * Copies `source` (a git ref, or the working tree) where it can be bundled, with this checkout's node_modules. Both
 * builds are copied before either is bundled, so an edit made while the first bundles reaches neither.
 * @param {string} source
 * @param {string} name  "A" or "B"
 * @returns {Promise<Omit<Build, "scriptPath">>}
 */
async function snapshotBuild(source, name) {
	const dir = await tempDir(`ab-${name}`);
	const git = (/** @type {string[]} */ ...args) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
	let label = `${name} = working tree (${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "src").length > 0 ? " + edits" : ""})`;
	if (source === WORKING_TREE) {
		for (const file of BUILD_FILES) await cp(join(ROOT, file), join(dir, file), { recursive: true });
	} else {
		const archive = join(await tempDir(`ab-${name}-archive`), "build.tar");
		git("archive", "--format=tar", "-o", archive, source, ...BUILD_FILES);
		execFileSync("tar", ["-xf", archive, "-C", dir]);
		label = `${name} = ${source} (${git("rev-parse", "--short", source)})`;
		if (git("diff", "--name-only", source, "--", "package-lock.json") !== "") {
			console.error(
				`warning: ${source}'s package-lock.json differs from this checkout's; ${name} is bundled with this checkout's node_modules`,
			);
		}
	}
	await cp(join(ROOT, "console", "dist"), join(dir, "console", "dist"), { recursive: true });
	await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
	return { name, label, dir };
}

/**
 * Serves `build` on a fresh Miniflare (fresh data) and finds its workerd, whose CPU is the server's.
 * @param {Build} build
 */
async function serve(build) {
	const before = new Set(descendants(process.pid).map((p) => p.pid));
	const persistTo = await tempDir(`ab-${build.name}-data`);
	const broker = await startLocalBroker({
		root: build.dir,
		scriptPath: build.scriptPath,
		token: TOKEN,
		port: 0,
		persistTo,
		quiet: true,
		captureOutput: true,
	});
	const held = holdServer(broker.dispose);
	const workerd = descendants(process.pid).filter((p) => !before.has(p.pid) && p.name === "workerd");
	if (workerd.length !== 1) throw new Error(`expected one new workerd for ${build.name}, found ${workerd.length}`);
	const pid = /** @type {{ pid: number }} */ (workerd[0]).pid;
	const http = createClient(broker.url, { token: TOKEN, sockets: SCENARIO.clients ?? 1 });
	return {
		url: broker.url,
		http,
		cpuSeconds: () => threadCpuSeconds(pid),
		async stop() {
			http.close();
			await held.release();
			// A group round's backlog is ~1 GB a build: gone with its round rather than at the end of the run.
			if (!KEEP_TMP) await rm(persistTo, { recursive: true, force: true });
		},
	};
}

/**
 * @typedef {Awaited<ReturnType<typeof serve>>} Served
 * @typedef {{ poll: import("./lib/load.mjs").LatencySummary, commit: import("./lib/load.mjs").LatencySummary | null }} Latency
 * @typedef {{ cpuSeconds: number[], records: number, recordsPerSec: number, latency?: Latency[], note?: string, own?: Own[] }} Measured
 *   each server's CPU over the measured window, and the records each was sent in it; the group shapes add each
 *   server's poll and commit-request latencies, and a note of the backlog (its size, its fill's time, when a member
 *   ran dry and cut the window short); uncoupled (`own`), each
 *   server's own records, rate and busy share
 * @typedef {{ records: number, recordsPerSec: number, busy: number }} Own
 */

/**
 * A closed-loop load whose every request goes to all servers at once (pairSteps); each workerd's CPU over the
 * measured window, read where runLoad reads the server's: at its start and its end.
 * @param {Served[]} servers
 * @param {import("./lib/load.mjs").Step[]} steps  one per server
 * @returns {Promise<Measured>}
 */
async function pairedLoad(servers, steps) {
	/** @type {number[][]} each server's CPU seconds, at every reading */
	const readings = [];
	const serverCpu = () => {
		const now = servers.map((s) => s.cpuSeconds());
		readings.push(now);
		return now.reduce((sum, x) => sum + x, 0);
	};
	const result = await runLoad({
		clients: SCENARIO.clients ?? 1,
		warmupMs: WARMUP_MS,
		durationMs: DURATION_MS,
		step: pairSteps(steps),
		serverCpu,
		waitQuiet: false,
	});
	if (result.aborted) throw new Error(`the load failed: ${JSON.stringify(result.errorSamples)}`);
	const cpuSeconds = servers.map((_, i) => (readings.at(-1)?.[i] ?? Number.NaN) - (readings[0]?.[i] ?? Number.NaN));
	return { cpuSeconds, records: result.records, recordsPerSec: result.recordsPerSec };
}

/**
 * The produce shapes (bench/lib/produce-load.mjs); afterwards every acknowledged record must be in each log.
 * @param {Served[]} servers
 * @param {number} seed
 */
async function produceRound(servers, seed) {
	const topic = `ab-${SCENARIO.id}`;
	const loads = [];
	for (const s of servers) {
		await s.http.json("POST", "/v1/topics", { name: topic, partitions: SCENARIO.partitions }, [201]);
		loads.push(await produceLoad(s.http, "tributary", SCENARIO, topic, seed));
	}
	const measured = await pairedLoad(
		servers,
		loads.map((load) => load.step),
	);
	for (const load of loads) {
		const verdict = await load.verify();
		if (verdict !== "ok") throw new Error(verdict.join("; "));
	}
	return measured;
}

/**
 * The fetch shapes (bench/scenarios/fetch.mjs): each server's partition prefilled alike (fetch-1c-1p's backlog is
 * more than the batch cache holds, fetch-tail-1c-1p's a third of it: pages from memory), then paged by one client
 * through the backlog, wrapping at its end; each first page is checked in full, every page's next offset on the way.
 * @param {Served[]} servers
 */
async function fetchRound(servers) {
	const topic = `ab-${SCENARIO.id}`;
	const backlog = /** @type {number} */ (SCENARIO.backlog ?? PREFILL_RECORDS);
	const cursors = servers.map(() => ({ offset: 0, checked: false, check: /** @type {string[]} */ ([]) }));
	for (const s of servers) {
		await s.http.json("POST", "/v1/topics", { name: topic, partitions: SCENARIO.partitions }, [201]);
		await prefill(s.http, topic, backlog);
	}
	// Pages are read in a thread of their own, as the bench's fetch rows read them (lib/http-thread.mjs).
	const readers = servers.map((s) => createThreadClient(s.url, { token: TOKEN, sockets: 1 }));
	let measured;
	try {
		measured = await pairedLoad(
			servers,
			servers.map((_, i) =>
				fetchStep(
					/** @type {(typeof readers)[number]} */ (readers[i]),
					topic,
					/** @type {(typeof cursors)[number]} */ (cursors[i]),
					backlog,
				),
			),
		);
	} finally {
		for (const reader of readers) await reader.close();
	}
	const problems = cursors.flatMap((c) => c.check);
	if (problems.length > 0) throw new Error(problems.join("; "));
	return measured;
}

/**
 * The streaming shape (bench/lib/stream-channel.mjs): one channel per server, each message sent on both and
 * acknowledged once both reported it (pairChannels); every report's offset is checked, dense and in order.
 * @param {Served[]} servers
 * @param {number} seed
 * @returns {Promise<Measured>}
 */
async function streamRound(servers, seed) {
	const topic = `ab-${SCENARIO.id}`;
	const channels = [];
	for (const s of servers) {
		await s.http.json("POST", "/v1/topics", { name: topic, partitions: SCENARIO.partitions }, [201]);
		const via = /** @type {"websocket" | "ndjson"} */ (SCENARIO.via);
		const reports = /** @type {"message" | "array" | undefined} */ (SCENARIO.reports);
		channels.push(await openStream(via, `${s.url}/v1/topics/${topic}/records/stream`, TOKEN, reports));
	}
	const channel = pairChannels(channels);
	try {
		const messages = streamMessages(seed * DISTINCT_MESSAGES);
		const expect = { nextOffset: 0 };
		const warm = await phase(channel, messages, WARMUP_MS, expect);
		if (warm.problem !== null) throw new Error(warm.problem);
		const before = servers.map((s) => s.cpuSeconds());
		const m = await phase(channel, messages, DURATION_MS, expect);
		const cpuSeconds = servers.map((s, i) => s.cpuSeconds() - (before[i] ?? Number.NaN));
		if (m.problem !== null) throw new Error(m.problem);
		return { cpuSeconds, records: m.records, recordsPerSec: Math.round(m.records / m.seconds) };
	} finally {
		await channel.close();
	}
}

/**
 * The group shapes (bench/lib/group-consume.mjs, loaded as bench/scenarios/group.mjs loads them): each build's topic
 * filled with the same backlog and the same 4 members joined; then each member's step polls (and commits) on both
 * builds at once and waits for both (pairCursors), for the warm-up and then the window. Each poll's records are
 * checked to start at the next offset of their partitions, both builds' polls must return as many records, and
 * afterwards each build's committed offsets must add up to what it polled.
 * @param {({ build: Build } & Served)[]} servers
 * @returns {Promise<Measured>}
 */
async function groupRound(servers) {
	const { commitWith, pollRecords, layout } = groupLoad(SCENARIO.id);
	const apis = servers.map((s) => groupClient(s.url, TOKEN));
	try {
		const setups = await setUpGroups(apis, GROUP_BACKLOG);
		for (const setup of setups) await setup.join();
		const cursors = setups.map((setup, i) =>
			setup.members.map((member) =>
				memberCursor(/** @type {(typeof apis)[number]} */ (apis[i]), { ...setup, member, commitWith, pollRecords, layout }),
			),
		);
		if (UNCOUPLED) return await uncoupledGroup(servers, setups, cursors);
		const tally = latencyTally(servers.length);
		const paired = (cursors[0] ?? []).map((_, m) =>
			pairCursors(
				cursors.map((c) => /** @type {(typeof c)[number]} */ (c[m])),
				tally,
			),
		);
		const warm = await consume(paired, WARMUP_MS, { finish: false });
		if (warm.drained) throw ranDryWarming(setups);
		const before = servers.map((s) => s.cpuSeconds());
		tally.keep = true;
		const m = await consume(paired, DURATION_MS, { finish: false });
		const cpuSeconds = servers.map((s, i) => s.cpuSeconds() - (before[i] ?? Number.NaN));
		tally.keep = false;
		for (const cursor of paired) await cursor.finish();
		for (const [i, setup] of setups.entries()) {
			const polled = (cursors[i] ?? []).reduce((sum, c) => sum + c.polled, 0);
			const committed = await setup.committed();
			if (committed !== polled)
				throw new Error(`${servers[i]?.build.name}: polled ${polled} records; the group's committed offsets add up to ${committed}`);
		}
		const latency = latencies(tally, servers.length);
		const note = backlogNote(setups, m.drained ? [m.seconds] : []);
		return { cpuSeconds, records: m.records, recordsPerSec: Math.round(m.records / m.seconds), latency, note };
	} finally {
		for (const api of apis) api.close();
	}
}

/**
 * A group round's backlog (the same on both builds), how long its fill took, and when a member ran dry (`drySeconds`,
 * each build's that did).
 * @param {import("./lib/group-consume.mjs").GroupSetup[]} setups @param {number[]} drySeconds
 */
function backlogNote(setups, drySeconds) {
	const { backlogRecords, fillMs } = /** @type {import("./lib/group-consume.mjs").GroupSetup} */ (setups[0]);
	const dry = drySeconds.length > 0 ? `, a member ran dry after ${drySeconds.map((s) => s.toFixed(1)).join(" and ")} s` : "";
	return `backlog ${backlogRecords} filled in ${(fillMs / 1000).toFixed(1)} s${dry}`;
}

/** @param {import("./lib/group-consume.mjs").GroupSetup[]} setups */
function ranDryWarming(setups) {
	const { backlogRecords, fillMs } = /** @type {import("./lib/group-consume.mjs").GroupSetup} */ (setups[0]);
	return new Error(
		`the ${backlogRecords}-record backlog (filled in ${(fillMs / 1000).toFixed(1)} s) ran dry in the warm-up: set AB_GROUP_BACKLOG higher`,
	);
}

/**
 * Each build's poll and commit-request latency figures from the tally.
 * @param {import("./lib/ab.mjs").LatencyTally} tally @param {number} builds
 * @returns {Latency[]}
 */
function latencies(tally, builds) {
	const summary = (/** @type {number[]} */ ms) => (ms.length === 0 ? null : latencySummary([...ms].sort((a, b) => a - b)));
	return Array.from({ length: builds }, (_, i) => ({
		poll: /** @type {import("./lib/load.mjs").LatencySummary} */ (summary(tally.pollMs[i] ?? [])),
		commit: summary(tally.commitMs[i] ?? []),
	}));
}

/**
 * `groupRound`'s window with each build's members on their own (AB_UNCOUPLED): both builds' loops run over the same
 * seconds, each at its own pace; the same checks afterwards.
 * @param {({ build: Build } & Served)[]} servers
 * @param {import("./lib/group-consume.mjs").GroupSetup[]} setups
 * @param {ReturnType<typeof memberCursor>[][]} cursors  each build's members
 * @returns {Promise<Measured>}
 */
async function uncoupledGroup(servers, setups, cursors) {
	const tally = latencyTally(servers.length);
	const tallied = cursors.map((c, i) => c.map((cursor) => talliedCursor(cursor, tally, i)));
	const warm = await Promise.all(tallied.map((c) => consume(c, WARMUP_MS, { finish: false })));
	if (warm.some((w) => w.drained)) throw ranDryWarming(setups);
	const before = servers.map((s) => s.cpuSeconds());
	tally.keep = true;
	const windows = await Promise.all(tallied.map((c) => consume(c, DURATION_MS, { finish: false })));
	const cpuSeconds = servers.map((s, i) => s.cpuSeconds() - (before[i] ?? Number.NaN));
	tally.keep = false;
	for (const c of cursors) for (const cursor of c) await cursor.finish();
	for (const [i, setup] of setups.entries()) {
		const polled = (cursors[i] ?? []).reduce((sum, c) => sum + c.polled, 0);
		const committed = await setup.committed();
		if (committed !== polled)
			throw new Error(`${servers[i]?.build.name}: polled ${polled} records; the group's committed offsets add up to ${committed}`);
	}
	const own = windows.map((w, i) => ({
		records: w.records,
		recordsPerSec: Math.round(w.records / w.seconds),
		busy: (cpuSeconds[i] ?? Number.NaN) / w.seconds,
	}));
	const note = backlogNote(
		setups,
		windows.filter((w) => w.drained).map((w) => w.seconds),
	);
	return {
		cpuSeconds,
		records: Math.min(...own.map((o) => o.records)),
		recordsPerSec: 0,
		latency: latencies(tally, servers.length),
		own,
		note,
	};
}

/** @type {Record<string, (servers: ({ build: Build } & Served)[], seed: number) => Promise<Measured>>} */
const DRIVERS = { produce: produceRound, fetch: fetchRound, streaming: streamRound, group: groupRound };

/**
 * One round: both builds served (started in `order`), on fresh data, under one load that reaches both at once.
 * @param {Build[]} order
 * @param {number} seed
 * @returns {Promise<{ micros: Record<string, number>, recordsPerSec: number, latency: Record<string, Latency>, note?: string, own: Record<string, Own> }>}
 *   µs of server CPU per record by build name, the records/s each got, (group shapes) each build's latencies, and
 *   (uncoupled) each build's own records, rate and busy share
 */
async function runRound(order, seed) {
	/** @type {({ build: Build } & Served)[]} */
	const servers = [];
	try {
		for (const build of order) servers.push({ build, ...(await serve(build)) });
		const measured = await /** @type {(typeof DRIVERS)[string]} */ (DRIVERS[SHAPE.driver])(servers, seed);
		/** @type {Record<string, number>} */
		const micros = {};
		/** @type {Record<string, Latency>} */
		const latency = {};
		/** @type {Record<string, Own>} */
		const own = {};
		for (const [i, s] of servers.entries()) {
			const mine = measured.own?.[i];
			if (mine !== undefined) own[s.build.name] = mine;
			const perRecord = cpuMicrosPerRecord(measured.cpuSeconds[i] ?? Number.NaN, mine?.records ?? measured.records);
			if (perRecord === null) throw new Error(`${s.build.name}: no server CPU figure (is there a /proc?)`);
			micros[s.build.name] = perRecord;
			const l = measured.latency?.[i];
			if (l !== undefined) latency[s.build.name] = l;
		}
		return { micros, recordsPerSec: measured.recordsPerSec, latency, note: measured.note, own };
	} finally {
		for (const s of servers) await s.stop();
	}
}

/**
 * The group shapes' latencies of one round, per build: polls' (and commit requests') p50/p99 in ms.
 * @param {Record<string, Latency>} latency
 */
function latencyLine(latency) {
	const pair = (/** @type {import("./lib/load.mjs").LatencySummary | null} */ l) =>
		l === null ? "" : `${l.p50.toFixed(1)}/${l.p99.toFixed(1)}`;
	const kinds = /** @type {const} */ (["poll", "commit"]).filter((kind) => Object.values(latency).some((l) => l[kind] !== null));
	const builds = Object.entries(latency).sort(([x], [y]) => x.localeCompare(y));
	return kinds.map((kind) => `${kind} p50/p99 ms ${builds.map(([name, l]) => `${name} ${pair(l[kind])}`).join(", ")}`).join("; ");
}

async function main() {
	const { a, b, sameBuild } = abBuilds(process.argv.slice(2));
	const snapshots = [await snapshotBuild(a, "A"), await snapshotBuild(b, "B")];
	/** @type {Build[]} */
	const builds = [];
	for (const snapshot of snapshots) {
		builds.push({
			...snapshot,
			scriptPath: await bundleWorker({ root: snapshot.dir, outdir: await tempDir(`ab-${snapshot.name}-bundle`) }),
		});
	}
	console.log(builds.map((build) => build.label).join("; ") + (sameBuild ? " (A/A: the noise floor)" : ""));
	console.log(
		`${SCENARIO.id} on ${UNCOUPLED ? "each on its own, over the same seconds" : "both at once"}, ${ROUNDS} rounds of ${WARMUP_MS} + ${DURATION_MS} ms; server CPU µs/record`,
	);
	/** @type {import("./lib/ab.mjs").AbRound[]} */
	const rounds = [];
	/** @type {Record<string, Latency>[]} */
	const latencies = [];
	/** @type {{ a: number, b: number }[]} */
	const rates = [];
	if (UNCOUPLED && SHAPE.driver !== "group") throw new Error("AB_UNCOUPLED=1 runs the group shapes only");
	for (let r = 0; r < ROUNDS && !isInterrupted(); r++) {
		const order = r % 2 === 0 ? builds : [...builds].reverse();
		const load = loadavg()[0]?.toFixed(2);
		const got = await runRound(order, r + 1);
		const [ra, rb] = [got.micros.A, got.micros.B];
		if (ra === undefined || rb === undefined) throw new Error("a round lost a build");
		rounds.push({ a: ra, b: rb });
		const latency = Object.keys(got.latency).length > 0 ? `; ${latencyLine(got.latency)}` : "";
		if (latency !== "") latencies.push(got.latency);
		const note = got.note === undefined ? "" : ` (${got.note})`;
		const [oa, ob] = [got.own.A, got.own.B];
		if (oa !== undefined && ob !== undefined) {
			rates.push({ a: oa.recordsPerSec, b: ob.recordsPerSec });
			const busy = (/** @type {Own} */ o) => `${Math.round(o.busy * 100)}%`;
			console.log(
				`round ${r + 1}: A ${ra}, B ${rb}, B − A ${(rb - ra).toFixed(2)}; records/s A ${oa.recordsPerSec} (server busy ${busy(oa)}), B ${ob.recordsPerSec} (${busy(ob)})${note}; load ${load}`,
			);
			continue;
		}
		console.log(
			`round ${r + 1}: A ${ra}, B ${rb}, B − A ${(rb - ra).toFixed(2)} at ${got.recordsPerSec} records/s each${note}; load ${load}${latency}`,
		);
	}
	if (rounds.length === 0) return;
	const s = summarize(rounds);
	console.log(
		`median A ${s.a}, B ${s.b} µs/record; B − A median ${s.diff} (${s.percent}%), min ${s.diffMin}, max ${s.diffMax}; B lower in ${s.bLower} of ${s.rounds} rounds${
			s.signsAgree
				? ` (all on one side: by chance alone 1 in ${2 ** (s.rounds - 1)})`
				: ": the rounds disagree on the sign, so the difference is within this run's noise"
		}`,
	);
	if (latencies.length > 0) console.log(`latency, medians of the rounds' figures: ${latencyLine(medianLatency(latencies))}`);
	if (rates.length > 0) {
		const t = summarizeRates(rates);
		console.log(
			`records/s, B as % of A: median ${t.percent}%, min ${t.percentMin}%, max ${t.percentMax}%; B higher in ${t.bHigher} of ${t.rounds} rounds`,
		);
	}
}

/**
 * Each build's latency figures, the median of every round's.
 * @param {Record<string, Latency>[]} rounds
 * @returns {Record<string, Latency>}
 */
function medianLatency(rounds) {
	/** @type {Record<string, Latency>} */
	const out = {};
	for (const name of Object.keys(rounds[0] ?? {})) {
		const of = (/** @type {"poll" | "commit"} */ kind) => {
			const figures = rounds.map((r) => r[name]?.[kind]).filter((l) => l !== null && l !== undefined);
			if (figures.length === 0) return null;
			const m = (/** @type {"p50" | "p90" | "p99" | "max" | "mean"} */ q) => round(median(figures.map((l) => l[q])), 2);
			return { p50: m("p50"), p90: m("p90"), p99: m("p99"), max: m("max"), mean: m("mean") };
		};
		out[name] = { poll: /** @type {import("./lib/load.mjs").LatencySummary} */ (of("poll")), commit: of("commit") };
	}
	return out;
}

await runSession(main);
