// @ts-check
/**
 * @module
 * The group loads' backlog (bench/lib/group-consume.mjs): how many keyed 1 KiB records a topic of PARTITIONS
 * partitions is filled with for a group reading at a given rate (`backlogFor`, `backlogWithin`), and the fill itself
 * (`fillBacklogs`), on one server or on bench:ab's two builds at once.
 */

import { valueString } from "./records.mjs";

export const PARTITIONS = 4;
const VALUE_CHARS = 1024;
/** A multiple of PARTITIONS; its share per partition (120) divides neither 500 nor 1000 records per poll. */
const PRODUCE_BATCH_RECORDS = 480;
/** Headroom of `backlogFor` over the rate it is given. */
const BACKLOG_HEADROOM = 1.25;
/** Produce requests each fill step sends every topic at once. */
const FILL_IN_FLIGHT = 4;
/**
 * How long a backlog's fill may take for each ms of the read it feeds, unless told (`backlogWithin`). A group reads
 * faster than its backlog is written (a poll reads stored batches; a produce writes, indexes and commits them), and
 * both slow down on a loaded machine, so a fill stopped after this much time mostly holds what the group reads in the
 * window at that load (BUSY_RATE_PER_SEC sets a floor for when it does not): a quiet machine fills the whole backlog
 * first, a loaded one fills for a bounded time instead of the minutes a backlog sized for a quiet machine took there.
 * bench:ab group-4m-4p at load ~10 (both builds filled and read at once): 230,400 records filled in 30 s, read at
 * 9,600 records/s a build, so the 10 s of warm-up and window took 96,000.
 */
const FILL_MS_PER_READ_MS = 3;
/**
 * The group rate a backlog stopped on time still lasts the read at (`backlogWithin`'s `atLeast`): the fill slows with
 * the machine's load faster than the read does (its writes wait on the disk the other processes use too). In the same
 * run, at load 11-14: 65,280 records filled in 30 s read at 4,950 records/s, then 57,600 read at 12,800, dry 3.4 s
 * into the 8 s window.
 */
const BUSY_RATE_PER_SEC = 10_000;

/**
 * Records a group reading `ratePerSec` consumes in `durationMs`, with headroom, rounded up to whole produce requests.
 * @param {number} ratePerSec
 * @param {number} durationMs
 */
export function backlogFor(ratePerSec, durationMs) {
	const records = (ratePerSec * durationMs * BACKLOG_HEADROOM) / 1000;
	return Math.ceil(records / PRODUCE_BATCH_RECORDS) * PRODUCE_BATCH_RECORDS;
}

/**
 * A backlog that lasts a group reading `ratePerSec` for `readMs` (backlogFor), the time its fill may take
 * (`fillMsPerReadMs` for each ms of the read: on a machine too busy to fill it all in that time, the group reads
 * slower as well), and what it holds however long that takes (`atLeast`: what lasts the read at BUSY_RATE_PER_SEC).
 * @param {number} ratePerSec
 * @param {number} readMs
 * @param {number} [fillMsPerReadMs]
 */
export function backlogWithin(ratePerSec, readMs, fillMsPerReadMs = FILL_MS_PER_READ_MS) {
	return {
		records: backlogFor(ratePerSec, readMs),
		withinMs: readMs * fillMsPerReadMs,
		atLeast: backlogFor(Math.min(ratePerSec, BUSY_RATE_PER_SEC), readMs),
	};
}

/**
 * Produces keyed 1 KiB records into every target's topic alike, PRODUCE_BATCH_RECORDS per request spread evenly over
 * the partitions, in steps of FILL_IN_FLIGHT requests to every topic at once: `records` of them (rounded up to whole
 * requests), or, with `withinMs`, what the steps begun within that time wrote once that is `atLeast` (at least one
 * step).
 * @param {{ api: Pick<import("./group-consume.mjs").Api, "raw">, topic: string }[]} targets
 * @param {{ records: number, withinMs?: number, atLeast?: number, now?: () => number }} backlog  `now`: the fill's clock, ms
 * @returns {Promise<number>} the records each topic got
 */
export async function fillBacklogs(targets, { records, withinMs = Number.POSITIVE_INFINITY, atLeast = 0, now = () => performance.now() }) {
	const value = valueString(1, VALUE_CHARS);
	const batch = Array.from({ length: PRODUCE_BATCH_RECORDS }, (_, i) => ({ key: `k${i}`, partition: i % PARTITIONS, value }));
	const body = JSON.stringify({ records: batch });
	const batches = Math.ceil(records / PRODUCE_BATCH_RECORDS);
	const started = now();
	let sent = 0;
	const floor = Math.min(batches, Math.ceil(atLeast / PRODUCE_BATCH_RECORDS));
	while (sent < batches && (sent === 0 || sent < floor || now() - started < withinMs)) {
		const step = Math.min(FILL_IN_FLIGHT, batches - sent);
		await Promise.all(
			targets.flatMap(({ api, topic }) => Array.from({ length: step }, () => api.raw("POST", `/v1/topics/${topic}/records`, body, [200]))),
		);
		sent += step;
	}
	return sent * PRODUCE_BATCH_RECORDS;
}
