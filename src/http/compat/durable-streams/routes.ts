/**
 * @module
 * The Durable Streams protocol, mounted at `/ds` (so a client's base URL is `https://<host>/ds` and its streams
 * `/ds/v1/stream/{path}`), as `@durable-streams/server-conformance-tests` specifies it: create (`PUT`), append
 * (`POST`), catch-up, long-poll and SSE reads (`GET`), metadata (`HEAD`) and `DELETE`, with `Stream-Seq` writer
 * ordering, idempotent producers, closing, TTL and expiry, forks, ETags and cursors. Each stream is a
 * one-partition topic (stream-names.ts), so `/v1` groups, webhooks, retention and keys work on streams too.
 *
 * Auth is Tributary's: a key, the admin token, or — without credentials — the `anonymous` principal, so a public
 * stream is one an admin granted to anonymous. Rights are the topic's: create and delete need `admin`, append
 * `produce`, reads `consume` (a fork also `consume` on its source).
 *
 * @example
 * curl -X PUT -H "Content-Type: application/json" "$URL/ds/v1/stream/chat" -H "Authorization: Bearer $TOKEN"
 * curl -X POST -H "Content-Type: application/json" -d '{"text":"hi"}' "$URL/ds/v1/stream/chat" -H "Authorization: Bearer $TOKEN"
 * curl "$URL/ds/v1/stream/chat?offset=-1" -H "Authorization: Bearer $TOKEN"
 */

import type { Context } from "hono";
import { topicResource } from "../../../auth/acl.ts";
import type { StreamRead, StreamResult, StreamView } from "../../../partition/stream-types.ts";
import type { Utf8Parts } from "../../../partition/types.ts";
import { assert } from "../../../shared/assert.ts";
import { ApiError } from "../../../shared/errors.ts";
import {
	DS_DRAIN_BYTES_MAX,
	DS_LONG_POLL_MS_DEFAULT,
	DS_READ_BYTES_MAX,
	FETCH_WAIT_MS_MAX,
	REQUEST_BYTES_MAX,
} from "../../../shared/limits.ts";
import { readEndingWhen, stopWaiting } from "../../../shared/log-reader.ts";
import type { EncodedRecord } from "../../../shared/record-codec.ts";
import { checkStreamPath, streamTopic } from "../../../shared/stream-names.ts";
import { isJsonContentType, normalizeContentType, type StreamSettings } from "../../../shared/stream-rules.ts";
import { ensureTopic, type Log, onStream } from "../../../topic/stream-topics.ts";
import { requireAccess } from "../../access.ts";
import type { AppEnv } from "../../app-env.ts";
import { queryOf, readBytes, requireUtf8 } from "../../body.ts";
import { clientGone } from "../../client-gone.ts";
import { Hono } from "../../hono.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { authorize } from "../../middleware/authorize.ts";
import { answerCors, corsOrigins, corsPolicy } from "../../middleware/cors.ts";
import { quotas, reportFetchedBytes } from "../../middleware/quotas.ts";
import { bodyRecord, readBodyUtf8 } from "./codec.ts";
import { badRequest, durableStreamsDialect, failureResponse } from "./errors.ts";
import { copyForFork, endStream, holdSource } from "./forks.ts";
import {
	DEFAULT_CONTENT_TYPE,
	formatOffset,
	HEADER,
	nextCursor,
	parseOffset,
	parseProducer,
	parseTtl,
	readEtag,
	readOffset,
} from "./protocol.ts";
import { type SseSource, streamEvents } from "./sse.ts";

type C = Context<AppEnv>;

/** The route every stream request matches (its `{path}` may hold slashes). */
export const STREAM_ROUTE = "/v1/stream/:path{.+}";
const STREAM_PREFIX = "/ds/v1/stream/";

/**
 * An append's or create's body. One over `REQUEST_BYTES_MAX` is refused (413), but read to its end first, up to
 * `DS_DRAIN_BYTES_MAX`, whether its length was declared or it streamed past the limit: answering while the client is still sending would reset the connection, and the client
 * would see a broken socket instead of the 413. A JSON body is parsed as UTF-8, so it may declare no other
 * charset (415); a byte stream's body is kept as its bytes, whatever charset it names.
 */
async function readStreamBody(request: Request): Promise<Uint8Array> {
	if (isJsonContentType(request.headers.get("Content-Type") ?? "")) requireUtf8(request);
	return readBytes(request, REQUEST_BYTES_MAX, DS_DRAIN_BYTES_MAX);
}

