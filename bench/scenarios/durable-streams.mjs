// @ts-check
/**
 * @module
 * Durable Streams: appends and catch-up reads through `/ds`, each next to the same work through `/v1` on the same
 * server, so the protocol's cost shows as a ratio (`percentOfV1`).
 *
 * - `ds-append-1c`: one 1 KiB JSON value per `POST /ds/v1/stream/{s}` (one record per request); next to
 *   `v1-produce1-1c`: one 1 KiB record per `POST /v1/topics/{t}/records`.
 * - `ds-read-1c`: catch-up `GET /ds/v1/stream/{s}?offset=…` paging on `Stream-Next-Offset` through a stream of
 *   PREFILL_APPENDS 1 KiB appends (a response holds up to 1 MiB: about 940 records); next to `fetch-1c-1p`
 *   (1 000 records per fetch).
 *
 * Setup (not measured): the stream is created and, for reads, filled by PREFILL_PARALLEL appenders. Every response
 * is checked: a status other than 2xx stops the load; after appends the stream's tail must cover them; the first
 * read page is parsed in full and must hold distinct, whole values, one per offset.
 */

import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { percentOf } from "../lib/format.mjs";
import { runLoad } from "../lib/load.mjs";
import { DURATION_MS, WARMUP_MS } from "../settings.mjs";

const VALUE_CHARS = 1024;
/** Appends (records) in the read scenario's stream. */
const PREFILL_APPENDS = 1_500;
/** Prefill appends in flight at once. */
const PREFILL_PARALLEL = 16;

/** @param {number} i */
function value(i) {
	return { i, pad: "x".repeat(VALUE_CHARS - 20) };
}

/** @param {unknown} offset a `Stream-Next-Offset` header */
function offsetNumber(offset) {
	return Number(String(offset).split("_")[1]);
}

/**
 * @param {import("../lib/http.mjs").HttpClient} http
 * @param {string} path
 */
async function prefillStream(http, path) {
	const started = performance.now();
	let next = 0;
	const appender = async () => {
		for (let i = next++; i < PREFILL_APPENDS; i = next++) {
			const response = await http.request("POST", path, Buffer.from(JSON.stringify(value(i))));
			if (response.status !== 204)
				throw new Error(`prefill append ${i} → ${response.status} ${response.body.toString("utf8").slice(0, 200)}`);
		}
	};
	await Promise.all(Array.from({ length: PREFILL_PARALLEL }, appender));
	return Math.round(performance.now() - started);
}

/**
 * The scenario's clients POSTing `body` (one record) to `path`, over and over, for the measured time.
 * @param {import("./types.js").RunContext} ctx
 * @param {import("./types.js").Scenario} scenario
 * @param {string} path
 * @param {Buffer} body
 */
function postLoad(ctx, scenario, path, body) {
	const step = async () => {
		const response = await ctx.http.request("POST", path, body);
		return { status: response.status, sentBytes: body.length, receivedBytes: response.receivedBytes, records: 1 };
	};
	return runLoad({ clients: scenario.clients ?? 1, warmupMs: WARMUP_MS, durationMs: DURATION_MS, step, serverCpu: descendantCpuSeconds });
}

/**
 * @param {import("./types.js").RunContext} ctx
 * @param {import("./types.js").Scenario} scenario
 * @param {string} topic
 * @returns {Promise<import("./types.js").Result>}
 */
async function v1Produce(ctx, scenario, topic) {
	await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: 1 }, [201]);
	const body = Buffer.from(JSON.stringify({ records: [{ value: JSON.stringify(value(0)) }] }));
	const result = await postLoad(ctx, scenario, `/v1/topics/${topic}/records`, body);
	return { ...result, payloadMBPerSec: result.sentMBPerSec, verification: "ok" };
}

/**
 * @param {import("./types.js").RunContext} ctx
 * @param {import("./types.js").Scenario} scenario
 * @param {string} path
 * @returns {Promise<import("./types.js").Result>}
 */
