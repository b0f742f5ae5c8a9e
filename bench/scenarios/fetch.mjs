// @ts-check
/**
 * @module
 * Fetch throughput: one client paging 1,000 records at a time through a partition prefilled with 20,000 1 KiB
 * records (wrapping at the end), on Tributary and both ceilings (ceiling+sqlite reads the same records back from
 * stored rows each time: what reading the bytes alone costs). Pages are followed on `next_offset`, read from the
 * tail of the body; the first page is parsed in full and checked.
 *
 * `fetch-remote`: the same load on a topic with remote storage whose offload has moved the prefill to R2 segments
 * (local.retention.bytes 1): every page is read from R2 at the edge. Reported beside the local fetch of the same run.
 */

import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { runLoad } from "../lib/load.mjs";
import { produceBodies } from "../lib/records.mjs";
import { DURATION_MS, FETCH_RECORDS, PREFILL_RECORDS, RECORDS_PER_PRODUCE, WARMUP_MS } from "../settings.mjs";

const NEXT_OFFSET = /"next_offset":(\d+)/;
const PREFILL_CLIENTS = 4;

/**
 * Fills partition 0 with PREFILL_RECORDS records; returns how long it took.
 * @param {import("../lib/http.mjs").HttpClient} http
 * @param {string} topic
 */
async function prefill(http, topic) {
	const bodies = produceBodies({ count: 16, perRequest: RECORDS_PER_PRODUCE, partition: 0, seed: 999 });
	let next = 0;
	const requests = PREFILL_RECORDS / RECORDS_PER_PRODUCE;
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
 * @param {import("../lib/http.mjs").HttpClient} http
 * @param {string} topic
 * @param {{ offset: number, checked: boolean, check: string[] }} cursor
 * @param {number} [end] where paging wraps to offset 0
 * @returns {import("../lib/load.mjs").Step}
 */
function fetchStep(http, topic, cursor, end = PREFILL_RECORDS) {
	return async () => {
		const from = cursor.offset;
		const path = `/v1/topics/${topic}/partitions/0/records?offset=${from}&max_records=${FETCH_RECORDS}&max_bytes=16777216`;
		const response = await http.request("GET", path);
		if (response.status !== 200) {
			return { status: response.status, error: `${response.status} ${response.body.toString("utf8").slice(0, 300)}` };
		}
		const tail = response.body.toString("latin1", Math.max(0, response.body.length - 160));
		const next = Number(NEXT_OFFSET.exec(tail)?.[1] ?? Number.NaN);
		if (!cursor.checked) {
			cursor.checked = true;
			const page = JSON.parse(response.body.toString("utf8"));
			const dense =
				page.records.length === FETCH_RECORDS &&
				page.records.every((/** @type {{ offset: number }} */ r, /** @type {number} */ k) => r.offset === from + k);
			if (!dense || page.next_offset !== from + FETCH_RECORDS) {
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
 * One client fetching with `step` for the measured window; the row's payload is what it received.
 * @param {import("../lib/load.mjs").Step} step
 * @param {{ check: string[] }} cursor
 */
async function fetchWindow(step, cursor) {
	const result = await runLoad({ clients: 1, warmupMs: WARMUP_MS, durationMs: DURATION_MS, serverCpu: descendantCpuSeconds, step });
	return {
		...result,
		payloadMBPerSec: result.receivedMBPerSec,
		meanResponseBytes: result.requests > 0 ? Math.round(result.receivedBytes / result.requests) : 0,
		verification: cursor.check.length === 0 ? /** @type {const} */ ("ok") : cursor.check,
	};
}

/** @type {import("./types.js").ScenarioKind} */
export const fetch = {
	kind: "fetch",
	targets: ["ceiling", "ceiling+sqlite", "tributary"],
	scenarios: [{ id: "fetch-1c-1p", label: "fetch 1000×1KB, 1 client, 1 partition", kind: "fetch", clients: 1, partitions: 1 }],
	settings: { fetchRecords: FETCH_RECORDS, prefillRecords: PREFILL_RECORDS },
	async run({ http, target }, scenario) {
		const topic = `bench-${scenario.id}`;
		await http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
		const cursor = { offset: 0, checked: false, check: /** @type {string[]} */ ([]) };
		let prefillMs = null;
		if (target === "tributary") {
			prefillMs = await prefill(http, topic);
			const described = await http.json("GET", `/v1/topics/${topic}`);
			if (described.partitions[0].high_watermark !== PREFILL_RECORDS) {
				cursor.check.push(`prefill left high watermark ${described.partitions[0].high_watermark}, not ${PREFILL_RECORDS}`);
			}
		}
		return { ...(await fetchWindow(fetchStep(http, topic, cursor), cursor)), prefillMs };
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
	async run({ http }, scenario) {
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
		const step = fetchStep(http, topic, cursor, Math.max(FETCH_RECORDS, localStart));
		return { ...(await fetchWindow(step, cursor)), prefillMs, offloadMs, remoteRecords: localStart };
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
