// @ts-check
/**
 * @module
 * Consumer-group throughput (bench/lib/group-consume.mjs: 4 members poll + commit over 4 partitions, 1 KiB
 * records), Tributary only, set beside the plain fetch scenario of the same runtime. This process's and the
 * server's CPU are counted around the measured part only (not the backlog fill).
 */

import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { fmt, noisy, oneLine, percentOf } from "../lib/format.mjs";
import { backlogFor, groupConsumeScenario, POLL_RECORDS } from "../lib/group-consume.mjs";
import { latencySummary, round, startCpuMeter, waitForQuiet } from "../lib/load.mjs";
import { FETCH_RECORDS } from "../settings.mjs";

/** A measured window (no warm-up) over a backlog filled beforehand. */
const DURATION_MS = Number(process.env.BENCH_GROUP_DURATION_MS ?? 3_000);
/**
 * The fastest group consume the default backlog is sized for: above the target (70 % of plain fetch's ~120,000
 * records/s on Miniflare). A faster run drains the backlog early, and its row says so.
 */
const GROUP_RATE_MAX_PER_SEC = 100_000;
const BACKLOG_RECORDS = Number(process.env.BENCH_GROUP_BACKLOG ?? backlogFor(GROUP_RATE_MAX_PER_SEC, DURATION_MS));
const MEMBERS = 4;

/**
 * How a group scenario of this kind loads the group, by its id: commits with the next poll unless the id ends in
 * "-commit-request", polls of POLL_RECORDS unless it ends in "-poll1000" (bench:ab drives the same ids).
 * @param {string} id
 * @returns {{ commitWith: import("../lib/group-consume.mjs").CommitWith, pollRecords: number }}
 */
export function groupLoad(id) {
	return {
		commitWith: id.endsWith("-commit-request") ? "request" : "poll",
		pollRecords: id.endsWith("-poll1000") ? FETCH_RECORDS : POLL_RECORDS,
	};
}

/**
 * @param {string} url
 * @param {string} token
 * @param {import("../lib/group-consume.mjs").CommitWith} commitWith
 * @param {number} pollRecords
 * @returns {Promise<import("./types.js").Result>}
 */
async function groupRun(url, token, commitWith, pollRecords) {
	let quietWaitMs = 0;
	/** @type {import("./types.js").CpuShare | null} */
	let cpu = null;
	const result = await groupConsumeScenario({
		baseUrl: url,
		token,
		durationMs: DURATION_MS,
		commitWith,
		pollRecords,
		backlogRecords: BACKLOG_RECORDS,
		measure: async (run) => {
			quietWaitMs = await waitForQuiet();
			const meter = await startCpuMeter(descendantCpuSeconds);
			const measured = await run();
			cpu = await meter.stop(measured.seconds);
			return measured;
		},
	});
	const { records, bytes, requests, seconds } = result;
	const check =
		result.committed === records ? [] : [`polled ${records} records; the group's committed offsets add up to ${result.committed}`];
	const rate = (/** @type {number} */ n, /** @type {number} */ digits) => (seconds > 0 ? round(n / seconds, digits) : 0);
	return {
		clients: MEMBERS,
		seconds: round(seconds, 3),
		requests,
		records,
		sentBytes: 0,
		receivedBytes: bytes,
		recordsPerSec: rate(records, 1),
		requestsPerSec: rate(requests, 1),
		sentMBPerSec: 0,
		receivedMBPerSec: rate(bytes / 1e6, 2),
		payloadMBPerSec: rate(bytes / 1e6, 2),
		latencyMs: latencySummary([...result.latenciesMs].sort((a, b) => a - b)),
		cpu,
		quietWaitMs,
		errors: 0,
		errorSamples: [],
		aborted: false,
		coordinatorRowsPerPoll: result.coordinatorRowsPerPoll,
		pollRecords,
		backlogRecords: result.backlogRecords,
		backlogFillMs: result.fillMs,
		drained: result.drained,
		verification: check.length === 0 ? "ok" : check,
	};
}

/**
 * One table line.
 * @param {import("./types.js").Row} row
 */
