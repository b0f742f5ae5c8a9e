// @ts-check
/**
 * @module
 * A minimal Tributary HTTP client for the e2e tests. Every call has a timeout; unexpected statuses throw with
 * the response body, so a failing assertion shows what the server said.
 */

export const REQUEST_TIMEOUT_MS = 15_000;

export class HttpError extends Error {
	/**
	 * @param {string} method
	 * @param {string} path
	 * @param {number} status
	 * @param {string} body
	 */
	constructor(method, path, status, body) {
		super(`${method} ${path} → ${status}: ${body}`);
		this.status = status;
		this.body = body;
	}
}

/**
 * @typedef {object} RequestOptions
 * @property {unknown} [body]  sent as JSON
 * @property {boolean} [auth]  send the admin token (default true)
 * @property {Record<string, string>} [headers]
 * @property {number} [timeoutMs]
 */

/**
 * @typedef {object} Response
 * @property {number} status
 * @property {string} text
 * @property {any} json  the parsed body (undefined if it is not JSON): whatever shape the route answers
 */

/**
 * @typedef {{ partition: number, offset: number, timestamp: number }} Position
 * @typedef {{ partition: number, offset: number, timestamp: number, key: string | null, value: unknown, headers: { key: string, value: string }[] }} FetchedRecord
 */

/**
 * A client for the Tributary at `baseUrl`, sending `token` as the bearer token.
 * @param {string} baseUrl
 * @param {string} token
 */
export function client(baseUrl, token) {
	/**
	 * One request; returns `{ status, text, json }` (json is undefined if the body is not JSON).
	 * @param {string} method
	 * @param {string} path
	 * @param {RequestOptions} [options]
	 * @returns {Promise<Response>}
	 */
	async function request(method, path, { body, auth = true, headers = {}, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
		/** @type {Record<string, string>} */
		const allHeaders = { ...headers };
		if (auth) allHeaders.Authorization = `Bearer ${token}`;
		if (body !== undefined) allHeaders["Content-Type"] = "application/json";
		const send = () =>
			fetch(`${baseUrl}${path}`, {
				method,
				headers: allHeaders,
				body: body === undefined ? undefined : JSON.stringify(body),
				signal: AbortSignal.timeout(timeoutMs),
			});
		// A kept-alive connection idle for 5 s (a test that waited on kcat) may be closed by wrangler dev's server (Node's
		// keep-alive timeout) just as fetch reuses it: "other side closed", and the request never reached the Worker.
		// A read is sent again on a fresh connection; a write is not (it might have been taken).
		const response = await send().catch((error) => {
			if (method !== "GET" || error?.cause?.code !== "UND_ERR_SOCKET") throw error;
			return send();
		});
		const text = await response.text();
		let json;
		try {
			json = JSON.parse(text);
		} catch {
			json = undefined;
		}
		return { status: response.status, text, json };
	}

	/**
	 * `request`, but anything other than `expected` throws. Returns the parsed body.
	 * @param {number} expected
	 * @param {string} method
	 * @param {string} path
	 * @param {RequestOptions} [options]
	 * @returns {Promise<any>} the parsed body: whatever shape the route answers
	 */
	async function expect(expected, method, path, options) {
		const response = await request(method, path, options);
		if (response.status !== expected) throw new HttpError(method, path, response.status, response.text);
		return response.json;
	}

	/**
	 * One page of a partition from `offset` (null: from the log start).
	 * @param {string} topic
	 * @param {number} partition
	 * @param {number | null} offset
	 * @returns {Promise<{ records: FetchedRecord[], next_offset: number, high_watermark: number, log_start_offset: number }>}
	 */
	function fetchRecords(topic, partition, offset, maxRecords = 10_000) {
		const from = offset === null ? "" : `offset=${offset}&`;
		return expect(200, "GET", `/v1/topics/${topic}/partitions/${partition}/records?${from}max_records=${maxRecords}`);
	}

	/**
	 * Every record of a partition, read in pages from the log start up to the high watermark of the first page.
	 * @param {string} topic
	 * @param {number} partition
	 */
	async function fetchAll(topic, partition) {
		const first = await fetchRecords(topic, partition, null);
		const records = [...first.records];
		let page = first;
		while (page.next_offset < first.high_watermark && page.records.length > 0) {
			page = await fetchRecords(topic, partition, page.next_offset);
			records.push(...page.records);
		}
		return { records, highWatermark: first.high_watermark, logStartOffset: first.log_start_offset };
	}

	return {
		request,
		expect,
		fetchRecords,
		fetchAll,
		createTopic: (/** @type {string} */ name, /** @type {number} */ partitions) =>
			expect(201, "POST", "/v1/topics", { body: { name, partitions } }),
		describeTopic: (/** @type {string} */ name) => expect(200, "GET", `/v1/topics/${name}`),
		/**
		 * Produces `records`; returns the `offsets` array (one `{partition, offset, timestamp}` per record).
		 * @param {string} topic
		 * @param {unknown[]} records
		 * @returns {Promise<Position[]>}
		 */
		produce: async (topic, records) => (await expect(200, "POST", `/v1/topics/${topic}/records`, { body: { records } })).offsets,
	};
}
