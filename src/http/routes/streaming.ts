/**
 * @module
 * Streaming reads of one partition, on the fetch resource `GET /v1/topics/{topic}/partitions/{p}/records`:
 * with `Accept: text/event-stream` it answers Server-Sent Events (`id:` the offset, `data:` the record as a fetch
 * returns it), live as records are appended; with `Upgrade: websocket` it hands the request to the partition,
 * which holds the socket with the hibernation API.
 *
 * SSE is a loop of long-poll `read`s: the partition wakes a waiting read on every append, so a record reaches
 * the reader as soon as it is durable; a read that times out sends a keep-alive comment instead. A key with a
 * fetch-bytes quota (one set after the stream opened too, within `TAIL_PAYER_CHECK_MS`) is charged each batch's events
 * before they are written, and waits out its debt (the stream slows, it does not end). A WebSocket tail is held to the same quota by the partition, which pays each message
 * before sending it (src/partition/tail.ts).
 *
 * @example
 * curl -N -H "Authorization: Bearer $TOKEN" -H "Accept: text/event-stream" \
 *   "$URL/v1/topics/orders/partitions/0/records?offset=0"
 */

import type { Context } from "hono";
import type { ReadRequest, ReadResult } from "../../partition/types.ts";
import { utf8Encoder } from "../../shared/bytes.ts";
import { ApiError, type DomainError, type ErrorDetails, type Result, unwrap } from "../../shared/errors.ts";
import { utf8ByteLength } from "../../shared/json.ts";
import { SSE_KEEPALIVE_MS_DEFAULT, STREAM_READ_BYTES_MAX, STREAM_READ_RECORDS_MAX } from "../../shared/limits.ts";
import { readRecords, stopWaiting } from "../../shared/log-reader.ts";
import { lineOffset, RECORD_SEPARATOR } from "../../shared/record-codec.ts";
import { partitionLog } from "../../shared/stubs.ts";
import { checkPartition, describeTopic } from "../../topic/topic-cache.ts";
import type { AppEnv } from "../app-env.ts";
import { queryOf, validate } from "../body.ts";
import { errorBody } from "../errors.ts";
import { keyStillExists } from "../middleware/authenticate.ts";
import { failedAfterStart } from "../middleware/observe.ts";
import { liveFetchCharger } from "../middleware/quotas.ts";
import { LastEventId, PartitionPath, StreamQuery } from "../schemas.ts";

/** Whether the client asked for Server-Sent Events. */
export function wantsEventStream(request: Request): boolean {
	return (request.headers.get("Accept") ?? "").toLowerCase().includes("text/event-stream");
}

/** Whether the request is a WebSocket upgrade. */
export function wantsWebSocket(request: Request): boolean {
	return (request.headers.get("Upgrade") ?? "").toLowerCase() === "websocket";
}

interface StreamStart {
	readonly topicId: string;
	readonly partition: number;
	/** First offset to send; null for the log start. */
	readonly offset: number | null;
	readonly keepaliveMs: number;
}

/** Where a stream starts: after `Last-Event-ID` when reconnecting (it wins over `offset`), else `offset`. */
async function streamStart(c: Context<AppEnv>): Promise<StreamStart> {
	const { topic, partition } = validate(PartitionPath, c.req.param());
	const query = validate(StreamQuery, queryOf(c.req.url), "query");
	const lastEventId = c.req.header("Last-Event-ID");
	const resume = lastEventId === undefined || lastEventId === "" ? null : validate(LastEventId, lastEventId, "Last-Event-ID") + 1;
	const meta = unwrap(await describeTopic(c.env, topic));
	unwrap(checkPartition(meta, partition));
	return {
		topicId: meta.topicId,
		partition,
		offset: resume ?? query.offset ?? null,
		keepaliveMs: query.keepalive_ms ?? SSE_KEEPALIVE_MS_DEFAULT,
	};
}

/** One SSE event per record; stored records are single-line JSON, so each is exactly one `data:` line. */
export function sseEvents(records: string): string {
	if (records.length === 0) return "";
	let out = "";
	for (const line of records.split(RECORD_SEPARATOR)) out += `id: ${lineOffset(line)}\ndata: ${line}\n\n`;
	return out;
}

