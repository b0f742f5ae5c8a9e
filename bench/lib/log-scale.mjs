// @ts-check
/**
 * The log at scale: a partition holding `batches` stored batches (100,000 by default) must answer a fetch at its
 * tail as fast as one at its head, and wake up as fast as a partition with a short log. Both ratios are measured
 * in one run, on one server (Miniflare, data on disk), so the machine's load weighs on both sides alike.
 *
 * Setup (not measured): the partition is filled by real produce requests of one record each (one stored batch
 * each, as many small producers write), `FILL_CONCURRENCY` in flight; a second topic gets `SHORT_LOG_BATCHES`.
 * Fetch: `FETCH_SAMPLES` fetches of `FETCH_RECORDS` records at offset 0 and as many ending at the high watermark,
 * alternating, each timed on its own; the figure is the median of each side. Cold start: the server is stopped
 * and started again on the same data `COLD_ROUNDS` times; each time the Worker, the topic registry and
 * `WARM_PARTITIONS` other partitions are woken first (the first cold wake-up after a start is the slowest), then the first fetch at the tail of the long log and of the short log are
 * timed, in alternating order. Both partitions' objects are then loaded from SQLite afresh. workerd leaves each
 * database's write-ahead log in place when it stops and replays it on the next start — up to ~4 MB, however long
 * the log, but far more after the fill than on the short log — so the cold starts are measured twice: as the fill
 * left them, and after `checkpoint()` folded every WAL into its database (when it can: it needs Debian's sqlite3),
 * which leaves the length of the logs as the only difference. The target applies to the second.
 *
 * @example
 * const result = await logScaleScenario({ start: () => startServerOnSameData(), token, batches: 100_000 });
 * // { batches, fillMs, fillPerSec, fetch: { headMs, tailMs, ratio }, coldStart: { longMs, shortMs, ratio }, verification }
 */

import { createClient } from "./http.mjs";
import { median, round } from "./load.mjs";

/**
 * @typedef {import("./http.mjs").HttpClient} HttpClient
 * @typedef {() => Promise<{ url: string, stop(): Promise<unknown> }>} Start
 */

export const LOG_SCALE_BATCHES = 100_000;
/** Targets: a fetch at the tail within 1.2× of one at the head; a long log's cold start within 1.2× of a short one's. */
export const LOG_SCALE_RATIO_MAX = 1.2;
const FILL_CONCURRENCY = 48;
const FILL_ATTEMPTS = 5;
const SHORT_LOG_BATCHES = 10;
const FETCH_RECORDS = 10;
const FETCH_SAMPLES = 400;
/** Even, so each of the two partitions is measured first in half the rounds. */
const COLD_ROUNDS = 16;
/** Partitions woken before the measured two, so the first cold wake-up after a start (slower) is not theirs. */
const WARM_PARTITIONS = 2;

/** One record per request: `{"records":[{"partition":0,"value":"…"}]}`. */
/** @param {number} i */
function oneRecordBody(i) {
	return Buffer.from(`{"records":[{"partition":0,"key":"k-${i % 1000}","value":"record ${i}"}]}`);
}

/**
 * Produces `batches` requests of one record each. A request lost to the transport (a reset socket on a busy
 * machine) is sent again; if it had been written, the log holds one batch more, which the caller reads back.
 * @param {HttpClient} http
 * @param {string} topic
 * @param {number} batches
 * @param {number} concurrency
 */
async function fill(http, topic, batches, concurrency) {
	let next = 0;
	let resent = 0;
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < batches) {
				const i = next++;
				for (let attempt = 1; ; attempt++) {
					const response = await http
						.request("POST", `/v1/topics/${topic}/records`, oneRecordBody(i))
						.catch((/** @type {unknown} */ error) => {
							if (attempt >= FILL_ATTEMPTS) throw error;
							resent++;
							return null;
						});
					if (response === null) continue;
					if (response.status !== 200) throw new Error(`fill: ${response.status} ${response.body.toString("utf8").slice(0, 300)}`);
					break;
				}
			}
		}),
	);
	const described = await http.json("GET", `/v1/topics/${topic}`);
	return { highWatermark: described.partitions[0].high_watermark, resent };
}

/**
 * Milliseconds of one fetch of `FETCH_RECORDS` from `offset`; checks it returned them.
 * @param {HttpClient} http
 * @param {string} topic
 * @param {number} offset
 */
