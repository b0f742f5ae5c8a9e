/**
 * Set-ups the SDK consumer's tests share: a filled topic, and a member handed every record of a two-partition topic
 * that a second member's join will split (the rebalance the commit and leave tests drive).
 */

import { expect, onTestFinished, vi } from "vitest";
import { MemberCalls } from "../../client/consumer-calls.ts";
import { HeartbeatTimer } from "../../client/consumer-heartbeat.ts";
import type { ConsumerOptions, ConsumerRecord } from "../../client/index.ts";
import { uniqueTopic } from "./names.ts";
import { wiredClient } from "./sdk.ts";
import { UNTIL_SEEN } from "./until.ts";
import { createTopic, produce } from "./worker.ts";

/**
 * The period of a member's heartbeat timer in a test that waits for that timer's beat to follow a rebalance or to
 * find its member gone, while the loop body is busy: a tenth of a second, not the default third of the session (2 s
 * at the shortest, 6 s), so the test waits on the event, not on the timer.
 */
export const HEARTBEAT_SOON = { heartbeatIntervalMs: 100 } as const;

/** A one-partition topic of `count` records and a group name. */
export async function filled(name: string, count: number) {
	const topic = uniqueTopic(name);
	await createTopic(topic, 1);
	await produce(
		topic,
		Array.from({ length: count }, (_, i) => ({ value: i })),
	);
	return { topic, group: uniqueTopic("g") };
}

/**
 * A member "a…" (manual commits) that was handed all four records of a two-partition topic, two per partition, and
 * holds the last. Under `range` in instance-id order, a member "z…" joining (with `options`) takes partition 1.
 */
export async function handedBoth(name: string, more: Partial<ConsumerOptions> = {}) {
	const topic = uniqueTopic(name);
	const group = uniqueTopic("g");
	await createTopic(topic, 2);
	await produce(
		topic,
		[0, 1].flatMap((partition) => [
			{ value: 0, partition },
			{ value: 1, partition },
		]),
	);
	const options = { group, topics: [topic], from: "earliest" as const, waitMs: 50, strategy: "range" as const };
	const wire = wiredClient();
	const consumer = wire.client.consumer({ ...options, autoCommit: false, instanceId: `a-${group}`, ...more });
	const it = consumer[Symbol.asyncIterator]();
	const handed: string[] = [];
	for (let i = 0; i < 4; i++) {
		const record = (await it.next()).value as ConsumerRecord;
		handed.push(`${record.partition}:${record.offset}`);
	}
	expect(handed.sort()).toEqual(["0:0", "0:1", "1:0", "1:1"]);
	return { topic, group, options, consumer, it, wire };
}

/**
 * A promise and the function that settles it, for a test that holds a callback or a request until it says so:
 * `const [reached, reach] = latch();`.
 */
export function latch(): [Promise<void>, () => void] {
	let open!: () => void;
	const reached = new Promise<void>((resolve) => (open = resolve));
	return [reached, open];
}

/**
 * Sends the heartbeat of the first consumer that joins after this call (a test's own member), when the test calls
 * `now()`: the beat its timer (`HeartbeatTimer`) sends, which keeps running as before. A test waiting for a heartbeat
 * to follow a rebalance sends one once the rebalance is done, instead of waiting for the timer, whose tick skips a
 * member that made a call less than a period before: at the shortest session (6 s) that heartbeat came 2 to 4 s after
 * the member's last call, then a round trip, and under load the wait outlived `UNTIL_SEEN`, or the gap the session.
 * Such a test keeps the default session (45 s), so no timer's beat comes meanwhile and no session ends. `now()`
 * resolves once the heartbeat is sent (a beat sends none while a poll is under way: it is tried again until one is).
 */
export function heartbeatOnDemand(): { now(): Promise<void> } {
	const beats = new Map<HeartbeatTimer, () => void>();
	const start = HeartbeatTimer.prototype.start;
	const starts = vi.spyOn(HeartbeatTimer.prototype, "start").mockImplementation(function (this: HeartbeatTimer, everyMs, beat) {
		// A period of 0: the beat's "nothing went out for a period" always holds.
		beats.set(this, () => beat(0));
		start.call(this, everyMs, beat);
	});
	const sent = vi.spyOn(MemberCalls.prototype, "heartbeat");
	onTestFinished(() => {
		starts.mockRestore();
		sent.mockRestore();
	});
	return {
		async now() {
			const [beat] = beats.values();
			if (beat === undefined) throw new Error("no consumer joined since heartbeatOnDemand()");
			await vi.waitFor(() => {
				const before = sent.mock.calls.length;
				beat();
				// The beat sends synchronously, or not at all (a poll under way).
				if (sent.mock.calls.length === before) throw new Error("no heartbeat sent: a poll is under way");
			}, UNTIL_SEEN);
		},
	};
}