async function dsAppend(ctx, scenario, path) {
	const result = await postLoad(ctx, scenario, path, Buffer.from(JSON.stringify(value(0))));
	const head = await ctx.http.request("HEAD", path);
	const tail = offsetNumber(head.headers["stream-next-offset"]);
	const verification =
		Number.isSafeInteger(tail) && tail >= result.records ? "ok" : [`stream tail ${tail} below ${result.records} appends`];
	return { ...result, payloadMBPerSec: result.sentMBPerSec, verification };
}

/**
 * @param {import("./types.js").RunContext} ctx
 * @param {string} path
 * @returns {Promise<import("./types.js").Result>}
 */
async function dsRead(ctx, path) {
	const prefillMs = await prefillStream(ctx.http, path);
	/** @type {string[]} */
	const check = [];
	let offset = "-1";
	let checked = false;
	const step = async () => {
		const response = await ctx.http.request("GET", `${path}?offset=${offset}`);
		if (response.status !== 200)
			return { status: response.status, error: `${response.status} ${response.body.toString("utf8").slice(0, 200)}` };
		const from = offset === "-1" ? 0 : offsetNumber(offset);
		const next = String(response.headers["stream-next-offset"]);
		if (!checked) {
			checked = true;
			/** @type {{ i: number, pad: string }[]} */
			const page = JSON.parse(response.body.toString("utf8"));
			// One value per append; the prefill appended in parallel, so they are distinct but not in order.
			const distinct = new Set(page.map((v) => v.i)).size === page.length && page.every((v) => v.pad.length === VALUE_CHARS - 20);
			if (!distinct || page.length !== offsetNumber(next)) check.push(`first page: ${page.length} values, next ${next}`);
		}
		const to = offsetNumber(next);
		if (!(to > from)) return { status: response.status, error: `read from ${offset} answered Stream-Next-Offset ${next}` };
		offset = to >= PREFILL_APPENDS ? "-1" : next;
		return { status: response.status, sentBytes: 0, receivedBytes: response.receivedBytes, records: to - from };
	};
	const result = await runLoad({ clients: 1, warmupMs: WARMUP_MS, durationMs: DURATION_MS, step, serverCpu: descendantCpuSeconds });
	return { ...result, payloadMBPerSec: result.receivedMBPerSec, prefillMs, verification: check.length === 0 ? "ok" : check };
}

/** The `/v1` row each `/ds` row is set against. */
const BASELINE = { "ds-append-1c": "v1-produce1-1c", "ds-read-1c": "fetch-1c-1p" };

/** @type {import("./types.js").ScenarioKind} */
export const durableStreams = {
	kind: "durable-streams",
	targets: ["tributary"],
	scenarios: [
		{ id: "ds-append-1c", label: "/ds append 1×1KB, 1 client", kind: "durable-streams", variant: "ds-append", clients: 1, partitions: 1 },
		{
			id: "v1-produce1-1c",
			label: "/v1 produce 1×1KB, 1 client",
			kind: "durable-streams",
			variant: "v1-produce1",
			clients: 1,
			partitions: 1,
		},
		{
			id: "ds-read-1c",
			label: "/ds catch-up read ≤1 MiB of 1KB appends, 1 client",
			kind: "durable-streams",
			variant: "ds-read",
			clients: 1,
			partitions: 1,
		},
	],
	settings: { valueChars: VALUE_CHARS, prefillAppends: PREFILL_APPENDS },
	async run(ctx, scenario) {
		const topic = `bench-${scenario.id}`;
		const path = `/ds/v1/stream/${topic}`;
		if (scenario.variant === "v1-produce1") return v1Produce(ctx, scenario, topic);
		const created = await ctx.http.request("PUT", path, undefined, { "Content-Type": "application/json" });
		if (created.status !== 201) throw new Error(`PUT ${path} → ${created.status}`);
		return scenario.variant === "ds-append" ? dsAppend(ctx, scenario, path) : dsRead(ctx, path);
	},
	derive(row, all) {
		const baseline = BASELINE[/** @type {keyof typeof BASELINE} */ (row.scenario ?? "")];
		if (row.failed || baseline === undefined) return;
		const v1 = all.find((r) => r.scenario === baseline && r.runtime === row.runtime && r.server === row.server);
		row.v1Baseline = baseline;
		row.percentOfV1 = percentOf(row.recordsPerSec, v1?.recordsPerSec);
	},
};
