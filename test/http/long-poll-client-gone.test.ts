/**
 * A plain long poll (`GET …/partitions/{p}/records?wait_ms=`) whose client leaves while its read waits at the tail
 * releases that read's waiter in the partition, as a live SSE stream does (test/http/sse-waiter-released.test.ts):
 * otherwise the partition keeps it until `wait_ms` is over, counted as a reader that follows the log (it keeps the
 * batch cache hot), and under reconnect churn such waiters pile up.
 *
 * The request goes through the runtime's own boundary (`exports.default.fetch`), not the handler called directly:
 * what is proved is that workerd tells the edge its client left (`Request.signal`, under the `enable_request_signal`
 * compatibility flag) and that the edge then ends the wait. Without the flag the signal never aborts and the
 * runtime's cancelling of the handler's pending read leaves the partition's waiter in place.
 *
 * The proof is what the partition holds, not a duration: its waiter is gone while the read's wait (`FETCH_WAIT_MS_MAX`)
 * is still far from over; `UNTIL_RELEASED` bounds a hung run, well inside that wait.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { FETCH_WAIT_MS_MAX } from "../../src/shared/limits.ts";
import { untilWaiting, waitingReads } from "../support/long-poll.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, BASE, createTopic } from "../support/worker.ts";

/** A bound on a hung release, shorter than the read's wait by more than the test takes to begin it. */
const UNTIL_RELEASED = { timeout: FETCH_WAIT_MS_MAX - 10_000, interval: 20 };

describe("a plain long poll whose client left while its read waited at the tail", () => {
	it("releases the partition's waiter before the read's wait is over", async () => {
		const topic = uniqueTopic("poll-gone");
		await createTopic(topic);
		const client = new AbortController();
		const request = new Request(`${BASE}/v1/topics/${topic}/partitions/0/records?offset=0&wait_ms=${FETCH_WAIT_MS_MAX}`, {
			headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
			signal: client.signal,
		});
		const answer = exports.default.fetch(request).then(
			() => "answered",
			(error: unknown) => (error instanceof Error ? error.name : String(error)),
		);
		await untilWaiting(topic);
		client.abort();
		expect(await answer).toBe("AbortError");
		await vi.waitFor(async () => expect(await waitingReads(topic), "the departed client's waiter is still held").toBe(0), UNTIL_RELEASED);
	});
});
