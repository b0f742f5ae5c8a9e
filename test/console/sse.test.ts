import { describe, expect, it } from "vitest";
import { serverSentEvents as sdkServerSentEvents } from "../../client/stream.ts";
import { type SseEvent, serverSentEvents } from "../../console/src/sse.ts";

/** A body delivering `text` in the given chunks (split at arbitrary points, as a network would). */
function body(chunks: string[]): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	return new ReadableStream({
		start(controller) {
			for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
			controller.close();
		},
	});
}

/**
 * A body delivering `bytes` in two pieces, cut at byte `cut`. The bytes are cut, not the string: re-encoding each
 * piece would repair a split character.
 */
function cutAt(bytes: Uint8Array, cut: number): ReadableStream<Uint8Array> {
	return new ReadableStream<Uint8Array>({
		start(controller) {
			controller.enqueue(bytes.slice(0, cut));
			controller.enqueue(bytes.slice(cut));
			controller.close();
		},
	});
}

async function read(chunks: string[]): Promise<SseEvent[]> {
	const events: SseEvent[] = [];
	for await (const event of serverSentEvents(body(chunks), new AbortController().signal)) events.push(event);
	return events;
}

const STREAM =
	'id: 0\ndata: {"offset":0}\n\n: keep-alive\n\nid: 1\r\ndata: {"offset":1,\r\ndata: "v":"é"}\r\n\r\nevent: error\ndata: {"error":{"code":"topic_not_found"}}\n\n';
const EXPECTED: SseEvent[] = [
	{ event: "message", data: '{"offset":0}', id: "0" },
	{ event: "message", data: '{"offset":1,\n"v":"é"}', id: "1" },
	{ event: "error", data: '{"error":{"code":"topic_not_found"}}', id: "1" },
];

describe("console: serverSentEvents", () => {
	it("reads events, multi-line data, CRLF, comments and named events", async () => {
		expect(await read([STREAM])).toEqual(EXPECTED);
	});

	it("gives the same events however the stream is chunked (inside a CRLF, inside a UTF-8 character)", async () => {
		const bytes = new TextEncoder().encode(STREAM);
		for (let cut = 1; cut < bytes.length; cut++) {
			const decoder = new TextDecoder();
			const events: SseEvent[] = [];
			for await (const event of serverSentEvents(cutAt(bytes, cut), new AbortController().signal)) events.push(event);
			expect(events, `cut at byte ${cut} (${decoder.decode(bytes.slice(0, cut)).length} chars)`).toEqual(EXPECTED);
		}
	});

	// The SDK has its own reader (client/stream.ts, without the page's abort signal): both read the same streams.
	it("reads what the SDK's reader reads, however the stream is chunked", async () => {
		const streams = [STREAM, "id: 0\ndata: complete\n\ndata: cut off", "data:no space\rdata\r\n\r\n:only a comment\n\nid: 7\nevent: e\n\n"];
		for (const text of streams) {
			const bytes = new TextEncoder().encode(text);
			for (let cut = 1; cut < bytes.length; cut++) {
				const sdk: SseEvent[] = [];
				for await (const e of sdkServerSentEvents(cutAt(bytes, cut))) sdk.push({ event: e.event, data: e.data, id: e.id });
				const page: SseEvent[] = [];
				for await (const e of serverSentEvents(cutAt(bytes, cut), new AbortController().signal)) page.push(e);
				expect(page, `${JSON.stringify(text)} cut at byte ${cut}`).toEqual(sdk);
			}
		}
	});

	it("drops an event that never ended (no blank line before the stream closed)", async () => {
		expect(await read(["id: 0\ndata: complete\n\ndata: cut off"])).toEqual([{ event: "message", data: "complete", id: "0" }]);
	});

	it("stops when the signal aborts", async () => {
		const abort = new AbortController();
		const endless = new ReadableStream<Uint8Array>({
			pull(controller) {
				controller.enqueue(new TextEncoder().encode("data: x\n\n"));
			},
		});
		let seen = 0;
		for await (const _ of serverSentEvents(endless, abort.signal)) {
			seen += 1;
			if (seen === 3) abort.abort();
		}
		expect(seen).toBe(3);
	});
});
