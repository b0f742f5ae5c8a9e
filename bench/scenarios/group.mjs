// @ts-check
/**
 * @module
 * Consumer-group throughput (bench/lib/group-consume.mjs: 4 members poll + commit over 4 partitions, 1 KiB
 * records), Tributary only, measured in rounds beside its own reference: a plain fetch of the same topic in the
 * same shape (4 clients, each paging one partition, as many records a request as a member's poll asks for). The
 * group's ratio was once taken against fetch-1c-1p, another scenario minutes away whose one client's CPU bounded it
 * (lib/http.mjs): with neither path changed it read 69k, 152k, 135k and 98k records/s in four runs, and the ratio
 * 61 % to 95 %.
 * Here both loads run on one topic in turn (bench/lib/rounds.mjs: BENCH_ROUNDS rounds of BENCH_GROUP_DURATION_MS
 * / BENCH_ROUNDS each, the order rotated), so group ÷ fetch is a median of ratios between windows seconds apart.
 *
 * The group reads each partition from its start; the fetch reads from the middle on and wraps to the start at the
 * end, so the two rarely read the same stored batches within the batch cache's reach (16 MiB in all, a fraction of a
 * second of either load) and both read from SQLite. The backlog is sized for the group (it cannot wrap: it commits),
 * its warm-up and lead-ins included. This process's and the server's CPU are counted per window, not over the
 * backlog fill.
 */

import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { fmt, noisy, oneLine } from "../lib/format.mjs";
import { backlogFor } from "../lib/group-backlog.mjs";
import { COMMIT_INTERVAL_MS, groupClient, openGroupLoad, POLL_RECORDS } from "../lib/group-consume.mjs";
import { latencySummary, runLoad, serverCpuMicrosPerRecord, startCpuMeter, totalsOver } from "../lib/load.mjs";
import { measureInRounds, percentByRound, ROUND_LEAD_IN_MS, ratioCell, roundsResult, setRatio } from "../lib/rounds.mjs";
import { FETCH_RECORDS, ROUNDS } from "../settings.mjs";
import { fetchStep } from "./fetch.mjs";

/** The measured time of each load, over all its rounds. */
const DURATION_MS = Number(process.env.BENCH_GROUP_DURATION_MS ?? 3_000);
/** Each load's one warm-up before the rounds: the members' first polls (the coordinator's and partitions' first reads). */
const GROUP_WARMUP_MS = 500;
/**
 * The fastest group consume each poll size's backlog is sized for, records/s: above what Miniflare read here with the
 * members' client in a thread of its own (polls of 500: 193,000; of 1000: 227,000). A faster run drains the backlog
 * early and its row says so.
 */
/** @type {Record<number, number>} */
const GROUP_RATE_MAX_PER_SEC = { [POLL_RECORDS]: 240_000, [FETCH_RECORDS]: 300_000 };
/** What the group reads in all: its warm-up, its windows and the lead-in before each window after the first round. */
const GROUP_READ_MS = GROUP_WARMUP_MS + DURATION_MS + (ROUNDS - 1) * ROUND_LEAD_IN_MS;
const MEMBERS = 4;

/**
 * The backlog a group polling `pollRecords` at a time is given (BENCH_GROUP_BACKLOG for all, if set).
 * @param {number} pollRecords
 */
function backlogRecords(pollRecords) {
	const env = process.env.BENCH_GROUP_BACKLOG;
	if (env !== undefined) return Number(env);
	const rate = GROUP_RATE_MAX_PER_SEC[pollRecords];
	if (rate === undefined) throw new Error(`no group rate to size a backlog for polls of ${pollRecords}`);
	return backlogFor(rate, GROUP_READ_MS);
}

/**
 * How a group scenario of this kind loads the group, by its id: commits with the next poll unless the id ends in
 * "-commit-request" (a request of its own) or "-interval" (the broker's auto-commit every COMMIT_INTERVAL_MS), polls of
 * POLL_RECORDS unless it ends in "-poll1000", records in one list unless it holds "-partitions" (the poll's
 * `layout`; bench:ab drives the same ids).
 * @param {string} id
 * @returns {{ commitWith: import("../lib/group-consume.mjs").CommitWith, pollRecords: number, layout: import("../lib/group-consume.mjs").Layout }}
 */
