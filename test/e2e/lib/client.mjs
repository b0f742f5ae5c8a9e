// @ts-check
/**
 * @module
 * A minimal Tributary HTTP client for the e2e tests. Every call has a timeout; unexpected statuses throw with
 * the response body, so a failing assertion shows what the server said. A request that is safe to repeat is sent
 * again, once, when wrangler dev (not the Worker) failed it; any other failure is the test's to see.
 */

import { randomUUID } from "node:crypto";
// wrangler dev's proxy's own 503 text (seen once in 192 POSTs here), as the SDK reads it: the built SDK's constant.
import { WRANGLER_PROXY_RETRY_TEXT } from "tributary/client";

export { WRANGLER_PROXY_RETRY_TEXT };

export const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Whether an answer is wrangler dev's proxy's 503 (`WRANGLER_PROXY_RETRY_TEXT`), not the Worker's.
 * @param {{ status: number, text: string } | undefined} response
 */
export function isWranglerProxy503(response) {
	return response?.status === 503 && response.text === WRANGLER_PROXY_RETRY_TEXT;
}

/** How long a read may go unanswered before the client nudges wrangler dev's proxy (see `nudgeWhilePending`). */
export const READ_NUDGE_MS = 2_000;

/**
 * Nudges wrangler dev's proxy every READ_NUDGE_MS until the returned function is called: the proxy holds a read
 * whose forward failed until it next forwards a request, and a GET /healthz of the client's own is that request, so
 * the held read is forwarded again and answered, sent once, instead of after its timeout and a second send. A read
 * that is only slow (a long poll) costs a /healthz per READ_NUDGE_MS: no auth, no quota, no storage.
 * @param {string} baseUrl
 */
function nudgeWhilePending(baseUrl) {
	const done = new AbortController();
	const nudge = () =>
		fetch(`${baseUrl}/healthz`, { signal: done.signal })
			.then((response) => response.arrayBuffer())
			.catch(() => {});
	const timer = setInterval(nudge, READ_NUDGE_MS);
	return () => {
		clearInterval(timer);
		done.abort();
	};
}

/** Sends of one request that is safe to repeat: a second after wrangler dev failed the first, never a third. */
export const REQUEST_ATTEMPTS_MAX = 2;

/** A consumer group's join, commit and heartbeat (`/v1/groups/<group>/…`). */
const JOIN_PATH = /^\/v1\/groups\/[^/]+\/members$/;
const COMMIT_PATH = /^\/v1\/groups\/[^/]+\/offsets$/;
const HEARTBEAT_PATH = /^\/v1\/groups\/[^/]+\/members\/[^/]+\/heartbeat$/;
const TOPICS_PATH = "/v1/topics";

/**
 * Whether a request sent again cannot write twice:
 * - a read; a PUT or DELETE, which leave the same state (a DELETE that had landed is then a 404, which the test
 *   sees); a PATCH under /v1, a merge patch (RFC 7396), which applied twice leaves what it left once, unless it
 *   acts as well as sets: one that rotates a webhook secret (each send makes a new one, and the first, never seen,
 *   would become the previous secret) or grows partitions (a count the topic already has is refused; so is
 *   /kafka/v3's partition-count PATCH); none of these if sent `If-Match` (one that landed unseen would be answered
 *   412 the second time);
 * - a produce that names itself (an `Idempotency-Key`, or an idempotent producer's id, epoch and sequence), which
 *   Tributary answers with the first write's offsets, writing nothing;
 * - a commit (the same offsets stored again) and a heartbeat (the session's deadline moved again); not a reset to
 *   "earliest" or "latest", which is read again at the second send and may land elsewhere;
 * - a join that names its member (`member_id`, which `request` adds to one that names none, or a static member's
 *   `instance_id`): sent again, the same member joins again, with the same subscription, and no rebalance;
 * - a topic create: the topic registry refuses a name taken, so a second send writes nothing; its 409
 *   `topic_exists` after a first send that landed unseen is recognised by `expect` (`createdUnseen`).
 * Any other POST (a key, a producer id, a subscription: each a new one) might have been taken by the Worker before
 * its answer was lost.
 * @param {string} method @param {string} path without its query @param {Record<string, string>} headers
 * @param {unknown} body
 */