/**
 * The stream path of a request: everything after `/ds/v1/stream/`, percent-decoded as Hono decodes a parameter,
 * which is how `authorize` read it: a path with a malformed escape decoded any other way would be checked as one
 * stream and acted on as another.
 */
function streamPath(c: C): { path: string; topic: string } {
	const path = c.req.param("path");
	assert(path !== undefined, "route path");
	const problem = checkStreamPath(path);
	if (problem !== null) badRequest(problem);
	return { path, topic: streamTopic(path) };
}

function longPollMs(env: Env): number {
	const raw = Number(env.DS_LONG_POLL_MS);
	return Number.isSafeInteger(raw) && raw > 0 ? Math.min(raw, FETCH_WAIT_MS_MAX) : DS_LONG_POLL_MS_DEFAULT;
}

/** `Stream-Forked-From` names the source as the client addresses it: `/v1/stream/{path}` (or under `/ds`). */
function forkSource(header: string): string {
	const path = header.replace(/^\/ds(?=\/)/, "").replace(/^\/v1\/stream\//, "");
	const problem = checkStreamPath(path);
	if (problem !== null) badRequest(`Stream-Forked-From: ${problem}`);
	return path;
}

interface CreateRequest {
	readonly settings: StreamSettings;
	readonly forkOffset: number | null;
	readonly body: Uint8Array;
}

async function parseCreate(c: C): Promise<CreateRequest> {
	const header = (name: string) => c.req.header(name) ?? null;
	const ttlRaw = header(HEADER.ttl);
	const expiresRaw = header(HEADER.expiresAt);
	if (ttlRaw !== null && expiresRaw !== null) badRequest("send Stream-TTL or Stream-Expires-At, not both");
	const ttlSeconds = ttlRaw === null ? null : parseTtl(ttlRaw);
	if (ttlRaw !== null && ttlSeconds === null) badRequest("Stream-TTL must be a whole number of seconds (digits only)");
	if (expiresRaw !== null && Number.isNaN(Date.parse(expiresRaw))) badRequest("Stream-Expires-At must be an RFC 3339 timestamp");
	const forkedFromRaw = header(HEADER.forkedFrom);
	const forkOffsetRaw = header(HEADER.forkOffset);
	const subRaw = header(HEADER.forkSubOffset);
	if (forkedFromRaw === null && (forkOffsetRaw !== null || subRaw !== null)) badRequest("fork headers need Stream-Forked-From");
	const forkOffset = forkOffsetRaw === null ? null : parseOffset(forkOffsetRaw);
	if (forkOffsetRaw !== null && forkOffset === null) badRequest("Stream-Fork-Offset must be an offset this server answered");
	const forkSubOffset = subRaw === null ? 0 : parseTtl(subRaw);
	if (forkSubOffset === null) badRequest("Stream-Fork-Sub-Offset must be a non-negative integer");
	if (forkSubOffset > 0 && forkOffset === null) badRequest("Stream-Fork-Sub-Offset needs Stream-Fork-Offset");
	const typeRaw = header("Content-Type")?.trim() ?? "";
	const contentType = /^[\w.+-]+\/[\w.+-]+/.test(typeRaw) ? typeRaw : null;
	return {
		settings: {
			contentType: contentType ?? (forkedFromRaw === null ? DEFAULT_CONTENT_TYPE : ""),
			ttlSeconds,
			expiresAt: expiresRaw,
			closed: header(HEADER.closed) === "true",
			forkedFrom: forkedFromRaw === null ? null : forkSource(forkedFromRaw),
			forkOffset: forkOffsetRaw,
			forkSubOffset,
		},
		forkOffset,
		body: await readStreamBody(c.req.raw),
	};
}

/** Fork settings resolved against the source: its content type and expiry unless the fork names its own. */
function resolveFork(
	settings: StreamSettings,
	source: { contentType: string; ttlSeconds: number | null; expiresAt: string | null },
	forkOffset: number,
): StreamSettings {
	const ownExpiry = settings.ttlSeconds !== null || settings.expiresAt !== null;
	return {
		...settings,
		contentType: settings.contentType === "" ? source.contentType : settings.contentType,
		ttlSeconds: ownExpiry ? settings.ttlSeconds : source.ttlSeconds,
		expiresAt: ownExpiry ? settings.expiresAt : source.expiresAt,
		forkOffset: settings.forkOffset ?? formatOffset(forkOffset),
	};
}

async function create(c: C): Promise<Response> {
	const { path, topic } = streamPath(c);
	const request = await parseCreate(c);
	let settings = request.settings;
	const records: EncodedRecord[] = [];
	if (settings.forkedFrom !== null) {
		requireAccess(c, topicResource(streamTopic(settings.forkedFrom)), "consume");
		const fork = await copyForFork(c.env, settings.forkedFrom, request.forkOffset, settings.forkSubOffset);
		if (!fork.ok) {
			// The protocol's idempotent create: an existing fork asked again is 200, its source gone or missing or not.
			const repeat = fork.failure.kind === "log" ? null : await repeatOfFork(c.env, topic, settings);
			return repeat === null ? failureResponse(c, fork.failure) : answerCreate(c, path, repeat, false);
		}
		if (settings.contentType !== "" && normalizeContentType(settings.contentType) !== normalizeContentType(fork.source.contentType)) {
			return failureResponse(c, { kind: "content_type_mismatch", contentType: fork.source.contentType });
		}
		settings = { ...resolveFork(settings, fork.source, fork.forkOffset), hold: crypto.randomUUID() };
		records.push(...fork.records);
	}
	const initial = bodyRecord(settings.contentType, request.body, true);
	if (!initial.ok) throw ApiError.from(initial.error);
	if (initial.value !== null) records.push(initial.value);
	const result = await createStream(c.env, topic, settings, records);
	if (!result.ok) return failureResponse(c, result.failure);
	const { created, view, hold } = result.value;
	// A fork takes its reference on its source now that it exists to give it back when it ends; a repeat takes the one
	// stored (the first create's take may not have come), and a new fork refused is ended.
	const refused = hold ? await holdSource(c.env, topic, result.meta?.topicId, settings.forkedFrom as string, hold, created) : null;
	if (refused !== null) return failureResponse(c, refused);
	return answerCreate(c, path, view, created);
}

function answerCreate(c: C, path: string, view: StreamView, created: boolean): Response {
	c.header("Content-Type", view.contentType);
	c.header(HEADER.nextOffset, formatOffset(view.nextOffset));
	if (view.closed) c.header(HEADER.closed, "true");
	if (created) c.header("Location", `${new URL(c.req.url).origin}${STREAM_PREFIX}${encodeURI(path)}`);
	return c.body(null, created ? 201 : 200);
}

/**
 * A repeated create of a fork whose source is gone or missing since: the fork's view when it exists with the settings
 * asked (what it inherited resolved against its own), else null. No reference is taken: a source gone takes none.
 */
async function repeatOfFork(env: Env, topic: string, settings: StreamSettings): Promise<StreamView | null> {
	const found = await onStream(env, topic, async (log, meta) => log.streamHead(meta.topicId));
	if (!found.ok) return null;
	const asked = { ...resolveFork(settings, found.value, 0), forkOffset: settings.forkOffset };
	const repeat = await onStream(env, topic, async (log, m) =>
		log.streamCreate({ topicId: m.topicId, configVersion: m.configVersion, settings: asked, records: [], repeatOnly: true }),
	);
	return repeat.ok ? repeat.value.view : null;
}

async function createStream(env: Env, topic: string, settings: StreamSettings, records: EncodedRecord[]) {
	for (let attempt = 0; ; attempt++) {
		const meta = await ensureTopic(env, topic);
		if (meta === null)
			return {
				ok: false as const,
				failure: {
					kind: "log" as const,
					error: { code: "unavailable" as const, message: "the stream's topic could not be created; retry" },
				},
			};
		const result = await onStream(env, topic, async (log, m) =>
			log.streamCreate({ topicId: m.topicId, configVersion: m.configVersion, settings, records }),
		);
		// An ended stream's records go with its topic before the path is used again.
		if (result.ok || result.failure.kind !== "not_found" || !result.failure.expired || attempt > 0) return result;
		await endStream(env, result.meta?.topicId);
	}
}

async function append(c: C): Promise<Response> {
	const { topic } = streamPath(c);
	const producer = parseProducer(c.req.raw.headers);
	if (!producer.ok) throw ApiError.from(producer.error);
	const close = c.req.header(HEADER.closed) === "true";
	const seq = c.req.header(HEADER.seq) ?? null;
	const body = await readStreamBody(c.req.raw);
	const contentType = c.req.header("Content-Type") ?? null;
	if (body.byteLength === 0 && !close) badRequest("an append needs a body (or Stream-Closed: true to close the stream)");
	let records: EncodedRecord[] = [];
	if (body.byteLength > 0) {
		if (contentType === null || contentType.trim() === "") badRequest("an append needs a Content-Type");
		const record = bodyRecord(contentType, body, false);
		if (!record.ok) throw ApiError.from(record.error);
		records = record.value === null ? [] : [record.value];
	}
	const result = await onStream(c.env, topic, async (log, meta) =>
		log.streamAppend({
			topicId: meta.topicId,
			configVersion: meta.configVersion,
			contentType: records.length === 0 ? null : contentType,
			records,
			seq,
			producer: producer.value,
			close,
		}),
	);
	if (!result.ok) return failed(c, topic, result.failure, result.meta?.topicId);
	const appended = result.value;
	c.header(HEADER.nextOffset, formatOffset(appended.nextOffset));
	if (appended.closed) c.header(HEADER.closed, "true");
	if (producer.value !== null) {
		c.header(HEADER.producerEpoch, String(producer.value.epoch));
		c.header(HEADER.producerSeq, String(appended.producerSeq ?? producer.value.seq));
	}
	return c.body(null, producer.value !== null && !appended.duplicate && records.length > 0 ? 200 : 204);
}

/**
 * Answers a failure; a stream found deleted or expired is ended behind the answer (`endStream`). An end that fails is
 * logged (a later request finding the stream gone, a DELETE, or its partition's alarm ends it).
 */
function failed(c: C, topic: string, failure: Parameters<typeof failureResponse>[1], topicId: string | undefined): Response {
	// Behind the answer, so a create at the path may come first: only the stream found ended goes (its topic id's).
	if (failure.kind === "not_found" && failure.expired)
		c.executionCtx.waitUntil(
			endStream(c.env, topicId).catch((cause: unknown) => console.error(`stream "${topic}": end failed: ${String(cause)}`)),
		);
	return failureResponse(c, failure);
}

async function head(c: C): Promise<Response> {
	const { topic } = streamPath(c);
	const result = await onStream(c.env, topic, async (log, meta) => log.streamHead(meta.topicId));
	if (!result.ok) return failed(c, topic, result.failure, result.meta?.topicId);
	const view = result.value;
	c.header("Content-Type", view.contentType);
	c.header(HEADER.nextOffset, formatOffset(view.nextOffset));
	c.header("Cache-Control", "no-store");
	if (view.closed) c.header(HEADER.closed, "true");
	if (view.ttlSeconds !== null) c.header(HEADER.ttl, String(view.ttlSeconds));
	if (view.expiresAt !== null) c.header(HEADER.expiresAt, view.expiresAt);
	c.header("ETag", readEtag(result.meta?.topicId ?? topic, "-1", formatOffset(view.nextOffset), view.closed));
	return c.body(null, 200);
}

async function read(c: C): Promise<Response> {
	if (c.req.method === "HEAD") return head(c);
	const { topic } = streamPath(c);
	const { offset: start, live, cursor } = queryOf(c.req.url);
	const offset = readOffset(start);
	if (!offset.ok) throw ApiError.from(offset.error);
	if (live !== undefined && live !== "long-poll" && live !== "sse") badRequest(`live must be long-poll or sse; got "${live}"`);
	if (live !== undefined && start === undefined) badRequest(`live=${live} needs an offset (-1 for the start, now for the tail)`);
	const waitMs = longPollMs(c.env);
	if (live === "sse") return streamEvents(c, sseSource(c, topic, waitMs, cursor), offset.value);
	// The body is built from the records' bytes (`readBodyUtf8`): no text of them is made on either side.
	// A long poll's wait ends once its client has gone (`readEndingWhen`), as a live SSE stream's does.
	const result = await onStream(c.env, topic, async (log, meta) =>
		readEndingWhen(
			log,
			{ topicId: meta.topicId, offset: offset.value, maxBytes: DS_READ_BYTES_MAX, waitMs: live === "long-poll" ? waitMs : 0 },
			clientGone(c),
			(request) => log.streamReadUtf8(request),
		),
	);
	if (!result.ok) return failed(c, topic, result.failure, result.meta?.topicId);
	return readResponse(c, result, { live: live === "long-poll", now: offset.value === "now", start: start ?? "-1", cursor });
}

/**
 * What a `live=sse` stream reads through: long-poll reads of the stream's partition, their waits at the tail named by
 * the stream, so the partition can be told to end the one its client left.
 */
function sseSource(c: C, topic: string, waitMs: number, cursor: string | undefined): SseSource {
	const waitId = crypto.randomUUID();
	let reading: Log | undefined;
	return {
		read: (from, wait) =>
			onStream(c.env, topic, async (log, meta) => {
				reading = log;
				return log.streamRead({ topicId: meta.topicId, offset: from, maxBytes: DS_READ_BYTES_MAX, waitMs: wait, waitId });
			}),
		waitMs,
		cursor,
		stop: async () => {
			if (reading !== undefined) await stopWaiting(reading, waitId);
		},
	};
}

function readResponse(
	c: C,
	result: StreamResult<StreamRead<Utf8Parts>> & { ok: true; meta?: { topicId: string } },
	asked: { live: boolean; now: boolean; start: string; cursor: string | undefined },
): Response {
	const { view, nextOffset, recordCount } = result.value;
	const json = isJsonContentType(view.contentType);
	const upToDate = nextOffset >= view.nextOffset;
	const closedAtEnd = view.closed && upToDate;
	c.header(HEADER.nextOffset, formatOffset(nextOffset));
	if (upToDate) c.header(HEADER.upToDate, "true");
	if (closedAtEnd) c.header(HEADER.closed, "true");
	if (asked.live) c.header(HEADER.cursor, nextCursor(asked.cursor, Date.now()));
	if (asked.live && recordCount === 0) return c.body(null, 204);
	c.header("Content-Type", view.contentType);
	if (asked.now && !asked.live) {
		c.header("Cache-Control", "no-store");
		return c.body(json ? "[]" : "", 200);
	}
	const etag = readEtag(result.meta?.topicId ?? "", asked.start, formatOffset(nextOffset), closedAtEnd);
	c.header("ETag", etag);
	// A range short of the tail never changes; one that reaches it must be revalidated (its ETag then says).
	c.header("Cache-Control", upToDate ? "no-cache" : `${c.req.header("Authorization") ? "private" : "public"}, max-age=60`);
	if (c.req.header("If-None-Match") === etag) return c.body(null, 304);
	const body = readBodyUtf8(result.value.records, result.value.recordEnds, json);
	reportFetchedBytes(c, body.byteLength);
	return c.body(body.buffer as ArrayBuffer, 200);
}

async function remove(c: C): Promise<Response> {
	const { topic } = streamPath(c);
	const result = await onStream(c.env, topic, async (log, meta) => log.streamDelete(meta.topicId));
	// Deleted (or expired) but not ended yet: a DELETE retried after its end failed finishes it first, then answers what
	// the protocol says of a stream that does not exist (404); an end failing again is its 503 again.
	if (result.ok ? !result.value.soft : result.failure.kind === "not_found" && result.failure.expired) {
		await endStream(c.env, result.meta?.topicId);
	}
	return result.ok ? c.body(null, 204) : failureResponse(c, result.failure);
}

/** The protocol's headers, allowed in requests and exposed in responses. */
export const STREAMS_CORS = corsPolicy(
	["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
	[
		"Authorization",
		"Content-Type",
		"If-None-Match",
		HEADER.seq,
		HEADER.ttl,
		HEADER.expiresAt,
		HEADER.closed,
		HEADER.producerId,
		HEADER.producerEpoch,
		HEADER.producerSeq,
		HEADER.forkedFrom,
		HEADER.forkOffset,
		HEADER.forkSubOffset,
	],
	[
		HEADER.nextOffset,
		HEADER.cursor,
		HEADER.upToDate,
		HEADER.closed,
		HEADER.producerEpoch,
		HEADER.producerSeq,
		HEADER.producerExpectedSeq,
		HEADER.producerReceivedSeq,
		HEADER.sseDataEncoding,
		HEADER.ttl,
		HEADER.expiresAt,
		"ETag",
		"Location",
	],
);

/** CORS for browser clients: `*` unless `CORS_ORIGINS` names origins; the protocol's headers allowed and exposed. */
function streamsCors() {
	return async function streamsCors(c: C, next: () => Promise<void>) {
		const origins = corsOrigins(c.env);
		return answerCors(c, next, origins.length === 0 || origins.includes("*") ? "*" : origins, STREAMS_CORS);
	};
}

export const durableStreamsRoutes = new Hono<AppEnv>()
	.use(durableStreamsDialect())
	.use(async function crossOriginReadable(c, next) {
		await next();
		c.res.headers.set("Cross-Origin-Resource-Policy", "cross-origin");
	})
	.use(streamsCors())
	.use("/v1/*", authenticate(), authorize(), quotas())
	.put(STREAM_ROUTE, create)
	.post(STREAM_ROUTE, append)
	.get(STREAM_ROUTE, read)
	.delete(STREAM_ROUTE, remove);
