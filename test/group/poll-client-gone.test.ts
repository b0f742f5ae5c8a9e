/**
 * A group poll (`POST /v1/groups/{g}/members/{m}/poll` with `wait_ms`) whose client leaves while its reads wait at
 * the tail ends those waits in their partitions, as a plain long poll does (test/http/long-poll-client-gone.test.ts):
 * a waiter kept to `wait_ms` counts as a reader that follows its partition's log (it keeps the batch cache hot), and
 * under reconnect churn such waiters pile up. Both ways a poll waits: one partition read alone (`pollOnePartition`,
 * the usual shape, a member per partition) and several long-polled together (`firstRecords`).
 *
 * The proof is what the partitions hold, not a duration: their waiters are gone while the poll's wait is still far
 * from over (`untilReleased`).
 */
import { describe, expect, it } from "vitest";
import { SESSION_TIMEOUT_MS_MAX } from "../../src/shared/limits.ts";
import { join, poll } from "../support/group.ts";
import { leavingClient, untilReleased, untilWaiting } from "../support/long-poll.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { createTopic } from "../support/worker.ts";

/** How long the poll may wait: far longer than the test takes (the session keeps it under the member's cap). */
const WAIT_MS = 25_000;

/** A member of a new group owning every partition of a new topic of `partitions`, polled once (its positions set). */
async function memberOf(partitions: number) {
	const topic = uniqueTopic("poll-gone");
	await createTopic(topic, partitions);
	const group = uniqueGroup();
	const member = await join(group, { topics: [topic], session_timeout_ms: SESSION_TIMEOUT_MS_MAX });
	await poll(group, member.member_id);
	return { topic, path: `/v1/groups/${group}/members/${member.member_id}/poll` };
}

describe("a group poll whose client left while its reads waited at the tail", () => {
	it("of one partition: releases the partition's waiter before the poll's wait is over", async () => {
		const { topic, path } = await memberOf(1);
		const client = leavingClient("POST", path, { body: { wait_ms: WAIT_MS } });
		await untilWaiting(topic, 0);
		expect(await client.leave()).toBe("AbortError");
		await untilReleased(topic, [0], WAIT_MS, "the departed client's poll");
	});

	it("of several partitions: releases every partition's waiter before the poll's wait is over", async () => {
		const { topic, path } = await memberOf(3);
		const client = leavingClient("POST", path, { body: { wait_ms: WAIT_MS, layout: "partitions" } });
		for (const partition of [0, 1, 2]) await untilWaiting(topic, partition);
		expect(await client.leave()).toBe("AbortError");
		await untilReleased(topic, [0, 1, 2], WAIT_MS, "the departed client's poll");
	});
});
