/**
 * @module
 * `GET ?live=sse`: Server-Sent Events. Each append is a `data` event (a JSON stream's messages as one JSON array,
 * text as text, anything else base64 with `Stream-SSE-Data-Encoding: base64`), and every data event is followed by
 * a `control` event with the offset after it, a cursor, and `upToDate` once the reader is at the tail. A closed
 * stream ends with `{"streamNextOffset", "streamClosed": true}` and the response ends. Each line of a payload is
 * its own `data:` line, so a payload's CR or LF can never end an event early.
 *
 * It is a loop of long-poll reads on the partition, which wakes a waiting read on every append; a read that times
 * out sends a keep-alive control event. After `DS_SSE_LIFETIME_MS` the response ends and the client reconnects
 * from its last offset (as the protocol expects, so caches and proxies see bounded responses).
 */

import type { Context } from "hono";
import type { StreamRead, StreamResult } from "../../../partition/stream-types.ts";
import { utf8Encoder } from "../../../shared/bytes.ts";
import { ApiError } from "../../../shared/errors.ts";
import { DS_SSE_LIFETIME_MS } from "../../../shared/limits.ts";
import { isJsonContentType, normalizeContentType } from "../../../shared/stream-rules.ts";
import type { AppEnv } from "../../app-env.ts";
import { failedAfterStart } from "../../middleware/observe.ts";
import { liveFetchCharger } from "../../middleware/quotas.ts";
import { eventPayload, payloads } from "./codec.ts";
import { dialectBody, failureResponse } from "./errors.ts";
import { formatOffset, HEADER, isTextContentType, nextCursor } from "./protocol.ts";

/** One SSE event, every line of the payload its own `data:` line (no space after the colon: clients strip one). */
export function sseEvent(event: "data" | "control" | "error", payload: string): string {
	return `event: ${event}\n${payload
		.split(/\r\n|\r|\n/)
		.map((line) => `data:${line}`)
		.join("\n")}\n\n`;
}

export interface SseSource {
	/** Reads from `offset`, waiting at the tail up to `waitMs`. */
	read(offset: number | "now" | null, waitMs: number): Promise<StreamResult<StreamRead>>;
	readonly waitMs: number;
	readonly cursor: string | undefined;
	/** Ends a read still waiting at the tail in the partition now: the client has gone. */
	stop(): Promise<void>;
}

/** The events of one read: a data and a control event per append; a lone control event when there was none. */
function eventsOf(
	read: StreamRead,
	mode: "json" | "text" | "base64",
	cursor: string | undefined,
	first: boolean,
): { text: string; ended: boolean } {
	const parts = payloads(read.records, mode === "json");
	const atTail = read.nextOffset >= read.view.nextOffset;
	const ended = read.view.closed && atTail;
	const control = (offset: number, last: boolean): string => {
		const data: Record<string, unknown> = { streamNextOffset: formatOffset(offset) };
		if (last && ended) data.streamClosed = true;
		else {
			data.streamCursor = nextCursor(cursor, Date.now());
			if (last && atTail) data.upToDate = true;
		}
		return sseEvent("control", JSON.stringify(data));
	};
	let text = "";
	parts.forEach((part, i) => {
		text += sseEvent("data", eventPayload(part, mode));
		const last = i === parts.length - 1;
		text += control(last ? read.nextOffset : part.offset + 1, last);
	});
	if (parts.length === 0 && (first || atTail)) text += control(read.nextOffset, true);
	return { text, ended };
}

/**
 * Answers `?live=sse` from `offset`: a failing first read is an error response; a later read the log failed ends the
 * stream after an `error` event, one of a stream deleted or closed without one.
 */
export async function streamEvents(c: Context<AppEnv>, source: SseSource, offset: number | "now" | null): Promise<Response> {
	const first = await source.read(offset, 0);
	if (!first.ok) return failureResponse(c, first.failure);
	const type = normalizeContentType(first.value.view.contentType);
	const mode = isJsonContentType(type) ? "json" : isTextContentType(type) ? "text" : "base64";
	const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
	const writer = writable.getWriter();
	// quotas() only checked the key was not in debt: what is sent is charged as it goes.
	const charge = liveFetchCharger(c);
	const pump = async (): Promise<void> => {
		const deadline = Date.now() + DS_SSE_LIFETIME_MS;
		let read = first.value;
		let isFirst = true;
		for (;;) {
			const { text, ended } = eventsOf(read, mode, source.cursor, isFirst);
			if (text.length > 0) {
				const bytes = utf8Encoder.encode(text);
				// The client's going cancels `readable`, which errors `writable`, whose writer's `desiredSize` is then null
				// (WHATWG Streams): what waited to be paid for then is not charged.
				if (charge !== null)
					await charge(
						() => bytes.byteLength,
						() => writer.desiredSize !== null,
					);
				await writer.write(bytes);
			}
			if (ended || Date.now() >= deadline) break;
			isFirst = false;
			// The client's going rejects `writer.closed`: the pump ends then, not when the read's wait at the tail does.
			const next = await Promise.race([
				source.read(read.nextOffset, Math.min(source.waitMs, Math.max(0, deadline - Date.now()))),
				writer.closed,
			]);
			if (!next?.ok) {
				// What the log failed (its storage, R2, a bug) is told below; a stream deleted or closed ends, as at its tail.
				if (next?.failure.kind === "log") throw ApiError.from(next.failure.error);
				break;
			}
			read = next.value;
		}
	};
	const done = pump()
		.catch((cause: unknown) => {
			// The client went away (a write failed, or `writer.closed` did while a read waited): nothing more can be told,
			// and a read left waiting at the tail ends in the partition now, not at its wait's end.
			if (writer.desiredSize === null) return source.stop();
			// A read that failed: an `error` event with the dialect's body, logged and counted (the protocol's client,
			// which knows no such event, reconnects from its last offset when the response ends, as after a clean end).
			return writer.write(utf8Encoder.encode(sseEvent("error", JSON.stringify(dialectBody(failedAfterStart(c, cause)))))).catch(() => {});
		})
		.finally(() => writer.close().catch(() => {}));
	c.executionCtx.waitUntil(done);
	// Set on the context, where they replace the defaults middleware put there (the security headers' no-store).
	c.header("Content-Type", "text/event-stream");
	c.header("Cache-Control", "no-cache");
	if (mode === "base64") c.header(HEADER.sseDataEncoding, "base64");
	return c.body(readable, 200);
}
