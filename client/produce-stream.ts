/**
 * @module
 * The producer's side of the streaming produce channel (`POST /v1/topics/{topic}/records/stream`, NDJSON): one
 * long request per topic whose body is fed a message per batch, its response read a report per message, in
 * order. Messages are pipelined (up to `STREAM_MESSAGES_IN_FLIGHT` unanswered), so a partition's next batch
 * does not wait for the previous one's round trip. A streamed fetch body works in Node, Deno, Bun and Workers;
 * browsers only send one once it is complete, so the producer uses the channel only where it works (see
 * `streamingSupported`).
 */

import { TributaryError } from "./errors.ts";
import type { Http } from "./http.ts";
import { seg } from "./http.ts";

/** Messages sent on one stream and not yet answered; the broker's own bound is 1 000. */
export const STREAM_MESSAGES_IN_FLIGHT = 64;

export interface StreamReport {
	readonly offsets: Array<{ partition: number; offset: number; timestamp: number }>;
}

interface Waiting {
	readonly resolve: (report: StreamReport) => void;
	readonly reject: (error: TributaryError) => void;
}

/**
 * Whether this runtime's global `fetch` can send a request body while reading the response (full duplex): Node's
 * can. An injected `fetch` (a service binding, a test double) is not assumed to.
 */
export function streamingSupported(): boolean {
	const versions = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions;
	return typeof versions?.node === "string" && typeof ReadableStream === "function";
}

/** One topic's stream. It fails as a whole (every unanswered message rejected) if the connection breaks. */
export class ProduceStream {
	readonly #waiting: Waiting[] = [];
	readonly #encoder = new TextEncoder();
	#controller: ReadableStreamDefaultController<Uint8Array> | null = null;
	#broken: TributaryError | null = null;

	constructor(http: Http, topic: string) {
		const body = new ReadableStream<Uint8Array>({
			start: (controller) => {
				this.#controller = controller;
			},
		});
		const path = `/v1/topics/${seg(topic)}/records/stream`;
		http.stream(path, body).then(
			(response) => this.#read(response),
			(error: unknown) => this.#fail(toError(error)),
		);
	}

	/** Whether the stream broke; a broken stream takes no more messages. */
	get broken(): boolean {
		return this.#broken !== null;
	}

	/** Whether another message may be sent now without going past `STREAM_MESSAGES_IN_FLIGHT`. */
	get hasRoom(): boolean {
		return this.#waiting.length < STREAM_MESSAGES_IN_FLIGHT;
	}

	/** Sends one message (JSON, no newline); resolves with its report, or rejects with its error. */
	send(message: string): Promise<StreamReport> {
		if (this.#broken !== null) return Promise.reject(this.#broken);
		return new Promise<StreamReport>((resolve, reject) => {
			this.#waiting.push({ resolve, reject });
			this.#controller?.enqueue(this.#encoder.encode(`${message}\n`));
		});
	}

	/** Ends the request body once every message is answered. */
	close(): void {
		try {
			this.#controller?.close();
		} catch {
			// Already closed or errored.
		}
	}

	async #read(response: Response): Promise<void> {
		const body = response.body;
		if (body === null)
			return this.#fail(new TributaryError("unexpected_response", "the produce stream has no body", { status: response.status }));
		const reader = body.getReader();
		const decoder = new TextDecoder();
		let pending = "";
		try {
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				pending += decoder.decode(value, { stream: true });
				for (let newline = pending.indexOf("\n"); newline !== -1; newline = pending.indexOf("\n")) {
					this.#report(pending.slice(0, newline));
					pending = pending.slice(newline + 1);
				}
			}
			this.#fail(new TributaryError("network_error", "the produce stream ended", { retriable: true }));
		} catch (error) {
			this.#fail(toError(error));
		}
	}

	#report(line: string): void {
		const waiting = this.#waiting.shift();
		if (waiting === undefined) {
			this.#fail(new TributaryError("unexpected_response", "a report no message asked for"));
			return;
		}
		let report: { offsets?: StreamReport["offsets"]; error?: Record<string, unknown>; status?: number };
		try {
			report = JSON.parse(line);
		} catch (cause) {
			waiting.reject(new TributaryError("unexpected_response", "a report is not JSON", { cause }));
			return;
		}
		if (report.offsets !== undefined) waiting.resolve({ offsets: report.offsets });
		else {
			const { code, message, retriable, ...details } = (report.error ?? {}) as { code?: string; message?: string; retriable?: boolean };
			const status = typeof report.status === "number" ? report.status : 400;
			waiting.reject(
				new TributaryError(code ?? "unexpected_response", message ?? line.slice(0, 200), {
					status,
					retriable: retriable === true,
					details,
				}),
			);
		}
	}

	#fail(error: TributaryError): void {
		this.#broken ??= error;
		for (const waiting of this.#waiting.splice(0)) waiting.reject(error);
		this.close();
	}
}

function toError(error: unknown): TributaryError {
	if (error instanceof TributaryError) return error;
	return new TributaryError("network_error", `produce stream: ${String(error)}`, { retriable: true, cause: error });
}