export function groupLoad(id) {
	return {
		commitWith: id.endsWith("-commit-request") ? "request" : id.endsWith("-interval") ? "interval" : "poll",
		pollRecords: id.endsWith("-poll1000") ? FETCH_RECORDS : POLL_RECORDS,
		layout: id.includes("-partitions") ? "partitions" : "records",
	};
}

/**
 * The group's members as a target of the rounds: they join at its first warm-up (after the rounds' wait for quiet,
 * so no session can lapse in it), and every window runs their loops with the last commits left pending for the
 * next. A window in which a member's partitions ran dry ends the group's rounds (`drained`): its records stand.
 * @param {Awaited<ReturnType<typeof openGroupLoad>>} load
 * @param {{ drained: boolean }} state
 * @returns {import("./types.js").Measurement}
 */
function groupMeasurement(load, state) {
	let joined = false;
	const ranDry = () => {
		state.drained = true;
		return new Error(`the ${load.backlogRecords}-record backlog ran dry`);
	};
	return {
		async warmUp(ms) {
			if (!joined) await load.join();
			joined = true;
			if ((await load.run(ms, { finish: false })).drained) throw ranDry();
		},
		async measure(ms) {
			const meter = await startCpuMeter(descendantCpuSeconds);
			const consumed = await load.run(ms, { finish: false });
			const cpu = await meter.stop(consumed.seconds);
			if (consumed.drained) ranDry();
			const latenciesMs = [...consumed.latenciesMs].sort((a, b) => a - b);
			const totals = { requests: consumed.requests, records: consumed.records, sentBytes: 0, receivedBytes: consumed.bytes };
			return {
				clients: MEMBERS,
				...totalsOver(totals, consumed.seconds),
				latencyMs: latencySummary(latenciesMs),
				latenciesMs,
				cpu,
				quietWaitMs: 0,
				errors: 0,
				errorSamples: [],
				// Leaves the rounds: the next window would find nothing to read.
				aborted: consumed.drained,
			};
		},
		close: async () => ({}),
	};
}

/**
 * The plain-fetch reference as a target of the rounds: MEMBERS clients on the group's topic, client k paging
 * partition k `pollRecords` at a time from the middle on, wrapping to 0 at the end (see the module comment). Each
 * client's first page is parsed in full and checked.
 * @param {Pick<import("../lib/http.mjs").HttpClient, "request">} http
 * @param {string} topic
 * @param {number} perPartition records in each partition
 * @param {number} pollRecords
 */
export function fetchMeasurement(http, topic, perPartition, pollRecords) {
	const cursors = Array.from({ length: MEMBERS }, () => ({
		offset: Math.floor(perPartition / 2),
		checked: false,
		check: /** @type {string[]} */ ([]),
	}));
	const steps = cursors.map((cursor, partition) => fetchStep(http, topic, cursor, perPartition, { partition, records: pollRecords }));
	const step = (/** @type {number} */ client) => /** @type {import("../lib/load.mjs").Step} */ (steps[client])(client, 0);
	const window = (/** @type {number} */ warmupMs, /** @type {number} */ durationMs) =>
		runLoad({ clients: MEMBERS, warmupMs, durationMs, serverCpu: descendantCpuSeconds, step, keepLatencies: true, waitQuiet: false });
	return {
		/** @type {import("./types.js").Measurement} */
		measurement: {
			async warmUp(ms) {
				const warm = await window(ms, 0);
				if (warm.aborted) throw new Error(`plain fetch warm-up: ${warm.errorSamples[0]?.error ?? "aborted"}`);
			},
			measure: (ms) => window(0, ms),
			close: async () => ({}),
		},
		check: () => cursors.flatMap((cursor) => cursor.check),
	};
}

/**
 * One group scenario: the group and its plain-fetch reference opened on one topic, measured in rounds; the row is
 * the group's, with the reference's figures and group ÷ fetch (median of the rounds' ratios) beside it.
 * @param {import("./types.js").RunContext} ctx
 * @param {import("./types.js").Scenario} scenario
 * @returns {Promise<import("./types.js").Result>}
 */
