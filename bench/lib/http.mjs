// @ts-check
/**
 * A lean HTTP/1.1 client over keep-alive sockets (node:http), so the load generator costs as little CPU as it
 * can on a machine it shares with the server. Bodies are counted in bytes as they cross the socket.
 *
 * Receiving is most of a fetch load's client CPU, and what costs is keeping the body, not reading it. Joining each
 * 1.1 MB page of 1,000 records (`Buffer.concat`) made a fresh allocation of that size per request, which V8 counts
 * as external memory (a full GC every ~4 pages, ~0.8 ms a page) and which glibc may hand back to the kernel and
 * fault in again. In the bench process the fetch client then sat in one of two modes for a whole run, with the same
 * 18 reads of ≤ 64 KiB a page: ~10 ms of CPU a page (user ~6, system ~3.5; fetch-1c-1p ~95k records/s with the
 * client at 100 % of a core, the ceiling's row as well) or ~4 ms (fetch-1c-1p 233k–266k). So a load that needs only
 * the end of each answer (a fetch page's `next_offset`) asks for `keepTail` bytes and the body is never joined, and
 * one that reads every answer whole (a group member) passes a buffer of its own, `into`, which each answer is
 * copied into and which it reuses. With `keepTail` the fetch rows' client spent 0.5–0.7 µs a record in three runs
 * of the fetch scenarios alone, bound by the server (80–99 % of a core) instead of by the client. In the whole bench
 * that followed, fetch-tail-1c-1p's client spent 0.6 µs a record but fetch-1c-1p's 3.2 (its ceiling's 3.0), and the
 * group members' 4.2–5.6 did not move with `into`: after the 32-client produce, V8 ran a full mark-compact every
 * ~50 ms on this heap, started by the socket reads' external memory. Those loads now read in a thread of their own
 * (./http-thread.mjs, which says what was measured).
 *
 * Measured before that, on one connection, 200 fetches of 500 × 1 KiB (a 557 KB body, 9 reads of 64 KiB), client
 * CPU per response with the body joined: this client ~1.7 ms, a bare `net` socket with `data` events the same,
 * undici's Pool 2.6–3.5 ms, a `net` socket reading into one reused 1 MiB buffer (`onread`) 0.3–0.4 ms. The last
 * would need an HTTP/1.1 response parser of the bench's own; `keepTail` and `into` spare most of the difference.
 */

import http from "node:http";

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * @typedef {object} HttpResponse
 * @property {number} status
 * @property {import("node:http").IncomingHttpHeaders} headers
 * @property {Buffer} body
 * @property {number} sentBytes
 * @property {number} receivedBytes
 */

/**
 * @typedef {ReturnType<typeof createClient>} HttpClient
 */

/**
 * A keep-alive client for `baseUrl` sending `Authorization: Bearer <token>`, with at most `sockets` connections.
 * @param {string} baseUrl
 * @param {{ token: string, sockets: number }} options
 */
export function createClient(baseUrl, { token, sockets }) {
	const url = new URL(baseUrl);
	const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
	const auth = `Bearer ${token}`;

	/**
	 * Resolves {status, headers, body (Buffer), sentBytes, receivedBytes}; rejects only on transport failure or
	 * timeout. `extraHeaders` (optional) are sent as well (an `Idempotency-Key`, say). With `keepTail`, a 200's
	 * body is only its last `keepTail` bytes (receivedBytes still counts them all); with `into`, a 200's body is a
	 * view of `into`, valid until the caller's next request with it (one that does not fit is joined as usual):
	 * see the top.
	 * @param {string} method
	 * @param {string} path
	 * @param {Buffer} [body]
	 * @param {Record<string, string>} [extraHeaders]
	 * @param {{ keepTail?: number, into?: Buffer }} [options]
	 * @returns {Promise<HttpResponse>}
	 */
	function request(method, path, body, extraHeaders, { keepTail, into } = {}) {
		return new Promise((resolve, reject) => {
			/** @type {Record<string, string>} */
			const headers = extraHeaders === undefined ? { Authorization: auth } : { ...extraHeaders, Authorization: auth };
			if (body !== undefined) {
				headers["Content-Type"] = "application/json";
				headers["Content-Length"] = String(body.length);
			}
			const req = http.request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
				/** @type {Buffer[]} */
				const chunks = [];
				let received = 0;
				const tail = res.statusCode === 200 ? keepTail : undefined;
				// The buffer a 200 is copied into while it fits; from the first chunk that does not, null, and joined as usual.
				let target = res.statusCode === 200 ? (into ?? null) : null;
				res.on("data", (/** @type {Buffer} */ chunk) => {
					if (tail !== undefined) chunks[0] = lastBytes(chunks[0], chunk, tail);
					else if (target !== null && received + chunk.length <= target.length) chunk.copy(target, received);
					else {
						if (target !== null) chunks.push(Buffer.from(target.subarray(0, received)));
						target = null;
						chunks.push(chunk);
					}
					received += chunk.length;
				});
				res.on("end", () => {
					if (target !== null) chunks.push(target.subarray(0, received));
					resolve({
						status: res.statusCode ?? 0,
						headers: res.headers,
						body: chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, received),
						sentBytes: body === undefined ? 0 : body.length,
						receivedBytes: received,
					});
				});
				res.on("error", reject);
			});
			req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path} timed out after ${REQUEST_TIMEOUT_MS} ms`)));
			req.on("error", reject);
			req.end(body);
		});
	}

	/**
	 * Sends `value` as JSON and parses the answer; throws unless the status is in `expectStatus` (default: 2xx).
	 * @param {string} method
	 * @param {string} path
	 * @param {unknown} [value]
	 * @param {number[]} [expectStatus]
	 * @returns {Promise<any>} the parsed body: JSON of whatever shape the route answers
	 */
	async function json(method, path, value, expectStatus) {
		const response = await request(method, path, value === undefined ? undefined : Buffer.from(JSON.stringify(value)));
		const text = response.body.toString("utf8");
		const ok = expectStatus === undefined ? response.status >= 200 && response.status < 300 : expectStatus.includes(response.status);
		if (!ok) throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 300)}`);
		return text.length === 0 ? null : JSON.parse(text);
	}

	return {
		request,
		json,
		close() {
			agent.destroy();
		},
	};
}

/**
 * The last `count` bytes of `kept` followed by `chunk`: a view of `chunk` when it is long enough, else a small join.
 * @param {Buffer | undefined} kept
 * @param {Buffer} chunk
 * @param {number} count
 */
function lastBytes(kept, chunk, count) {
	if (chunk.length >= count || kept === undefined) return chunk.subarray(Math.max(0, chunk.length - count));
	const joined = Buffer.concat([kept, chunk]);
	return joined.subarray(Math.max(0, joined.length - count));
}
