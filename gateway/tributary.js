// @ts-check
/**
 * @module
 * The gateway's view of Tributary: its public HTTP API, nothing else. Each Kafka connection carries its own
 * credentials (the gateway's token, or what the client proved with SASL/PLAIN), so ACLs and quotas apply to
 * the Kafka client exactly as to an HTTP one. Answers come back as `{ status, body }`; a failure's body is
 * Tributary's `{"error":{"code","message",…}}`.
 *
 * Not the SDK's client: the gateway must not retry on its own (the Kafka client owns retries and their order,
 * which idempotent produce depends on), must cancel a partition's long-poll when another partition answers a
 * Fetch, and maps every error code to Kafka's, so it keeps this thin layer over HTTP.
 *
 * Calls go through undici's connection pool at its dispatch level rather than `fetch` or node:http: fetch's WHATWG
 * layers (Request, Headers, body streams) cost about as much as the Worker's own work on a 100-record produce, and
 * node:http's ClientRequest/IncomingMessage streams a third more client CPU than a dispatch handler (one 110 KB
 * POST with a small answer: medians 180 µs with node:http's keep-alive agent, 154 with undici's `request()`, 126
 * with `dispatch()`). The gateway sits on the hot path of every Kafka request.
 *
 * Produce stays a `POST …/records` per partition's batch, though the Worker's streaming produce channel (`GET
 * …/records/stream`, a WebSocket: a body per message, its report per message, in order) costs both sides less.
 * Prototyped (one kept-open socket per topic and credentials through `ws`, zero masking key, a body over the channel's
 * 2 MiB message limit still over HTTP, a channel retired after 1 s so that a key's changed ACLs are seen; the gateway's
 * tests, 6 new, and the Kafka e2e files' 73 passed) and measured: 100 × 1 KiB produces one at a time from one process
 * against Miniflare, 10 alternating blocks of 30,000 records per path (load 9–16 on 2 cores), CPU per record at the
 * median, the gateway 11.7 µs over HTTP against 6.8 on the channel (ranges 9.0–12.5, 5.8–8.3), workerd 30.7 against
 * 23.2 (25.7–32.7, 21.7–26.7). `npm run bench:kafka`'s produce ratio, runs alternating at load 11–29, did not show it
 * above the noise: over HTTP 43.3, 52.8, 64.3, 33.1, 45.6 %, over the channel 54.2, 47.9, 67.9, 56.9 %. Not adopted: the Worker
 * treats a channel as one request, which changes what a key's produce is held to. Its produce quota holds a message
 * for as long as the debt lasts (past a call's 30 s deadline the channel ends and the message is still written once
 * paid) where HTTP answers 429 and the gateway REQUEST_TIMED_OUT; `requests_per_sec` counts the channel's opening,
 * not each produce; the key's ACLs are read when the channel opens, its existence once a second after. The admin
 * token is held to none of these, but the gateway cannot tell that its `--token` is the admin token. The Worker would
 * need either to say the principal's kind on the 101 (tens of bytes; the channel then for the admin token only), or,
 * for keys too, a channel mode that answers a message over a quota 429 with nothing written, charges
 * `requests_per_sec` per message and checks the key's ACL per append (a few hundred bytes, estimated).
 */

import { Pool } from "undici";
import { parseFetchPage } from "./fetch-page.js";
import { FOREIGN_BODY_CHARS_MAX, TOPIC_PAGE_LIMIT, TOPIC_PAGES_MAX } from "./limits.js";

/** The one cluster of Tributary's Confluent mount (`/kafka/v3/clusters/{id}`), which the gateway also presents. */
export const CLUSTER_ID = "tributary";

/** Longest an HTTP call may take beyond its own long-poll wait. */
export const HTTP_TIMEOUT_MS = 30_000;
/** A quota wait longer than this is not sat out: the client gets a retriable error instead (see `recordsError`). */
export const QUOTA_WAIT_MS_MAX = 5_000;
/** Sends of one call while its key is over quota. */
export const QUOTA_ATTEMPTS_MAX = 3;

/**
 * Answers come back uncompressed: fetch asks for gzip by default, and then the Worker spends its CPU deflating
 * every page (a 1 MiB Fetch page costs it more than reading the page) and the gateway inflating it, on a hop
 * that is usually the same host or data centre. Kafka producers that care about bytes compress their batches.
 */
