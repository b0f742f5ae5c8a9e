/**
 * @module
 * The streaming produce channel, `…/v1/topics/{topic}/records/stream`: many messages in flight on one
 * connection, one report per message, in order (see produce-channel.ts for messages, reports and coalescing).
 *
 * - `GET` with `Upgrade: websocket`: each text message is one message, each report one text message back; with
 *   `?reports=array`, each text message back is a JSON array of the reports of consecutive messages, in order
 *   (every report once, none split): one frame per coalesced append instead of one per message, for clients
 *   that send many small messages (a frame costs the edge and the client far more than its bytes). The
 *   edge Worker holds the socket (coalescing happens here, before the partition). A client with more than
 *   `STREAM_IN_FLIGHT_MESSAGES_MAX` messages unanswered is answered up to that point and closed with 4429, as a
 *   Kafka broker stops a client past its bounds rather than buffering without end.
 * - `POST` with an `application/x-ndjson` body: one message per line, one report line per non-blank line (as
 *   Confluent's streaming produce), written as they are known; the body is not read further while the bounds
 *   are reached, so TCP holds a fast sender back.
 *
 * Both carry `Tributary-Max-In-Flight` on the response. A key with a produce-bytes quota is charged per append,
 * from the messages' sizes, and held back (not refused) when over it, as Kafka throttles a producer. Opened with
 * `?checks=message`, each message is instead held to what a `POST …/records` of it would be (`admitEach`): for a
 * caller that answers for each message as for a request (the Kafka gateway).
 *
 * @example
 * printf '%s\n' '{"value":"a"}' '{"key":"k","value":{"n":1}}' | curl -sN -H "Authorization: Bearer $TOKEN" \
 *   -H "Content-Type: application/x-ndjson" -T - "$URL/v1/topics/orders/records/stream"
 */

import type { Context } from "hono";
import * as z from "zod/mini";
import { livePayer } from "../../auth/live-quota.ts";
import type { KeyInfo, QuotaCharge, QuotaRefusal } from "../../auth/types.ts";
import { utf8Encoder } from "../../shared/bytes.ts";
import { ApiError, bare, type DomainError, missingMethod, unwrap } from "../../shared/errors.ts";
import { STREAM_IN_FLIGHT_MESSAGES_MAX, STREAM_MESSAGE_CHARS_MAX } from "../../shared/limits.ts";
import { keyAuthority } from "../../shared/stubs.ts";
import { describeTopic } from "../../topic/topic-cache.ts";
import { accessRefusal } from "../access.ts";
import type { AppEnv } from "../app-env.ts";
import { bodyReadFailure, bodyStream, mediaType, queryOf, requireText, validate } from "../body.ts";
import { Hono } from "../hono.ts";
import { currentKey, keyStillExists, type Principal } from "../middleware/authenticate.ts";
import { failedAfterStart } from "../middleware/observe.ts";
import { quotaError } from "../middleware/quotas.ts";
import { type ChannelOptions, messageTooLong, ProduceChannel, STREAM_CLOSE } from "../produce-channel.ts";
import { TopicPath } from "../schemas.ts";
import { wantsWebSocket } from "./streaming.ts";

type C = Context<AppEnv>;

const MAX_IN_FLIGHT_HEADER = "Tributary-Max-In-Flight";

/**
 * `GET …/records/stream`'s query: `reports=message` (the default) sends each report as its own text message;
 * `reports=array` sends the reports due together as one JSON array, in order. `checks=message` (here and on the NDJSON
 * stream) holds each message to what a `POST …/records` of it is held to (`admitEach`).
 */
export const ProduceStreamQuery = z.object({ reports: z.optional(z.enum(["message", "array"])), checks: z.optional(z.enum(["message"])) });

/** `POST …/records/stream`'s query: an NDJSON stream answers one report line per message, its only framing. */
export const NdjsonStreamQuery = z.object({ reports: z.optional(z.enum(["message"])), checks: z.optional(z.enum(["message"])) });

/** Characters of one `reports=array` frame before the rest of the reports due go in the next one. */
export const STREAM_REPORT_FRAME_CHARS_MAX = 256 * 1024;

/**
 * The frames carrying `reports` (in order) as JSON arrays: as few as fit in `STREAM_REPORT_FRAME_CHARS_MAX`
 * characters, a report never split (one longer than that goes alone).
 */
export function reportFrames(reports: readonly string[]): string[] {
	const frames: string[] = [];
	let frame = "";
	for (const report of reports) {
		if (frame !== "" && frame.length + report.length + 2 > STREAM_REPORT_FRAME_CHARS_MAX) {
			frames.push(`${frame}]`);
			frame = "";
		}
		frame = frame === "" ? `[${report}` : `${frame},${report}`;
	}
	if (frame !== "") frames.push(`${frame}]`);
	return frames;
}

