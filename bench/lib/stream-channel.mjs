// @ts-check
/**
 * @module
 * A client of the streaming produce channel (`…/records/stream`), for the bench and `npm run bench:profile`: a
 * WebSocket (the `ws` package: Node 20 has no global WebSocket) or one long NDJSON request (Node's fetch with a
 * streamed body), and a closed-loop phase that keeps WINDOW_MESSAGES unacknowledged (the client's
 * `max.in.flight`) and checks every report: offsets must be dense and in order. A WebSocket takes one report per
 * frame, or with `reports: "array"` (`?reports=array`) the reports due together as one JSON array per frame.
 */

import { oneLine } from "./format.mjs";
import { valueString } from "./records.mjs";

/** Messages the client keeps unacknowledged: deep enough to keep appends full, shallow enough for low latency. */
export const WINDOW_MESSAGES = Number(process.env.BENCH_STREAM_WINDOW ?? 256);
export const DISTINCT_MESSAGES = 64;
/** How long past its end a phase waits for the last reports before giving up. */
const STALL_MS = 30_000;

/**
 * DISTINCT_MESSAGES messages of one 1 KiB record each, for partition 0.
 * @param {number} seed
 */
export function streamMessages(seed) {
	return Array.from({ length: DISTINCT_MESSAGES }, (_, i) => `{"partition":0,"value":${JSON.stringify(valueString(seed + i))}}`);
}

/**
 * Opens a channel on `url` (an http(s) URL of `…/records/stream`) over `via`.
 * @param {"websocket" | "ndjson"} via
 * @param {string} url
 * @param {string} token
 * @param {"message" | "array"} [reports]  a WebSocket's report framing
 * @returns {Promise<Channel>}
 */
export function openStream(via, url, token, reports = "message") {
	return via === "websocket"
		? openWebSocket(reports === "array" ? `${url}${url.includes("?") ? "&" : "?"}reports=array` : url, token)
		: openNdjson(url, token);
}

/**
 * A report as parsed: `{ offsets: [{ offset, … }] }` or `{ error }`.
 * @typedef {{ offsets?: { offset: number }[], error?: unknown }} Report
 * @typedef {{ send(text: string): void, onReport(handler: (report: Report) => void): void, close(): Promise<void> }} Channel
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
	/** @type {(report: Report) => void} */
	let handler = () => {};
	ws.on("message", (data) => {
		const parsed = JSON.parse(data.toString());
		if (!Array.isArray(parsed)) handler(parsed);
		else for (const report of parsed) handler(report);
	});
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
	/** @type {(report: Report) => void} */
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
				handler(JSON.parse(pending.slice(0, newline)));
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
export async function phase(channel, messages, ms, expect) {
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
	channel.onReport((report) => {
		const at = performance.now();
		const offset = report.offsets?.[0]?.offset;
		if (offset !== expect.nextOffset) problem ??= `expected offset ${expect.nextOffset}, got ${oneLine(JSON.stringify(report), 200)}`;
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
