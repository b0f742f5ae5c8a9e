// @ts-check
/**
 * @module
 * Fetch throughput: one client paging 1,000 records at a time through a partition prefilled with 20,000 1 KiB
 * records (wrapping at the end), on Tributary and both ceilings (ceiling+sqlite reads the same records back from
 * stored rows each time: what reading the bytes alone costs). Pages are followed on `next_offset`, read from the
 * tail of the body; the first page is parsed in full and checked.
 *
 * `fetch-tail-1c-1p`: the same load over a backlog of TAIL_BACKLOG_RECORDS (wrapping there), which fits the
 * partitions' batch cache (`BATCH_CACHE_BYTES_MAX`, 16 MiB): a consumer at or near the tail, whose pages the partition
 * answers from memory. fetch-1c-1p's backlog (about 22 MB stored) is larger than the cache, so it stays as it was:
 * its newest pages come from memory, the rest from SQLite. Both rows count the partition's SQLite rows read (its
 * cursors' `rowsRead` in /metrics, what Cloudflare bills) and batches served from memory, per record fetched. Each
 * deletes its topic once measured, so the next finds the isolate's batch cache as a fresh isolate would: a prefill
 * nobody reads yet is kept in spare room only, never in room a live reader's window holds.
 *
 * The client sends no `Accept-Encoding`, so pages go uncompressed on every target. A client that asks for gzip gets
 * it from Miniflare's entry worker (as from Cloudflare's edge in production), not from the Worker, and the ceiling
 * alike: measured on this load, ~27 µs of server CPU per 1 KiB record on both, several times the whole uncompressed
 * fetch, for ~25 % fewer bytes on these random printable values.
 *
 * `fetch-remote`: the same load on a topic with remote storage whose offload has moved the prefill to R2 segments
 * (local.retention.bytes 1): every page is read from R2 at the edge. Reported beside the local fetch of the same run.
 */

import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { SETTLE_MS, scrape } from "../lib/cost.mjs";
import { fmt, throughputSummary } from "../lib/format.mjs";
import { createThreadClient } from "../lib/http-thread.mjs";
import { runLoad, serverCpuMicrosPerRecord } from "../lib/load.mjs";
import { produceBodies } from "../lib/records.mjs";
import { ratioCell, windowed } from "../lib/rounds.mjs";
import { DURATION_MS, FETCH_RECORDS, PREFILL_RECORDS, RECORDS_PER_PRODUCE, WARMUP_MS } from "../settings.mjs";

const NEXT_OFFSET = /"next_offset":(\d+)/;
/** How much of a page's end holds its envelope's tail (`],"high_watermark":…,"next_offset":…}`), with room to spare. */
const PAGE_TAIL_BYTES = 160;
const PREFILL_CLIENTS = 4;
/** fetch-tail-1c-1p's backlog: about 5.5 MB stored, a third of the batch cache. */
const TAIL_BACKLOG_RECORDS = 5_000;
const ROWS_READ = 'tributary_storage_rows_read_total{class="PartitionLog"}';
const CACHE_HITS = 'tributary_storage_cache_hits_total{class="PartitionLog"}';
const CACHE_MISSES = 'tributary_storage_cache_misses_total{class="PartitionLog"}';

/**
 * The partitions' SQLite rows read and batches from memory and from SQLite, from /metrics, once the reports settled.
 * @param {import("../lib/http.mjs").HttpClient} http
 */
async function readCounters(http) {
	await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
	const samples = await scrape(http);
	return { rowsRead: samples.get(ROWS_READ) ?? 0, hits: samples.get(CACHE_HITS) ?? 0, misses: samples.get(CACHE_MISSES) ?? 0 };
}

/**
 * Fills partition 0 with `records` records; returns how long it took.
 * @param {import("../lib/http.mjs").HttpClient} http
 * @param {string} topic
 */