const RESPONSE_ENCODING = "identity";

/** @param {Buffer[]} chunks */
const joined = (chunks) => (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @typedef {{ status: number, body: any }} Answer
 * @typedef {{ authorization: string | null }} Credentials
 * @typedef {{ signal?: AbortSignal, waitMs?: number, parse?: (chunks: Buffer[]) => unknown }} CallOptions `parse`: how
 *   a 200's body, as received in chunks, becomes its JSON value (JSON.parse of its text by default)
 */

/** `Authorization` for a key id and secret (HTTP Basic), or for the admin token (Bearer). */
export function credentialsFor(username, password) {
	if (username === "admin") return { authorization: `Bearer ${password}` };
	return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` };
}

/** The head of the Worker's produce answer (`c.json({ offsets })`), up to just past its first position. */
const FIRST_POSITION = /^\{"offsets":\[\{"partition":(\d+),"offset":(\d+),"timestamp":(\d+)\}[,\]]/;
/** Bytes of an answer's head that hold its first position (digits of the largest offset and timestamp included). */
const FIRST_POSITION_BYTES_MAX = 96;

/**
 * A 200 produce answer as the Produce response needs it: `{ offsets: [first] }`, the batch's first position read
 * from the answer's head, without parsing the other positions; an answer of any other shape is JSON.parsed whole.
 * Saves the parse of a position per record and their objects: 33 µs of CPU for 100 positions against under 1
 * (medians, 20,000 runs). The answer is whole when it comes here (a cut-off one rejects the call).
 * @param {Buffer[]} chunks
 */
export function produceAnswer(chunks) {
	const head = chunks[0].toString("latin1", 0, FIRST_POSITION_BYTES_MAX);
	const first = FIRST_POSITION.exec(head);
	if (first === null) return JSON.parse(joined(chunks).toString("utf8"));
	return { offsets: [{ partition: Number(first[1]), offset: Number(first[2]), timestamp: Number(first[3]) }] };
}

export class Tributary {
	/**
	 * @param {string} baseUrl @param {Credentials} credentials
	 * @param {Pool} [pool] the keep-alive connections to the Worker, shared by every connection's view
	 * @param {(message: string) => void} [log] the gateway's log, where every 5xx answer goes
	 */
	constructor(baseUrl, credentials, pool, log = () => {}) {
		this.baseUrl = baseUrl.replace(/\/+$/, "");
		this.credentials = credentials;
		this.log = log;
		const url = new URL(this.baseUrl);
		this.pathPrefix = url.pathname.replace(/\/+$/, "");
		// One request at a time on each connection (no pipelining): a long-poll Fetch must not hold up a Produce queued
		// behind it, and cancelling one closes its connection only.
		this.pool = pool ?? new Pool(url.origin, { pipelining: 1 });
	}

	/** @param {Credentials} credentials */
	as(credentials) {
		return new Tributary(this.baseUrl, credentials, this.pool, this.log);
	}

	/** Closes the pooled connections to the Worker. */
	close() {
		void this.pool.destroy();
	}

	/**
	 * @param {string} method @param {string} path @param {unknown} [body] @param {CallOptions} [options]
	 * @returns {Promise<Answer>}
	 */
	async call(method, path, body, options = {}) {
		// A key over its quota: wait as Tributary asks and send again (a 429 wrote nothing), as a Kafka broker
		// throttles a client by delaying its responses rather than failing them.
		for (let attempt = 1; ; attempt++) {
			const answer = await this.once(method, path, body, options);
			const waitMs = answer.status === 429 ? (answer.body?.error?.retry_after_ms ?? QUOTA_WAIT_MS_MAX) : 0;
			if (answer.status !== 429 || attempt >= QUOTA_ATTEMPTS_MAX || waitMs > QUOTA_WAIT_MS_MAX) return answer;
			await sleep(waitMs);
		}
	}

	/**
	 * @param {string} method @param {string} path
	 * @param {unknown} [body] sent as it is when a string or Buffer (JSON already), else serialised
	 * @param {CallOptions} [options]
	 * @returns {Promise<Answer>}
	 */
	async once(method, path, body, options = {}) {
		/** @type {Record<string, string>} */
		const headers = { "accept-encoding": RESPONSE_ENCODING };
		if (this.credentials.authorization !== null) headers.authorization = this.credentials.authorization;
		const text = body === undefined || typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
		if (text !== undefined) headers["content-type"] = "application/json";
		const { status, chunks } = await this.send(method, path, headers, text, options.signal, HTTP_TIMEOUT_MS + (options.waitMs ?? 0));
		/** @type {any} */
		let parsed = null;
		if (chunks.length > 0) {
			try {
				parsed = status === 200 && options.parse !== undefined ? options.parse(chunks) : JSON.parse(joined(chunks).toString("utf8"));
			} catch {
				parsed = { error: { code: "internal", message: joined(chunks).toString("utf8").slice(0, FOREIGN_BODY_CHARS_MAX) } };
			}
		} else if (status >= 500) {
			// Not the Worker's answer (it always says why): a proxy's or the platform's, such as a 503 while the Worker
			// restarts. Read as its own thrown error, which it says to retry, so clients retry rather than give up.
			parsed = { error: { code: "internal", message: `HTTP ${status} with no body` } };
		}
		// The client sees only a Kafka code (one it retries): the log keeps what the Worker, or what stood before it, said.
		if (status >= 500) {
			const error = parsed?.error;
			this.log(
				`${method} ${path}: ${status} ${error?.code === undefined ? joined(chunks).toString("utf8").slice(0, FOREIGN_BODY_CHARS_MAX) : `${error.code}: ${error.message}`}`,
			);
		}
		return { status, body: parsed };
	}

	/**
	 * One HTTP exchange; rejects when the Worker cannot be reached, the answer is cut off, no answer (or no more of
	 * it) comes within `timeoutMs`, or `signal` aborts. Aborting closes the connection, which is what ends a
	 * long-poll on the Worker's side. The deadline is the pool's own (headers and body timeouts), not
	 * `AbortSignal.timeout()`: a signal ties an EventTarget and a listener to every request, about 1 µs a record on a
	 * 100-record produce.
	 * @param {string} method @param {string} path @param {Record<string, string>} headers
	 * @param {string | Buffer | undefined} body @param {AbortSignal | undefined} signal @param {number} timeoutMs
	 * @returns {Promise<{ status: number, chunks: Buffer[] }>} the body as received, in chunks (none when empty):
	 *   joining them is left to the reader, which may need them joined in a buffer of its own choosing
	 */
	send(method, path, headers, body, signal, timeoutMs) {
		return new Promise((resolve, reject) => {
			if (signal?.aborted) return reject(signal.reason);
			/** @type {Buffer[]} */
			const chunks = [];
			let status = 0;
			/** @type {(() => void) | undefined} */
			let unlisten;
			/** @type {import("undici").Dispatcher.DispatchController | undefined} */
			let current;
			const settle = () => unlisten?.();
			const options = { path: this.pathPrefix + path, method: /** @type {any} */ (method), headers, body };
			this.pool.dispatch(
				{ ...options, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
				{
					onRequestStart(controller) {
						// Called again when the pool retries the request on a fresh connection: one listener, on the latest.
						current = controller;
						if (signal === undefined || unlisten !== undefined) return;
						const abort = () => current?.abort(signal.reason);
						signal.addEventListener("abort", abort, { once: true });
						unlisten = () => signal.removeEventListener("abort", abort);
					},
					onResponseStart(_controller, statusCode) {
						status = statusCode;
					},
					onResponseData(_controller, chunk) {
						if (chunk.length > 0) chunks.push(chunk);
					},
					onResponseEnd() {
						settle();
						resolve({ status, chunks });
					},
					onResponseError(_controller, error) {
						settle();
						reject(new Error(`${method} ${path}: ${error.message}`, { cause: error }));
					},
				},
			);
		});
	}

	listTopics() {
		return this.call("GET", "/v1/topics");
	}
	/**
	 * Every topic these credentials may see: `GET /v1/topics` page after page (`next_cursor`), where `listTopics`
	 * reads the first page only. A failed page is the answer.
	 * @returns {Promise<Answer>} `{ topics }` when every page was read
	 */
	async listAllTopics() {
		const topics = [];
		let cursor = null;
		for (let page = 0; page < TOPIC_PAGES_MAX; page++) {
			const after = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
			const answer = await this.call("GET", `/v1/topics?limit=${TOPIC_PAGE_LIMIT}${after}`);
			if (answer.status !== 200) return answer;
			topics.push(...answer.body.topics);
			cursor = answer.body.next_cursor ?? null;
			if (cursor === null) return { status: 200, body: { topics } };
		}
		throw new Error(`listing topics: still a next page after ${TOPIC_PAGES_MAX} pages`);
	}
	/** @param {string} topic */
	describeTopic(topic) {
		return this.call("GET", `/v1/topics/${encodeURIComponent(topic)}`);
	}
	/**
	 * One config of a topic, through the Confluent mount (`{ name, value, … }`, the value as text): with the same right
	 * as `describeTopic`, but the Worker reads only the topic's registry entry, where a describe also asks every
	 * partition for its offsets.
	 * @param {string} topic @param {string} name
	 */
	topicConfig(topic, name) {
		return this.call("GET", `/kafka/v3/clusters/${CLUSTER_ID}/topics/${encodeURIComponent(topic)}/configs/${encodeURIComponent(name)}`);
	}
	/** @param {{ name: string, partitions?: number, config?: Record<string, string> }} body */
	createTopic(body) {
		return this.call("POST", "/v1/topics", body);
	}
	/** @param {string} topic */
	deleteTopic(topic) {
		return this.call("DELETE", `/v1/topics/${encodeURIComponent(topic)}`);
	}
	/**
	 * A 200 answer's `offsets` hold the first position only (`produceAnswer`).
	 * @param {string} topic @param {Buffer} body a produce request, already JSON as UTF-8
	 */
	produce(topic, body) {
		return this.call("POST", `/v1/topics/${encodeURIComponent(topic)}/records`, body, { parse: produceAnswer });
	}
	/**
	 * @param {string} topic @param {number} partition
	 * @param {{ offset: number, maxBytes: number, maxRecords: number, waitMs: number, signal?: AbortSignal,
	 *   onEnvelope?: import("./fetch-page.js").OnEnvelope }} q
	 */
	fetchRecords(topic, partition, q) {
		const query = `offset=${q.offset}&max_bytes=${q.maxBytes}&max_records=${q.maxRecords}&wait_ms=${q.waitMs}`;
		return this.call("GET", `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/records?${query}`, undefined, {
			signal: q.signal,
			waitMs: q.waitMs,
			parse: (chunks) => parseFetchPage(chunks, { onEnvelope: q.onEnvelope }),
		});
	}
	/**
	 * `{ offset }`; with "max_timestamp" `{ offset, timestamp }` of the first record with the largest timestamp
	 * @param {string} topic @param {number} partition @param {"earliest" | "latest" | "max_timestamp" | number} at
	 */
	offsetAt(topic, partition, at) {
		return this.call("GET", `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/offsets?at=${at}`);
	}
	/** @param {string | null} transactionalId */
	initProducer(transactionalId) {
		return this.call("POST", "/v1/producers", transactionalId === null ? {} : { transactional_id: transactionalId });
	}
	/** @param {string} group @param {object} body */
	joinGroup(group, body) {
		return this.call("POST", `/v1/groups/${encodeURIComponent(group)}/members`, body);
	}
	/**
	 * `instanceId`: the static member's (KIP-345's group.instance.id), which the Worker fences (`fenced_instance`).
	 * @param {string} group @param {string} member @param {string | null} [instanceId]
	 */
	heartbeat(group, member, instanceId = null) {
		const body = instanceId === null ? {} : { instance_id: instanceId };
		return this.call("POST", `/v1/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(member)}/heartbeat`, body);
	}
	/**
	 * `instanceId`: the static member's, which the Worker fences as the heartbeat's; a Worker from before it on the leave
	 * ignores the query parameter (it refuses no unknown one there).
	 * @param {string} group @param {string} member @param {string | null} [instanceId]
	 */
	leaveGroup(group, member, instanceId = null) {
		const query = instanceId === null ? "" : `?instance_id=${encodeURIComponent(instanceId)}`;
		return this.call("DELETE", `/v1/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(member)}${query}`);
	}
	/** @param {string} group @param {object} body */
	commit(group, body) {
		return this.call("POST", `/v1/groups/${encodeURIComponent(group)}/offsets`, body);
	}
	/** @param {string} group */
	describeGroup(group) {
		return this.call("GET", `/v1/groups/${encodeURIComponent(group)}`);
	}
}
