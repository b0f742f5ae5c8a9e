/**
 * The SDK consumer's `maxPollIntervalMs` (Kafka's `max.poll.interval.ms`) against the real Worker (inside workerd):
 * a loop body that does not come back for the next record within it loses its membership, though its heartbeat
 * would keep it alive: the member leaves, another member reads its partitions from the last commit, a commit of
 * what it was handed before is refused, and its next turn joins the group again.
 */

import { describe, expect, it } from "vitest";
import { consumerSettings, MAX_POLL_INTERVAL_MS_DEFAULT } from "../../client/consumer-options.ts";
import type { ConsumerRecord, TopicPartition } from "../../client/index.ts";
import { uniqueTopic } from "../support/names.ts";
import { wiredClient } from "../support/sdk.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { createTopic, json, produce } from "../support/worker.ts";

interface GroupState {
	members: { member_id: string }[];
	offsets: { partition: number; committed: number | null }[];
}

const groupState = (group: string) => json<GroupState>("GET", `/v1/groups/${group}`, 200);

describe("SDK consumer maxPollIntervalMs", { timeout: 30_000 }, () => {
	it("is Kafka's 300000 by default, and a whole number of milliseconds, 1 or more, up to what a timer keeps", () => {
		const base = { group: "g", topics: ["t"] };
		expect(consumerSettings(base).maxPollIntervalMs).toBe(MAX_POLL_INTERVAL_MS_DEFAULT);
		expect(MAX_POLL_INTERVAL_MS_DEFAULT).toBe(300_000);
		expect(consumerSettings({ ...base, maxPollIntervalMs: 1 }).maxPollIntervalMs).toBe(1);
		for (const maxPollIntervalMs of [0, -1, 1.5, 2 ** 31, Number.NaN]) {
			expect(() => consumerSettings({ ...base, maxPollIntervalMs }), String(maxPollIntervalMs)).toThrow(/maxPollIntervalMs/);
		}
	});

	it("a loop that comes back for each record in time keeps its membership, however long its polls take together", async () => {
		const topic = uniqueTopic("poll-interval-kept");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await produce(
			topic,
			Array.from({ length: 15 }, (_, i) => ({ value: i })),
		);
		const wire = wiredClient();
		// 5 ms is far less than the three polls (and the idle one) take: the interval runs per record, not per loop.
		const consumer = wire.client.consumer({
			group,
			topics: [topic],
			from: "earliest",
			maxRecords: 5,
			waitMs: 50,
			maxPollIntervalMs: 5,
			stopWhenIdle: true,
		});
		const read: number[] = [];
		const members = new Set<string | null>();
		for await (const record of consumer) {
			read.push(record.offset);
			members.add(consumer.memberId);
		}
		expect(read).toEqual(Array.from({ length: 15 }, (_, i) => i));
		expect(members.size, "one member throughout").toBe(1);
		expect(
			wire.sent.filter((r) => r.method === "DELETE"),
			"one leave: the loop's end",
		).toHaveLength(1);
		expect((await groupState(group)).offsets[0]?.committed).toBe(15);
	});

	it("a loop body that does not come back within it: the member leaves, another reads its partition, its next turn joins again", async () => {
		const topic = uniqueTopic("poll-interval");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await produce(
			topic,
			Array.from({ length: 5 }, (_, i) => ({ value: i })),
		);
		const options = { group, topics: [topic], from: "earliest" as const, waitMs: 50 };
		const revoked: TopicPartition[][] = [];
		const stuck = wiredClient().client.consumer({ ...options, maxPollIntervalMs: 300, onRevoke: (tps) => void revoked.push(tps) });
		const it = stuck[Symbol.asyncIterator]();
		expect(((await it.next()).value as ConsumerRecord).offset).toBe(0);
		expect(((await it.next()).value as ConsumerRecord).offset).toBe(1); // offset 0 processed, not committed yet
		const first = stuck.memberId;
		// The loop body now holds offset 1 and does not come back; the other member joins with nothing to read.
		const other = wiredClient().client.consumer(options);
		const read: number[] = [];
		const reading = (async () => {
			for await (const record of other) read.push(record.offset);
		})();
		await expect.poll(() => read, { timeout: 20_000 }).toEqual([0, 1, 2, 3, 4]);
		expect(stuck.memberId, "left the group").toBeNull();
		expect(stuck.assignment).toEqual([]);
		expect(revoked).toEqual([[{ topic, partition: 0 }]]);
		expect((await groupState(group)).members.map((m) => m.member_id)).not.toContain(first);
		const refused = await stuck.commit().catch((error: unknown) => error);
		expect(refused).toMatchObject({ name: "TributaryError", code: "rebalance_in_progress" });
		// Its next turn joins again (under a new member id); the partition stays with the member that reads it.
		const pending = it.next();
		await expect.poll(() => stuck.memberId, { timeout: 20_000 }).not.toBeNull();
		expect(stuck.memberId).not.toBe(first);
		await expect.poll(async () => (await groupState(group)).members.length, { timeout: 20_000 }).toBe(2);
		await other.close();
		await reading;
		await stuck.close();
		expect(await pending).toEqual({ done: true, value: undefined });
		expect((await groupState(group)).offsets[0]?.committed, "nothing of the member that left is committed over it").toBe(5);
	});

	// The last three wait out intervals and sessions on their own topics, groups and clients: run together, the file
	// waits about as long as the longest of them rather than all three in turn.
	it.concurrent("an explicit join() after the leave is the loop coming back, as Kafka's poll(): commit() is accepted again, and the interval runs again from it", async ({
		expect,
	}) => {
		const topic = uniqueTopic("poll-interval-join");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await produce(
			topic,
			Array.from({ length: 3 }, (_, i) => ({ value: i })),
		);
		// Long enough for the join and the commit after it to fit in one interval on a loaded machine (a join that
		// outlasts it leaves at once: the next test).
		const maxPollIntervalMs = 2_000;
		const wire = wiredClient();
		const stuck = wire.client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50, maxPollIntervalMs });
		const it = stuck[Symbol.asyncIterator]();
		expect(((await it.next()).value as ConsumerRecord).offset).toBe(0); // held, never moved past
		const first = stuck.memberId;
		await expect.poll(() => stuck.memberId, { timeout: 20_000 }).toBeNull();
		await expect(stuck.commit()).rejects.toMatchObject({ code: "rebalance_in_progress" });
		await stuck.join();
		expect(stuck.memberId).not.toBeNull();
		expect(stuck.memberId).not.toBe(first);
		// Accepted, and empty: the record in hand was dropped with the partition at the leave.
		await stuck.commit();
		expect((await groupState(group)).offsets[0]?.committed ?? null).toBeNull();
		// The loop body still holds its record: the interval, timed again from the join, makes the new member leave too.
		// The leave's DELETE is held: memberId reads null once the consumer gave the membership up, before the broker has
		// the leave (as Kafka's consumer forgets its member id before its LeaveGroup is answered), so the group still
		// lists it; what awaits the leave (join(), the loop's next turn, close()) waits for that DELETE.
		const releaseLeave = wire.hold((r) => r.method === "DELETE");
		await expect.poll(() => stuck.memberId, { timeout: 20_000 }).toBeNull();
		expect((await groupState(group)).members, "still listed while its leave is held").toHaveLength(1);
		releaseLeave();
		await expect.poll(async () => (await groupState(group)).members, UNTIL_SEEN).toEqual([]);
		await stuck.close();
		expect(await it.next()).toEqual({ done: true, value: undefined });
	});

	it.concurrent("a join() whose answer comes after the interval passed leaves as soon as it is answered (the timer fired with no member to take out)", async ({
		expect,
	}) => {
		const topic = uniqueTopic("poll-interval-slow-join");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await produce(topic, [{ value: 0 }]);
		const maxPollIntervalMs = 300;
		const wire = wiredClient();
		const stuck = wire.client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50, maxPollIntervalMs });
		const it = stuck[Symbol.asyncIterator]();
		expect(((await it.next()).value as ConsumerRecord).offset).toBe(0); // held, never moved past
		await expect.poll(() => stuck.memberId, { timeout: 20_000 }).toBeNull();
		const slowJoin = wire.delayAnswer((r) => r.method === "POST" && r.path === `/v1/groups/${group}/members`);
		const joined = stuck.join();
		await slowJoin.served;
		// The join's answer is held past a whole interval, timed again from the join: the client's timer, armed by the
		// join for maxPollIntervalMs, is due before this wait of twice as long ends, so it fires first, while no member
		// is known. The wait makes the interval pass; what is asserted is what the join does when it is answered.
		await new Promise((resolve) => setTimeout(resolve, 2 * maxPollIntervalMs));
		slowJoin.release();
		await joined;
		expect(stuck.memberId, "left as the join was answered, not at a later timer").toBeNull();
		await expect.poll(async () => (await groupState(group)).members, { timeout: 20_000 }).toEqual([]);
		await stuck.close();
		expect(await it.next()).toEqual({ done: true, value: undefined });
	});

	it("a join() after that leave, racing close(), joins no member once the consumer is closing: none is left in the group", async () => {
		const topic = uniqueTopic("poll-interval-join-close");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await produce(topic, [{ value: 0 }, { value: 1 }]);
		const wire = wiredClient();
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50, maxPollIntervalMs: 300 });
		const it = consumer[Symbol.asyncIterator]();
		expect(((await it.next()).value as ConsumerRecord).offset).toBe(0); // held past the interval
		const isJoin = (r: { method: string; path: string }) => r.method === "POST" && r.path === `/v1/groups/${group}/members`;
		const leaveAnswer = wire.delayAnswer((r) => r.method === "DELETE");
		await leaveAnswer.served; // the interval's leave was served; its answer is held
		const joined = consumer.join().then(
			() => null,
			(error: unknown) => error,
		);
		await consumer.close();
		leaveAnswer.release();
		expect(await joined).toMatchObject({ code: "closed" });
		await consumer.closed;
		expect(wire.sent.filter(isJoin), "no join after the interval's leave").toHaveLength(1);
		expect((await groupState(group)).members).toEqual([]);
		expect(consumer.memberId).toBeNull();
	});

	it.concurrent("a loop stuck on a record whose partition was taken meanwhile still leaves once the interval passes", {
		timeout: 60_000,
	}, async ({ expect }) => {
		const topic = uniqueTopic("poll-interval-taken");
		const group = uniqueTopic("g");
		await createTopic(topic, 2);
		await produce(
			topic,
			Array.from({ length: 5 }, (_, i) => ({ value: i, partition: 1 })),
		);
		// `range` in instance-id order: "a…" gets partition 0 and "z…" partition 1 once both are members.
		const options = { group, topics: [topic], from: "earliest" as const, waitMs: 50, strategy: "range" as const };
		const stuck = wiredClient().client.consumer({
			...options,
			instanceId: `a-${group}`,
			sessionTimeoutMs: 6_000, // its timer's heartbeat, every 2 s, follows the rebalance while the loop is stuck
			maxPollIntervalMs: 8_000,
		});
		const it = stuck[Symbol.asyncIterator]();
		expect(((await it.next()).value as ConsumerRecord).partition).toBe(1); // held, never moved past
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		const reading = (async () => {
			for await (const _ of other);
		})();
		// Partition 1, whose record the loop holds, is taken first: the record in hand is no longer this member's.
		await expect.poll(() => stuck.assignment, { timeout: 20_000 }).toEqual([{ topic, partition: 0 }]);
		// The loop is still stuck, so past the interval the member leaves and the other member gets both partitions.
		await expect.poll(() => other.assignment.length, { timeout: 20_000 }).toBe(2);
		expect(stuck.memberId, "left the group").toBeNull();
		await other.close();
		await reading;
		await stuck.close();
	});
});