export async function prefill(http, topic, records = PREFILL_RECORDS) {
	const bodies = produceBodies({ count: 16, perRequest: RECORDS_PER_PRODUCE, partition: 0, seed: 999 });
	let next = 0;
	const requests = records / RECORDS_PER_PRODUCE;
	const started = Date.now();
	await Promise.all(
		Array.from({ length: PREFILL_CLIENTS }, async () => {
			while (next < requests) {
				const i = next++;
				const response = await http.request("POST", `/v1/topics/${topic}/records`, bodies[i % bodies.length]);
				if (response.status !== 200) throw new Error(`prefill: ${response.status} ${response.body.toString("utf8").slice(0, 300)}`);
			}
		}),
	);
	return Date.now() - started;
}

/**
 * One fetch step: pages from `cursor.offset`, checks the first page in full, wraps at the end.
 * @param {Pick<import("../lib/http.mjs").HttpClient, "request">} http
 * @param {string} topic
 * @param {{ offset: number, checked: boolean, check: string[] }} cursor
 * @param {number} [end] where paging wraps to offset 0
 * @param {{ partition?: number, records?: number }} [page] the partition read (0) and records per request (FETCH_RECORDS)
 * @returns {import("../lib/load.mjs").Step}
 */
export function fetchStep(http, topic, cursor, end = PREFILL_RECORDS, { partition = 0, records = FETCH_RECORDS } = {}) {
	return async () => {
		const from = cursor.offset;
		const path = `/v1/topics/${topic}/partitions/${partition}/records?offset=${from}&max_records=${records}&max_bytes=16777216`;
		// Past the first page only the end is read (its next_offset): see keepTail in lib/http.mjs.
		const response = await http.request("GET", path, undefined, undefined, cursor.checked ? { keepTail: PAGE_TAIL_BYTES } : {});
		if (response.status !== 200) {
			return { status: response.status, error: `${response.status} ${response.body.toString("utf8").slice(0, 300)}` };
		}
		const tail = response.body.toString("latin1", Math.max(0, response.body.length - PAGE_TAIL_BYTES));
		const next = Number(NEXT_OFFSET.exec(tail)?.[1] ?? Number.NaN);
		if (!cursor.checked) {
			cursor.checked = true;
			const page = JSON.parse(response.body.toString("utf8"));
			const dense =
				page.records.length === records &&
				page.records.every((/** @type {{ offset: number }} */ r, /** @type {number} */ k) => r.offset === from + k);
			if (!dense || page.next_offset !== from + records) {
				cursor.check.push(`first fetch from ${from}: ${page.records.length} records, next_offset ${page.next_offset}`);
			}
		}
		if (!Number.isSafeInteger(next) || next <= from) {
			return { status: response.status, error: `fetch from ${from} answered next_offset ${next}` };
		}
		cursor.offset = next >= end ? 0 : next;
		return { status: response.status, sentBytes: 0, receivedBytes: response.receivedBytes, records: next - from };
	};
}

/**
 * A fetch row's own figures, from its measured windows: the payload is what it received.
 * @param {import("./types.js").Result} measured
 * @param {{ check: string[] }} cursor
 */
function fetchFigures(measured, cursor) {
	const requests = measured.requests ?? 0;
	return {
		payloadMBPerSec: measured.receivedMBPerSec,
		meanResponseBytes: requests > 0 ? Math.round((measured.receivedBytes ?? 0) / requests) : 0,
		verification: cursor.check.length === 0 ? /** @type {const} */ ("ok") : cursor.check,
	};
}

/**
 * One client fetching with `step` for one window (warm-up, then the measured time), as one row.
 * @param {import("../lib/load.mjs").Step} step
 * @param {{ check: string[] }} cursor
 */
async function fetchWindow(step, cursor) {
	const result = await runLoad({ clients: 1, warmupMs: WARMUP_MS, durationMs: DURATION_MS, serverCpu: descendantCpuSeconds, step });
	return { ...result, ...fetchFigures(result, cursor) };
}

