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
 * Fetch, and maps every error code to Kafka's, so it keeps this thin layer over HTTP. One exception: a topic's
 * create goes through the SDK's `topics.create`, whose rule on a create that may have landed is the SDK's and
 * the CLI's too (`createTopic`).
 *
 * Calls go through undici's connection pool at its dispatch level rather than `fetch` or node:http: fetch's WHATWG
 * layers (Request, Headers, body streams) cost about as much as the Worker's own work on a 100-record produce, and
 * node:http's ClientRequest/IncomingMessage streams a third more client CPU than a dispatch handler (one 110 KB
 * POST with a small answer: medians 180 µs with node:http's keep-alive agent, 154 with undici's `request()`, 126
 * with `dispatch()`). The gateway sits on the hot path of every Kafka request.
 *
 * Produce goes over the Worker's streaming produce channel (`GET …/records/stream?checks=message`, a WebSocket: a
 * body per message, its report per message, in order; gateway/produce-channel.js), one kept-open socket per partition and
 * credentials, which costs both sides less than a request each. `checks=message` makes the Worker hold each message to
 * exactly what a `POST …/records` of it is held to (the key read afresh, its ACL, `requests_per_sec` per message, a
 * message over the produce-bytes quota answered 429 with nothing written), so the key's limits and every Kafka
 * error code are the same as over HTTP, and a channel need not be retired for a key's change to be seen. A body over
 * the channel's 2 MiB message limit still goes as `POST …/records`. Measured (against Miniflare, 100 × 1 KiB
 * produces one at a time from one process, 6 alternating blocks of 20,000 records per path, load 21–25 on 2 cores;
 * medians, ranges in brackets): CPU per record of the gateway 11.9 µs over HTTP against 6.8 on the channel (10.6–15.1,
 * 6.4–9.6), of workerd 35.5 against 25.0 (31.5–43, 21.5–29), lower on the channel in every pair; a block took 5.1 s
 * against 3.4. `npm run bench:kafka`'s produce ratio (kafkajs → gateway over HTTP, 1 client, 1 partition), runs
 * alternating at load 15–26: 55.6, 57.9, 33.1 % before, 51.2, 45.7, 54.9 % on the channel (medians 55.6 and 51.2):
 * the machine's noise (each run's own rounds spread 27–100 %) hides a difference of that size.
 */

import { Tributary as Client, TributaryError } from "tributary/client";
import { Pool } from "undici";
import { parseFetchPage } from "./fetch-page.js";
import { CHANNEL_MESSAGE_BYTES_MAX, CREATE_TOPIC_RETRIES, FOREIGN_BODY_CHARS_MAX, TOPIC_PAGE_LIMIT, TOPIC_PAGES_MAX } from "./limits.js";
import { ProduceChannel } from "./produce-channel.js";

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

/**
 * Resolves true after `ms`, or false at once when one of `signals` aborts (or has), its timer then cleared.
 * @param {number} ms @param {AbortSignal[]} signals
 * @returns {Promise<boolean>}
 */
function waited(ms, signals) {
	return new Promise((resolve) => {
		if (signals.some((signal) => signal.aborted)) return resolve(false);
		/** @param {boolean} full */
		const end = (full) => {
			clearTimeout(timer);
			for (const signal of signals) signal.removeEventListener("abort", stop);
			resolve(full);
		};
		const stop = () => end(false);
		const timer = setTimeout(() => end(true), ms);
		for (const signal of signals) signal.addEventListener("abort", stop, { once: true });
	});
}

/**
 * A Kafka request's `timeout_ms` as the epoch ms its quota waits end at (none for 0 or less).
 * @param {number} timeoutMs
 */
export const deadlineAfter = (timeoutMs) => (timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY);

/**
 * A 429 whose quota wait the Kafka request's timeout ended: not done in time, which a broker answers REQUEST_TIMED_OUT
 * (`request_timed_out`, the gateway's own code, errors.js), where a 429 of topic admin is THROTTLING_QUOTA_EXCEEDED.
 * @param {Answer} answer
 */
function pastDeadline(answer) {
	const message = `still over its quota at the request's timeout: ${answer.body?.error?.message ?? ""}`;
	return { status: answer.status, body: { error: { ...answer.body?.error, code: "request_timed_out", message } } };
}