async function timedFetch(http, topic, offset) {
	const started = performance.now();
	const response = await http.request("GET", `/v1/topics/${topic}/partitions/0/records?offset=${offset}&max_records=${FETCH_RECORDS}`);
	const ms = performance.now() - started;
	if (response.status !== 200)
		throw new Error(`fetch ${topic}@${offset}: ${response.status} ${response.body.toString("utf8").slice(0, 300)}`);
	const page = JSON.parse(response.body.toString("utf8"));
	if (page.records.length !== FETCH_RECORDS || page.records[0].offset !== offset) {
		throw new Error(`fetch ${topic}@${offset}: ${page.records.length} records from ${page.records[0]?.offset}`);
	}
	return ms;
}

/** @param {number[]} values */
const medianMs = (values) => round(median(values), 3);

/**
 * @param {HttpClient} http
 * @param {string} topic
 * @param {number} highWatermark
 */
async function fetchHeadAndTail(http, topic, highWatermark) {
	const head = [];
	const tail = [];
	for (let i = 0; i < FETCH_SAMPLES; i++) {
		// Alternate which goes first, so neither side always follows the other.
		if (i % 2 === 0) {
			head.push(await timedFetch(http, topic, 0));
			tail.push(await timedFetch(http, topic, highWatermark - FETCH_RECORDS));
		} else {
			tail.push(await timedFetch(http, topic, highWatermark - FETCH_RECORDS));
			head.push(await timedFetch(http, topic, 0));
		}
	}
	const headMs = medianMs(head);
	const tailMs = medianMs(tail);
	return { samples: FETCH_SAMPLES, headMs, tailMs, ratio: round(tailMs / headMs, 3) };
}

/**
 * @param {Start} start
 * @param {string} token
 * @param {{ long: string, short: string, warm: string[], highWatermarks: { long: number, short: number } }} topics
 */
async function coldStarts(start, token, topics) {
	/** @type {number[]} */
	const long = [];
	/** @type {number[]} */
	const short = [];
	for (let round_ = 0; round_ < COLD_ROUNDS; round_++) {
		const server = await start();
		const http = createClient(server.url, { token, sockets: 1 });
		try {
			for (const warm of topics.warm) await timedFetch(http, warm, 0);
			const order = round_ % 2 === 0 ? /** @type {const} */ (["long", "short"]) : /** @type {const} */ (["short", "long"]);
			for (const which of order) {
				const ms = await timedFetch(http, topics[which], topics.highWatermarks[which] - FETCH_RECORDS);
				(which === "long" ? long : short).push(ms);
			}
		} finally {
			http.close();
			await server.stop();
		}
	}
	const longMs = medianMs(long);
	const shortMs = medianMs(short);
	return { rounds: COLD_ROUNDS, longMs, shortMs, ratio: round(longMs / shortMs, 3), longSamplesMs: long.map((ms) => round(ms, 2)) };
}

/**
 * `start()` starts the server on the same data every time it is called and resolves `{ url, stop }`; `log`
 * (optional) reports progress.
 * @param {{ start: Start, checkpoint?: () => Promise<boolean>, token: string, batches?: number, log?: (line: string) => void }} options
 */
