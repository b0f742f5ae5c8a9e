// @ts-check
/**
 * The bench's HTTP client (./http.mjs) run in a worker thread of its own, for loads that receive much: fetch pages and
 * group polls. Same `request()`; what crosses between the threads is small (a request, an answer's status and
 * headers, a kept tail), and an answer read `into` a buffer is written into shared memory the caller reads.
 *
 * Why a thread: the client's cost on those loads is the socket's reads, a fresh 64 KiB buffer each (1.1 MB a fetch
 * page), which V8 counts as external memory. In a heap that has seen the 32-client produce before (Miniflare's and
 * the bench's own objects, ~30 MB live), V8 settled into a full mark-compact every ~50 ms, started by that external
 * memory and freeing nothing of the heap: `node --trace-gc`, produce-32c-1r then fetch-1c-1p, ~245 mark-compacts in
 * the fetch rows, the client at ~9 ms of CPU a page (~9 µs a record, a core's worth) against 0.5 ms when the fetch
 * ran alone (no mark-compact at all), the same 18 reads of ~63 KB a page either way. `--no-memory-reducer` left it at
 * ~3.3 ms a page, with `--no-incremental-marking` too at 1.2–2 ms (scavenges every ~50 ms instead). A thread has a
 * heap of its own, holding little but its sockets, so what it collects is cheap, and the bench's main heap sees none
 * of those buffers. The thread's CPU is the process's (`process.cpuUsage`), so a row's client CPU still counts it.
 */

import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createClient } from "./http.mjs";

/**
 * A request as it crosses to the thread.
 * @typedef {{ id: number, method: string, path: string, body?: Uint8Array, headers?: Record<string, string>, keepTail?: number, into?: number }} ThreadRequest
 * @typedef {{ id: number, ok: true, status: number, headers: import("node:http").IncomingHttpHeaders, body: Uint8Array | null, length: number, sentBytes: number, receivedBytes: number, resent: number } | { id: number, ok: false, message: string }} ThreadAnswer
 */

if (!isMainThread && workerData?.benchHttpThread === true) serve();

/** The thread's side: one keep-alive client, and the shared buffers answers may be read into, by id. */
function serve() {
	const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
	const client = createClient(workerData.baseUrl, { token: workerData.token, sockets: workerData.sockets });
	/** @type {Map<number, Buffer>} */
	const shared = new Map();
	port.on("message", async (/** @type {ThreadRequest | { share: number, buffer: SharedArrayBuffer }} */ message) => {
		if ("share" in message) {
			shared.set(message.share, Buffer.from(message.buffer));
			return;
		}
		/** @type {ThreadAnswer} */
		let answer;
		try {
			const into = message.into === undefined ? undefined : shared.get(message.into);
			const body =
				message.body === undefined ? undefined : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
			const response = await client.request(message.method, message.path, body, message.headers, { keepTail: message.keepTail, into });
			const inShared = into !== undefined && response.body.buffer === into.buffer;
			answer = {
				id: message.id,
				ok: true,
				status: response.status,
				headers: response.headers,
				// A copy of its own: a view would carry its whole buffer (a socket read's, or Node's pool) across.
				body: inShared ? null : new Uint8Array(response.body),
				length: response.body.length,
				sentBytes: response.sentBytes,
				receivedBytes: response.receivedBytes,
				resent: response.resent,
			};
		} catch (error) {
			answer = { id: message.id, ok: false, message: String(error instanceof Error ? error.message : error) };
		}
		port.postMessage(answer);
	});
}

/**
 * `createClient`'s `request()` served by a thread of its own (see the top). `into`, when given, must be a whole
 * `SharedArrayBuffer` as a Buffer (`sharedBuffer`): the thread writes the answer there.
 * @param {string} baseUrl
 * @param {{ token: string, sockets: number }} options
 */
export function createThreadClient(baseUrl, { token, sockets }) {
	const worker = new Worker(new URL(import.meta.url), { workerData: { benchHttpThread: true, baseUrl, token, sockets } });
	/** @type {Map<number, { resolve: (answer: ThreadAnswer) => void, reject: (error: Error) => void }>} */
	const pending = new Map();
	/** @type {WeakMap<SharedArrayBuffer, number>} */
	const shared = new WeakMap();
	let nextId = 0;
	let nextShare = 0;
	// Idle, the thread keeps nothing alive; a request in flight does (`ref` while any is pending).
	worker.unref();
	worker.on("message", (/** @type {ThreadAnswer} */ answer) => {
		const waiting = pending.get(answer.id);
		pending.delete(answer.id);
		if (pending.size === 0) worker.unref();
		waiting?.resolve(answer);
	});
	/** Why the thread is gone, once it is: a request then fails at once rather than wait for an answer. */
	let gone = /** @type {Error | null} */ (null);
	const fail = (/** @type {Error} */ error) => {
		gone ??= error;
		for (const waiting of pending.values()) waiting.reject(error);
		pending.clear();
	};
	worker.on("error", fail);
	worker.on("exit", (code) => fail(new Error(`the bench's HTTP thread exited (code ${code})`)));

	/**
	 * As `createClient`'s `request()` (lib/http.mjs).
	 * @param {string} method
	 * @param {string} path
	 * @param {Buffer} [body]
	 * @param {Record<string, string>} [extraHeaders]
	 * @param {{ keepTail?: number, into?: Buffer }} [options]
	 * @returns {Promise<import("./http.mjs").HttpResponse>}
	 */
	async function request(method, path, body, extraHeaders, { keepTail, into } = {}) {
		if (gone !== null) throw gone;
		/** @type {number | undefined} */
		let intoId;
		if (into !== undefined) {
			const buffer = into.buffer;
			if (!(buffer instanceof SharedArrayBuffer) || into.byteOffset !== 0 || into.length !== buffer.byteLength) {
				throw new Error("a thread client reads answers into a whole SharedArrayBuffer only (sharedBuffer)");
			}
			intoId = shared.get(buffer);
			if (intoId === undefined) {
				intoId = nextShare++;
				shared.set(buffer, intoId);
				worker.postMessage({ share: intoId, buffer });
			}
		}
		const id = nextId++;
		const answer = await new Promise((resolve, reject) => {
			pending.set(id, { resolve, reject });
			worker.ref();
			/** @type {ThreadRequest} */
			// The body as a copy of its own, for the same reason as an answer's (see `serve`).
			const message = {
				id,
				method,
				path,
				body: body === undefined ? undefined : new Uint8Array(body),
				headers: extraHeaders,
				keepTail,
				into: intoId,
			};
			worker.postMessage(message);
		});
		if (!answer.ok) throw new Error(answer.message);
		return {
			status: answer.status,
			headers: answer.headers,
			body:
				answer.body === null
					? /** @type {Buffer} */ (into).subarray(0, answer.length)
					: Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength),
			sentBytes: answer.sentBytes,
			receivedBytes: answer.receivedBytes,
			resent: answer.resent,
		};
	}

	return {
		request,
		/** Ends the thread, and with it its sockets. */
		async close() {
			await worker.terminate();
		},
	};
}

/**
 * A buffer of `bytes` in memory both threads see, for a thread client's `into`.
 * @param {number} bytes
 */
export function sharedBuffer(bytes) {
	return Buffer.from(new SharedArrayBuffer(bytes));
}
