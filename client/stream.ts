/**
 * @module
 * Live reads of one partition over Server-Sent Events (`Accept: text/event-stream` on the fetch resource): each
 * record arrives as soon as it is durable, without polling. A dropped connection is resumed where it stopped
 * (`Last-Event-ID` is the offset of the last record seen), with backoff; `break` closes the stream.
 */

import { STREAM_ERROR_STATUS, TributaryError } from "./errors.ts";
import { backoffMs, type Http, mayRetry, seg, sleep } from "./http.ts";
import { type ConsumerRecord, fromWire, type WireRecord } from "./records.ts";

export interface StreamOptions {
	/** First offset to read; default the log start. */
	readonly offset?: number;
	/** Ends the stream (as `break` does), a wait before reconnecting included. */
	readonly signal?: AbortSignal;
}

interface ServerSentEvent {
	readonly id: string | null;
	readonly event: string;
	readonly data: string;
}

/**
 * @example
 * for await (const record of client.stream("orders", 0, { offset: 0 })) console.log(record.offset, record.value);
 */
export async function* streamPartition(
	http: Http,
	topic: string,
	partition: number,
	options: StreamOptions = {},
): AsyncGenerator<ConsumerRecord> {
	const path = `/v1/topics/${seg(topic)}/partitions/${seg(partition)}/records`;
	let lastId: number | null = null;
	let failures = 0;
	// The last failure was the stream's own `error` event: a start that succeeds does not show the server past it (the
	// read that failed comes after the start), a record does; else a failure every stream meets would reconnect forever.
	let late = false;
	const aborted = () => options.signal?.aborted === true;
	while (!aborted()) {
		const abort = new AbortController();
		const stop = () => abort.abort();
		options.signal?.addEventListener("abort", stop, { once: true });
		try {
			const headers: Record<string, string> = { Accept: "text/event-stream" };
			if (lastId !== null) headers["Last-Event-ID"] = String(lastId);
			const response = await http.open(path, {
				query: { offset: lastId === null ? options.offset : undefined },
				headers,
				signal: abort.signal,
			});
			if (!late) failures = 0;
			for await (const event of serverSentEvents(response.body as ReadableStream<Uint8Array>)) {
				if (event.event === "error") {
					late = true;
					throw streamError(event.data);
				}
				if (event.data === "") continue;
				const record = fromWire(http.json.parse(event.data) as WireRecord, topic);
				lastId = record.offset;
				failures = 0;
				late = false;
				yield record;
			}
		} catch (error) {
			if (aborted()) return;
			const e =
				error instanceof TributaryError ? error : new TributaryError("network_error", String(error), { retriable: true, cause: error });
			if (!mayRetry(e, "always") || failures >= http.retries) throw e;
			// The wait before reconnecting ends with the stream (its timer cleared), not up to Retry-After's 30 s later.
			await sleep(backoffMs(failures++, e.details.retry_after_ms), options.signal);
		} finally {
			options.signal?.removeEventListener("abort", stop);
			abort.abort();
		}
	}
}

/**
 * The error a stream's `error` event carries, with the status it would have been answered with before the start: a
 * retriable 503 (a partition's read that failed) reconnects from the last record, a bug's 500 or a 4xx is thrown.
 */
function streamError(data: string): TributaryError {
	try {
		const { error } = JSON.parse(data) as { error: { code: string; message: string; retriable?: boolean } };
		const { code, message, retriable, ...details } = error;
		return new TributaryError(code, message, { status: STREAM_ERROR_STATUS[code] ?? 0, retriable: retriable === true, details });
	} catch {
		return new TributaryError("unexpected_response", `stream error: ${data.slice(0, 200)}`);
	}
}

/** The events of an SSE body (WHATWG HTML, "Parsing an event stream"); comments and keep-alives are skipped. */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
	const decoder = new TextDecoder();
	const reader = body.getReader();
	let buffer = "";
	let id: string | null = null;
	let event = "message";
	let data: string[] = [];
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) return;
			buffer += decoder.decode(value, { stream: true });
			let newline = buffer.search(/\r\n|\r|\n/);
			while (newline >= 0) {
				// A CR at the end may be the first half of a CRLF still on its way.
				if (buffer[newline] === "\r" && newline === buffer.length - 1) break;
				const line = buffer.slice(0, newline);
				buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
				if (line === "") {
					if (data.length > 0) yield { id, event, data: data.join("\n") };
					event = "message";
					data = [];
				} else if (!line.startsWith(":")) {
					const colon = line.indexOf(":");
					const field = colon < 0 ? line : line.slice(0, colon);
					const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
					if (field === "data") data.push(value);
					else if (field === "id") id = value;
					else if (field === "event") event = value;
				}
				newline = buffer.search(/\r\n|\r|\n/);
			}
		}
	} finally {
		reader.releaseLock();
		await body.cancel().catch(() => {});
	}
}
