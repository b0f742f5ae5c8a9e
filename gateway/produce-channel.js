// @ts-check
/**
 * @module
 * The gateway's produce over Tributary's streaming produce channel (`GET /v1/topics/{topic}/records/stream`, a
 * WebSocket): a kept-open socket per partition and credentials, each produce body one text message, each report its
 * answer, in order. An HTTP produce costs both sides a whole exchange (here undici's dispatch; in the Worker its
 * routing, auth, body read and a produce of its own); on the channel it is one frame each way, and the Worker
 * coalesces what arrives together.
 *
 * Opened with `?checks=message`, so each message is held to what a `POST …/records` of it is: the key read afresh
 * (a deleted key's next produce is refused), `requests_per_sec` charged per message, a message over a quota
 * answered 429 with nothing written. A report is what that request would have answered (an error one carries its
 * status), so every Kafka error code is the one HTTP gave.
 *
 * A channel that drops, or has a message unanswered for `timeoutMs`, answers each message without a report a
 * retriable 503: one sent may have been written (`service_unavailable`, as the Worker says of a Durable Object call
 * that threw), one not yet sent was not (`unavailable`). An idempotent producer's retry is then recognised by its
 * sequence; a non-idempotent one may write its batch twice, as after an HTTP produce whose answer was lost. A
 * channel refused at its opening (an unknown topic, a refused key, a 429) answers its messages with that refusal.
 * The next produce opens a new channel.
 */

import WebSocket from "ws";
import { CHANNEL_IDLE_MS_MAX, CHANNEL_IN_FLIGHT_BYTES_MAX, CHANNEL_IN_FLIGHT_MESSAGES_MAX } from "./limits.js";

/**
 * Masking key generator: all zeros, which ws takes as "no masking", sparing a copy and XOR of every body (about 110 KB
 * for 100 × 1 KiB). Masking (RFC 6455 §10.3) keeps a script in a browser from choosing the bytes a proxy on the way
 * sees; the gateway is no browser and sends what Kafka clients sent it over TCP anyway.
 */
const ZERO_MASK = () => {};

/**
 * @typedef {{ status: number, body: any }} Answer
 * @typedef {{ body: Buffer, resolve: (answer: Answer) => void }} Waiter
 * @typedef {{ url: string, headers: Record<string, string>, timeoutMs: number, idleMs?: number, onEnd?: () => void,
 *   answer: (status: number, chunks: Buffer[]) => Answer }} ChannelOptions `url`: ws:// or wss:// of the stream;
 *   `answer`: an answer as the HTTP path reads it (a 200's through the produce parser; a 5xx logged); `idleMs`: how long
 *   it stays open with nothing in flight (CHANNEL_IDLE_MS_MAX); `onEnd`: called once when it takes no more messages
 */

/** One produce channel: `send` each body; the answers come in the order sent. */
export class ProduceChannel {
	/** @param {ChannelOptions} options */
	constructor(options) {
		this.options = options;
		/** Sent, report not yet in. @type {Waiter[]} */
		this.sent = [];
		/** Not yet sent: the socket is opening, or the in-flight bounds are reached. @type {Waiter[]} */
		this.waiting = [];
		this.sentBytes = 0;
		this.ended = false;
		this.socket = new WebSocket(options.url, { headers: options.headers, perMessageDeflate: false, generateMask: ZERO_MASK });
		this.socket.on("open", () => this.pump());
		this.socket.on("message", (data) => this.report(/** @type {Buffer} */ (data)));
		this.socket.on("unexpected-response", (_request, response) => this.refused(response));
		this.socket.on("error", (error) => this.end(`produce channel: ${error.message}`));
		this.socket.on("close", (code, reason) => this.end(`produce channel closed: ${code} ${reason.toString()}`));
		// A report overdue ends the channel, as an HTTP call's deadline ends its exchange; refreshed by each report.
		// With nothing in flight no report is due: the timer lapses, and `pump` arms it again with the next message sent.
		this.deadline = setTimeout(
			() => this.sent.length > 0 && this.end(`produce channel: no report within ${options.timeoutMs} ms`),
			options.timeoutMs,
		);
		this.deadline.unref();
		// Nothing in flight for this long: closed, so a topic or key no longer used holds no socket.
		this.idle = setTimeout(() => this.closeIfIdle(), options.idleMs ?? CHANNEL_IDLE_MS_MAX);
		this.idle.unref();
	}