async function groupRun(ctx, scenario) {
	const { commitWith, pollRecords, layout } = groupLoad(scenario.id);
	const api = groupClient(ctx.url, ctx.token);
	try {
		const load = await openGroupLoad(api, { commitWith, pollRecords, layout, backlogRecords: backlogRecords(pollRecords) });
		try {
			const state = { drained: false };
			const reference = fetchMeasurement(api.http, load.topic, load.backlogRecords / load.partitions, pollRecords);
			const targets = [groupMeasurement(load, state), reference.measurement].map((measurement) => ({ open: async () => measurement }));
			const { results, quietWaitMs } = await measureInRounds(targets, {
				rounds: ROUNDS,
				windowMs: DURATION_MS / ROUNDS,
				warmupMs: GROUP_WARMUP_MS,
				interrupted: ctx.interrupted,
			});
			const [grouped, fetched] = /** @type {[import("../lib/rounds.mjs").TargetRounds, import("../lib/rounds.mjs").TargetRounds]} */ (
				results
			);
			// Running dry ends the group's rounds early; its windows stand, and the row says so.
			if (grouped.failed !== null && !state.drained) throw new Error(grouped.failed);
			if (grouped.windows.length === 0) throw new Error(grouped.failed ?? "the group was measured in no round");
			const closed = await load.close();
			const check = [...reference.check()];
			if (closed.committed !== closed.polled)
				check.push(`polled ${closed.polled} records; the group's committed offsets add up to ${closed.committed}`);
			const measured = roundsResult(grouped);
			const row = {
				...measured,
				quietWaitMs,
				// A window that ran dry left the rounds as an aborted one does, but nothing failed.
				aborted: false,
				payloadMBPerSec: measured.receivedMBPerSec,
				serverCpuMicrosPerRecord: serverCpuMicrosPerRecord(measured),
				coordinatorRowsPerPoll: closed.coordinatorRowsPerPoll,
				pollRecords,
				backlogRecords: load.backlogRecords,
				backlogFillMs: load.fillMs,
				drained: state.drained,
				verification: check.length === 0 ? /** @type {const} */ ("ok") : check,
			};
			const aborted = fetched.windows.find((w) => w.aborted);
			const fetchFailure =
				fetched.failed ??
				(aborted ? (aborted.errorSamples[0]?.error ?? "aborted") : fetched.windows.length === 0 ? "measured in no round" : null);
			if (fetchFailure !== null) return { ...row, plainFetch: null, plainFetchFailed: fetchFailure, percentOfFetch: null };
			const plain = roundsResult(fetched);
			const result = { ...row, plainFetch: { ...plain, serverCpuMicrosPerRecord: serverCpuMicrosPerRecord(plain) } };
			setRatio(result, "percentOfFetch", percentByRound(result, plain));
			return result;
		} finally {
			await load.tearDown();
		}
	} finally {
		api.close();
	}
}

/**
 * One table line.
 * @param {import("./types.js").Row} row
 */
