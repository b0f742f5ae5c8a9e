// @ts-check
/**
 * Receiving live deliveries for the end-to-end latency scenarios: a Server-Sent Events reader (node:http, its own
 * socket) and a webhook receiver (a node:http server on 127.0.0.1 that answers 204 at once). Both note when each
 * offset arrived (`arrivedAt(offset)`, on the `performance.now()` clock) and wake whoever waits for it.
 */

import http from "node:http";

const ID_LINE = /^id: ?(\d+)$/m;

/**
 * What both readers offer: when each offset arrived, a wait for one, and counts of what went wrong.
 * @typedef {object} Reader
 * @property {(offset: number, timeoutMs: number) => Promise<boolean>} waitFor
 * @property {(offset: number) => number | undefined} arrivedAt  performance.now() ms
 * @property {number} received
 * @property {number} duplicates
 * @property {number} [errorEvents]  SSE `event: error`s
 * @property {number} [badBodies]  webhook bodies that were not `{"records":[…]}` JSON
 * @property {() => Promise<void> | void} close
 */

/** Offsets seen and when (performance.now() ms), with a wait for a given offset. */
function arrivals() {
	/** @type {Map<number, number>} */
	const seen = new Map();
	let duplicates = 0;
	/** @type {(() => void) | null} */
	let wake = null;
	return {
		seen,
		get duplicates() {
			return duplicates;
		},
		/**
		 * @param {number} offset
		 * @param {number} atMs
		 */
		note(offset, atMs) {
			if (seen.has(offset)) duplicates++;
			else seen.set(offset, atMs);
			wake?.();
		},
		/**
		 * Resolves true once `offset` has arrived, false after `timeoutMs`.
		 * @param {number} offset
		 * @param {number} timeoutMs
		 */
		async waitFor(offset, timeoutMs) {
			const deadline = performance.now() + timeoutMs;
			while (!seen.has(offset)) {
				const left = deadline - performance.now();
				if (left <= 0) return false;
				await new Promise((/** @type {(value?: unknown) => void} */ resolve) => {
					const timer = setTimeout(resolve, Math.min(left, 100));
					wake = () => {
						clearTimeout(timer);
						wake = null;
						resolve();
					};
				});
			}
			return true;
		},
	};
}

/**
 * The Reader over `got`'s arrivals, `more` (a reader's own counts and its close) beside them, getters kept live.
 * @template {object} T
 * @param {ReturnType<typeof arrivals>} got
 * @param {T} more
 * @returns {Reader & T}
 */
function readerOver(got, more) {
	const reader = {
		waitFor: got.waitFor,
		arrivedAt: (/** @type {number} */ offset) => got.seen.get(offset),
		get received() {
			return got.seen.size;
		},
		get duplicates() {
			return got.duplicates;
		},
	};
	return /** @type {Reader & T} */ (Object.defineProperties(reader, Object.getOwnPropertyDescriptors(more)));
}

/**
 * Opens `GET path` with `Accept: text/event-stream`; resolves once the response headers are in (rejects on a
 * non-200 answer or after `timeoutMs`). Each event's `id:` is taken as an offset.
 * @param {{ baseUrl: string, token: string, path: string, timeoutMs?: number }} options
 * @returns {Promise<Reader>}
 */
export function openEventStream({ baseUrl, token, path, timeoutMs = 10_000 }) {
	const url = new URL(baseUrl);
	const got = arrivals();
	let errorEvents = 0;
	return new Promise((resolve, reject) => {
		const req = http.request(
			{
				host: url.hostname,
				port: url.port,
				method: "GET",
				path,
				agent: false,
				headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
			},
			(res) => {
				clearTimeout(timer);
				if (res.statusCode !== 200) {
					res.resume();
					reject(new Error(`GET ${path} (event stream) → ${res.statusCode}`));
					return;
				}
				res.setEncoding("utf8");
				let pending = "";
				res.on("data", (chunk) => {
					const atMs = performance.now();
					pending += chunk;
					let end = pending.indexOf("\n\n");
					while (end !== -1) {
						const event = pending.slice(0, end);
						pending = pending.slice(end + 2);
						if (/^event: ?error$/m.test(event)) errorEvents++;
						const id = ID_LINE.exec(event);
						if (id !== null) got.note(Number(id[1]), atMs);
						end = pending.indexOf("\n\n");
					}
				});
				res.on("error", () => {});
				resolve(
					readerOver(got, {
						get errorEvents() {
							return errorEvents;
						},
						close() {
							req.destroy();
						},
					}),
				);
			},
		);
		const timer = setTimeout(() => req.destroy(new Error(`GET ${path} (event stream): no answer within ${timeoutMs} ms`)), timeoutMs);
		req.on("error", (error) => {
			clearTimeout(timer);
			reject(error);
		});
		req.end();
	});
}

/**
 * A webhook receiver on 127.0.0.1 and a free port: answers 204 as soon as a delivery's body is in and notes the
 * offsets of its records (`{"topic","partition","records":[{"offset",…}]}`, docs/webhooks.md).
 * @returns {Promise<Reader & { url: string, deliveries: number }>}
 */
export function startWebhookReceiver() {
	const got = arrivals();
	let deliveries = 0;
	let badBodies = 0;
	const server = http.createServer((req, res) => {
		/** @type {Buffer[]} */
		const chunks = [];
		req.on("data", (/** @type {Buffer} */ chunk) => chunks.push(chunk));
		req.on("end", () => {
			const atMs = performance.now();
			res.writeHead(204).end();
			deliveries++;
			try {
				const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
				for (const record of /** @type {{ offset: number }[]} */ (body.records)) got.note(record.offset, atMs);
			} catch {
				badBodies++;
			}
		});
	});
	server.keepAliveTimeout = 60_000;
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			const port = typeof address === "object" && address !== null ? address.port : 0;
			resolve(
				readerOver(got, {
					url: `http://127.0.0.1:${port}/hook`,
					get deliveries() {
						return deliveries;
					},
					get badBodies() {
						return badBodies;
					},
					close() {
						server.closeAllConnections();
						return new Promise((/** @type {(value?: unknown) => void} */ done) => server.close(() => done())).then(() => {});
					},
				}),
			);
		});
	});
}