function line(row) {
	if (row.failed) return `| ${row.runtime} | ${row.scenario} | failed: ${oneLine(row.failed, 120)} | | | | | | | |`;
	const window = `${row.seconds} s over a ${fmt(row.backlogRecords)}-record backlog${row.drained ? " (a member ran dry: window cut short)" : ""}`;
	const latency = row.latencyMs ?? { p50: 0, p99: 0 };
	const pct = /** @type {number | null} */ (row.percentOfFetch);
	const rows = /** @type {number | null | undefined} */ (row.coordinatorRowsPerPoll);
	return `| ${row.runtime} | ${row.scenario} | ${fmt(row.recordsPerSec)}${noisy(row)} | ${(row.payloadMBPerSec ?? 0).toFixed(1)} | ${latency.p50.toFixed(2)} | ${latency.p99.toFixed(2)} | ${rows === null || rows === undefined ? "" : rows.toFixed(2)} | ${fmt(row.plainFetchRecordsPerSec)} | ${pct === null ? "" : `${pct.toFixed(1)}%`} | ${window} |`;
}

/** @type {import("./types.js").ScenarioKind} */
export const group = {
	kind: "group",
	targets: ["tributary"],
	// The group load makes (and deletes) its own topic.
	scenarios: [
		{
			id: "group-4m-4p",
			label: `group poll ${POLL_RECORDS} + commit (with the next poll), 4 members, 4 partitions`,
			kind: "group",
			clients: MEMBERS,
			partitions: 4,
		},
		{
			// The plain fetch's page: what the group's own calls cost per record, with the page size set aside.
			id: "group-4m-4p-poll1000",
			label: `group poll ${FETCH_RECORDS} + commit (with the next poll), 4 members, 4 partitions`,
			kind: "group",
			clients: MEMBERS,
			partitions: 4,
		},
		{
			id: "group-4m-4p-commit-request",
			label: `group poll ${POLL_RECORDS} + commit (a request of its own), 4 members, 4 partitions`,
			kind: "group",
			clients: MEMBERS,
			partitions: 4,
		},
	],
	settings: { groupDurationMs: DURATION_MS, groupBacklogRecords: BACKLOG_RECORDS },
	run: (ctx, scenario) => {
		const { commitWith, pollRecords } = groupLoad(scenario.id);
		return groupRun(ctx.url, ctx.token, commitWith, pollRecords);
	},
	derive(row, all) {
		if (row.failed) return;
		const fetch = all.find((r) => r.scenario === "fetch-1c-1p" && r.runtime === row.runtime && r.server === "tributary");
		row.plainFetchRecordsPerSec = fetch?.recordsPerSec ?? null;
		row.percentOfFetch = percentOf(row.recordsPerSec, row.plainFetchRecordsPerSec);
	},
	section: {
		title: "Group consume",
		intro: `bench/lib/group-consume.mjs: a 4-partition topic is filled with 1 KiB records (keyed, ${fmt(BACKLOG_RECORDS)} records, the same number in each partition, sized so that a group reading ${fmt(GROUP_RATE_MAX_PER_SEC)} records/s does not run dry within the window; the fill is not measured), 4 members join one group from the earliest offset, then each member loops poll (max_records ${POLL_RECORDS}, Kafka's max.poll.records default) → commit, for ${DURATION_MS} ms with no warm-up (or until one member's partitions run dry: then all stop). group-4m-4p sends each commit with the member's next poll (the poll body's \`commit\`, as Kafka's consumer commits within its poll loop; the last one on its own); group-4m-4p-commit-request sends it as a \`POST /v1/groups/{group}/offsets\` of its own. group-4m-4p-poll1000 is group-4m-4p with polls of ${FETCH_RECORDS} records, the plain fetch's page: a request's fixed cost is spread over as many records on both sides, so its ratio is what the group's own calls (plan, settle, commit) cost. The first poll of each member is parsed in full and checked; afterwards the group's committed offsets must add up to the records polled. Latency is per request (polls and commits together). Coordinator rows/poll: the rows the group's coordinator wrote (its SQL cursors' \`rowsWritten\`, from \`/metrics\`) per poll, commits included. Next to it: the plain fetch scenario (1 client, 1 partition, 1000 records per fetch) of the same runtime. That row is measured in its own scenario, not in rounds with these, and its one client's CPU bounds it (about 90 % of a core), so group ÷ fetch moves with it: with neither path changed, fetch-1c-1p read 69k, 152k, 135k and 98k records/s in four runs and group-4m-4p 65k to 107k, the ratio 61 % to 95 %.`,
		table: (rows) =>
			[
				"| runtime | scenario | group poll + commit records/s | MB/s | p50 ms | p99 ms | coordinator rows/poll | plain fetch records/s (fetch-1c-1p) | group ÷ fetch | window |",
				"|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
				...rows.map(line),
			].join("\n"),
	},
};
