/**
 * Streaming reads: Server-Sent Events on the fetch resource, resumed with `Last-Event-ID`, and the
 * WebSocket tail with its bounded window.
 */

import { SSEStreamingApi } from "hono/streaming";
import { describe, expect, it } from "vitest";
import { untilWaiting } from "../support/long-poll.ts";
import { uniqueTopic } from "../support/names.ts";
import { openSse } from "../support/sse.ts";
import { call, createTopic, expectError, produce } from "../support/worker.ts";

/** The keep-alive of a stream whose live record must come by the append's wake-up, within the tests' 15 s. */
const LIVE_KEEPALIVE_MS = 10_000;

describe("SSE reads", { timeout: 15_000 }, () => {
	it("streams the backlog from offset N, then records live as they are appended", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(
			topic,
			[0, 1, 2, 3].map((n) => ({ value: n })),
		);
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records?offset=1&keepalive_ms=${LIVE_KEEPALIVE_MS}`);
		const backlog = await sse.records(3);
		expect(backlog.map((e) => [e.id, e.record.offset, e.record.value])).toEqual([
			["1", 1, 1],
			["2", 2, 2],
			["3", 3, 3],
		]);
		// Woken by the append, not by the keep-alive timer: the stream's read is parked at the tail before the append, and
		// its record comes before that read's wait could have run out (a bound, not a measure: far longer than a woken read
		// takes on a loaded machine).
		await untilWaiting(topic);
		const appendedMs = Date.now();
		await produce(topic, [{ value: "live" }]);
		const [live] = await sse.records(1);
		expect(Date.now() - appendedMs, "the record came at the keep-alive, not the append").toBeLessThan(LIVE_KEEPALIVE_MS);
		expect(live?.record).toMatchObject({ partition: 0, offset: 4, value: "live", key: null, headers: [] });
		expect(live?.id).toBe("4");
		await sse.close();
	});

	it("resumes after Last-Event-ID with no loss and no duplicate, whatever offset the URL names", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(
			topic,
			Array.from({ length: 6 }, (_, n) => ({ value: n })),
		);
		const first = await openSse(`/v1/topics/${topic}/partitions/0/records?offset=0`);
		const seen = await first.records(3);
		await first.close();
		const lastId = seen.at(-1)?.id as string;
		await produce(topic, [{ value: 6 }]);
		const resumed = await openSse(`/v1/topics/${topic}/partitions/0/records?offset=0`, { "Last-Event-ID": lastId });
		const rest = await resumed.records(4);
		await resumed.close();
		const offsets = [...seen, ...rest].map((e) => e.record.offset);
		expect(offsets).toEqual([0, 1, 2, 3, 4, 5, 6]);
	});

	it("sends keep-alive comments while the partition is idle", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records?keepalive_ms=200`);
		expect(await sse.next(2_000)).toEqual({ comment: "keep-alive" });
		expect(await sse.next(2_000)).toEqual({ comment: "keep-alive" });
		await produce(topic, [{ value: "after idle" }]);
		const [event] = await sse.records(1);
		expect(event?.record.value).toBe("after idle");
		await sse.close();
	});

	it("answers a JSON error, not a stream, for a bad start", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const accept = { headers: { Accept: "text/event-stream" } };
		await expectError("GET", `/v1/topics/${topic}/partitions/0/records?offset=5`, 416, "offset_out_of_range", accept);
		await expectError("GET", `/v1/topics/${topic}/partitions/3/records`, 404, "partition_not_found", accept);
		await expectError("GET", `/v1/topics/no-such-${topic}/partitions/0/records`, 404, "topic_not_found", accept);
		await expectError("GET", `/v1/topics/${topic}/partitions/0/records`, 400, "invalid_request", {
			headers: { Accept: "text/event-stream", "Last-Event-ID": "not-a-number" },
		});
		await expectError("GET", `/v1/topics/${topic}/partitions/0/records?keepalive_ms=1`, 400, "invalid_request", accept);
	});

	it("ends the stream with an error event when the topic is deleted under it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records`);
		const response = await call("DELETE", `/v1/topics/${topic}`);
		expect(response.status).toBe(204);
		const event = await sse.next();
		expect(event.event).toBe("error");
		expect(JSON.parse(event.data as string).error.code).toBe("topic_not_found");
	});

	it("answers with the headers of Hono's streamSSE and ends with the error event its writeSSE frames", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const response = await call("GET", `/v1/topics/${topic}/partitions/0/records`, { headers: { Accept: "text/event-stream" } });
		expect(response.status).toBe(200);
		const headers = ["Content-Type", "Cache-Control", "Connection", "Transfer-Encoding"].map((name) => response.headers.get(name));
		expect(headers).toEqual(["text/event-stream", "no-cache", "keep-alive", "chunked"]);
		const body = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
		let text = "";
		while (!text.includes(": connected\n\n")) {
			const chunk = await body.read();
			if (chunk.done) throw new Error(`the stream ended before it was connected: ${JSON.stringify(text)}`);
			text += chunk.value;
		}
		expect((await call("DELETE", `/v1/topics/${topic}`)).status).toBe(204);
		// The error event is the stream's last: it ends after it.
		for (let chunk = await body.read(); !chunk.done; chunk = await body.read()) text += chunk.value;
		const errorBlock = text.slice(text.indexOf("event: error"));
		const data = /^data: (.*)$/m.exec(errorBlock)?.[1] ?? "";
		expect(JSON.parse(data).error.code).toBe("topic_not_found");
		// What Hono's SSE writer sends for that event, byte for byte.
		const framed = new TransformStream<Uint8Array, Uint8Array>();
		const reference = new SSEStreamingApi(framed.writable, framed.readable);
		const written = new Response(reference.responseReadable).text();
		await reference.writeSSE({ event: "error", data });
		await reference.close();
		expect(errorBlock).toBe(await written);
	});
});
