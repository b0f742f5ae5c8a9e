// @ts-check
/**
 * @module
 * The pure parts of the same-load A/B comparison (bench/ab.mjs): which builds its arguments name, and what its
 * rounds add up to. A round measures both builds at once, so its difference is the figure; the spread of those
 * differences (and of an A/A run, the same build twice) says how much of it is noise.
 */

import { median, round } from "./load.mjs";

/** The working tree as it is now, uncommitted edits included. */
export const WORKING_TREE = ".";
export const DEFAULT_BASE = "main";

/**
 * The loads bench:ab can put on both builds (`AB_SHAPE`), each a bench scenario of that id run by the bench's own load
 * code, and how it is driven: "produce" (closed-loop produce requests, bench/lib/produce-load.mjs), "fetch" (one client
 * paging a prefilled partition, bench/scenarios/fetch.mjs), "streaming" (one WebSocket, WINDOW_MESSAGES in flight,
 * bench/lib/stream-channel.mjs) or "group" (4 members' poll + commit loops over a prefilled backlog,
 * bench/lib/group-consume.mjs). Server CPU is counted per record: for the one-record shape that is per request.
 */
export const AB_SHAPES = Object.freeze({
	"produce-32c-1r": "produce",
	"produce-1c-1p": "produce",
	"produce-4c-1p": "produce",
	"produce-keyed-1c-1p": "produce",
	"idem-producer-1c-1p": "produce",
	"idem-key-1c-1p": "produce",
	"fetch-1c-1p": "fetch",
	"fetch-tail-1c-1p": "fetch",
	"stream-ws-array-1p": "streaming",
	"group-4m-4p": "group",
	"group-4m-4p-partitions": "group",
	"group-4m-4p-commit-request": "group",
	"group-4m-4p-partitions-interval": "group",
});
/** The many small producers: what bench:ab measured before it took other shapes. */
export const DEFAULT_SHAPE = "produce-32c-1r";

/**
 * @typedef {"produce" | "fetch" | "streaming" | "group"} Driver
 */

/**
 * The shape `AB_SHAPE` names (unset or empty: DEFAULT_SHAPE) and how it is driven.
 * @param {string | undefined} name
 * @returns {{ id: string, driver: Driver }}
 */
export function abShape(name) {
	const id = name === undefined || name === "" ? DEFAULT_SHAPE : name;
	const driver = /** @type {Record<string, Driver>} */ (AB_SHAPES)[id];
	if (driver === undefined) throw new Error(`AB_SHAPE=${id} is not one bench:ab runs; it runs ${Object.keys(AB_SHAPES).join(", ")}`);
	return { id, driver };
}

/**
 * The bench scenario a shape runs (`scenarios`: the bench's), with `recordsPerProduce` (`AB_RECORDS_PER_PRODUCE`;
 * unset or empty: the scenario's own) records in each produce request of a produce shape: a request of 256 records
 * reaches the partition as one share of 256 (as a streamed run of 256 messages does, which a loaded machine's
 * streaming rate seldom builds), so a change to large shares can be measured on produce-1c-1p.
 * @param {{ id: string, driver: Driver }} shape
 * @param {import("../scenarios/types.js").Scenario[]} scenarios
 * @param {string | undefined} recordsPerProduce
 * @returns {import("../scenarios/types.js").Scenario}
 */
export function abScenario(shape, scenarios, recordsPerProduce) {
	const scenario = scenarios.find((s) => s.id === shape.id);
	if (scenario === undefined) throw new Error(`no bench scenario ${shape.id}`);
	if (recordsPerProduce === undefined || recordsPerProduce === "") return scenario;
	if (shape.driver !== "produce") throw new Error(`AB_RECORDS_PER_PRODUCE sizes the produce shapes' requests, not ${shape.id}'s`);
	const perRequest = Number(recordsPerProduce);
	if (!(Number.isInteger(perRequest) && perRequest >= 1))
		throw new Error(`AB_RECORDS_PER_PRODUCE must be a whole number ≥ 1, not ${recordsPerProduce}`);
	return { ...scenario, perRequest };
}

/**
 * The two builds `npm run bench:ab -- [A] [B]` compares: each a git ref or `.` (the working tree). Default: main
 * against the working tree; the same one twice is an A/A run, the noise floor.
 * @param {string[]} args
 * @returns {{ a: string, b: string, sameBuild: boolean }}
 */
