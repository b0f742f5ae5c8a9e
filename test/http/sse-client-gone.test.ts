/**
 * A live Server-Sent Events stream (/v1 and Durable Streams' live=sse) whose client leaves while the edge waits in a
 * long-poll read at the tail ends at once, not when that read's wait is over (up to `keepalive_ms` or the Durable
 * Streams long poll): under reconnect churn streams of departed clients would otherwise pile up at the edge.
 *
 * The proof is an order, not a duration: the stream's end comes before the partition answers the read that waited
 * (`Waiters.wait`, with a wait far longer than the test takes to reach it). The partitions are of the earlier version,
 * without `stopWaiting`, as during a deploy: the edge's end cannot be the partition's release of the wait
 * (test/http/sse-waiter-released.test.ts), and an edge refused that call still ends its stream without an error.
 */
import { runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Waiters } from "../../src/partition/waiters.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { partitionsWithoutStopWaiting } from "../support/long-poll.ts";
import { uniqueTopic } from "../support/names.ts";
import { openDsLiveSse, openV1LiveSse } from "../support/sse.ts";
import { partitionStub } from "../support/stubs.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { createTopic, produce } from "../support/worker.ts";

/**
 * How long a read waits at the tail: far longer than a stream of a departed client may take to end, even on a loaded
 * machine (within `keepalive_ms`'s cap of 30 s, and the tests' timeout of 60 s, which a stream that does not end
 * reaches only after its wait is over).
 */
const WAIT_MS = 20_000;

interface Waits {
	begun: number;
	over: number;
}

/**
 * Counts the long-poll waits begun, and those over (woken or timed out), of each partition: `of(topic)` are those of
 * `topic`'s partition 0. Per partition, because the workerd is shared with the directory's other files, whose streams
 * and long-polls on their own topics may still begin or end waits meanwhile.
 */
function watchWaits(): { of(topic: string): Promise<Waits> } {
	const wait = Waiters.prototype.wait;
	const seen = new Map<Waiters, Waits>();
	const waitsOf = (waiters: Waiters): Waits => {
		const waits = seen.get(waiters) ?? { begun: 0, over: 0 };
		seen.set(waiters, waits);
		return waits;
	};
	vi.spyOn(Waiters.prototype, "wait").mockImplementation(function (this: Waiters, timeoutMs, id) {
		const waits = waitsOf(this);
		waits.begun++;
		return wait.call(this, timeoutMs, id).finally(() => {
			waits.over++;
		});
	});
	return {
		of: async (topic) =>
			waitsOf(await runInDurableObject(await partitionStub(topic), (instance) => (instance as unknown as { waiters: Waiters }).waiters)),
	};
}

describe("a live Server-Sent Events stream whose client left while it waited at the tail", () => {
	let restoreStopWaiting: () => void;
	beforeEach(() => {
		restoreStopWaiting = partitionsWithoutStopWaiting();
	});
	afterEach(() => {
		restoreStopWaiting();
		vi.restoreAllMocks();
	});

	it("/v1: ends at once, before its read's wait is over", async () => {
		const topic = uniqueTopic("gone");
		await createTopic(topic);
		await produce(topic, [{ value: "a" }]);
		const watch = watchWaits();
		const errors = vi.spyOn(console, "error");
		const { sse, ctx } = await openV1LiveSse(`/v1/topics/${topic}/partitions/0/records?offset=0&keepalive_ms=${WAIT_MS}`);
		expect((await sse.records(1))[0]?.record.offset).toBe(0);
		const waits = await watch.of(topic);
		await vi.waitFor(() => expect(waits.begun).toBe(1), UNTIL_SEEN);
		await sse.close();
		// The stream's loop is the request's background work: it has ended once the context's work has.
		await waitOnExecutionContext(ctx);
		expect(waits.over, "the stream ended while its read still waited").toBe(0);
		// What the stream's loop throws is logged: the refused `stopWaiting` is not among it.
		expect(errors).not.toHaveBeenCalled();
	});

	it("Durable Streams live=sse: ends at once, before its read's wait is over", async () => {
		const watch = watchWaits();
		const errors = vi.spyOn(console, "error");
		const path = uniqueTopic("gone-ds");
		const { sse, ctx } = await openDsLiveSse(path, WAIT_MS);
		const waits = await watch.of(streamTopic(path));
		await vi.waitFor(() => expect(waits.begun).toBe(1), UNTIL_SEEN);
		await sse.close();
		// The stream's pump is the request's background work: it has ended once the context's work has.
		await waitOnExecutionContext(ctx);
		expect(waits.over, "the stream ended while its read still waited").toBe(0);
		expect(errors).not.toHaveBeenCalled();
	});
});