/** @type {import("./types.js").ScenarioKind} */
export const fetch = {
	kind: "fetch",
	targets: ["ceiling", "ceiling+sqlite", "tributary"],
	scenarios: [
		{ id: "fetch-1c-1p", label: "fetch 1000×1KB, 1 client, 1 partition", kind: "fetch", clients: 1, partitions: 1 },
		{
			id: "fetch-tail-1c-1p",
			label: `fetch 1000×1KB near the tail (backlog ${TAIL_BACKLOG_RECORDS / 1000}k), 1 client, 1 partition`,
			kind: "fetch",
			clients: 1,
			partitions: 1,
			backlog: TAIL_BACKLOG_RECORDS,
		},
	],
	settings: { fetchRecords: FETCH_RECORDS, prefillRecords: PREFILL_RECORDS, tailBacklogRecords: TAIL_BACKLOG_RECORDS },
	// The cursor carries from window to window, paging on through the backlog and wrapping at its end, as one long
	// window would: a later round finds the partition (and its batch cache) as the earlier ones left it.
	async open({ http, target, url, token }, scenario) {
		const topic = `bench-${scenario.id}`;
		const backlog = /** @type {number} */ (scenario.backlog ?? PREFILL_RECORDS);
		await http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
		const cursor = { offset: 0, checked: false, check: /** @type {string[]} */ ([]) };
		// The pages are read by a client in a thread of its own (see lib/http-thread.mjs); setup goes as before.
		const reader = createThreadClient(url, { token, sockets: 1 });
		const step = fetchStep(reader, topic, cursor, backlog);
		const window = (/** @type {number} */ warmupMs, /** @type {number} */ durationMs) =>
			runLoad({ clients: 1, warmupMs, durationMs, serverCpu: descendantCpuSeconds, step, keepLatencies: true, waitQuiet: false });
		if (target !== "tributary") {
			return windowed(window, async (merged) => {
				await reader.close();
				return fetchFigures(merged, cursor);
			});
		}
		const prefillMs = await prefill(http, topic, backlog);
		const described = await http.json("GET", `/v1/topics/${topic}`);
		if (described.partitions[0].high_watermark !== backlog) {
			cursor.check.push(`prefill left high watermark ${described.partitions[0].high_watermark}, not ${backlog}`);
		}
		const before = await readCounters(http);
		return windowed(window, async (merged) => {
			await reader.close();
			const after = await readCounters(http);
			// Its window, followed until now, would keep its room for the next scenario's prefill (BATCH_CACHE_IDLE_MS).
			await http.request("DELETE", `/v1/topics/${topic}`).catch(() => {});
			const records = /** @type {number} */ (merged.records ?? 0);
			const per = (/** @type {number} */ n) => (records > 0 ? Math.round((n / records) * 10_000) / 10_000 : null);
			const batches = after.hits - before.hits + after.misses - before.misses;
			return {
				...fetchFigures(merged, cursor),
				prefillMs,
				rowsReadPerRecord: per(after.rowsRead - before.rowsRead),
				memoryBatchShare: batches > 0 ? Math.round(((after.hits - before.hits) / batches) * 1000) / 1000 : null,
			};
		});
	},
	summary(result) {
		const rows = result.rowsReadPerRecord;
		const cached = rows === undefined ? "" : `; ${rows} rows read/record, ${result.memoryBatchShare} of batches from memory`;
		return `${throughputSummary(result)}${cached}`;
	},
	derive(row) {
		row.serverCpuMicrosPerRecord = serverCpuMicrosPerRecord(row);
	},
	section: {
		title: "Fetch: memory and SQLite",
		intro: `fetch-1c-1p pages through ${fmt(PREFILL_RECORDS)} records (about 22 MB stored: more than the partitions' batch cache, 16 MiB per isolate, holds), fetch-tail-1c-1p through ${fmt(TAIL_BACKLOG_RECORDS)} (a third of it: a consumer near the tail). Rows read/record: the partition's SQLite cursor counters (\`tributary_storage_rows_read_total\` in /metrics) over the records fetched in its windows; from memory: the share of stored batches the reads took from the cache (\`tributary_storage_cache_hits_total\` against \`…_misses_total\`). Measured in rounds (see the top): records/s, CPU and rows read over every round, each % the median of the rounds' ratios (range in brackets). Server CPU µs/record = server CPU % ÷ records/s.`,
		table(rows) {
			const lines = [
				"| runtime | scenario | server | records/s | % of ceiling | % of ceiling+sqlite | server CPU µs/record | rows read/record | batches from memory |",
				"|---|---|---|--:|--:|--:|--:|--:|--:|",
			];
			for (const row of rows) {
				if (row.failed) continue;
				const cells = [
					row.runtime,
					row.scenario,
					row.server,
					fmt(row.recordsPerSec),
					ratioCell(row, "percentOfCeiling"),
					ratioCell(row, "percentOfCeilingSqlite"),
					String(row.serverCpuMicrosPerRecord ?? ""),
					String(row.rowsReadPerRecord ?? ""),
					String(row.memoryBatchShare ?? ""),
				];
				lines.push(`| ${cells.join(" | ")} |`);
			}
			return lines.join("\n");
		},
	},
};

