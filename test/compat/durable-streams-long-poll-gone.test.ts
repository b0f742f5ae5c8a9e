/**
 * A Durable Streams long poll (`GET /ds/v1/stream/{path}?offset=…&live=long-poll`) whose client leaves while its read
 * waits at the stream's tail ends that wait in the stream's partition, as its `live=sse` streams and /v1's long polls
 * do (test/http/sse-waiter-released.test.ts, test/http/long-poll-client-gone.test.ts): a waiter kept to the long
 * poll's end counts as a reader that follows the log (it keeps the batch cache hot), and its answer goes to nobody.
 *
 * The proof is what the partition holds, not a duration: its waiter is gone while the read's wait
 * (`DS_LONG_POLL_MS_DEFAULT`) is still far from over (`untilReleased`).
 */
import { describe, expect, it } from "vitest";
import { DS_LONG_POLL_MS_DEFAULT } from "../../src/shared/limits.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { leavingClient, untilReleased, untilWaiting } from "../support/long-poll.ts";
import { uniqueName } from "../support/names.ts";
import { call } from "../support/worker.ts";

describe("a Durable Streams long poll whose client left while its read waited at the tail", () => {
	it("releases the partition's waiter before the read's wait is over", async () => {
		const path = uniqueName("ds-gone");
		const created = await call("PUT", `/ds/v1/stream/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "a" });
		expect(created.status).toBe(201);
		const topic = streamTopic(path);
		const client = leavingClient("GET", `/ds/v1/stream/${path}?offset=now&live=long-poll`);
		await untilWaiting(topic);
		expect(await client.leave()).toBe("AbortError");
		await untilReleased(topic, [0], DS_LONG_POLL_MS_DEFAULT, "the departed client's long poll");
	});
});
