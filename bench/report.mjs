// @ts-check
/**
 * @module
 * The bench's report: rows sorted into the main throughput table, each kind's own section, the details table and
 * notes, written as bench/results/latest.md and latest.json and printed.
 */

import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { DISK_SLOW_FSYNC_MS } from "./lib/disk.mjs";
import { fmt, fsyncCell, NOISY_PERCENT, oneLine, otherCpu, slowDisk } from "./lib/format.mjs";
import { QUIET_OTHER_PERCENT, QUIET_WAIT_BUDGET_MS, round, serverCpuMicrosPerRecord } from "./lib/load.mjs";
import { meetsTarget, percentByRound, ROUND_LEAD_IN_MS, ratioCell, setRatio } from "./lib/rounds.mjs";
import { KINDS, kindOf, SCENARIOS } from "./scenarios/index.mjs";
import { DURATION_MS, MAIN_TARGETS, RESULTS, ROOT, ROUNDS, RUNTIMES, WARMUP_MS } from "./settings.mjs";
import { TARGETS } from "./targets.mjs";

/**
 * @typedef {import("./scenarios/types.js").Row} Row
 * @typedef {ReturnType<typeof machine>} Machine
 * @typedef {object} Run
 * @property {Row[]} rows
 * @property {Record<string, number>} startups
 * @property {Record<string, string[]>} troubles
 * @property {import("./targets.mjs").Snapshot} snapshot
 * @property {number} started  Date.now() at the start
 * @property {Machine} info
 */

/** Where each server goes within a scenario: Tributary before its ceilings, peers last. */
const SERVER_ORDER = ["tributary", "tributary, all logged", "ceiling", "ceiling+sqlite", "ceiling+sqlite+parse", "ceiling+group-commit"];

