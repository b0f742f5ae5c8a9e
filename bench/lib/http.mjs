// @ts-check
/**
 * A lean HTTP/1.1 client over keep-alive sockets (node:http), so the load generator costs as little CPU as it
 * can on a machine it shares with the server. Bodies are counted in bytes as they cross the socket.
 *
 * Receiving is most of a fetch load's client CPU. Measured on one connection to a local broker, 200 fetches of 500
 * × 1 KiB records (a 557 KB body with Content-Length, arriving in 9 reads of 64 KiB), client CPU per response: this
 * client ~1.7 ms (user ~0.9–1.1, system ~0.65), a bare `net` socket with `data` events the same, undici's Pool
 * 2.6–3.5 ms, and a `net` socket reading into one reused 1 MiB buffer (`onread`, one read a response, no body kept)
 * 0.3–0.4 ms. The last would take the fetch rows' client from ~3.4 to ~0.6 µs a record, but node:http cannot read
 * through `onread`, so it needs an HTTP/1.1 response parser of the bench's own (chunked bodies included): left as it
 * is, and the fetch rows say their client's CPU.
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
	 * timeout. `extraHeaders` (optional) are sent as well (an `Idempotency-Key`, say).
	 * @param {string} method
	 * @param {string} path
	 * @param {Buffer} [body]
	 * @param {Record<string, string>} [extraHeaders]
	 * @returns {Promise<HttpResponse>}
	 */
	function request(method, path, body, extraHeaders) {
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
				res.on("data", (chunk) => {
					chunks.push(chunk);
					received += chunk.length;
				});
				res.on("end", () => {
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