function safeToRepeat(method, path, headers, body) {
	const sends = (/** @type {string} */ header) => Object.keys(headers).some((name) => name.toLowerCase() === header);
	if (method === "GET" || method === "HEAD") return true;
	if (sends("if-match")) return false;
	if (method === "PUT" || method === "DELETE") return true;
	const fields = /** @type {Record<string, unknown>} */ (typeof body === "object" && body !== null ? body : {});
	if (method === "PATCH") return path.startsWith("/v1/") && fields.rotate_secret === undefined && fields.partitions === undefined;
	if (method !== "POST") return false;
	if (sends("idempotency-key")) return true;
	if (COMMIT_PATH.test(path) || HEARTBEAT_PATH.test(path) || path === TOPICS_PATH) return true;
	if (JOIN_PATH.test(path)) return fields.member_id !== undefined || (fields.instance_id ?? null) !== null;
	return (
		fields.producer_id !== undefined && fields.epoch !== undefined && (fields.sequence !== undefined || fields.sequences !== undefined)
	);
}

/**
 * A join's body with a member id of the client's own if it names neither a member nor a static instance, so that it
 * is safe to send again (`safeToRepeat`): the coordinator admits a proposed id as it would the one it would have
 * drawn (a random UUID), and a second join with it is the same member's.
 * @param {string} method @param {string} path without its query @param {unknown} body
 */
function withMemberId(method, path, body) {
	if (method !== "POST" || !JOIN_PATH.test(path) || typeof body !== "object" || body === null || Array.isArray(body)) return body;
	const fields = /** @type {Record<string, unknown>} */ (body);
	if (fields.member_id !== undefined || (fields.instance_id ?? null) !== null) return body;
	return { ...fields, member_id: randomUUID() };
}

/**
 * Whether a send failed because its connection closed before an answer (undici's UND_ERR_SOCKET, "other side
 * closed"): wrangler dev's server closes a kept-alive connection idle for 5 s (Node's keep-alive timeout), and fetch's
 * own idle timer (4 s) closes it first only if this process's event loop runs that timer in time. Held longer (a test
 * that waited on kcat, a busy machine), fetch writes the next request to a connection the server is closing. The
 * Worker has then most likely not seen it, but nothing proves so.
 * @param {unknown} error what a send threw
 */
export function closedBeforeAnswer(error) {
	return /** @type {{ cause?: { code?: string } } | undefined} */ (error)?.cause?.code === "UND_ERR_SOCKET";
}

/**
 * Why wrangler dev, not the Worker, failed a send that the Worker may never have seen, or null:
 * - the connection closed before an answer (`closedBeforeAnswer`);
 * - its proxy's 503 (`WRANGLER_PROXY_RETRY_TEXT`);
 * - a read with no answer in time: the proxy holds a GET or HEAD whose forward failed until it next forwards a
 *   request (the next to arrive, or a reload), so a test waiting on that read alone would wait for ever. The
 *   client's nudges (`nudgeWhilePending`) release it, so only a read whose timeout came before any nudge is sent
 *   again (which is such a request, and releases the one held); one still unanswered after a nudge is more likely a
 *   Worker that hangs (a long poll never woken), which a second send would hide.
 * @param {string} method @param {unknown} error what the send threw, if it threw
 * @param {{ status: number, text: string } | undefined} response what it answered, if it did
 * @param {number} timeoutMs the send's timeout
 */
function failedByWrangler(method, error, response, timeoutMs) {
	const cause = /** @type {{ name?: string } | undefined} */ (error);
	if (closedBeforeAnswer(error)) return "the connection closed before an answer";
	if (isWranglerProxy503(response)) return "wrangler dev's proxy answered 503";
	if (cause?.name === "TimeoutError" && (method === "GET" || method === "HEAD") && timeoutMs <= READ_NUDGE_MS)
		return "no answer in time, before any nudge (held by wrangler dev's proxy?)";
	return null;
}

/**
 * `send()`, sent again (at most REQUEST_ATTEMPTS_MAX sends in all) while wrangler dev, not the Worker, failed it
 * (`failedByWrangler`, judged on `seen` of its answer) and it is `repeatable`; what the last send answered, and how many
 * sends it took. A send that threw with no answer left to give throws its error.
 * @template R
 * @param {() => Promise<R>} send
 * @param {{ method: string, repeatable: boolean, timeoutMs: number, label: string, seen: (answer: R) => Promise<{ status: number, text: string }> }} how
 *   `label` names the request in the line said on stderr for each send again
 * @returns {Promise<{ response: R, attempts: number }>}
 */
export async function sendWhileWranglerFails(send, { method, repeatable, timeoutMs, label, seen }) {
	for (let attempt = 1; ; attempt++) {
		/** @type {R | undefined} */
		let response;
		let failure;
		try {
			response = await send();
		} catch (error) {
			failure = error;
		}
		const reason = failedByWrangler(method, failure, response === undefined ? undefined : await seen(response), timeoutMs);
		if (reason === null || !repeatable || attempt >= REQUEST_ATTEMPTS_MAX) {
			if (response === undefined) throw failure;
			return { response, attempts: attempt };
		}
		// Said, not hidden: a test that then fails, or passes, shows that its request needed a second send.
		process.stderr.write(`${label}: ${reason}; sent again\n`);
	}
}

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
 * @property {string} [bodyText]  a JSON body sent as written (JSON.stringify would round integers a double cannot hold)
 * @property {boolean} [auth]  send the admin token (default true)
 * @property {Record<string, string>} [headers]
 * @property {number} [timeoutMs]
 */