/** What the bench runs on: machine, versions, commit. */
export function machine() {
	const git = (/** @type {string[]} */ args) => {
		try {
			return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
		} catch {
			return null;
		}
	};
	const pkg = (/** @type {string} */ name) => {
		try {
			const script = `JSON.stringify(require("${name}/package.json"))`;
			return /** @type {string} */ (JSON.parse(execFileSync("node", ["-p", script], { cwd: ROOT, encoding: "utf8" })).version);
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

/**
 * Whether a row is one of the bench's own servers (not a peer).
 * @param {Row} row
 */
function isTarget(row) {
	return row.server !== undefined && row.server in TARGETS;
}

/**
 * A row's records/s as a percentage of a reference server's (same runtime and scenario): the median of the rounds'
 * ratios for a scenario measured in rounds (bench/lib/rounds.mjs), else of its one window; null for the reference
 * itself, `ceiling`, peers, and a missing or failed reference.
 * @param {Row} row
 * @param {Row[]} all
 * @param {import("./targets.mjs").TargetName} reference
 */
function ratioTo(row, all, reference) {
	if (!isTarget(row) || row.server === reference || row.server === "ceiling" || row.failed || !row.recordsPerSec) return null;
	const ref = all.find((r) => r.server === reference && r.runtime === row.runtime && r.scenario === row.scenario && !r.failed);
	return ref?.recordsPerSec ? percentByRound(row, ref) : null;
}

/**
 * Adds the figures that compare rows (percent of ceiling, each kind's own).
 * @param {Row[]} rows
 */
export function derive(rows) {
	for (const row of rows) {
		setRatio(row, "percentOfCeiling", ratioTo(row, rows, "ceiling"));
		if (row.server !== "tributary") continue;
		setRatio(row, "percentOfCeilingSqlite", ratioTo(row, rows, "ceiling+sqlite"));
		// Not a column: ceiling+sqlite+parse runs on single-partition produce and the streaming channel only.
		const parse = ratioTo(row, rows, "ceiling+sqlite+parse");
		if (parse !== null) setRatio(row, "percentOfCeilingSqliteParse", parse);
	}
	for (const row of rows) if (row.scenario !== undefined && row.kind !== undefined && isTarget(row)) kindOf(row.kind).derive?.(row, rows);
}

/**
 * @param {Row} row
 * @returns {number}
 */
const scenarioIndex = (row) => SCENARIOS.findIndex((s) => s.id === row.scenario);

/**
 * Table order: scenario, then runtime, Tributary before its ceiling, peers last within each scenario.
 * @param {Row[]} rows
 */
export function sortRows(rows) {
	/** @param {Row} row */
	const order = (row) => [
		scenarioIndex(row),
		isTarget(row) ? RUNTIMES.indexOf(row.runtime ?? "") : 99,
		isTarget(row) ? SERVER_ORDER.indexOf(row.server ?? "") : 9,
	];
	return [...rows].sort((a, b) => {
		const x = order(a);
		const y = order(b);
		return (x[0] ?? 0) - (y[0] ?? 0) || (x[1] ?? 0) - (y[1] ?? 0) || (x[2] ?? 0) - (y[2] ?? 0);
	});
}

/**
 * One line of the details table.
 * @param {Row} row
 */
function detailLine(row) {
	const verification = row.verification === undefined ? "" : row.verification === "ok" ? "ok" : row.verification.join("; ");
	const sample = row.errorSamples?.[0];
	const errors = `${row.errors}${sample ? ` (${oneLine(sample.error, 100)})` : ""}`;
	return `| ${row.scenario} | ${row.runtime} | ${row.server} | ${row.requests} | ${row.seconds} | ${errors} | ${row.cpu?.serverPercent ?? "—"} | ${serverCpuMicrosPerRecord(row) ?? "—"} | ${row.cpu?.clientPercent ?? "—"} | ${otherCpu(row)} | ${fsyncCell(row)} | ${row.cpu?.ioStallPercent ?? "—"} | ${verification} |`;
}

/**
 * One line of the main table.
 * @param {Row} row
 */
function mainLine(row) {
	const label = row.failed ? `failed: ${oneLine(row.failed, 100)}` : row.aborted ? "ABORTED" : null;
	const cells =
		label === null
			? [fmt(row.recordsPerSec), (row.payloadMBPerSec ?? 0).toFixed(1), row.latencyMs?.p50.toFixed(2), row.latencyMs?.p99.toFixed(2)]
			: [label, "", "", ""];
	return `| ${row.scenario} | ${row.runtime} | ${row.server} | ${cells.join(" | ")} | ${ratioCell(row, "percentOfCeiling")} | ${ratioCell(row, "percentOfCeilingSqlite")} | ${targetCell(row)} |`;
}

/**
 * Whether a Tributary row meets its scenario's target (`MAIN_TARGETS`), judged on the median of its rounds' ratios,
 * as "yes" or a bold "no" with the target.
 * @param {Row} row
 */
export function targetCell(row) {
	const target = row.scenario === undefined ? undefined : MAIN_TARGETS[row.scenario];
	if (target === undefined || row.server !== "tributary") return "";
	const met = meetsTarget(row, target.of === "ceiling" ? "percentOfCeiling" : "percentOfCeilingSqlite", target.fraction);
	if (met === null) return "";
	const goal = `≥${target.fraction * 100}% of ${target.of}`;
	return met ? `yes (${goal})` : `**no** (${goal})`;
}

/**
 * The main table (throughput against the ceiling) and the details table (requests, CPU, checks).
 * @param {Row[]} rows  sorted
 */
function tables(rows) {
	const main = [
		"| scenario | runtime | server | records/s | MB/s | p50 ms | p99 ms | % of ceiling | % of ceiling+sqlite | target |",
		"|---|---|---|--:|--:|--:|--:|--:|--:|:-:|",
	];
	const detail = [
		"| scenario | runtime | server | requests | seconds | errors | server CPU % | server CPU µs/record | client CPU % | other CPU % | fsync ms | I/O stall % | verification |",
		"|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
	];
	for (const row of rows) {
		if (row.skipped || (row.failed && row.scenario === undefined)) continue;
		const kind = row.kind === undefined ? undefined : kindOf(row.kind);
		if (kind?.inMainTable !== false) main.push(mainLine(row));
		if (!row.failed && kind?.inDetails !== false) detail.push(detailLine(row));
	}
	return { main: main.join("\n"), detail: detail.join("\n") };
}

/**
 * Each kind's own section: title, intro and table of its rows, runtime first (the main table goes by scenario).
 * @param {Row[]} rows
 */
function sections(rows) {
	const byRuntime = rows
		.filter((row) => isTarget(row) && row.kind !== undefined)
		.sort((a, b) => RUNTIMES.indexOf(a.runtime ?? "") - RUNTIMES.indexOf(b.runtime ?? "") || scenarioIndex(a) - scenarioIndex(b));
	return KINDS.flatMap((kind) =>
		kind.section === undefined
			? []
			: [{ ...kind.section, rendered: kind.section.table(byRuntime.filter((row) => row.kind === kind.kind)) }],
	);
}

/**
 * The notes under the details, the skipped peers and the trouble seen in server logs.
 * @param {Row[]} rows
 * @param {Record<string, string[]>} troubles
 */
function notes(rows, troubles) {
	const skipped = rows.filter((r) => r.skipped || (r.failed && r.scenario === undefined));
	const trouble = Object.entries(troubles);
	return [
		"records/s and MB/s are over the measured time (after warm-up; every round of a scenario measured in rounds); MB = 10^6 bytes of HTTP bodies sent (produce) or received (fetch, group poll).",
		"Peers count RESP/NATS protocol bytes on the wire. Latency is per request (per pipeline/batch for peers), client-side.",
		"% of ceiling = Tributary records/s ÷ the ceiling Worker's records/s, same runtime, same scenario, same run: for a scenario measured in rounds, the median of the rounds' ratios (min–max in brackets).",
		"ceiling+sqlite (reference) = the ceiling plus, for produce, one SQLite INSERT of each request body (what storing the bytes alone costs) and, for fetch, reading the page's records from stored rows of 100 instead of memory (what reading them back alone costs). ceiling+sqlite+parse (produce-1c-1p, produce-4c-1p and the streaming channel only) also parses each produce body (each streamed message) with JSON.parse, which Tributary cannot skip: a fair floor for batch produce and for the channel. ceiling+group-commit (produce-32c-1r only) group-commits the bodies instead: each group of waiting bodies one row, answered after storage.sync(): a fair floor for many small producers.",
		`All processes share one machine: server CPU % is every child process of the bench, other CPU % is everything else on the machine (100% = one core). Before each scenario the bench waits (${QUIET_WAIT_BUDGET_MS / 1000} s in all at most) for other processes to go under ${QUIET_OTHER_PERCENT}%; rows where they were above ${QUIET_OTHER_PERCENT}% during the measurement are marked noisy.`,
		`The disk (bench/lib/disk.mjs): workerd fsyncs each SQLite commit, so every durable row depends on it. fsync ms is a 4 KiB write + fsync's median (7 tries) taken just before the measurement; above ${DISK_SLOW_FSYNC_MS} ms the quiet wait waits too, and a row measured then is marked slow disk. I/O stall % is the share of the measurement in which some task waited for I/O (/proc/pressure/io), the bench's own commits included: shown, not judged.`,
	]
		.map((n) => `- ${n}`)
		.concat(
			skipped.map((r) => `- ${r.peer ?? `${r.runtime}/${r.server}`}: ${r.skipped ?? `failed: ${oneLine(r.failed, 300)}`}`),
			"",
			trouble.length === 0
				? ["No server log line looked like an error."]
				: [
						"Server log lines that look like trouble:",
						"",
						...trouble.flatMap(([k, lines]) => [`- ${k}:`, ...lines.map((l) => `  - \`${oneLine(l, 200)}\``)]),
					],
		);
}

/** How the throughput scenarios are measured: the rounds, and the rest. */
function roundsProse() {
	const inRounds = KINDS.filter((kind) => kind.open !== undefined).map((kind) => kind.kind);
	const window = round(DURATION_MS / ROUNDS, 0);
	return [
		`Measured in rounds (${inRounds.join(", ")}; bench/lib/rounds.mjs): a scenario's targets are each warmed up once (${WARMUP_MS} ms, back to back), then measured in ${ROUNDS} rounds of ${window} ms each, one target after another, the order rotated each round (the last of a round goes first in the next), so windows a few seconds apart are compared and no target is always first or last; after the first round each window follows a ${ROUND_LEAD_IN_MS} ms unmeasured lead-in (workerd evicts a Durable Object idle ~10 s: one rebuilt is rebuilt there).`,
		`A row's records/s, MB/s, latency and CPU are over all its rounds (${DURATION_MS} ms measured); each % of a reference is the median of the rounds' ratios (round k's rate ÷ the reference's round k rate), their range in brackets, and a target is judged on the median (latest.json keeps each row's rates by round and ratios by round).`,
		`The other throughput scenarios (idempotence rounds and group consume aside: see their sections): ${WARMUP_MS} ms warm-up, then ${DURATION_MS} ms measured in one window.`,
	].join(" ");
}

/**
 * Writes latest.md and latest.json and prints the tables.
 * @param {Run} run
 */
export async function report({ rows, startups, troubles, snapshot, started, info }) {
	const sorted = sortRows(rows);
	const { main, detail } = tables(sorted);
	const extra = sections(sorted);
	const totalSeconds = round((Date.now() - started) / 1000, 1);
	const measured = rows.filter((r) => r.cpu !== undefined);
	const quietWaitMs = measured.reduce((sum, r) => sum + (r.quietWaitMs ?? 0), 0);
	const noisyRows = measured.filter((r) => (r.cpu?.otherPercent ?? 0) > NOISY_PERCENT).length;
	const slowDiskRows = measured.filter(slowDisk).length;
	const probesMs = measured.map((r) => r.cpu?.fsyncMs).filter((ms) => typeof ms === "number");
	const disk =
		probesMs.length === 0
			? ""
			: ` The disk's fsync probe read ${Math.min(...probesMs)}–${Math.max(...probesMs)} ms; ${slowDiskRows} row${slowDiskRows === 1 ? " was" : "s were"} measured with it slow (over ${DISK_SLOW_FSYNC_MS} ms).`;
	const uncommitted = info.srcUncommittedFiles ? ` + ${info.srcUncommittedFiles} uncommitted changes in src/` : "";
	const md = [
		"# Tributary bench",
		"",
		`${info.date} · ${info.cpuModel} ×${info.nproc} · ${info.memoryGiB} GiB · node ${info.node} · wrangler ${info.wrangler} · miniflare ${info.miniflare} · workerd ${info.workerd} · commit ${info.gitCommit}${uncommitted} · src snapshot ${snapshot.srcHash}`,
		"",
		`${roundsProse()} Total bench time ${totalSeconds} s, of which ${round(quietWaitMs / 1000, 1)} s waiting for other processes to go quiet; ${noisyRows} of ${measured.length} rows measured while they were busy (noisy).${disk}`,
		"",
		main,
		"",
		...extra.flatMap((section) =>
			section.title === "" ? [section.rendered, ""] : [`## ${section.title}`, "", section.intro, "", section.rendered, ""],
		),
		"## Details",
		"",
		detail,
		"",
		...notes(rows, troubles),
		"",
	].join("\n");
	const json = {
		machine: info,
		srcSnapshot: { srcHash: snapshot.srcHash, takenAt: snapshot.takenAt, uncommittedFilesInSrc: info.srcUncommittedFiles },
		settings: {
			durationMs: DURATION_MS,
			warmupMs: WARMUP_MS,
			rounds: ROUNDS,
			mainTargets: MAIN_TARGETS,
			...Object.assign({}, ...KINDS.map((kind) => kind.settings ?? {})),
			runtimes: RUNTIMES,
		},
		startupMs: startups,
		serverTrouble: troubles,
		totalSeconds,
		results: sorted,
	};
	await mkdir(RESULTS, { recursive: true });
	await writeFile(join(RESULTS, "latest.json"), `${JSON.stringify(json, null, "\t")}\n`);
	await writeFile(join(RESULTS, "latest.md"), md);
	console.log(`\n${[main, ...extra.map((section) => section.rendered), detail].join("\n\n")}\n`);
	console.log(`${noisyRows} of ${measured.length} rows noisy; ${round(quietWaitMs / 1000, 1)} s spent waiting for quiet.`);
	console.log(`Total ${totalSeconds} s. Wrote bench/results/latest.json and bench/results/latest.md.`);
}