/**
 * Auth and quota hooks for the caller: key revocation, and the produce-bytes quota charged per append, the one the key
 * has now (set or removed after the stream opened too: src/auth/live-quota.ts). Paid without a `wanted()`, unlike a
 * live read's messages: a message accepted is written even if its producer leaves during the debt wait (`finish`), and
 * its bytes are paid because they are written; a producer gone would otherwise write past its quota for free.
 */
function callerHooks(c: C, topic: string, checks?: "message"): Pick<ChannelOptions, "charge" | "stillAuthorized" | "admit"> {
	const principal = c.var.principal;
	if (principal.kind === "admin") return {};
	const { env } = c;
	const { id, quotas } = principal.key;
	if (checks) return { admit: (sizes) => admitEach(env, principal, topic, sizes) };
	return {
		stillAuthorized: () => keyStillExists(env, id),
		charge: livePayer(env, id, "produce_bytes_per_sec", quotas.produce_bytes_per_sec !== undefined),
	};
}

/**
 * `?checks=message`: what `authenticate`, `authorize` and `quotas` would answer a `POST …/records` of each message now
 * (null: let through). The key is read afresh for each run, as a request reads it; each message pays a request and its
 * bytes, the run's in one call to the key's authority.
 */
async function admitEach(
	env: Env,
	principal: Exclude<Principal, { kind: "admin" }>,
	topic: string,
	sizes: ReadonlyArray<() => number>,
): Promise<ReadonlyArray<DomainError | null>> {
	const { id } = principal.key;
	const key = await currentKey(env, id);
	const refused =
		key === null
			? new ApiError("unauthorized", "invalid credentials")
			: accessRefusal({ kind: principal.kind, key }, { kind: "topic", name: topic }, "produce");
	if (refused !== null) return sizes.map(() => refused.error);
	const { requests_per_sec: rps, produce_bytes_per_sec: bps } = (key as KeyInfo).quotas;
	if (rps === undefined && bps === undefined) return sizes.map(() => null);
	// One call for the run, charged in the messages' order as requests sent one after another are: calls made at once
	// could reach the authority in another order, and a later message take the bucket an earlier one was refused.
	const each = sizes.map((size): QuotaCharge[] => [
		{ quota: "requests_per_sec", amount: 1 },
		{ quota: "produce_bytes_per_sec", amount: bps === undefined ? 0 : size() },
	]);
	const authority = keyAuthority(env, id);
	const refusals = await authority.chargeEach(id, each).then(
		(answer) => bare(answer),
		async (cause: unknown) => {
			// An authority of the previous version (a deploy under way) has no chargeEach: its messages one call each, in
			// order. Can go one release after chargeEach's.
			if (!missingMethod(cause)) throw cause;
			const one: (QuotaRefusal | null)[] = [];
			for (const charges of each) one.push(bare(await authority.chargeQuotas(id, charges)));
			return one;
		},
	);
	return refusals.map((refusal) => refusal && quotaError(refusal).error);
}

function keepAlive(c: C, work: Promise<unknown>): void {
	try {
		c.executionCtx.waitUntil(work);
	} catch {
		// No execution context (app.fetch called directly): the open stream keeps the work alive.
	}
}

/** `GET …/records/stream` with `Upgrade: websocket`. */
function openWebSocket(c: C, topic: string, framing: "message" | "array", checks?: "message"): Response {
	const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
	server.accept();
	let ending = false;
	const send = (reports: readonly string[]): void => {
		try {
			for (const frame of framing === "array" ? reportFrames(reports) : reports) server.send(frame);
		} catch {
			// The client went away; nothing more can be told to it.
		}
	};
	const channel = new ProduceChannel(c.env, topic, {
		write: send,
		failed: (cause) => failedAfterStart(c, cause),
		requestId: c.get("requestId"),
		// The server's failure (1011): the reports say which messages it answered, and how.
		ended: (error) => end(1011, `the stream failed: ${error.code}`),
		...callerHooks(c, topic, checks),
	});
	/** Answers everything accepted, then closes with `code`. */
	const end = (code: number, reason: string): void => {
		if (ending) return;
		ending = true;
		keepAlive(
			c,
			channel.finish().then(() => {
				try {
					server.close(code, reason);
				} catch {
					// Already closed.
				}
			}),
		);
	};
	server.addEventListener("message", (event) => {
		if (ending) return;
		if (typeof event.data !== "string") return end(STREAM_CLOSE.unsupportedData, "messages are JSON text");
		if (channel.full) {
			return end(STREAM_CLOSE.tooManyInFlight, `more than ${STREAM_IN_FLIGHT_MESSAGES_MAX} messages in flight`);
		}
		channel.accept(event.data);
		if (channel.revoked) end(STREAM_CLOSE.unauthorized, "the API key was deleted");
	});
	server.addEventListener("close", (event) => end(event.code === 1005 ? 1000 : event.code, "closed"));
	server.addEventListener("error", () => end(1011, "error"));
	return new Response(null, { status: 101, webSocket: client, headers: { [MAX_IN_FLIGHT_HEADER]: String(STREAM_IN_FLIGHT_MESSAGES_MAX) } });
}

