// @ts-check
/**
 * @module
 * The streaming produce channel (`…/records/stream`), Tributary only: one client, one 1 KiB record per message,
 * one partition, up to WINDOW_MESSAGES unacknowledged (the client's `max.in.flight`), over a WebSocket (the `ws`
 * package: Node 20 has no global WebSocket) and over one long NDJSON request (Node's fetch with a streamed
 * body). Figures: records/s over the measured phase, and each message's ack latency (sent → its report read).
 * Every report is checked: offsets must be dense and in order.
 *
 * `BENCH_SCENARIOS=stream npm run bench` runs it alone.
 */

import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { noisy, oneLine } from "../lib/format.mjs";
import { latencySummary, round, startCpuMeter, waitForQuiet } from "../lib/load.mjs";
import { valueString } from "../lib/records.mjs";
import { DURATION_MS, WARMUP_MS } from "../settings.mjs";

/** Messages the client keeps unacknowledged: deep enough to keep appends full, shallow enough for low latency. */
const WINDOW_MESSAGES = Number(process.env.BENCH_STREAM_WINDOW ?? 256);
const DISTINCT_MESSAGES = 64;
/** How long past its end a phase waits for the last reports before giving up. */
const STALL_MS = 30_000;
export const STREAM_TARGET_RECORDS_PER_SEC = 50_000;
export const STREAM_TARGET_P99_MS = 20;

/**
 * @typedef {{ send(text: string): void, onReport(handler: (line: string) => void): void, close(): Promise<void> }} Channel
 */

/**
 * A WebSocket channel (the `ws` package, resolved from the dev dependencies).
 * @param {string} url
 * @param {string} token
 * @returns {Promise<Channel>}
 */