	/** Whether a new message may go on this channel. */
	get usable() {
		return !this.ended && this.socket.readyState <= WebSocket.OPEN;
	}

	/** @param {Buffer} body a produce request's JSON as UTF-8 @returns {Promise<Answer>} */
	send(body) {
		return new Promise((resolve) => {
			this.waiting.push({ body, resolve });
			this.pump();
		});
	}

	/** Sends what waits, within the Worker's in-flight bounds. */
	pump() {
		if (this.socket.readyState !== WebSocket.OPEN) return;
		while (this.waiting.length > 0 && this.sent.length < CHANNEL_IN_FLIGHT_MESSAGES_MAX) {
			const next = /** @type {Waiter} */ (this.waiting[0]);
			if (this.sent.length > 0 && this.sentBytes + next.body.length > CHANNEL_IN_FLIGHT_BYTES_MAX) return;
			this.waiting.shift();
			if (this.sent.length === 0) this.deadline.refresh();
			this.sent.push(next);
			this.sentBytes += next.body.length;
			this.socket.send(next.body, { binary: false });
		}
	}

	/** The next report, for the oldest message sent. @param {Buffer} data */
	report(data) {
		const waiter = this.sent.shift();
		if (waiter === undefined) return this.end("produce channel: a report for no message");
		this.sentBytes -= waiter.body.length;
		this.deadline.refresh();
		this.idle.refresh();
		waiter.resolve(reportAnswer(data, this.options.answer));
		this.pump();
	}

	closeIfIdle() {
		if (this.ended) return;
		if (this.sent.length > 0 || this.waiting.length > 0) return this.idle.refresh();
		this.ended = true;
		this.options.onEnd?.();
		clearTimeout(this.deadline);
		this.socket.close(1000, "idle");
	}

	/** The Worker refused the upgrade: its answer is every waiting message's. @param {import("node:http").IncomingMessage} response */
	refused(response) {
		/** @type {Buffer[]} */
		const chunks = [];
		response.on("data", (chunk) => chunks.push(chunk));
		response.on("end", () => this.end("", this.options.answer(response.statusCode ?? 0, chunks)));
		response.on("error", (error) => this.end(`produce channel: ${error.message}`));
	}

	/**
	 * Ends the channel: every message without a report gets `answer`, or else a retriable 503 saying `why`.
	 * @param {string} why @param {Answer} [answer]
	 */
	end(why, answer) {
		if (this.ended) return;
		this.ended = true;
		this.options.onEnd?.();
		clearTimeout(this.deadline);
		clearTimeout(this.idle);
		const lost = (/** @type {string} */ code, /** @type {string} */ what) =>
			answer ?? this.options.answer(503, [Buffer.from(JSON.stringify({ error: { code, message: `${why}: ${what}` } }))]);
		for (const waiter of this.sent.splice(0))
			waiter.resolve(lost("service_unavailable", "its report did not come; it may have been written"));
		for (const waiter of this.waiting.splice(0)) waiter.resolve(lost("unavailable", "not sent"));
		this.socket.terminate();
	}
}

/** The JSON a report starts with when it is a 200 answer's (`{"offsets":[…]}`), as bytes. */
const OFFSETS_REPORT = Buffer.from('{"offsets"');

/**
 * A report as the answer to its message: `{"offsets":[…]}` is a 200's body; any other is an error body that
 * carries its status (`{"error":{…},"status":…}`).
 * @param {Buffer} data @param {ChannelOptions["answer"]} answer
 */
export function reportAnswer(data, answer) {
	if (data.subarray(0, OFFSETS_REPORT.length).equals(OFFSETS_REPORT)) return answer(200, [data]);
	let status = 0;
	try {
		status = JSON.parse(data.toString("utf8")).status;
	} catch {}
	// A report without a status is not the Worker's: read as a 5xx with that text, which clients retry.
	return answer(Number.isInteger(status) && status >= 400 ? status : 502, [data]);
}