function line(row) {
	if (row.failed) return `| ${row.runtime} | ${row.scenario} | failed: ${oneLine(row.failed, 120)} | | | | | | | | | |`;
	const rounds = /** @type {number} */ (row.rounds ?? 0);
	const dry = row.drained ? `; a member ran dry in round ${rounds}, the group's last` : "";
	const window = `${rounds} of ${ROUNDS} rounds, ${row.seconds} s over a ${fmt(row.backlogRecords)}-record backlog${dry}`;
	const latency = row.latencyMs ?? { p50: 0, p99: 0 };
	const rows = /** @type {number | null | undefined} */ (row.coordinatorRowsPerPoll);
	const plain = /** @type {import("./types.js").Result | null | undefined} */ (row.plainFetch);
	const plainCells = plain
		? [fmt(plain.recordsPerSec), String(plain.serverCpuMicrosPerRecord ?? "")]
		: [`failed: ${oneLine(String(row.plainFetchFailed ?? "not measured"), 60)}`, ""];
	const cells = [
		row.runtime,
		row.scenario,
		`${fmt(row.recordsPerSec)}${noisy(row)}`,
		(row.payloadMBPerSec ?? 0).toFixed(1),
		latency.p50.toFixed(2),
		latency.p99.toFixed(2),
		rows === null || rows === undefined ? "" : rows.toFixed(2),
		String(row.serverCpuMicrosPerRecord ?? ""),
		...plainCells,
		ratioCell(row, "percentOfFetch"),
		window,
	];
	return `| ${cells.join(" | ")} |`;
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
			// What the SDK's consumer sends: the records grouped by partition, each part of a read sent on whole.
			id: "group-4m-4p-partitions",
			label: `group poll ${POLL_RECORDS} + commit (with the next poll), laid out by partition, 4 members, 4 partitions`,
			kind: "group",
			clients: MEMBERS,
			partitions: 4,
		},
		{
			// The SDK's layout with commits as Kafka's consumer makes them by default: each a storage commit the
			// coordinator waits for, so this is the group's own cost with the commit's mostly set aside.
			id: "group-4m-4p-partitions-interval",
			label: `group poll ${POLL_RECORDS} laid out by partition, the broker's auto-commit every ${COMMIT_INTERVAL_MS / 1000} s, 4 members, 4 partitions`,
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
	settings: {
		groupDurationMs: DURATION_MS,
		groupWarmupMs: GROUP_WARMUP_MS,
		groupBacklogRecords: backlogRecords(POLL_RECORDS),
		groupBacklogRecordsPoll1000: backlogRecords(FETCH_RECORDS),
	},
	run: groupRun,
	summary(result) {
		const plain = /** @type {import("./types.js").Result | null | undefined} */ (result.plainFetch);
		const ratio = ratioCell(/** @type {import("./types.js").Row} */ (result), "percentOfFetch");
		return `${fmt(result.recordsPerSec)} records/s; plain fetch ${plain ? fmt(plain.recordsPerSec) : "failed"}${ratio === "" ? "" : `, group ÷ fetch ${ratio}`}`;
	},
	section: {
		title: "Group consume",
		intro: `bench/lib/group-consume.mjs: a 4-partition topic is filled with keyed 1 KiB records, the same number in each partition (the fill is not measured; the backlog is sized so that a group reading ${fmt(GROUP_RATE_MAX_PER_SEC[POLL_RECORDS])} records/s in polls of ${POLL_RECORDS}, ${fmt(GROUP_RATE_MAX_PER_SEC[FETCH_RECORDS])} in polls of ${FETCH_RECORDS}, does not run dry), 4 members join one group from the earliest offset, then each member loops poll (max_records ${POLL_RECORDS}, Kafka's max.poll.records default) → commit. group-4m-4p sends each commit with the member's next poll (the poll body's \`commit\`, as Kafka's consumer commits within its poll loop); group-4m-4p-partitions is group-4m-4p with \`"layout":"partitions"\` in each poll (records grouped by partition, each partition's records sent on as stored, as the SDK's consumer polls); group-4m-4p-partitions-interval is group-4m-4p-partitions with the broker's auto-commit on a ${COMMIT_INTERVAL_MS / 1000} s interval instead (each poll's \`auto_commit_interval_ms\`, as the SDK's consumer with \`autoCommitIntervalMs\` polls; Kafka's default \`auto.commit.interval.ms\`) and everything read committed at the end, so it shows the group's own cost with the commit's storage write mostly set aside; group-4m-4p-commit-request sends each commit as a \`POST /v1/groups/{group}/offsets\` of its own; group-4m-4p-poll1000 is group-4m-4p with polls of ${FETCH_RECORDS} records. Its reference is a plain fetch of the same topic in the same shape: 4 clients, each paging one partition, as many records a request as a member's poll, from the middle of the partition on (the group reads from its start, so both read from SQLite, not from each other's cached batches). The two are measured in rounds (see the top): one ${GROUP_WARMUP_MS} ms warm-up each, then ${ROUNDS} rounds of ${DURATION_MS / ROUNDS} ms, in turn, the order rotated; group ÷ fetch is the median of the rounds' ratios, their range in brackets. (It used to be taken against fetch-1c-1p, another scenario minutes away bounded by its one client: with neither path changed that row read 69k to 152k records/s across runs, and the ratio 61 % to 95 %.) The first poll of each member and the first page of each fetch client are parsed in full and checked; each partition's records in a poll must start at the next offset of that partition and are counted from their first and last (as a fetch page is counted from its \`next_offset\`), and at the end the group's committed offsets must add up to the records polled. Latency is per request (polls and commits together). Coordinator rows/poll: the rows the group's coordinator wrote (its SQL cursors' \`rowsWritten\`, from \`/metrics\`) per poll, commits included. Server CPU µs/record = server CPU % ÷ records/s, each load over its own windows.`,
		table: (rows) =>
			[
				"| runtime | scenario | group poll + commit records/s | MB/s | p50 ms | p99 ms | coordinator rows/poll | server CPU µs/record | plain fetch (same shape) records/s | its server CPU µs/record | group ÷ fetch | window |",
				"|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
				...rows.map(line),
			].join("\n"),
	},
};
