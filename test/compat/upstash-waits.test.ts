/**
 * The Upstash mount's long waits (fetch's and consume's `timeout`) end in their partitions once nobody needs their
 * answer: when another partition of the same fetch answered, and when the client left. A waiter kept to its end
 * counts as a reader that follows its partition's log (it keeps the batch cache hot), and its answer goes to nobody.
 * The same as /v1's long polls (test/http/long-poll-client-gone.test.ts, test/group/poll-abandoned-waits.test.ts,
 * test/group/poll-client-gone.test.ts).
 *
 * Requests are sent as one HTTP call each (the `@upstash/kafka` client splits a fetch of several partitions into
 * one call per partition by default). The proof is what the partitions hold, not a duration: their waiters are gone
 * while the call's wait is still far from over (`untilReleased`).
 */
import { describe, expect, it } from "vitest";
import { leavingClient, untilReleased, untilWaiting } from "../support/long-poll.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { createTopic, json, produce } from "../support/worker.ts";

/** How long a call may wait: far longer than the test takes. */
const TIMEOUT_MS = 25_000;

/** A new topic of `partitions` and a fetch body asking for all of them from offset 0, waiting `TIMEOUT_MS`. */
async function fetchOfAll(partitions: number) {
	const topic = uniqueTopic("up-wait");
	await createTopic(topic, partitions);
	const topicPartitionOffsets = Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 }));
	return { topic, body: { topicPartitionOffsets, timeout: TIMEOUT_MS } };
}

describe("Upstash fetch", () => {
	it("answered by one partition ends the reads still waiting on the others", async () => {
		const { topic, body } = await fetchOfAll(3);
		const waiting = json<{ value: string }[]>("POST", "/upstash/fetch", 200, { body });
		for (const partition of [0, 1, 2]) await untilWaiting(topic, partition);
		await produce(topic, [{ value: "wake", partition: 2 }]);
		expect((await waiting).map((m) => m.value)).toEqual(["wake"]);
		await untilReleased(topic, [0, 1], TIMEOUT_MS, "the partitions the fetch no longer waits on");
	});

	it("whose client left releases every partition's waiter", async () => {
		const { topic, body } = await fetchOfAll(2);
		const client = leavingClient("POST", "/upstash/fetch", { body });
		for (const partition of [0, 1]) await untilWaiting(topic, partition);
		expect(await client.leave()).toBe("AbortError");
		await untilReleased(topic, [0, 1], TIMEOUT_MS, "the departed client's fetch");
	});
});

describe("Upstash consume whose client left", () => {
	/** A consume of a new instance of a new group on a new topic of `partitions`, from `reset`. */
	async function consumeOf(partitions: number, reset: "earliest" | "latest") {
		const topic = uniqueTopic("up-wait");
		await createTopic(topic, partitions);
		const path = `/upstash/consume/${uniqueGroup("ug")}/i1`;
		return { topic, path, options: { body: { topic, timeout: TIMEOUT_MS }, headers: { "Kafka-Auto-Offset-Reset": reset } } };
	}

	it("of one partition releases its waiter", async () => {
		const { topic, path, options } = await consumeOf(1, "earliest");
		const client = leavingClient("POST", path, options);
		await untilWaiting(topic, 0);
		expect(await client.leave()).toBe("AbortError");
		await untilReleased(topic, [0], TIMEOUT_MS, "the departed client's consume");
	});

	it("of several partitions releases every partition's waiter", async () => {
		const { topic, path, options } = await consumeOf(3, "latest");
		const client = leavingClient("POST", path, options);
		for (const partition of [0, 1, 2]) await untilWaiting(topic, partition);
		expect(await client.leave()).toBe("AbortError");
		await untilReleased(topic, [0, 1, 2], TIMEOUT_MS, "the departed client's consume");
	});
});
