// @ts-check
/**
 * @module
 * End-to-end latency, Tributary only: small records produced one at a time to partition 0; each one's
 * acknowledgement time is set against when the reader (an SSE stream, or a webhook receiver subscribed with
 * batch_max_records 1) got it, on the same clock. The next record is produced once this one arrived (or after
 * RECEIPT_TIMEOUT_MS: lost). Negative values: the record reached the reader before its producer had the
 * acknowledgement.
 */

import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { noisy, oneLine } from "../lib/format.mjs";
import { openEventStream, startWebhookReceiver } from "../lib/live.mjs";
import { latencySummary, round, startCpuMeter, waitForQuiet } from "../lib/load.mjs";
import { valueString } from "../lib/records.mjs";

/**
 * @typedef {import("./types.js").Row} Row
 * @typedef {import("./types.js").Scenario} Scenario
 * @typedef {import("../lib/live.mjs").Reader} Reader
 */

const RECORDS = Number(process.env.BENCH_LATENCY_RECORDS ?? 300);
const WARMUP_RECORDS = 20;
const VALUE_CHARS = 100;
/** How long one record may take to reach the reader before it counts as lost; and the whole measurement. */
const RECEIPT_TIMEOUT_MS = 2_000;
const FIRST_RECEIPT_TIMEOUT_MS = 15_000;
const BUDGET_MS = 30_000;

/** @param {number[]} values */
const sorted = (values) => [...values].sort((a, b) => a - b);

/**
 * Opens the scenario's reader; for a webhook, also the subscription that feeds it.
 * @param {import("./types.js").RunContext} ctx
 * @param {Scenario} scenario
 * @param {string} topic
 * @returns {Promise<{ reader: Reader, close(): Promise<void> }>}
 */
async function openReader(ctx, scenario, topic) {
	if (scenario.via === "sse") {
		const reader = await openEventStream({ baseUrl: ctx.url, token: ctx.token, path: `/v1/topics/${topic}/partitions/0/records?offset=0` });
		return {
			reader,
			async close() {
				await reader.close();
			},
		};
	}
	const reader = await startWebhookReceiver();
	try {
		const body = { url: reader.url, start: "latest", batch_max_records: 1 };
		const subscription = await ctx.http.json("POST", `/v1/topics/${topic}/subscriptions`, body, [201]);
		return {
			reader,
			async close() {
				await ctx.http.request("DELETE", `/v1/topics/${topic}/subscriptions/${subscription.id}`).catch(() => {});
				await reader.close();
			},
		};
	} catch (error) {
		await reader.close();
		throw error;
	}
}

/**
 * Produces one record and waits for it at the reader.
 * @param {import("./types.js").RunContext} ctx
 * @param {string} topic
 * @param {Buffer} body
 * @param {Reader} reader
 * @param {number} receiptTimeoutMs
 */
async function produceOne(ctx, topic, body, reader, receiptTimeoutMs) {
	const t0 = performance.now();
	const response = await ctx.http.request("POST", `/v1/topics/${topic}/records`, body);
	const ackMs = performance.now();
	if (response.status !== 200) throw new Error(`produce → ${response.status} ${response.body.toString("utf8").slice(0, 300)}`);
	const { offset } = JSON.parse(response.body.toString("utf8")).offsets[0];
	const arrived = await reader.waitFor(offset, receiptTimeoutMs);
	return { t0, ackMs, offset, arrived, sentBytes: response.sentBytes };
}

/**
 * The measured records: ack → receipt, produce ack and send → receipt times, and how many were lost.
 * @param {(timeoutMs: number) => ReturnType<typeof produceOne>} one
 * @param {Reader} reader
 */
async function measure(one, reader) {
	const times = {
		ackToReceipt: /** @type {number[]} */ ([]),
		ack: /** @type {number[]} */ ([]),
		sendToReceipt: /** @type {number[]} */ ([]),
	};
	let lost = 0;
	let sentBytes = 0;
	let count = 0;
	const started = performance.now();
	while (count < RECORDS && performance.now() < started + BUDGET_MS) {
		const sent = await one(RECEIPT_TIMEOUT_MS);
		count++;
		sentBytes += sent.sentBytes;
		times.ack.push(sent.ackMs - sent.t0);
		if (!sent.arrived) {
			lost++;
			continue;
		}
		const atMs = reader.arrivedAt(sent.offset) ?? Number.NaN;
		times.ackToReceipt.push(atMs - sent.ackMs);
		times.sendToReceipt.push(atMs - sent.t0);
	}
	return { times, lost, sentBytes, count, seconds: (performance.now() - started) / 1000 };
}

/**
 * What went wrong with a measurement, if anything.
 * @param {Awaited<ReturnType<typeof measure>>} m
 * @param {Reader} reader
 */
function problems(m, reader) {
	const check = [];
	if (m.count < RECORDS) check.push(`measured ${m.count} of ${RECORDS} records within ${BUDGET_MS} ms`);
	if (m.lost > 0) check.push(`${m.lost} records did not reach the reader within ${RECEIPT_TIMEOUT_MS} ms`);
	if (reader.duplicates > 0) check.push(`${reader.duplicates} records arrived more than once`);
	if ((reader.errorEvents ?? 0) > 0) check.push(`${reader.errorEvents} SSE error events`);
	if ((reader.badBodies ?? 0) > 0) check.push(`${reader.badBodies} webhook bodies were not {"records":[…]} JSON`);
	return check;
}