/** `GET …/records` with `Accept: text/event-stream`. */
export async function streamRecords(c: Context<AppEnv>): Promise<Response> {
	const start = await streamStart(c);
	// Names this stream's reads' waits at the tail, so the partition can be told to end one its client left.
	const waitId = crypto.randomUUID();
	const read = (offset: number | null, waitMs: number): Promise<Result<ReadResult>> => {
		const request: ReadRequest = {
			topicId: start.topicId,
			offset,
			maxRecords: STREAM_READ_RECORDS_MAX,
			maxBytes: STREAM_READ_BYTES_MAX,
			waitMs,
			waitId,
		};
		return readRecords(c.env, start.topicId, start.partition, request);
	};
	// The first read happens before answering, so a bad offset or a deleted topic is a JSON error, not a stream.
	const first = unwrap(await read(start.offset, 0));
	const principal = c.var.principal;
	// A stream outlives the request that authenticated it: before each write, the key must still exist.
	const stillValid = principal.kind === "admin" ? async () => true : () => keyStillExists(c.env, principal.key.id);
	// quotas() only checked the key was not in debt: the events are charged as they are written.
	const charge = liveFetchCharger(c);
	// Events waited to be paid for when the client went are neither sent nor charged.
	const send = async (sink: EventSink, events: string): Promise<void> => {
		if (charge !== null)
			await charge(
				() => utf8ByteLength(events),
				() => !sink.gone,
			);
		await sink.write(events);
	};
	const follow = async (sink: EventSink): Promise<void> => {
		await sink.write(": connected\n\n");
		await pump(
			sink,
			first,
			async (offset) => {
				const result = await read(offset, start.keepaliveMs);
				if (!(await stillValid())) return { ok: false, error: { code: "unauthorized", message: "the API key was revoked" } };
				return result;
			},
			send,
		);
		// The client gone, the read it left waiting at the tail ends in the partition too, not at the keep-alive.
		if (sink.gone) await stopWaiting(partitionLog(c.env, start.topicId, start.partition), waitId);
	};
	return eventStream(c, follow);
}

/** Where a stream's events go: the response's body. */
interface EventSink {
	/** Writes events; once the client has gone, a write is dropped. */
	write(events: string): Promise<void>;
	/** Whether the client has gone: its cancelling the body errors the body's writer (WHATWG Streams). */
	readonly gone: boolean;
	/** Settles when the client goes (or the stream ends). */
	readonly left: Promise<undefined>;
}

/**
 * Answers Server-Sent Events that `write` writes, as the Durable Streams mount streams its own (sse.ts): a
 * TransformStream's readable is the body and its writer the sink. The headers are Hono's `streamSSE`'s. The loop is
 * handed to the runtime (`waitUntil`), which could otherwise cancel it once the client is gone, before its last step;
 * the body is closed once it ends, after an `error` event for what it threw.
 */
function eventStream(c: Context<AppEnv>, write: (sink: EventSink) => Promise<void>): Response {
	const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
	const writer = writable.getWriter();
	const sink: EventSink = {
		write: (events) => writer.write(utf8Encoder.encode(events)).catch(() => {}),
		get gone() {
			return writer.desiredSize === null;
		},
		left: writer.closed.then(
			() => undefined,
			() => undefined,
		),
	};
	// A failure past the response's start (a read that threw or was refused), told as the stream's last event.
	const run = write(sink)
		.catch((error: unknown) => sink.write(`event: error\ndata: ${JSON.stringify(errorBody(failedAfterStart(c, error)))}\n\n`))
		.finally(() => writer.close().catch(() => {}));
	c.executionCtx.waitUntil(run);
	c.header("Transfer-Encoding", "chunked");
	c.header("Content-Type", "text/event-stream");
	c.header("Cache-Control", "no-cache");
	c.header("Connection", "keep-alive");
	return c.body(readable);
}

/** Writes batches until the client goes away or a read fails (thrown: `eventStream` tells it as an `error` event). */
async function pump(
	sink: EventSink,
	first: ReadResult,
	next: (offset: number) => Promise<Result<ReadResult>>,
	send: (sink: EventSink, events: string) => Promise<void>,
): Promise<void> {
	let batch = first;
	let waited = false;
	while (!sink.gone) {
		if (batch.recordCount > 0) await send(sink, sseEvents(batch.records));
		else if (waited) await sink.write(": keep-alive\n\n");
		// A read waits at the tail up to the keep-alive: a client gone meanwhile ends the stream at once, not then.
		const result = await Promise.race([next(batch.nextOffset), sink.left]);
		if (result === undefined) return;
		batch = unwrap(result);
		waited = true;
	}
}

/**
 * `GET …/records` with `Upgrade: websocket`: validated here, then handed to the partition, which accepts the
 * socket with the hibernation API and pushes every append (see src/partition/tail.ts for the ack protocol).
 */
export async function tailRecords(c: Context<AppEnv>): Promise<Response> {
	const start = await streamStart(c);
	const url = new URL("https://partition.internal/tail");
	url.searchParams.set("topic_id", start.topicId);
	if (start.offset !== null) url.searchParams.set("offset", String(start.offset));
	// A key's tail is tagged with it, so deleting the key closes the tail (see src/auth/key-store.ts).
	const principal = c.var.principal;
	if (principal.kind === "key") {
		url.searchParams.set("key_id", principal.key.id);
		url.searchParams.set("partition", String(start.partition));
	}
	// A key's (or anonymous's) tail pays each message while the key has a fetch quota, as its authority answers
	// now and then (a quota set or removed later counts); the admin token's tail stays free (and synchronous).
	if (principal.kind !== "admin") url.searchParams.set("fetch_payer", principal.key.id);
	const response = await partitionLog(c.env, start.topicId, start.partition).fetch(url.toString(), { headers: { Upgrade: "websocket" } });
	if (response.status === 101) return response;
	const body = (await response.json()) as { error: DomainError & Record<string, unknown> };
	const { code, message, ...details } = body.error;
	throw new ApiError(code, message, details as ErrorDetails);
}
