/**
 * @module
 * A `text/event-stream` reader (the WHATWG HTML "event stream interpretation"): events from a streamed body,
 * whatever the chunking. Pure: no DOM, so it is tested in workerd like the rest.
 */

export interface SseEvent {
	readonly event: string;
	readonly data: string;
	readonly id: string | null;
}

/** Parses a `text/event-stream` body (the WHATWG HTML "event stream interpretation") into events. */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<SseEvent> {
	const reader = body.getReader();
	const decoder = new TextDecoder();
	const stop = () => reader.cancel().catch(() => {});
	signal.addEventListener("abort", stop, { once: true });
	let buffer = "";
	let event = "message";
	let data: string[] = [];
	let id: string | null = null;
	try {
		for (;;) {
			const { value, done } = await reader.read();
			if (done) return;
			buffer += decoder.decode(value, { stream: true });
			// A trailing CR may be the first half of a CRLF split across chunks: keep it until the next chunk says.
			const heldCr = buffer.endsWith("\r");
			const lines = (heldCr ? buffer.slice(0, -1) : buffer).split(/\r\n|\r|\n/);
			buffer = (lines.pop() ?? "") + (heldCr ? "\r" : "");
			for (const line of lines) {
				if (line === "") {
					if (data.length > 0) yield { event, data: data.join("\n"), id };
					event = "message";
					data = [];
					continue;
				}
				if (line.startsWith(":")) continue;
				const colon = line.indexOf(":");
				const name = colon < 0 ? line : line.slice(0, colon);
				const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
				if (name === "data") data.push(value);
				else if (name === "event") event = value;
				else if (name === "id") id = value;
			}
		}
	} finally {
		signal.removeEventListener("abort", stop);
		stop();
	}
}