/**
 * `send` until it is not answered 429, the key being over its quota: waits as Tributary asks and sends again (a 429
 * wrote nothing), as a Kafka broker throttles a client by delaying its responses rather than failing them. The wait
 * ends, and nothing more is sent, once one of `signals` aborts (the Kafka connection ended: the 429 is then the answer)
 * or at `deadlineAt` (the Kafka request's own timeout, as epoch ms: `pastDeadline`): no client would read what that
 * send answered.
 * @param {() => Promise<Answer>} send @param {(AbortSignal | undefined)[]} signals @param {number} [deadlineAt]
 */
async function throttled(send, signals, deadlineAt = Number.POSITIVE_INFINITY) {
	for (let attempt = 1; ; attempt++) {
		const answer = await send();
		const waitMs = answer.status === 429 ? (answer.body?.error?.retry_after_ms ?? QUOTA_WAIT_MS_MAX) : 0;
		if (answer.status !== 429 || attempt >= QUOTA_ATTEMPTS_MAX || waitMs > QUOTA_WAIT_MS_MAX) return answer;
		const leftMs = deadlineAt - Date.now();
		const ending = signals.filter((signal) => signal !== undefined);
		if (!(await waited(Math.min(waitMs, leftMs), ending))) return answer;
		if (leftMs <= waitMs) return pastDeadline(answer);
	}
}

