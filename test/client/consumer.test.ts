/**
 * The SDK's group consumer against the real Worker (inside workerd): members split a topic's partitions and a
 * third member rebalances them; commits follow the loop; closing (or `break`) mid-stream commits what was
 * handed out, so the next member starts exactly there and nothing is lost.
 */

import { describe, expect, it } from "vitest";
import type { Consumer, ConsumerRecord, TopicPartition } from "../../client/index.ts";
import { HEARTBEAT_SOON, latch } from "../support/consumer-fixtures.ts";
import { expire, forceMetadataRefresh } from "../support/group.ts";
import { uniqueTopic } from "../support/names.ts";
import { wiredClient } from "../support/sdk.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { call, createTopic, json, produce } from "../support/worker.ts";

interface GroupOffsets {
	offsets: { topic: string; partition: number; committed: number | null }[];
}

const names = (tps: TopicPartition[]) => tps.map((tp) => tp.partition).sort((a, b) => a - b);

async function fill(topic: string, count: number): Promise<void> {
	await produce(
		topic,
		Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: i })),
	);
}

/** Reads with `consumer` until `seen` holds `total` records; each loop ends when `stop` is set. */
async function drain(consumer: Consumer, seen: Map<string, ConsumerRecord>, total: number, onDone: () => void) {
	for await (const record of consumer) {
		seen.set(`${record.partition}/${record.offset}`, record);
		if (seen.size >= total) onDone();
	}
}

/**
 * A topic of `partitions` filled with `records`, and a consumer of it on a one-minute commit interval reading from
 * the earliest offset in polls of 10 (5 a partition of two).
 */
async function onInterval(name: string, partitions: number, records: number) {
	const topic = uniqueTopic(name);
	const group = uniqueTopic("g");
	await createTopic(topic, partitions);
	await fill(topic, records);
	const wire = wiredClient();
	const options = { group, topics: [topic], from: "earliest" as const, maxRecords: 10, waitMs: 50 };
	return { ...wire, topic, group, options, consumer: wire.client.consumer({ ...options, autoCommitIntervalMs: 60_000 }) };
}

