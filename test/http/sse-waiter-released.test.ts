/**
 * A live Server-Sent Events stream (/v1 and Durable Streams' live=sse) whose client leaves while the edge waits in a
 * long-poll read at the tail releases that read's waiter in the partition, not only its own wait: otherwise the
 * partition keeps it until its wait is over (up to `keepalive_ms` or the Durable Streams long poll), counted as a
 * reader that follows the log, and under reconnect churn such waiters pile up.
 *
 * The proof is an order, not a duration: once the stream's own work has ended (its loop, the request's `waitUntil`
 * work on both mounts), the partition holds no waiter, though the read's wait was far longer
 * than the test takes. (With an object of the earlier version, which has no `stopWaiting`, the waiter is kept as before:
 * test/http/sse-client-gone.test.ts.)
 */
import { waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { untilWaiting, waitingReads } from "../support/long-poll.ts";
import { uniqueTopic } from "../support/names.ts";
import { openDsLiveSse, openV1LiveSse, type SseReader } from "../support/sse.ts";
import { createTopic, produce } from "../support/worker.ts";

const _DS = "/ds/v1/stream";
/** How long a read waits at the tail: far longer than the test takes, so a waiter seen afterwards was not released. */
const WAIT_MS = 10_000;

/**
 * A /v1 live stream of a one-record topic, read up to its tail, its next read waiting in the partition; served with an
 * execution context of the test's own, so its end (with the waiter's release) is what `waitOnExecutionContext` awaits.
 */
async function waitingV1Stream(): Promise<{ topic: string; sse: SseReader; ctx: ExecutionContext }> {
	const topic = uniqueTopic("released");
	await createTopic(topic);
	await produce(topic, [{ value: "a" }]);
	const { sse, ctx } = await openV1LiveSse(`/v1/topics/${topic}/partitions/0/records?offset=0&keepalive_ms=${WAIT_MS}`);
	expect((await sse.records(1))[0]?.record.offset).toBe(0);
	await untilWaiting(topic);
	return { topic, sse, ctx };
}

/** A Durable Streams live=sse stream read up to its tail, its next read waiting in the partition. */
async function waitingDsStream(): Promise<{ topic: string; sse: SseReader; ctx: ExecutionContext }> {
	const path = uniqueTopic("released-ds");
	const { sse, ctx } = await openDsLiveSse(path, WAIT_MS);
	const topic = streamTopic(path);
	await untilWaiting(topic);
	return { topic, sse, ctx };
}

describe("a live Server-Sent Events stream whose client left while its read waited at the tail", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("/v1: the partition's waiter is released by the time the stream's work has ended", async () => {
		const { topic, sse, ctx } = await waitingV1Stream();
		await sse.close();
		// Unregistered, the loop could be cancelled by the runtime once the client is gone, before it releases the waiter.
		await waitOnExecutionContext(ctx);
		expect(await waitingReads(topic), "the departed reader's waiter is still held").toBe(0);
	});

	it("Durable Streams live=sse: the partition's waiter is released by the time the stream's work has ended", async () => {
		const { topic, sse, ctx } = await waitingDsStream();
		await sse.close();
		// The stream's pump is the request's background work: it has ended once the context's work has.
		await waitOnExecutionContext(ctx);
		expect(await waitingReads(topic), "the departed reader's waiter is still held").toBe(0);
	});
});
