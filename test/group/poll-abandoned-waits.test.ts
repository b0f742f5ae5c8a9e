/**
 * A group poll that long-polls several partitions answers with the first that has records; the reads still waiting
 * on the others are ended in their partitions then, not kept to the poll's `wait_ms`: a waiter counts as a reader that
 * follows its partition's log (it keeps the batch cache hot), and its answer would go to nobody.
 *
 * The proof is what the partitions hold, not a duration: their waiters are gone while the poll's wait is still far
 * from over (`untilReleased`).
 */
import { describe, expect, it } from "vitest";
import { join, poll } from "../support/group.ts";
import { untilReleased, untilWaiting } from "../support/long-poll.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { createTopic, produce } from "../support/worker.ts";

/** How long the poll may wait: far longer than the test takes. */
const WAIT_MS = 25_000;

describe("a group poll answered by one of the partitions it waited on", () => {
	it("ends the reads still waiting on the others", async () => {
		const topic = uniqueTopic("abandoned");
		await createTopic(topic, 3);
		const group = uniqueGroup();
		const member = await join(group, { topics: [topic] });
		await poll(group, member.member_id);
		const waiting = poll(group, member.member_id, { wait_ms: WAIT_MS });
		for (const partition of [0, 1, 2]) await untilWaiting(topic, partition);
		await produce(topic, [{ value: "wake", partition: 2 }]);
		expect((await waiting).records.map((r) => [r.partition, r.value])).toEqual([[2, "wake"]]);
		await untilReleased(topic, [0, 1], WAIT_MS, "the partitions the poll no longer waits on");
	});
});