describe("SDK consumer", { timeout: 60_000 }, () => {
	it("splits partitions between two members, and a third joining rebalances them", async () => {
		const topic = uniqueTopic("split");
		const group = uniqueTopic("g");
		await createTopic(topic, 6);
		const total = 600;
		await fill(topic, total);
		const { client } = wiredClient();
		const options = { group, topics: [topic], from: "earliest" as const, maxRecords: 20, waitMs: 50 };
		const assigned: TopicPartition[][] = [[], [], []];
		const consumers = [0, 1, 2].map((i) =>
			client.consumer({
				...options,
				onAssign: (tps) => {
					assigned[i]?.push(...tps);
				},
				onRevoke: (tps) => {
					assigned[i] = (assigned[i] ?? []).filter((a) => !tps.some((t) => t.partition === a.partition));
				},
			}),
		);
		const [a, b, c] = consumers as [Consumer, Consumer, Consumer];
		const ia = a[Symbol.asyncIterator]();
		const ib = b[Symbol.asyncIterator]();
		const ic = c[Symbol.asyncIterator]();
		const seen = new Map<string, ConsumerRecord>();
		const take = async (it: AsyncIterator<ConsumerRecord>) => {
			const next = await it.next();
			if (!next.done) seen.set(`${next.value.partition}/${next.value.offset}`, next.value);
		};

		await take(ia);
		expect(names(a.assignment)).toEqual([0, 1, 2, 3, 4, 5]);
		await take(ib);
		// a learns of the new generation at its next poll (after the records it holds are handed out).
		for (let i = 0; i < 25; i++) await take(ia);
		expect(a.assignment.length).toBe(3);
		expect(b.assignment.length).toBe(3);
		expect(names([...a.assignment, ...b.assignment])).toEqual([0, 1, 2, 3, 4, 5]);
		expect(names(assigned[0] ?? [])).toEqual(names(a.assignment));
		expect(names(assigned[1] ?? [])).toEqual(names(b.assignment));

		await take(ic);
		for (let i = 0; i < 25; i++) await Promise.all([take(ia), take(ib)]);
		expect([a, b, c].map((m) => m.assignment.length)).toEqual([2, 2, 2]);
		expect(names([...a.assignment, ...b.assignment, ...c.assignment])).toEqual([0, 1, 2, 3, 4, 5]);
		expect(names(assigned[2] ?? [])).toEqual(names(c.assignment));

		// Everyone reads on until the whole topic was seen; then all stop (commit what they processed and leave).
		const done = () => {
			for (const m of consumers) void m.stop();
		};
		const rest = async (it: AsyncIterator<ConsumerRecord>) => {
			for (;;) {
				const next = await it.next();
				if (next.done) return;
				seen.set(`${next.value.partition}/${next.value.offset}`, next.value);
				if (seen.size >= total) done();
			}
		};
		await Promise.all([rest(ia), rest(ib), rest(ic)]);
		// A loop whose close() came while its stop()'s leave ran onRevoke ends at once; `closed` settles once left.
		await Promise.all(consumers.map((m) => m.closed));
		expect(seen.size).toBe(total);
		const described = await json<GroupOffsets & { members: unknown[] }>("GET", `/v1/groups/${group}`, 200);
		expect(described.members).toEqual([]);
		expect(described.offsets.reduce((sum, o) => sum + (o.committed ?? 0), 0)).toBe(total);
	});

	it("loses nothing when a member breaks out mid-stream: the next one starts where it stopped", async () => {
		const topic = uniqueTopic("mid");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await fill(topic, 100);
		const { client } = wiredClient();
		const first: number[] = [];
		for await (const record of client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 })) {
			first.push(record.offset);
			if (first.length === 25) break; // the 25th was handed out: it counts as processed
		}
		expect(first).toEqual(Array.from({ length: 25 }, (_, i) => i));
		const afterBreak = await json<GroupOffsets & { members: unknown[] }>("GET", `/v1/groups/${group}`, 200);
		expect(afterBreak.members).toEqual([]);
		expect(afterBreak.offsets[0]?.committed).toBe(25);

		const second = new Map<string, ConsumerRecord>();
		const next = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		await drain(next, second, 75, () => void next.close());
		expect([...second.values()].map((r) => r.offset)).toEqual(Array.from({ length: 75 }, (_, i) => 25 + i));
		const end = await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200);
		expect(end.offsets[0]?.committed).toBe(100);
	});

	it("commits nothing on its own with autoCommit off; commit() commits what was handed out", async () => {
		const topic = uniqueTopic("manual");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await fill(topic, 10);
		const { client } = wiredClient();
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", autoCommit: false, waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 4; i++) await it.next();
		await consumer.commit();
		for (let i = 0; i < 3; i++) await it.next();
		await it.return?.();
		const described = await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200);
		expect(described.offsets[0]?.committed).toBe(4);
	});

	it("stops at the end of the log with stopWhenIdle, and leaves the group", async () => {
		const topic = uniqueTopic("idle");
		const group = uniqueTopic("g");
		await createTopic(topic, 3);
		await fill(topic, 30);
		const { client } = wiredClient();
		const got: number[] = [];
		for await (const r of client.consumer({ group, topics: [topic], from: "earliest", stopWhenIdle: true, waitMs: 50 }))
			got.push(r.value as number);
		expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
		const described = await json<GroupOffsets & { members: unknown[] }>("GET", `/v1/groups/${group}`, 200);
		expect(described.members).toEqual([]);
		expect(described.offsets.reduce((sum, o) => sum + (o.committed ?? 0), 0)).toBe(30);
	});

	it("join() before reading: members start on their final assignment", async () => {
		const topic = uniqueTopic("join");
		const group = uniqueTopic("g");
		await createTopic(topic, 4);
		await fill(topic, 40);
		const { client } = wiredClient();
		const members = [0, 1].map(() => client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 }));
		for (const m of members) await m.join();
		// Each member's first poll brings the generation both joins made.
		await Promise.all(members.map((m) => m[Symbol.asyncIterator]().next()));
		expect(members.map((m) => m.assignment.length)).toEqual([2, 2]);
		expect(names([...(members[0]?.assignment ?? []), ...(members[1]?.assignment ?? [])])).toEqual([0, 1, 2, 3]);
		await Promise.all(members.map((m) => m.close()));
	});
});