export async function logScaleScenario({ start, checkpoint = async () => false, token, batches = LOG_SCALE_BATCHES, log = () => {} }) {
	const suffix = Math.random().toString(36).slice(2, 8);
	const topics = {
		long: `bench-log-long-${suffix}`,
		short: `bench-log-short-${suffix}`,
		warm: Array.from({ length: WARM_PARTITIONS }, (_, i) => `bench-log-warm-${i}-${suffix}`),
	};
	const server = await start();
	const http = createClient(server.url, { token, sockets: FILL_CONCURRENCY });
	let fetch;
	let fillMs;
	let filled;
	const highWatermarks = {};
	try {
		for (const topic of [topics.long, topics.short, ...topics.warm]) {
			await http.json("POST", "/v1/topics", { name: topic, partitions: 1 }, [201]);
		}
		const fillStarted = performance.now();
		filled = await fill(http, topics.long, batches, FILL_CONCURRENCY);
		fillMs = Math.round(performance.now() - fillStarted);
		log(`filled ${filled.highWatermark} batches in ${fillMs} ms (${filled.resent} requests resent)`);
		highWatermarks.short = (await fill(http, topics.short, SHORT_LOG_BATCHES, 1)).highWatermark;
		highWatermarks.long = filled.highWatermark;
		for (const warm of topics.warm) await fill(http, warm, FETCH_RECORDS, 1);
		fetch = await fetchHeadAndTail(http, topics.long, filled.highWatermark);
		log(`fetch head ${fetch.headMs} ms, tail ${fetch.tailMs} ms (×${fetch.ratio})`);
	} finally {
		http.close();
		await server.stop();
	}
	const coldStartWithWal = await coldStarts(start, token, { ...topics, highWatermarks });
	log(`cold start as left: long ${coldStartWithWal.longMs} ms, short ${coldStartWithWal.shortMs} ms (×${coldStartWithWal.ratio})`);
	const checkpointed = await checkpoint();
	const coldStart = checkpointed ? await coldStarts(start, token, { ...topics, highWatermarks }) : coldStartWithWal;
	if (checkpointed) log(`cold start checkpointed: long ${coldStart.longMs} ms, short ${coldStart.shortMs} ms (×${coldStart.ratio})`);
	/** @type {string[]} */
	const verification = [];
	if (fetch.ratio > LOG_SCALE_RATIO_MAX) verification.push(`tail fetch is ${fetch.ratio}× the head's (target ≤ ${LOG_SCALE_RATIO_MAX})`);
	if (coldStart.ratio > LOG_SCALE_RATIO_MAX) {
		verification.push(`cold start of the long log is ${coldStart.ratio}× the short one's (target ≤ ${LOG_SCALE_RATIO_MAX})`);
	}
	if (filled.highWatermark < batches) verification.push(`the fill left ${filled.highWatermark} batches, not ${batches}`);
	return {
		batches: filled.highWatermark,
		fillMs,
		fillPerSec: Math.round((batches / fillMs) * 1000),
		fetch,
		coldStart,
		checkpointed,
		coldStartWithWal,
		verification: verification.length === 0 ? /** @type {"ok"} */ ("ok") : verification,
	};
}

/** The markdown section for run.mjs's report. */
/**
 * @typedef {{ headMs: number, tailMs: number, ratio: number }} FetchFigures
 * @typedef {{ longMs: number, shortMs: number, ratio: number }} ColdFigures
 * @typedef {{ fetch: FetchFigures, coldStart: ColdFigures, coldStartWithWal: ColdFigures }} LogScaleFigures
 */

/**
 * The section of the report: its heading, what it measures, and one line per row.
 * @param {import("../scenarios/types.js").Row[]} rows
 */
export function logScaleSection(rows) {
	const lines = [
		"## The log at scale",
		"",
		`bench/lib/log-scale.mjs: one partition filled with stored batches by produce requests of one record each; fetches of ${FETCH_RECORDS} records at its head and at its tail alternate (${FETCH_SAMPLES} each, medians); then the server is restarted on the same data ${COLD_ROUNDS} times and the first fetch at the tail of that partition and of a ${SHORT_LOG_BATCHES}-batch partition is timed (medians; the Worker, the registry and two other partitions are woken first). Cold starts are measured after every SQLite write-ahead log was checkpointed (workerd replays a WAL left behind on each start: up to ~4 MB after the fill, next to nothing on the short log); in brackets, as the fill left them. Target: both ratios ≤ ${LOG_SCALE_RATIO_MAX}.`,
		"",
		"| runtime | stored batches | fill batches/s | fetch head ms | fetch tail ms | tail ÷ head | cold start long ms | cold start short ms | long ÷ short | target |",
		"|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
	];
	for (const row of rows) {
		if (row.failed) {
			lines.push(`| ${row.runtime} | failed: ${String(row.failed).replace(/\s+/g, " ").slice(0, 200)} | | | | | | | | |`);
			continue;
		}
		const met = row.verification === "ok" ? "yes" : "**no**";
		const { fetch, coldStart, coldStartWithWal: wal } = /** @type {LogScaleFigures} */ (/** @type {unknown} */ (row));
		const asLeft = (/** @type {unknown} */ value) => (row.checkpointed ? ` (${value})` : " (not checkpointed: no sqlite3)");
		lines.push(
			`| ${row.runtime} | ${row.batches} | ${row.fillPerSec} | ${fetch.headMs} | ${fetch.tailMs} | ${fetch.ratio} | ${coldStart.longMs}${asLeft(wal.longMs)} | ${coldStart.shortMs}${asLeft(wal.shortMs)} | ${coldStart.ratio}${asLeft(wal.ratio)} | ${met} |`,
		);
	}
	return lines.join("\n");
}