/**
 * @param {import("./types.js").RunContext} ctx
 * @param {Scenario} scenario
 * @returns {Promise<import("./types.js").Result>}
 */
async function latencyRun(ctx, scenario) {
	const topic = `bench-${scenario.id}`;
	await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
	const bodies = Array.from({ length: 16 }, (_, i) =>
		Buffer.from(`{"records":[{"partition":0,"value":${JSON.stringify(valueString(31_000 + i, VALUE_CHARS))}}]}`),
	);
	const { reader, close } = await openReader(ctx, scenario, topic);
	try {
		let sent = 0;
		const one = (/** @type {number} */ timeoutMs) =>
			produceOne(ctx, topic, /** @type {Buffer} */ (bodies[sent++ % bodies.length]), reader, timeoutMs);
		const quietWaitMs = await waitForQuiet();
		// Warm-up (not counted): the first records also show the reader is live (the subscription's lane started).
		for (let i = 0; i < WARMUP_RECORDS; i++) {
			const { arrived, offset } = await one(i === 0 ? FIRST_RECEIPT_TIMEOUT_MS : RECEIPT_TIMEOUT_MS);
			if (!arrived) throw new Error(`warm-up record at offset ${offset} never reached the ${scenario.via} reader`);
		}
		const meter = await startCpuMeter(descendantCpuSeconds);
		const m = await measure(one, reader);
		const cpu = await meter.stop(m.seconds);
		const check = problems(m, reader);
		return {
			clients: 1,
			seconds: round(m.seconds, 3),
			requests: m.count,
			records: m.count,
			sentBytes: m.sentBytes,
			receivedBytes: 0,
			latencyMs: latencySummary(sorted(m.times.ackToReceipt)),
			produceLatencyMs: latencySummary(sorted(m.times.ack)),
			sendToReceiptMs: latencySummary(sorted(m.times.sendToReceipt)),
			receivedBeforeAck: m.times.ackToReceipt.filter((ms) => ms < 0).length,
			lost: m.lost,
			targetP99Ms: scenario.targetP99Ms,
			cpu,
			quietWaitMs,
			errors: 0,
			errorSamples: [],
			aborted: false,
			verification: check.length === 0 ? "ok" : check,
		};
	} finally {
		await close();
	}
}

/**
 * One table line.
 * @param {Row} row
 */
function line(row) {
	if (row.failed) return `| ${row.scenario} | ${row.runtime} | failed: ${oneLine(row.failed, 120)} | | | | | | | | |`;
	const l = row.latencyMs ?? { p50: 0, p90: 0, p99: 0, max: 0 };
	const produce = /** @type {import("./types.js").LatencySummary} */ (row.produceLatencyMs);
	const target = Number(row.targetP99Ms);
	const met = Number(row.lost) > 0 ? "**no** (lost records)" : l.p99 < target ? "yes" : "**no**";
	return `| ${row.scenario} | ${row.runtime} | ${row.records} | ${l.p50.toFixed(2)}${noisy(row)} | ${l.p90.toFixed(2)} | ${l.p99.toFixed(2)} | ${l.max.toFixed(2)} | ${row.receivedBeforeAck} | ${produce.p50.toFixed(2)} | < ${target} ms | ${met} |`;
}

/** @type {import("./types.js").ScenarioKind} */
export const latency = {
	kind: "latency",
	targets: ["tributary"],
	scenarios: [
		{ id: "e2e-sse", label: "produce ack → SSE event", kind: "latency", via: "sse", partitions: 1, targetP99Ms: 25 },
		{ id: "e2e-webhook", label: "produce ack → webhook POST", kind: "latency", via: "webhook", partitions: 1, targetP99Ms: 100 },
	],
	// Latency has its own table; its CPU and checks go in the details with the others.
	inMainTable: false,
	settings: {
		latencyRecords: RECORDS,
		latencyWarmupRecords: WARMUP_RECORDS,
		latencyValueChars: VALUE_CHARS,
		latencyReceiptTimeoutMs: RECEIPT_TIMEOUT_MS,
	},
	run: latencyRun,
	summary: (result) => `ack → receipt p50 ${result.latencyMs?.p50} ms, p99 ${result.latencyMs?.p99} ms over ${result.records} records`,
	section: {
		title: "End-to-end latency",
		intro: `One small record (${VALUE_CHARS}-character value, partition 0) produced at a time, ${RECORDS} measured after ${WARMUP_RECORDS} warm-up; each is awaited at the reader before the next is produced. ack→receipt = when the reader got the record minus when the producer got its 200, both on this process's clock; negative means the reader had it first. SSE: \`GET …/partitions/0/records\` with \`Accept: text/event-stream\`, events matched by \`id:\`. Webhook: a node:http receiver on 127.0.0.1 answering 204, subscribed with \`start: latest, batch_max_records: 1\` (the Worker runs with WEBHOOK_ALLOW_PRIVATE=true).`,
		table: (rows) =>
			[
				"| path | runtime | records | ack→receipt p50 ms | p90 ms | p99 ms | max ms | received before ack | produce ack p50 ms | target p99 | met |",
				"|---|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
				...rows.map(line),
			].join("\n"),
	},
};