async function openWebSocket(url, token) {
	const { WebSocket } = await import("ws");
	const ws = new WebSocket(url.replace(/^http/, "ws"), { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
	await new Promise((resolve, reject) => {
		ws.once("open", resolve);
		ws.once("error", reject);
		ws.once("unexpected-response", (_, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
	});
	/** @type {(line: string) => void} */
	let handler = () => {};
	ws.on("message", (data) => handler(data.toString()));
	return {
		send: (text) => ws.send(text),
		onReport: (h) => {
			handler = h;
		},
		close: () =>
			new Promise((resolve) => {
				ws.once("close", () => resolve(undefined));
				ws.close(1000, "done");
			}),
	};
}

/**
 * An NDJSON channel: one POST whose body is fed as messages are sent, its response read line by line.
 * @param {string} url
 * @param {string} token
 * @returns {Promise<Channel>}
 */
async function openNdjson(url, token) {
	/** @type {ReadableStreamDefaultController<Uint8Array>} */
	let controller;
	const body = new ReadableStream({
		start(c) {
			controller = c;
		},
	});
	const encoder = new TextEncoder();
	/** @type {(line: string) => void} */
	let handler = () => {};
	// Not awaited before the first message: the request's body starts with what the phase sends.
	const reading = (async () => {
		const response = await fetch(url, {
			method: "POST",
			headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-ndjson" },
			body,
			duplex: "half", // Node's fetch needs it for a streamed body
		});
		if (response.status !== 200 || response.body === null) throw new Error(`stream refused: ${response.status} ${await response.text()}`);
		const decoder = new TextDecoder();
		let pending = "";
		for await (const chunk of /** @type {AsyncIterable<Uint8Array>} */ (/** @type {unknown} */ (response.body))) {
			pending += decoder.decode(chunk, { stream: true });
			let newline = pending.indexOf("\n");
			while (newline !== -1) {
				handler(pending.slice(0, newline));
				pending = pending.slice(newline + 1);
				newline = pending.indexOf("\n");
			}
		}
	})();
	reading.catch((error) =>
		console.error(`    NDJSON stream failed: ${error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : error}`),
	);
	return {
		send: (text) => controller.enqueue(encoder.encode(`${text}\n`)),
		onReport: (h) => {
			handler = h;
		},
		close: async () => {
			controller.close();
			await reading;
		},
	};
}

/**
 * Runs the channel for `ms`, keeping WINDOW_MESSAGES in flight; answers counts and (when `keep`) latencies.
 * @param {Channel} channel
 * @param {string[]} messages
 * @param {number} ms
 * @param {{ nextOffset: number }} expect  the offset the next ack must carry
 */
async function phase(channel, messages, ms, expect) {
	/** @type {number[]} */
	const sentAt = [];
	let head = 0;
	/** @type {number[]} */
	const latencies = [];
	let sent = 0;
	let acked = 0;
	/** @type {string | null} */
	let problem = null;
	const started = performance.now();
	const deadline = started + ms;
	/** @type {() => void} */
	let wake = () => {};
	const pump = () => {
		while (sent - acked < WINDOW_MESSAGES && performance.now() < deadline && problem === null) {
			sentAt.push(performance.now());
			channel.send(/** @type {string} */ (messages[sent % messages.length]));
			sent++;
		}
	};
	channel.onReport((line) => {
		const at = performance.now();
		const report = JSON.parse(line);
		const offset = report.offsets?.[0]?.offset;
		if (offset !== expect.nextOffset) problem ??= `expected offset ${expect.nextOffset}, got ${oneLine(line, 200)}`;
		expect.nextOffset++;
		latencies.push(at - /** @type {number} */ (sentAt[head++]));
		acked++;
		if (acked === sent && (performance.now() >= deadline || problem !== null)) wake();
		else pump();
	});
	const done = new Promise((resolve) => {
		wake = () => resolve(undefined);
	});
	pump();
	// A stream that stops answering ends the phase with a problem instead of hanging the bench.
	const guard = setTimeout(() => {
		problem ??= `${sent - acked} messages unanswered ${STALL_MS} ms after the phase`;
		wake();
	}, ms + STALL_MS);
	await done;
	clearTimeout(guard);
	const seconds = (performance.now() - started) / 1000;
	return { records: acked, seconds, latencies, problem };
}

/**
 * @param {import("./types.js").RunContext} ctx
 * @param {import("./types.js").Scenario} scenario
 * @returns {Promise<import("./types.js").Result>}
 */
async function streamingRun(ctx, scenario) {
	const topic = `bench-${scenario.id}`;
	await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: 1 }, [201]);
	const seed = ctx.nextSeed(DISTINCT_MESSAGES);
	const messages = Array.from({ length: DISTINCT_MESSAGES }, (_, i) => `{"partition":0,"value":${JSON.stringify(valueString(seed + i))}}`);
	const url = `${ctx.url}/v1/topics/${topic}/records/stream`;
	const channel = scenario.via === "websocket" ? await openWebSocket(url, ctx.token) : await openNdjson(url, ctx.token);
	const expect = { nextOffset: 0 };
	try {
		const quietWaitMs = await waitForQuiet();
		const warm = await phase(channel, messages, WARMUP_MS, expect);
		if (warm.problem !== null) throw new Error(warm.problem);
		const meter = await startCpuMeter(descendantCpuSeconds);
		const m = await phase(channel, messages, DURATION_MS, expect);
		const cpu = await meter.stop(m.seconds);
		m.latencies.sort((a, b) => a - b);
		const messageBytes = (messages[0] ?? "").length + 1;
		const sentBytes = m.records * messageBytes;
		const latencyMs = latencySummary(m.latencies);
		const recordsPerSec = round(m.records / m.seconds, 1);
		/** @type {string[]} */
		const check = [];
		if (m.problem !== null) check.push(m.problem);
		return {
			clients: 1,
			seconds: round(m.seconds, 3),
			requests: m.records,
			records: m.records,
			sentBytes,
			receivedBytes: 0,
			recordsPerSec,
			requestsPerSec: recordsPerSec,
			sentMBPerSec: round(sentBytes / 1e6 / m.seconds, 2),
			receivedMBPerSec: 0,
			payloadMBPerSec: round(sentBytes / 1e6 / m.seconds, 2),
			latencyMs,
			windowMessages: WINDOW_MESSAGES,
			meetsTarget: recordsPerSec >= STREAM_TARGET_RECORDS_PER_SEC && latencyMs.p99 <= STREAM_TARGET_P99_MS,
			cpu,
			quietWaitMs,
			errors: m.problem === null ? 0 : 1,
			errorSamples: [],
			aborted: false,
			verification: check.length === 0 ? "ok" : check,
		};
	} finally {
		await channel.close();
	}
}

/** @param {import("./types.js").Row} row */
function line(row) {
	if (row.failed) return `| ${row.scenario} | ${row.runtime} | failed: ${oneLine(row.failed, 120)} | | | | | |`;
	const l = row.latencyMs ?? { p50: 0, p90: 0, p99: 0, max: 0 };
	return `| ${row.scenario} | ${row.runtime} | ${Math.round(row.recordsPerSec ?? 0)}${noisy(row)} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} | ${l.max.toFixed(2)} | ${row.windowMessages} | ${row.meetsTarget ? "yes" : "**no**"} |`;
}

/** @type {import("./types.js").ScenarioKind} */
export const streaming = {
	kind: "streaming",
	targets: ["tributary"],
	scenarios: [
		{ id: "stream-ws-1p", label: "produce stream, WebSocket, 1 × 1 KiB per message", kind: "streaming", via: "websocket", partitions: 1 },
		{ id: "stream-ndjson-1p", label: "produce stream, NDJSON, 1 × 1 KiB per message", kind: "streaming", via: "ndjson", partitions: 1 },
	],
	inMainTable: false,
	settings: {
		streamWindowMessages: WINDOW_MESSAGES,
		streamTargetRecordsPerSec: STREAM_TARGET_RECORDS_PER_SEC,
		streamTargetP99Ms: STREAM_TARGET_P99_MS,
	},
	run: streamingRun,
	summary: (r) => `${Math.round(r.recordsPerSec ?? 0)} records/s, ack p50 ${r.latencyMs?.p50} ms, p99 ${r.latencyMs?.p99} ms`,
	section: {
		title: "Streaming produce channel",
		intro: `bench/scenarios/streaming.mjs: one client on \`…/records/stream\`, one 1 KiB record per message to partition 0, at most ${WINDOW_MESSAGES} messages unacknowledged; ack latency = message sent → its report read. WebSocket via the \`ws\` package, NDJSON via one fetch with a streamed body. Target: ≥ ${STREAM_TARGET_RECORDS_PER_SEC} records/s with p99 ack ≤ ${STREAM_TARGET_P99_MS} ms.`,
		table: (rows) =>
			[
				"| scenario | runtime | records/s | ack p50 ms | ack p99 ms | max ms | window | target met |",
				"|---|---|--:|--:|--:|--:|--:|:-:|",
				...rows.map(line),
			].join("\n"),
	},
};