describe("SDK consumer commits and membership", { timeout: 30_000 }, () => {
	it("close() while join() is under way leaves the group once the join lands: no member is left heartbeating", async () => {
		const topic = uniqueTopic("joinclose");
		const group = uniqueTopic("g");
		await createTopic(topic, 2);
		const wire = wiredClient();
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const isJoin = (r: { method: string; path: string }) => r.method === "POST" && r.path.endsWith("/members");
		const releaseJoin = wire.hold(isJoin);
		// Rejected with closed (the race's own test is the next one): read now, so it is never an unhandled rejection.
		const joining = consumer.join().catch((error: unknown) => error);
		await expect.poll(() => wire.sent.some(isJoin), UNTIL_SEEN).toBe(true); // the join is in flight
		const closing = consumer.close();
		releaseJoin();
		await closing;
		expect(await joining).toMatchObject({ code: "closed" });
		const described = await json<{ members: unknown[] }>("GET", `/v1/groups/${group}`, 200);
		expect(described.members, "the closed consumer's member left").toEqual([]);
		expect(
			wire.sent.filter((r) => r.method === "DELETE"),
			"the member that landed left",
		).toHaveLength(1);
		expect(consumer.memberId).toBeNull();
	});

	it("join() racing close() rejects with closed, as join() after close() does: it does not return unjoined", async () => {
		const topic = uniqueTopic("joinraceclose");
		const group = uniqueTopic("g");
		await createTopic(topic, 2);
		const wire = wiredClient();
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const joining = consumer.join();
		const closing = consumer.close();
		await expect(joining).rejects.toMatchObject({ name: "TributaryError", code: "closed" });
		await closing;
		expect(consumer.memberId).toBeNull();
		// Closing before the join went out: none goes out (a member joined then would have to be left again).
		expect(wire.sent.filter((r) => r.method === "POST" && r.path.endsWith("/members"))).toEqual([]);
	});

	it("join() still under way when the loop starts is the loop's join too: one member, not two", async () => {
		const topic = uniqueTopic("joinloop");
		const group = uniqueTopic("g");
		await createTopic(topic, 2);
		await fill(topic, 10);
		const { client, sent } = wiredClient();
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const joining = consumer.join();
		const it = consumer[Symbol.asyncIterator]();
		await it.next();
		await joining;
		expect(sent.filter((r) => r.method === "POST" && r.path === `/v1/groups/${group}/members`)).toHaveLength(1);
		const described = await json<{ members: unknown[] }>("GET", `/v1/groups/${group}`, 200);
		expect(described.members).toHaveLength(1);
		await it.return?.();
	});

	it("reads on when a subscribed topic it has uncommitted records of is deleted", async () => {
		const [kept, doomed] = [uniqueTopic("kept"), uniqueTopic("doomed")];
		const group = uniqueTopic("g");
		await createTopic(kept, 1);
		await createTopic(doomed, 1);
		await fill(kept, 5);
		await fill(doomed, 5);
		const { client } = wiredClient();
		const consumer = client.consumer({ group, topics: [kept, doomed], from: "earliest", maxRecords: 100, waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 10; i++) await it.next();
		// The loop moved past every record of both topics; their commit rides on the next poll. The topic goes, and
		// the coordinator learns it (any member's call after its refresh interval) before that poll.
		expect((await call("DELETE", `/v1/topics/${doomed}`)).status).toBe(204);
		await forceMetadataRefresh(group);
		await json("POST", `/v1/groups/${group}/members/${consumer.memberId}/heartbeat`, 200);
		await produce(kept, [{ value: "after" }]);
		const next = await it.next();
		expect(next.value).toMatchObject({ topic: kept, offset: 5, value: "after" });
		await it.return?.();
		const end = await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200);
		expect(end.offsets.find((o) => o.topic === kept)?.committed).toBe(6);
	});

	it("commits with the next poll (one request per poll), and on close", async () => {
		const topic = uniqueTopic("carry");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await fill(topic, 30);
		const { client, sent } = wiredClient();
		const got: number[] = [];
		for await (const r of client.consumer({ group, topics: [topic], from: "earliest", maxRecords: 10, waitMs: 50 })) {
			got.push(r.offset);
			if (got.length === 25) break;
		}
		const ofGroup = sent.filter((s) => s.path.startsWith(`/v1/groups/${group}/`));
		const carried = ofGroup.filter((s) => s.path.endsWith("/poll")).map((s) => JSON.parse(s.body).commit?.offsets[0]?.offset);
		expect(carried).toEqual([undefined, 10, 20]);
		// The only commit of its own: what the loop moved past since the last poll, on close.
		expect(ofGroup.filter((s) => s.path.endsWith("/offsets")).map((s) => JSON.parse(s.body).offsets[0]?.offset)).toEqual([25]);
		expect((await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200)).offsets[0]?.committed).toBe(25);
	});

	it("with autoCommitIntervalMs, the broker commits on the interval; close commits the rest", async () => {
		const { client, sent, topic, group, consumer } = await onInterval("interval", 1, 40);
		const got: number[] = [];
		for await (const r of consumer) {
			got.push(r.offset);
			if (got.length === 35) {
				// The first auto-commit is due at once (none before it): the second poll committed the first's 10; then
				// none for a minute.
				expect((await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200)).offsets[0]?.committed).toBe(10);
				break;
			}
		}
		const ofGroup = sent.filter((s) => s.path.startsWith(`/v1/groups/${group}/`));
		const polls = ofGroup.filter((s) => s.path.endsWith("/poll")).map((s) => JSON.parse(s.body));
		expect(polls.map((b) => [b.auto_commit, b.auto_commit_interval_ms, b.commit])).toEqual(
			Array.from({ length: 4 }, () => [true, 60_000, undefined]),
		);
		expect(ofGroup.filter((s) => s.path.endsWith("/offsets")).map((s) => JSON.parse(s.body).offsets[0]?.offset)).toEqual([35]);
		expect((await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200)).offsets[0]?.committed).toBe(35);
		expect(() => client.consumer({ group, topics: [topic], autoCommitIntervalMs: -1 })).toThrow(/autoCommitIntervalMs/);
	});

	it("with autoCommitIntervalMs, a rebalance commits what the loop moved past: the new owner reads again one poll", async () => {
		const { client, sent, group, options, consumer: a } = await onInterval("interval-move", 2, 60);
		const it = a[Symbol.asyncIterator]();
		// Three polls of 5 records a partition: the second committed the first's (due at once), the third finds the
		// second's processed, and the loop moves past all of the third's.
		for (let i = 0; i < 30; i++) await it.next();
		expect(sent.filter((s) => s.path.endsWith(`/members/${a.memberId}/poll`))).toHaveLength(3);
		const b = client.consumer(options);
		await b.join();
		const moved = b.assignment;
		expect(moved).toHaveLength(1);
		const committed = new Map((await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200)).offsets.map((o) => [o.partition, o.committed]));
		// Committed up to what the second poll returned (10), not only the first (5): the third poll's records are
		// the only ones its new owner reads again.
		expect(committed.get(moved[0]?.partition as number)).toBe(10);
		const first = (await b[Symbol.asyncIterator]().next()).value as ConsumerRecord;
		expect([first.partition, first.offset]).toEqual([moved[0]?.partition, 10]);
		await Promise.all([a.close(), b.close()]);
	});

	it("with autoCommitIntervalMs, a member whose session expires leaves what its loop moved past committed", async () => {
		const { group, consumer: a } = await onInterval("interval-crash", 1, 40);
		const it = a[Symbol.asyncIterator]();
		for (let i = 0; i < 25; i++) await it.next();
		// The process dies with the third poll's records in hand: its session runs out.
		await expire(group, [a.memberId as string]);
		expect((await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200)).offsets[0]?.committed).toBe(20);
	});

	it("with autoCommitIntervalMs, a poll whose answer is lost is read again: nothing it held is committed", async () => {
		const { dropAnswer, consumer } = await onInterval("interval-lost", 1, 40);
		const it = consumer[Symbol.asyncIterator]();
		const got = new Set<number>();
		for (let i = 0; i < 20; i++) got.add(((await it.next()).value as ConsumerRecord).offset);
		// The third poll is served (its records move the member's position, and are its pending auto-commit) but its
		// answer never arrives: the consumer leaves and joins again, and must not have that poll committed by leaving.
		let polls = 0;
		dropAnswer((r) => r.path.endsWith("/poll") && ++polls === 1);
		for (let last = -1; last !== 39; ) {
			last = ((await it.next()).value as ConsumerRecord).offset;
			got.add(last);
		}
		expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
		await consumer.close();
	});

	it("with autoCommitIntervalMs, closing mid-poll commits what was handed out, not the rest of the poll", async () => {
		const { group, consumer } = await onInterval("interval-close", 2, 40);
		const handed = new Map<number, number>();
		// One poll of 5 records a partition: the loop leaves after 3, all from the poll's first partition.
		for await (const r of consumer) {
			handed.set(r.partition, r.offset + 1);
			if (handed.size === 1 && r.offset === 2) break;
		}
		const committed = (await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200)).offsets;
		expect(new Map(committed.map((o) => [o.partition, o.committed]))).toEqual(new Map([0, 1].map((p) => [p, handed.get(p) ?? null])));
	});

	it("a commit on close follows every rebalance in its way: other members leaving while it retries", async () => {
		const topic = uniqueTopic("close");
		const group = uniqueTopic("g");
		await createTopic(topic, 3);
		await fill(topic, 300);
		const { client, hold } = wiredClient();
		const [a, b, c] = Array.from({ length: 3 }, () =>
			client.consumer({ group, topics: [topic], from: "earliest", maxRecords: 10, waitMs: 50 }),
		) as [Consumer, Consumer, Consumer];
		for (const m of [a, b, c]) await m.join();
		const handed = new Map<number, number>();
		for (const m of [a, b, c]) {
			const it = m[Symbol.asyncIterator]();
			// Three records handed out: the loop moved past two, and the third, in hand at close, is not committed.
			for (let i = 0; i < 3; i++) {
				const r = (await it.next()).value as ConsumerRecord;
				handed.set(r.partition, r.offset);
			}
		}
		// b leaves: a's commit on close is refused (its generation is over), a follows the rebalance and sends it
		// again; that second commit waits until c has left too, which ends that generation as well.
		await b.close();
		let commitsOfA = 0;
		const release = hold((r) => r.path.endsWith("/offsets") && JSON.parse(r.body).member_id === a.memberId && ++commitsOfA === 2);
		const closingA = a.close();
		await expect.poll(() => commitsOfA, UNTIL_SEEN).toBe(2);
		await c.close();
		release();
		await closingA;
		const end = await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200);
		expect(new Map(end.offsets.map((o) => [o.partition, o.committed]))).toEqual(handed);
	});

	it("joins again when its group was deleted under it (group_not_found), and reads on from the commits", async () => {
		const topic = uniqueTopic("gone");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await fill(topic, 20);
		const { client } = wiredClient();
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", maxRecords: 5, waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 5; i++) await it.next();
		const first = consumer.memberId as string;
		// Its session ends and the (now empty) group is deleted with its commits.
		await expire(group, [first]);
		expect((await call("DELETE", `/v1/groups/${group}`)).status).toBe(204);
		const next = await it.next();
		expect(next.done).toBe(false);
		expect(consumer.memberId).not.toBe(first);
		// A new group from the earliest offset: the first records again (at-least-once), nothing skipped.
		expect(next.value?.offset).toBe(0);
		await it.return?.();
	});
});