/** How long the remote fetch waits for the offload to move the prefill to R2 (it runs every few seconds). */
const OFFLOAD_WAIT_MS = 120_000;
/** The share of the prefill that must be in R2 before the remote fetch starts. */
const OFFLOADED_SHARE_MIN = 0.9;

/**
 * Waits until the partition's local log start has passed most of the prefill; answers it.
 * @param {import("../lib/http.mjs").HttpClient} http
 * @param {string} topic
 */
async function awaitOffload(http, topic) {
	const deadline = Date.now() + OFFLOAD_WAIT_MS;
	for (;;) {
		const described = await http.json("GET", `/v1/topics/${topic}`);
		const localStart = described.partitions[0].local_log_start_offset ?? 0;
		if (localStart >= PREFILL_RECORDS * OFFLOADED_SHARE_MIN || Date.now() > deadline) return localStart;
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

/** @type {import("./types.js").ScenarioKind} */
export const fetchRemote = {
	kind: "fetch-remote",
	targets: ["tributary"],
	scenarios: [
		{
			id: "fetch-remote-1c-1p",
			label: "fetch 1000×1KB from R2 segments, 1 client, 1 partition",
			kind: "fetch-remote",
			clients: 1,
			partitions: 1,
		},
	],
	settings: { fetchRecords: FETCH_RECORDS, prefillRecords: PREFILL_RECORDS, offloadedShareMin: OFFLOADED_SHARE_MIN },
	async run({ http, url, token }, scenario) {
		const topic = `bench-${scenario.id}`;
		const config = { "remote.storage.enable": true, "local.retention.bytes": 1 };
		await http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions, config }, [201]);
		const prefillMs = await prefill(http, topic);
		const offloadStarted = Date.now();
		const localStart = await awaitOffload(http, topic);
		const offloadMs = Date.now() - offloadStarted;
		const cursor = { offset: 0, checked: false, check: /** @type {string[]} */ ([]) };
		if (localStart < PREFILL_RECORDS * OFFLOADED_SHARE_MIN) cursor.check.push(`only ${localStart} records offloaded after ${offloadMs} ms`);
		// Wrap before the local log start: every page comes from R2.
		const reader = createThreadClient(url, { token, sockets: 1 });
		try {
			const step = fetchStep(reader, topic, cursor, Math.max(FETCH_RECORDS, localStart));
			return { ...(await fetchWindow(step, cursor)), prefillMs, offloadMs, remoteRecords: localStart };
		} finally {
			await reader.close();
		}
	},
	derive(row, all) {
		if (row.failed) return;
		const local = all.find((r) => r.scenario === "fetch-1c-1p" && r.runtime === row.runtime && r.server === row.server);
		const remote = row.payloadMBPerSec;
		const base = local?.payloadMBPerSec;
		row.percentOfLocalFetch =
			typeof remote === "number" && typeof base === "number" && base > 0 ? Math.round((remote / base) * 1000) / 10 : null;
	},
	summary(result) {
		return `${result.payloadMBPerSec?.toFixed(1)} MB/s from R2 (${result.remoteRecords} records offloaded in ${result.offloadMs} ms)`;
	},
};