export function abBuilds(args) {
	const named = args.filter((arg) => arg !== "");
	if (named.length > 2) throw new Error(`bench:ab compares two builds, not ${named.length}: [A] [B], each a git ref or "."`);
	const a = named[0] ?? DEFAULT_BASE;
	const b = named[1] ?? WORKING_TREE;
	return { a, b, sameBuild: a === b };
}

/**
 * One step that sends request `i` of `client` to every build at once and answers when all have: each build sees
 * the same requests at the same moments, so their CPU per request is taken at one rate and one concurrency (two
 * loads side by side drift apart: whichever the scheduler favours runs faster, and a faster partition
 * group-commits more per commit). Its outcome is the first failure, if any, else the first build's.
 * @param {import("./load.mjs").Step[]} steps
 * @returns {import("./load.mjs").Step}
 */
export function pairSteps(steps) {
	if (steps.length === 0) throw new Error("pairSteps needs at least one step");
	return async (client, i) => {
		const outcomes = await Promise.all(steps.map((step) => step(client, i)));
		const failed = outcomes.find((o) => o.error !== undefined || o.status < 200 || o.status >= 300);
		return /** @type {import("./load.mjs").Outcome} */ (failed ?? outcomes[0]);
	};
}

/**
 * Server CPU per record in µs: `cpuSeconds` over `records`; null when there is no figure.
 * @param {number} cpuSeconds
 * @param {number} records
 */
export function cpuMicrosPerRecord(cpuSeconds, records) {
	if (!Number.isFinite(cpuSeconds) || !(records > 0)) return null;
	return round((cpuSeconds / records) * 1e6, 2);
}

/**
 * @typedef {{ offsets?: { offset: number }[], error?: unknown }} Report
 * @typedef {{ send(text: string): void, onReport(handler: (report: Report) => void): void, close(): Promise<void> }} Channel
 */

/**
 * One streaming channel over several (one per build): each message is sent on every channel at once, and its report
 * passed on once every channel has answered it, so the builds see the same messages at the same pace (as pairSteps
 * does for requests). The report passed on is the first channel's when all carry the same offsets, else an error
 * naming them, which the phase (bench/lib/stream-channel.mjs) counts as a problem like any other.
 * @param {Channel[]} channels
 * @returns {Channel}
 */
export function pairChannels(channels) {
	if (channels.length === 0) throw new Error("pairChannels needs at least one channel");
	/** @type {Report[][]} reports not yet passed on, per channel, in order */
	const queues = channels.map(() => []);
	/** @type {(report: Report) => void} */
	let handler = () => {};
	const offsetsOf = (/** @type {Report} */ r) => JSON.stringify(r.offsets?.map((o) => o.offset) ?? null);
	const drain = () => {
		while (queues.every((q) => q.length > 0)) {
			const heads = queues.map((q) => /** @type {Report} */ (q.shift()));
			const first = /** @type {Report} */ (heads[0]);
			const same = heads.every((r) => r.error === undefined && offsetsOf(r) === offsetsOf(first));
			handler(same || first.error !== undefined ? first : { error: `the builds answered offsets ${heads.map(offsetsOf).join(" and ")}` });
		}
	};
	for (const [i, channel] of channels.entries()) {
		channel.onReport((report) => {
			queues[i]?.push(report);
			drain();
		});
	}
	return {
		send: (text) => {
			for (const channel of channels) channel.send(text);
		},
		onReport: (h) => {
			handler = h;
		},
		close: async () => {
			await Promise.all(channels.map((channel) => channel.close()));
		},
	};
}

/**
 * Each build's poll and commit-request latencies (ms), kept while `keep` is set (the measured window).
 * @typedef {{ keep: boolean, pollMs: number[][], commitMs: number[][] }} LatencyTally
 */

/**
 * An empty tally for `builds` builds, not keeping yet.
 * @param {number} builds
 * @returns {LatencyTally}
 */
export function latencyTally(builds) {
	return { keep: false, pollMs: Array.from({ length: builds }, () => []), commitMs: Array.from({ length: builds }, () => []) };
}

/**
 * Build `i`'s latencies of one step into the tally, while it keeps them.
 * @param {LatencyTally} tally @param {number} i @param {import("./group-consume.mjs").Stepped} stepped
 */
function keepLatency(tally, i, stepped) {
	if (!tally.keep) return;
	tally.pollMs[i]?.push(stepped.pollMs);
	if (stepped.commitMs !== null) tally.commitMs[i]?.push(stepped.commitMs);
}

