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
 * How long a kept-alive connection may sit unused before this client closes it. workerd (Miniflare and wrangler
 * dev alike) closes one left idle for 5 s (4.9 s measured from its answer), and says so in no `Keep-Alive` header,
 * so Node's agent would keep it and send the next request on it: one sent just as workerd closes it met the close
 * unanswered ("socket hang up"; 2 of 18 requests sent 4.8–5.05 s after the last answer, an idle machine). A bench
 * round's lead-in, its wait for a quiet machine or another target's turn leaves sockets idle that long, and the
 * load widens the race: three rows of one full bench (load ~15) died of "socket hang up". Closing at 4 s leaves a
 * second for this process to be late in reading an answer; a request that still meets the close is sent again
 * (`request`).
 */
const IDLE_SOCKET_MS = 4_000;
/** Errors that a request on a reused connection meets when the server closed that connection as it was sent. */
const CLOSED_UNDER_REQUEST = new Set(["ECONNRESET", "EPIPE"]);

/**
 * @typedef {object} HttpResponse
 * @property {number} status
 * @property {import("node:http").IncomingHttpHeaders} headers
 * @property {Buffer} body
 * @property {number} sentBytes
 * @property {number} receivedBytes
 * @property {number} resent  times the request was sent again after the server closed a kept-alive connection under it
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
	// `timeout` is an idle socket's: the agent closes a free one that sat unused this long (an active request's is its own).
	const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, timeout: IDLE_SOCKET_MS });
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
	async function request(method, path, body, extraHeaders, options = {}) {
		// A request is sent again only when it met a close on a kept-alive connection before any answer: workerd closes
		// a connection only while it waits for the next request (see IDLE_SOCKET_MS), never with one in hand, so that
		// request was not served. Every free socket may have idled as long, hence up to `sockets` + 1 tries; each is
		// said on stderr, so a run that needed one shows it. A close on a new connection, or once an answer has begun,
		// may follow a request served and fails as before.
		for (let resent = 0; ; resent++) {
			try {
				return { ...(await send(method, path, body, extraHeaders, options)), resent };
			} catch (error) {
				const code = /** @type {{ code?: string }} */ (error).code;
				if (!(error instanceof ClosedUnsent) || resent >= sockets) throw error instanceof ClosedUnsent ? error.cause : error;
				console.warn(`bench http: ${method} ${path} sent again: the server closed its idle kept-alive connection as it went (${code})`);
			}
		}
	}

	/**
	 * One try of `request`: rejects with ClosedUnsent when a reused connection was closed before any answer.
	 * @param {string} method
	 * @param {string} path
	 * @param {Buffer | undefined} body
	 * @param {Record<string, string> | undefined} extraHeaders
	 * @param {{ keepTail?: number, into?: Buffer }} options
	 * @returns {Promise<Omit<HttpResponse, "resent">>}
	 */
	function send(method, path, body, extraHeaders, { keepTail, into }) {
		return new Promise((resolve, reject) => {
			/** @type {Record<string, string>} */
			const headers = extraHeaders === undefined ? { Authorization: auth } : { ...extraHeaders, Authorization: auth };
			if (body !== undefined) {
				headers["Content-Type"] = "application/json";
				headers["Content-Length"] = String(body.length);
			}
			let answered = false;
			const req = http.request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
				answered = true;
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
			req.on("error", (/** @type {Error & { code?: string }} */ error) => {
				const unsent = req.reusedSocket && !answered && CLOSED_UNDER_REQUEST.has(error.code ?? "");
				reject(unsent ? new ClosedUnsent(error) : error);
			});
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

/** A kept-alive connection the server closed under a request before any answer (see `request`). */
class ClosedUnsent extends Error {
	/** @param {Error & { code?: string }} cause */
	constructor(cause) {
		super(cause.message, { cause });
		this.code = cause.code;
	}
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