/**
 * Feeds the body's lines, read by `reader`, to the channel: each non-blank line is a message; a line longer than the
 * message limit is answered as too large without being kept. Waits for room before reading on. A body that stops
 * decoding fails with the `ApiError` that says so (`bodyReadFailure`).
 */
async function feedLines(
	request: Request,
	body: ReadableStream<Uint8Array>,
	reader: ReadableStreamDefaultReader<Uint8Array>,
	channel: ProduceChannel,
): Promise<void> {
	const decoder = new TextDecoder();
	let pending = "";
	/** Characters of an over-long line being skipped to its end; -1 when none. */
	let skipped = -1;
	const take = (line: string): void => {
		if (line.trim().length > 0) channel.accept(line);
	};
	try {
		for (;;) {
			if (channel.full) await channel.room();
			if (channel.revoked) return;
			const { done, value } = await reader.read().catch((cause: Error) => {
				throw bodyReadFailure(request, body, cause);
			});
			const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
			let from = 0;
			for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", from)) {
				if (skipped >= 0) channel.refuse(messageTooLong(skipped + newline - from));
				else take(pending + text.slice(from, newline));
				pending = "";
				skipped = -1;
				from = newline + 1;
			}
			if (skipped >= 0) skipped += text.length - from;
			else {
				pending += text.slice(from);
				if (pending.length > STREAM_MESSAGE_CHARS_MAX) {
					skipped = pending.length;
					pending = "";
				}
			}
			if (done) {
				if (skipped >= 0) channel.refuse(messageTooLong(skipped));
				else take(pending);
				return;
			}
		}
	} finally {
		reader.releaseLock();
	}
}

/** `POST …/records/stream` with an NDJSON body. */
function openNdjson(c: C, topic: string, checks?: "message"): Response {
	const type = mediaType(c.req.raw);
	if (type !== "application/x-ndjson") {
		throw new ApiError("unsupported_media_type", `a produce stream's body is application/x-ndjson, one message per line; got ${type}`);
	}
	requireText(c.req.raw);
	const body = bodyStream(c.req.raw);
	if (body === null) throw new ApiError("invalid_request", "the body holds no messages");
	// The runtime's native byte pipe: a JavaScript TransformStream costs tens of µs per chunk written.
	const { readable, writable } = new IdentityTransformStream();
	const writer = writable.getWriter();
	const reader = body.getReader();
	const channel = new ProduceChannel(c.env, topic, {
		write: (reports) => writer.write(utf8Encoder.encode(`${reports.join("\n")}\n`)),
		failed: (cause) => failedAfterStart(c, cause),
		requestId: c.get("requestId"),
		// Nothing more of the body is read: the answer ends after the failure's reports.
		ended: () => void reader.cancel().catch(() => undefined),
		...callerHooks(c, topic, checks),
	});
	const done = feedLines(c.req.raw, body, reader, channel)
		// A body that broke or could not be read is the sender's to hear of, after the reports of the lines before it; one
		// whose read failed as its client left (the request's signal aborted) is no failure of ours, and none to tell.
		.catch((cause: unknown) => c.req.raw.signal.aborted || channel.refuse(failedAfterStart(c, cause)))
		.then(() => channel.finish())
		.then(() => writer.close())
		// The client went away: nothing more can be told to it.
		.catch(() => undefined);
	keepAlive(c, done);
	return c.body(readable, 200, {
		"Content-Type": "application/x-ndjson",
		[MAX_IN_FLIGHT_HEADER]: String(STREAM_IN_FLIGHT_MESSAGES_MAX),
	});
}

/** The topic must exist before a stream opens: a 404 is a plain JSON error, not a stream of them. */
async function streamTopic(c: C): Promise<string> {
	const { topic } = validate(TopicPath, c.req.param());
	unwrap(await describeTopic(c.env, topic));
	return topic;
}

export const produceStreamRoutes = new Hono<AppEnv>()
	.get("/:topic/records/stream", async (c) => {
		if (!wantsWebSocket(c.req.raw)) {
			throw new ApiError("invalid_request", "GET opens a WebSocket produce stream: send Upgrade: websocket (or POST NDJSON)", {
				max_in_flight: STREAM_IN_FLIGHT_MESSAGES_MAX,
			});
		}
		const { reports, checks } = validate(ProduceStreamQuery, queryOf(c.req.url), "query");
		return openWebSocket(c, await streamTopic(c), reports ?? "message", checks);
	})
	.post("/:topic/records/stream", async (c) => {
		const { checks } = validate(NdjsonStreamQuery, queryOf(c.req.url), "query");
		return openNdjson(c, await streamTopic(c), checks);
	});