/**
 * Build `i`'s member cursor, its steps' latencies going into the tally (AB_UNCOUPLED: each build's members step on
 * their own, so no pair tallies them).
 * @param {import("./group-consume.mjs").MemberCursor} cursor @param {LatencyTally} tally @param {number} i
 * @returns {import("./group-consume.mjs").MemberCursor}
 */
export function talliedCursor(cursor, tally, i) {
	return {
		get polled() {
			return cursor.polled;
		},
		async step() {
			const stepped = await cursor.step();
			keepLatency(tally, i, stepped);
			return stepped;
		},
		finish: () => cursor.finish(),
	};
}

/**
 * One group member's cursor over several (one per build, bench/lib/group-consume.mjs): each step polls (and commits)
 * on every build at once and answers once all have, so the builds' groups get the same calls at the same moments (as
 * pairSteps does for requests). Every build's poll must return as many records, else the step fails: the builds
 * would no longer be under one load. While `tally.keep`, each build's latencies go into the tally.
 * @param {import("./group-consume.mjs").MemberCursor[]} cursors
 * @param {LatencyTally} tally
 * @returns {import("./group-consume.mjs").MemberCursor}
 */
export function pairCursors(cursors, tally) {
	const first = cursors[0];
	if (first === undefined) throw new Error("pairCursors needs at least one cursor");
	return {
		get polled() {
			return first.polled;
		},
		async step() {
			const got = await Promise.all(cursors.map((cursor) => cursor.step()));
			const records = got.map((g) => g.records);
			if (records.some((n) => n !== records[0])) throw new Error(`the builds' polls returned ${records.join(" and ")} records`);
			for (const [i, g] of got.entries()) keepLatency(tally, i, g);
			return /** @type {import("./group-consume.mjs").Stepped} */ (got[0]);
		},
		async finish() {
			const got = await Promise.all(cursors.map((cursor) => cursor.finish()));
			return got[0] ?? null;
		},
	};
}

/**
 * @typedef {object} AbRound
 * @property {number} a  build A's server CPU µs per record in this round
 * @property {number} b  build B's, measured over the same seconds
 */

/**
 * What the rounds say: each build's median, and B − A per round (median, min, max; the spread is what one round's
 * difference can be off by on this machine). `percent` is the median difference against A's median.
 * @param {AbRound[]} rounds
 */
export function summarize(rounds) {
	if (rounds.length === 0) throw new Error("no rounds to summarize");
	const diffs = rounds.map((r) => r.b - r.a);
	const a = median(rounds.map((r) => r.a));
	const b = median(rounds.map((r) => r.b));
	const diff = median(diffs);
	return {
		rounds: rounds.length,
		a: round(a, 2),
		b: round(b, 2),
		diff: round(diff, 2),
		diffMin: round(Math.min(...diffs), 2),
		diffMax: round(Math.max(...diffs), 2),
		percent: a > 0 ? round((diff / a) * 100, 1) : null,
		/** Rounds in which B used less CPU per request than A. */
		bLower: diffs.filter((d) => d < 0).length,
		/** Whether every round put B on the same side of A: short of that, the median is not told apart from noise. */
		signsAgree: diffs.every((d) => d < 0) || diffs.every((d) => d > 0),
	};
}

/**
 * What uncoupled rounds (`AB_UNCOUPLED=1`, group shapes) add up to in throughput: each round's records/s of B as a
 * percentage of A's, their median and range, and in how many rounds B read more. Each build's members run on their
 * own there, so a build whose server waits more (not only one that spends more CPU per record) reads less; paired
 * rounds cannot show that, since every step waits for both builds.
 * @param {{ a: number, b: number }[]} rates  records/s of each build, a round each
 */
export function summarizeRates(rates) {
	if (rates.length === 0) throw new Error("no rounds to summarize");
	const percents = rates.map((r) => (r.a > 0 ? (r.b / r.a) * 100 : Number.NaN));
	if (percents.some((p) => !Number.isFinite(p))) throw new Error("a round in which A read nothing has no ratio");
	return {
		rounds: rates.length,
		percent: round(median(percents), 1),
		percentMin: round(Math.min(...percents), 1),
		percentMax: round(Math.max(...percents), 1),
		/** Rounds in which B read more records per second than A. */
		bHigher: rates.filter((r) => r.b > r.a).length,
	};
}