/**
 * Polls and heartbeats are answered concurrently, each with the generation and assignment it saw; the consumer must
 * follow them in generation order, or an older assignment put back over a newer poll's skips that poll's records of
 * the partition it gave back: the broker has already moved its position past them.
 */
// Each test waits on heartbeat timers on its own topic, group and client: run together, the file waits about as long
// as the longest of them rather than all three in turn.
describe.concurrent("SDK consumer follows answers in generation order", { timeout: 60_000 }, () => {
	/** A topic of two partitions with 5 records each, and the options of a group reading it from the earliest offset. */
	async function twoPartitions(name: string) {
		const topic = uniqueTopic(name);
		await createTopic(topic, 2);
		await produce(
			topic,
			[0, 1].flatMap((partition) => Array.from({ length: 5 }, (_, i) => ({ value: i, partition }))),
		);
		const options = {
			group: uniqueTopic("g"),
			topics: [topic],
			from: "earliest" as const,
			maxRecords: 100,
			waitMs: 50,
			sessionTimeoutMs: 6_000,
			...HEARTBEAT_SOON, // the timer's heartbeat, which the tests wait for while a loop is slow, comes soon
		};
		return { topic, options };
	}

	/** Reads on until `partition`'s offset 9 is handed out (5 more records were produced to it), then closes. */
	async function readToTen(
		topic: string,
		group: string,
		iterator: AsyncIterator<ConsumerRecord>,
		seen: ConsumerRecord[],
		partition: number,
	) {
		await produce(
			topic,
			Array.from({ length: 5 }, (_, i) => ({ value: 5 + i, partition })),
		);
		for (let i = 0; i < 12 && !seen.some((r) => r.partition === partition && r.offset === 9); i++) {
			seen.push((await iterator.next()).value as ConsumerRecord);
		}
		await iterator.return?.();
		const offsets = seen.filter((r) => r.partition === partition).map((r) => r.offset);
		const committed = (await json<GroupOffsets>("GET", `/v1/groups/${group}`, 200)).offsets.find(
			(o) => o.partition === partition,
		)?.committed;
		return { offsets, committed };
	}

	it.for([0, 60_000])(
		"a heartbeat's follow still in a slow onRevoke does not undo the next poll's (autoCommitIntervalMs %i)",
		async (interval, { expect }) => {
			const { topic, options } = await twoPartitions("slowrevoke");
			const { client } = wiredClient();
			let revokeCalled!: (partitions: TopicPartition[]) => void;
			const firstRevoke = new Promise<TopicPartition[]>((resolve) => (revokeCalled = resolve));
			const [revokeReleased, releaseRevoke] = latch();
			let revokes = 0;
			const a = client.consumer({
				...options,
				autoCommitIntervalMs: interval,
				// The application's first revoke takes a while (it flushes, say).
				onRevoke: async (partitions) => {
					if (revokes++ > 0) return;
					revokeCalled(partitions);
					await revokeReleased;
				},
			});
			const iterator = a[Symbol.asyncIterator]();
			await iterator.next();
			expect(a.assignment).toHaveLength(2);
			// b joins: a gives a partition up, learnt by its heartbeat (its loop is slow on the first record), whose follow
			// waits in onRevoke.
			const b = client.consumer(options);
			await b.join();
			const [moved] = await firstRevoke;
			const other = moved?.partition as number;
			// b leaves again: the next poll's generation gives `other` back to a, read from its start. The loop polls while
			// onRevoke is under way, and hands out no record before it is done (as Kafka's poll() after its listener).
			await b.close();
			const seen: ConsumerRecord[] = [];
			const next = iterator.next();
			await expect.poll(() => a.assignment, { timeout: 20_000 }).toHaveLength(2);
			releaseRevoke();
			seen.push((await next).value as ConsumerRecord);
			while (seen.at(-1)?.partition !== other) seen.push((await iterator.next()).value as ConsumerRecord);
			expect(a.assignment).toHaveLength(2);
			expect(await readToTen(topic, options.group, iterator, seen, other)).toEqual({
				offsets: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
				committed: 10,
			});
		},
	);

	it("a heartbeat answered before a rebalance and received after the next poll's answer is ignored", async ({ expect }) => {
		const { topic, options } = await twoPartitions("staleanswer");
		const wire = wiredClient();
		const a = wire.client.consumer({ ...options, autoCommitIntervalMs: 60_000 });
		const b = wire.client.consumer(options);
		await a.join();
		await b.join();
		const seen: ConsumerRecord[] = [];
		const iterator = a[Symbol.asyncIterator]();
		seen.push((await iterator.next()).value as ConsumerRecord);
		expect(a.assignment).toHaveLength(1);
		const other = 1 - (a.assignment[0]?.partition as number);
		// The loop is slow on its first record: the heartbeat timer sends one, answered as of now (a owns one
		// partition), and that answer is slow to come back.
		const heartbeat = wire.delayAnswer((r) => r.path.endsWith(`/members/${a.memberId}/heartbeat`));
		await heartbeat.served;
		// b leaves: the next poll's generation gives both partitions to a.
		await b.close();
		do seen.push((await iterator.next()).value as ConsumerRecord);
		while (seen.at(-1)?.partition !== other);
		expect(a.assignment).toHaveLength(2);
		heartbeat.release();
		expect(await readToTen(topic, options.group, iterator, seen, other)).toEqual({
			offsets: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
			committed: 10,
		});
	});
});

describe("SDK consumer beforeCommit", { timeout: 30_000 }, () => {
	it("commits nothing once beforeCommit fails, so the records are delivered again", async () => {
		const topic = uniqueTopic("before");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await fill(topic, 10);
		const { client } = wiredClient();
		let commits = 0;
		const failing = client.consumer({
			group,
			topics: [topic],
			from: "earliest",
			waitMs: 50,
			maxRecords: 5,
			beforeCommit: () => {
				commits++;
				if (commits === 2) throw new Error("downstream write failed");
			},
		});
		const seen: number[] = [];
		await expect(
			(async () => {
				for await (const record of failing) seen.push(record.offset);
			})(),
		).rejects.toThrow("downstream write failed");
		expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
		const described = await json<GroupOffsets & { members: unknown[] }>("GET", `/v1/groups/${group}`, 200);
		expect(described.members).toEqual([]);
		expect(described.offsets[0]?.committed).toBe(5); // the first commit only
		const again: number[] = [];
		for await (const record of client.consumer({ group, topics: [topic], from: "earliest", stopWhenIdle: true, waitMs: 50 })) {
			again.push(record.offset);
		}
		expect(again).toEqual([5, 6, 7, 8, 9]);
	});
});
