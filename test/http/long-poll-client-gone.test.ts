/**
 * A plain long poll (`GET …/partitions/{p}/records?wait_ms=`) whose client leaves while its read waits at the tail
 * releases that read's waiter in the partition, as a live SSE stream does (test/http/sse-waiter-released.test.ts):
 * otherwise the partition keeps it until `wait_ms` is over, counted as a reader that follows the log (it keeps the
 * batch cache hot), and under reconnect churn such waiters pile up.
 *
 * The request goes through the runtime's own boundary (`leavingClient`): what is proved is that workerd tells the
 * edge its client left (`Request.signal`, under the `enable_request_signal` compatibility flag) and that the edge then
 * ends the wait. Without the flag the signal never aborts and the runtime's cancelling of the handler's pending read
 * leaves the partition's waiter in place.
 *
 * The proof is what the partition holds, not a duration: its waiter is gone while the read's wait (`FETCH_WAIT_MS_MAX`)
 * is still far from over (`untilReleased`).
 */
import { describe, expect, it } from "vitest";
import { FETCH_WAIT_MS_MAX } from "../../src/shared/limits.ts";
import { leavingClient, untilReleased, untilWaiting } from "../support/long-poll.ts";
import { uniqueTopic } from "../support/names.ts";
import { createTopic } from "../support/worker.ts";

describe("a plain long poll whose client left while its read waited at the tail", () => {
	it("releases the partition's waiter before the read's wait is over", async () => {
		const topic = uniqueTopic("poll-gone");
		await createTopic(topic);
		const client = leavingClient("GET", `/v1/topics/${topic}/partitions/0/records?offset=0&wait_ms=${FETCH_WAIT_MS_MAX}`);
		await untilWaiting(topic);
		expect(await client.leave()).toBe("AbortError");
		await untilReleased(topic, [0], FETCH_WAIT_MS_MAX, "the departed client's read");
	});
});
