import { describe, expect, it } from "vitest";
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
			// Cut the bytes, not the string: re-encoding each piece would repair a split character.
			const pieces = [bytes.slice(0, cut), bytes.slice(cut)];
			const stream = new ReadableStream<Uint8Array>({
				start(controller) {
					for (const piece of pieces) controller.enqueue(piece);
					controller.close();
				},
			});
			const events: SseEvent[] = [];
			for await (const event of serverSentEvents(stream, new AbortController().signal)) events.push(event);
			expect(events, `cut at byte ${cut} (${decoder.decode(bytes.slice(0, cut)).length} chars)`).toEqual(EXPECTED);
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
