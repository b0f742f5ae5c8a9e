/**
 * A reader whose client leaves before its read has reached the partition (the edge still resolving the topic, or
 * the read's RPC in flight): the edge's `stopWaiting` then finds no waiter, and the read that arrives afterwards
 * must not wait its whole time (15 s on /v1 by default, 20 s on Durable Streams) for a client already gone. It
 * answers at once, as a timed-out wait does.
 *
 * The proof is what the partition holds, not a duration: the read is seen either answered or parked (its waiter
 * counted inside the object), whichever comes first, though its wait is far longer than the test takes.
 */
import { describe, expect, it, vi } from "vitest";
import { readEndingWhen } from "../../src/shared/log-reader.ts";
import { waitingReads } from "../support/long-poll.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { createTopic, produce } from "../support/worker.ts";

/** Far longer than the test: a read seen answered was not answered by its timer. */
const WAIT_MS = 60_000;

describe("a read whose wait was stopped before it arrived", () => {
	it("answers at once, empty at the tail, and leaves no waiter", async () => {
		const topic = uniqueTopic("stopped-early");
		await createTopic(topic);
		await produce(topic, [{ value: "a" }]);
		const log = await partitionStub(topic);
		const waitId = crypto.randomUUID();
		await log.stopWaiting(waitId);
		let answered = false;
		const reading = log
			.read({ topicId: await topicIdOf(topic), offset: 1, maxRecords: 10, maxBytes: 1024, waitMs: WAIT_MS, waitId })
			.finally(() => {
				answered = true;
			});
		await vi.waitFor(async () => expect(answered || (await waitingReads(topic)) > 0).toBe(true), { timeout: 30_000, interval: 5 });
		const parked = await waitingReads(topic);
		// Ends the parked read of a failing run, so the test fails on its assertion, not on its timeout.
		if (parked > 0) await log.stopWaiting(waitId);
		expect(parked, "the read waits for a client that left before it arrived").toBe(0);
		const read = await reading;
		expect(read.ok && "recordCount" in read.value && read.value).toMatchObject({ recordCount: 0, nextOffset: 1, highWatermark: 1 });
	});

	it("a read named otherwise still waits", async () => {
		const topic = uniqueTopic("stopped-other");
		await createTopic(topic);
		const log = await partitionStub(topic);
		await log.stopWaiting(crypto.randomUUID());
		const waitId = crypto.randomUUID();
		const reading = log.read({ topicId: await topicIdOf(topic), offset: 0, maxRecords: 10, maxBytes: 1024, waitMs: WAIT_MS, waitId });
		await vi.waitFor(async () => expect(await waitingReads(topic)).toBe(1), { timeout: 30_000, interval: 5 });
		await log.stopWaiting(waitId);
		expect((await reading).ok).toBe(true);
		expect(await waitingReads(topic)).toBe(0);
	});

	it("a read whose end has already come when it starts (its client gone before it was sent) does not wait", async () => {
		const topic = uniqueTopic("ended-before");
		await createTopic(topic);
		const log = await partitionStub(topic);
		let answered = false;
		const request = { topicId: await topicIdOf(topic), offset: 0, maxRecords: 10, maxBytes: 1024, waitMs: WAIT_MS };
		const reading = readEndingWhen(log, request, { signal: AbortSignal.abort() }, (named) => log.read(named)).finally(() => {
			answered = true;
		});
		await vi.waitFor(async () => expect(answered || (await waitingReads(topic)) > 0).toBe(true), { timeout: 30_000, interval: 5 });
		const parked = await waitingReads(topic);
		// Wakes the parked read of a failing run, so the test fails on its assertion, not on its timeout.
		if (parked > 0) await produce(topic, [{ value: "a" }]);
		expect(parked, "the read waits for a client that had already gone").toBe(0);
		expect((await reading).ok).toBe(true);
	});
});