/**
 * @typedef {{ status: number, body: any }} Answer
 * @typedef {{ authorization: string | null }} Credentials
 * @typedef {{ signal?: AbortSignal, waitMs?: number, parse?: (chunks: Buffer[]) => unknown, deadlineAt?: number,
 *   shared?: boolean }} CallOptions `parse`: how a 200's body, as received in chunks, becomes its JSON value (JSON.parse
 *   of its text by default); `signal` ends the call (its exchange, or its quota wait); `deadlineAt` its quota wait
 *   (`throttled`); `shared`: a lookup this view's connections share (gateway/lookup-cache.js), which the view's own
 *   signal does not end, as the connection that started it may close while others still wait for its answer
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
	 * @param {Map<string, ProduceChannel>} [channels] the produce channels, by credentials and topic, shared likewise
	 * @param {AbortSignal} [signal] aborted when the Kafka connection this view serves ends (`withSignal`)
	 */
	constructor(baseUrl, credentials, pool, log = () => {}, channels = new Map(), signal = undefined) {
		this.baseUrl = baseUrl.replace(/\/+$/, "");
		this.credentials = credentials;
		this.log = log;
		const url = new URL(this.baseUrl);
		this.pathPrefix = url.pathname.replace(/\/+$/, "");
		// One request at a time on each connection (no pipelining): a long-poll Fetch must not hold up a Produce queued
		// behind it, and cancelling one closes its connection only.
		this.pool = pool ?? new Pool(url.origin, { pipelining: 1 });
		this.channels = channels;
		this.signal = signal;
	}

	/** This view with other credentials (a SASL login's), ended by the same signal. @param {Credentials} credentials */
	as(credentials) {
		return new Tributary(this.baseUrl, credentials, this.pool, this.log, this.channels, this.signal);
	}

	/**
	 * This view for one Kafka connection: `signal`, aborted when the connection ends, ends every quota wait of its
	 * calls, so a request no client waits for any more is not sent again. @param {AbortSignal} signal
	 */
	withSignal(signal) {
		return new Tributary(this.baseUrl, this.credentials, this.pool, this.log, this.channels, signal);
	}

	/** Closes the pooled connections to the Worker, and the produce channels. */
	close() {
		for (const channel of this.channels.values()) channel.end("the gateway is closing");
		void this.pool.destroy();
	}

	/**
	 * @param {string} method @param {string} path @param {unknown} [body] @param {CallOptions} [options]
	 * @returns {Promise<Answer>}
	 */
	call(method, path, body, options = {}) {
		const signals = options.shared ? [options.signal] : [this.signal, options.signal];
		return throttled(() => this.once(method, path, body, options), signals, options.deadlineAt);
	}

	/**
	 * A produce of one partition's batch to `topic`: a message on the partition's produce channel
	 * (gateway/produce-channel.js), or a `POST …/records` when the body is larger than a message may be. A 200 answer's
	 * `offsets` hold the first position only (`produceAnswer`).
	 * @param {string} topic @param {number} partition the one the body names @param {Buffer} body a produce request,
	 *   already JSON as UTF-8 @param {number} [deadlineAt] the Produce's own timeout (epoch ms), which ends a quota wait
	 * @returns {Promise<Answer>}
	 */
	produce(topic, partition, body, deadlineAt) {
		const path = `/v1/topics/${encodeURIComponent(topic)}/records`;
		if (body.length > CHANNEL_MESSAGE_BYTES_MAX)
			return throttled(() => this.once("POST", path, body, { parse: produceAnswer }), [this.signal], deadlineAt);
		return throttled(() => this.channel(path, partition).send(body), [this.signal], deadlineAt);
	}

	/**
	 * The produce channel of `path` (a topic's records) for `partition`, with these credentials, opened when it has none
	 * that takes messages. One a partition, not a topic: the Worker reports a channel's messages in order, so a partition
	 * that stalls would hold every other partition's answers (and, past the report deadline, have them answered as lost:
	 * a written batch sent again), where each partition's HTTP request stood alone. Forgotten once it ends.
	 * @param {string} path @param {number} partition
	 */
	channel(path, partition) {
		const name = `${this.credentials.authorization}\n${path}\n${partition}`;
		const open = this.channels.get(name);
		if (open?.usable) return open;
		/** @type {Record<string, string>} */
		const headers = {};
		if (this.credentials.authorization !== null) headers.authorization = this.credentials.authorization;
		const what = `GET ${path}/stream`;
		const channel = new ProduceChannel({
			url: `${this.baseUrl.replace(/^http/, "ws")}${path}/stream?checks=message`,
			headers,
			timeoutMs: HTTP_TIMEOUT_MS,
			answer: (status, chunks) => this.answer(what, status, chunks, produceAnswer),
			onEnd: () => {
				if (this.channels.get(name) === channel) this.channels.delete(name);
			},
		});
		this.channels.set(name, channel);
		return channel;
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
		return this.answer(`${method} ${path}`, status, chunks, options.parse);
	}

	/**
	 * An answer as received (over HTTP, or a produce channel's report) as `{ status, body }`; every 5xx goes to the log.
	 * @param {string} what the call, for the log @param {number} status @param {Buffer[]} chunks its body (none when empty)
	 * @param {CallOptions["parse"]} parse
	 * @returns {Answer}
	 */
	answer(what, status, chunks, parse) {
		/** @type {any} */
		let parsed = null;
		if (chunks.length > 0) {
			try {
				parsed = status === 200 && parse !== undefined ? parse(chunks) : JSON.parse(joined(chunks).toString("utf8"));
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
				`${what}: ${status} ${error?.code === undefined ? joined(chunks).toString("utf8").slice(0, FOREIGN_BODY_CHARS_MAX) : `${error.code}: ${error.message}`}`,
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
	 * reads the first page only. A failed page is the answer. A lookup the view's connections share (`TopicList.read`),
	 * which its own connection's close does not end (`shared`).
	 * @returns {Promise<Answer>} `{ topics }` when every page was read
	 */
	async listAllTopics() {
		const topics = [];
		let cursor = null;
		for (let page = 0; page < TOPIC_PAGES_MAX; page++) {
			const after = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
			const answer = await this.call("GET", `/v1/topics?limit=${TOPIC_PAGE_LIMIT}${after}`, undefined, { shared: true });
			if (answer.status !== 200) return answer;
			topics.push(...answer.body.topics);
			cursor = answer.body.next_cursor ?? null;
			if (cursor === null) return { status: 200, body: { topics } };
		}
		throw new Error(`listing topics: still a next page after ${TOPIC_PAGES_MAX} pages`);
	}
	/** @param {string} topic @param {number} [deadlineAt] the Kafka request's timeout, as `throttled`'s */
	describeTopic(topic, deadlineAt = Number.POSITIVE_INFINITY) {
		return this.call("GET", `/v1/topics/${encodeURIComponent(topic)}`, undefined, { deadlineAt });
	}
	/**
	 * One config of a topic, through the Confluent mount (`{ name, value, … }`, the value as text): with the same right
	 * as `describeTopic`, but the Worker reads only the topic's registry entry, where a describe also asks every
	 * partition for its offsets.
	 * @param {string} topic @param {string} name @param {CallOptions} [options] `shared` for a lookup shared (`TimestampTypes`)
	 */
	topicConfig(topic, name, options = {}) {
		const path = `/kafka/v3/clusters/${CLUSTER_ID}/topics/${encodeURIComponent(topic)}/configs/${encodeURIComponent(name)}`;
		return this.call("GET", path, undefined, options);
	}
	/**
	 * Creates a topic through the SDK's `topics.create`, for its rule on a try that may have landed (client/README.md,
	 * Retries): a create whose answer was lost, or answered a failure that proves nothing, is sent again (a repeat cannot
	 * make a second topic), and the repeat's 409 `topic_exists` is this create's topic when the topic is as asked (its
	 * partitions, every config given, no other config set), else `topic_exists` saying how it differs. Its retries are
	 * bounded (`CREATE_TOPIC_RETRIES`): the Kafka client waits for the answer. A failure is answered as the Worker's
	 * error; none at all, or a 2xx one that cannot be read whose topic the SDK could not read back as asked (an outcome
	 * unknown), rejects, as `call` does, unless `timeoutMs` is given (CreateTopics' `timeout_ms`): then the create is
	 * bounded by it, as a broker's, and answers null once it has passed or the outcome is unknown (no try sent after it,
	 * one under way cut off: its outcome unknown).
	 * @param {{ name: string, partitions?: number, config?: Record<string, string> }} body @param {number} [timeoutMs]
	 * @returns {Promise<Answer | null>}
	 */
	async createTopic(body, timeoutMs) {
		const bounded = timeoutMs !== undefined && timeoutMs > 0;
		// Aborted at the deadline: the SDK's retries end with it, their backoff timers cleared (no try after it), and a try
		// under way is cut off, as it would run on up to HTTP_TIMEOUT_MS for an answer no one reads.
		const deadline = new AbortController();
		/** @type {ReturnType<typeof setTimeout> | undefined} */
		let timer;
		/** @type {Promise<null>} */
		const late = new Promise((resolve) => {
			if (!bounded) return;
			timer = setTimeout(() => {
				deadline.abort(new Error("past the request's timeout_ms"));
				resolve(null);
			}, timeoutMs);
		});
		try {
			return await Promise.race([this.#create(body, deadline.signal, timeoutMs !== undefined), late]);
		} finally {
			clearTimeout(timer);
		}
	}

	/**
	 * @param {{ name: string, partitions?: number, config?: Record<string, string> }} body
	 * @param {AbortSignal} deadline aborted once CreateTopics' timeout_ms has passed
	 * @param {boolean} perTopic whether an outcome unknown is answered null (CreateTopics') rather than rejected
	 * @returns {Promise<Answer | null>}
	 */
	async #create(body, deadline, perTopic) {
		try {
			return { status: 201, body: await this.#client().topics.create(body, { signal: deadline }) };
		} catch (error) {
			if (!(error instanceof TributaryError)) throw error;
			// No answer, or a 2xx one that could not be read whose topic could not be read back either (the SDK's
			// `topics.create`): the outcome is unknown, not a create.
			const unread = error.status >= 200 && error.status < 300;
			if (error.status === 0 || unread) {
				if (!perTopic) throw error;
				this.log(`POST /v1/topics: ${unread ? `${error.status}, unreadable` : "no answer"}: ${error.message}`);
				return null;
			}
			if (error.status >= 500) this.log(`POST /v1/topics: ${error.status} ${error.code}: ${error.message}`);
			const { code, message, retriable, details } = error;
			return { status: error.status, body: { error: { ...details, code, message, retriable } } };
		}
	}

	/**
	 * The SDK's client of the Worker, with these credentials (none for anonymous): for the calls whose rules are the SDK's
	 * (`createTopic`), over `fetch`; the hot path keeps the pool (module comment).
	 */
	#client() {
		const { authorization } = this.credentials;
		return new Client({
			url: this.baseUrl,
			// The SDK sends a bearer token; the connection's own credentials (Basic from SASL, or none) replace it.
			token: "replaced",
			retries: CREATE_TOPIC_RETRIES,
			requestTimeoutMs: HTTP_TIMEOUT_MS,
			fetch: (request) => {
				const headers = new Headers(request.headers);
				if (authorization === null) headers.delete("authorization");
				else headers.set("authorization", authorization);
				headers.set("accept-encoding", RESPONSE_ENCODING);
				return fetch(new Request(request, { headers }));
			},
		});
	}
	/** @param {string} topic @param {number} [deadlineAt] DeleteTopics' timeout, as `throttled`'s */
	deleteTopic(topic, deadlineAt = Number.POSITIVE_INFINITY) {
		return this.call("DELETE", `/v1/topics/${encodeURIComponent(topic)}`, undefined, { deadlineAt });
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