/**
 * @typedef {object} Response
 * @property {number} status
 * @property {string} text
 * @property {any} json  the parsed body (undefined if it is not JSON): whatever shape the route answers
 * @property {boolean} resent  whether this is the answer to a second send (wrangler dev failed the first)
 */

/**
 * @typedef {{ partition: number, offset: number, timestamp: number }} Position
 * @typedef {{ partition: number, offset: number, timestamp: number, key: string | null, value: unknown, headers: { key: string, value: string }[] }} FetchedRecord
 */

/** `text` parsed as JSON, or undefined if it is not JSON. @param {string} text */
function parsedJson(text) {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

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
	async function request(method, path, { body: asked, bodyText, auth = true, headers = {}, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
		const route = path.split("?")[0] ?? path;
		const body = withMemberId(method, route, asked);
		const payload = bodyText ?? (body === undefined ? undefined : JSON.stringify(body));
		/** @type {Record<string, string>} */
		const allHeaders = { ...headers };
		if (auth) allHeaders.Authorization = `Bearer ${token}`;
		if (payload !== undefined) allHeaders["Content-Type"] = "application/json";
		const send = async () => {
			const stopNudging = method === "GET" || method === "HEAD" ? nudgeWhilePending(baseUrl) : () => {};
			try {
				const response = await fetch(`${baseUrl}${path}`, {
					method,
					headers: allHeaders,
					body: payload,
					signal: AbortSignal.timeout(timeoutMs),
				});
				return { status: response.status, text: await response.text() };
			} finally {
				stopNudging();
			}
		};
		const repeatable = safeToRepeat(method, route, allHeaders, bodyText === undefined ? body : parsedJson(bodyText));
		const { response, attempts } = await sendWhileWranglerFails(send, {
			method,
			repeatable,
			timeoutMs,
			label: `e2e client: ${method} ${path}`,
			seen: async (answer) => answer,
		});
		return { ...response, json: parsedJson(response.text), resent: attempts > 1 };
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
		if (response.status === expected) return response.json;
		const created = expected === 201 && response.resent ? await createdUnseen(method, path, options, response) : null;
		if (created === null) throw new HttpError(method, path, response.status, response.text);
		return created;
	}

	/**
	 * The topic a create asked for, if its second send was answered 409 `topic_exists` because the first, whose
	 * answer wrangler dev lost, had created it: a describe shows the topic with the partitions and config asked.
	 * Only for a caller that expects the creation (`expect(201, …)`): a test that expects a 409 sees the 409. Else null.
	 * @param {string} method @param {string} path @param {RequestOptions | undefined} options @param {Response} response
	 */
	async function createdUnseen(method, path, options, response) {
		const asked = /** @type {{ name?: unknown, partitions?: unknown, config?: Record<string, unknown> }} */ (options?.body ?? {});
		if (method !== "POST" || path !== TOPICS_PATH || response.status !== 409 || response.json?.error?.code !== "topic_exists") return null;
		const { body: _, ...describeOptions } = options ?? {};
		const described = await request("GET", `${TOPICS_PATH}/${encodeURIComponent(String(asked.name))}`, describeOptions);
		if (described.status !== 200) return null;
		const { name, topic_id, partitions, config } = described.json;
		const asAsked =
			(asked.partitions === undefined || partitions.length === asked.partitions) &&
			Object.entries(asked.config ?? {}).every(([setting, value]) => String(config[setting]) === String(value));
		if (!asAsked) return null;
		process.stderr.write(`e2e client: ${method} ${path}: its first send had created the topic, as a describe shows\n`);
		return { name, topic_id, partitions: partitions.length, config };
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
		 * Produces `records`; returns the `offsets` array (one `{partition, offset, timestamp}` per record). Each produce
		 * carries an `Idempotency-Key` of its own, so that one wrangler dev failed is sent again and written once. (It
		 * also picks the partition of records with neither key nor partition, from the key's hash: as random as before.)
		 * @param {string} topic
		 * @param {unknown[]} records
		 * @returns {Promise<Position[]>}
		 */
		produce: async (topic, records) =>
			(await expect(200, "POST", `/v1/topics/${topic}/records`, { body: { records }, headers: { "Idempotency-Key": randomUUID() } }))
				.offsets,
	};
}
