/**
 * Test support: reading Server-Sent Events from a streaming response.
 */

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../../src/index.ts";
import { ADMIN_TOKEN, BASE, call } from "./worker.ts";

/** Where Durable Streams' streams are mounted. */
const DS_STREAMS = "/ds/v1/stream";

interface SseEvent {
	id?: string;
	event?: string;
	data?: string;
	comment?: string;
}

/**
 * How long `next` and `records` wait for an event unless told: a bound on a hung stream, not a measure of speed (an
 * event comes at once on an idle machine; on a loaded one the writer's isolate can take seconds). Tests that check
 * a timing (keep-alives) pass a bound of their own, shorter than what would pass were the timing ignored.
 */
const EVENT_WAIT_MS = 30_000;

/** Reads SSE events (and comments) from a streaming response, one parsed block at a time. */
export class SseReader {
	private buffer = "";
	private readonly decoder = new TextDecoder();
	private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

	constructor(response: Response) {
		expect(response.body).not.toBeNull();
		this.reader = (response.body as ReadableStream<Uint8Array>).getReader();
	}

	/** The next event or comment block; fails the test after `timeoutMs`. */
	async next(timeoutMs = EVENT_WAIT_MS): Promise<SseEvent> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const end = this.buffer.indexOf("\n\n");
			if (end >= 0) {
				const block = this.buffer.slice(0, end);
				this.buffer = this.buffer.slice(end + 2);
				return parseBlock(block);
			}
			const remaining = deadline - Date.now();
			if (remaining <= 0) throw new Error(`no SSE event within ${timeoutMs} ms; buffered: ${JSON.stringify(this.buffer)}`);
			const chunk = await Promise.race([
				this.reader.read(),
				new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no SSE data within ${timeoutMs} ms`)), remaining)),
			]);
			if (chunk.done) throw new Error("the SSE stream ended");
			this.buffer += this.decoder.decode(chunk.value, { stream: true });
		}
	}

	/** The next `count` record events, skipping comments. */
	async records(count: number, timeoutMs = EVENT_WAIT_MS): Promise<{ id: string; record: { offset: number; value: unknown } }[]> {
		const out: { id: string; record: { offset: number; value: unknown } }[] = [];
		while (out.length < count) {
			const event = await this.next(timeoutMs);
			if (event.comment !== undefined) continue;
			expect(event.event, JSON.stringify(event)).toBeUndefined();
			out.push({ id: event.id as string, record: JSON.parse(event.data as string) });
		}
		return out;
	}

	async close(): Promise<void> {
		await this.reader.cancel();
	}
}

function parseBlock(block: string): SseEvent {
	const event: SseEvent = {};
	for (const line of block.split("\n")) {
		if (line.startsWith(":")) event.comment = line.slice(1).trim();
		else if (line.startsWith("id: ")) event.id = line.slice(4);
		else if (line.startsWith("event: ")) event.event = line.slice(7);
		// One space after the colon is stripped, as the SSE spec says (Durable Streams writes none).
		else if (line.startsWith("data:")) event.data = line.slice(line.startsWith("data: ") ? 6 : 5);
	}
	return event;
}

export async function openSse(path: string, headers: Record<string, string> = {}, token?: string | null): Promise<SseReader> {
	const response = await call("GET", path, {
		headers: { Accept: "text/event-stream", ...headers },
		...(token === undefined ? {} : { token }),
	});
	expect(response.status).toBe(200);
	expect(response.headers.get("Content-Type")).toContain("text/event-stream");
	const reader = new SseReader(response);
	expect((await reader.next()).comment).toBe("connected");
	return reader;
}

/**
 * A Durable Streams stream at `path` holding one text record, read with `live=sse` from its start straight through
 * the Worker with an execution context of its own (the stream's pump is that context's `waitUntil` work, which
 * `waitOnExecutionContext` awaits), its long poll lasting `longPollMs`; read past the record's data and control events,
 * so its next read waits at the tail.
 */
export async function openDsLiveSse(path: string, longPollMs: number): Promise<{ sse: SseReader; ctx: ExecutionContext }> {
	const created = await call("PUT", `${DS_STREAMS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "a" });
	expect(created.status).toBe(201);
	const ctx = createExecutionContext();
	const request = new Request(`${BASE}${DS_STREAMS}/${path}?offset=-1&live=sse`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
	const response = await worker.fetch(request, { ...env, DS_LONG_POLL_MS: String(longPollMs) }, ctx);
	expect(response.status).toBe(200);
	const sse = new SseReader(response);
	expect((await sse.next()).event).toBe("data");
	expect((await sse.next()).event).toBe("control");
	return { sse, ctx };
}

/**
 * A /v1 Server-Sent Events stream of `path` (a partition's records path and its query), served with an execution
 * context of its own: the stream's loop, and the closing of its body after it, are that context's `waitUntil` work,
 * so `waitOnExecutionContext(ctx)` resolves once the stream has ended.
 */
export async function openV1LiveSse(path: string, token = ADMIN_TOKEN): Promise<{ sse: SseReader; ctx: ExecutionContext }> {
	const ctx = createExecutionContext();
	const request = new Request(`${BASE}${path}`, { headers: { Accept: "text/event-stream", Authorization: `Bearer ${token}` } });
	const response = await worker.fetch(request, env, ctx);
	expect(response.status).toBe(200);
	return { sse: new SseReader(response), ctx };
}
