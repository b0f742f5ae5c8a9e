/**
 * The SDK consumer's ways to stop against the real Worker (inside workerd): `close()` from outside the loop (a
 * SIGTERM handler) while a record is being processed commits only what the loop moved past, since the process may
 * die before it finishes that record; `stop()` waits for the record in hand and commits it. And a poll that fails
 * with a 5xx keeps what the loop had processed: it is committed under the member that joins again, not read again.
 */

import { describe, expect, it } from "vitest";
import type { Consumer, ConsumerRecord, TopicPartition } from "../../client/index.ts";
import { filled, HEARTBEAT_SOON } from "../support/consumer-fixtures.ts";
import { uniqueTopic } from "../support/names.ts";
import { wiredClient } from "../support/sdk.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { createTopic, json, produce } from "../support/worker.ts";

interface GroupState {
	members: unknown[];
	offsets: { partition: number; committed: number | null }[];
}

/** A gate the loop body waits at: `reached` resolves once it waits, `open()` lets it go on. */
function gate() {
	let reach!: () => void;
	let open!: () => void;
	const reached = new Promise<void>((resolve) => (reach = resolve));
	const opened = new Promise<void>((resolve) => (open = resolve));
	const wait = () => {
		reach();
		return opened;
	};
	return { reached, open, wait };
}

const groupState = (group: string) => json<GroupState>("GET", `/v1/groups/${group}`, 200);

describe("SDK consumer stopping from outside the loop", { timeout: 30_000 }, () => {
	it("close() while a record is being processed commits only the records the loop moved past", async () => {
		const { topic, group } = await filled("close-out", 10);
		const { client } = wiredClient();
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const busy = gate();
		const seen: number[] = [];
		const loop = (async () => {
			for await (const record of consumer) {
				seen.push(record.offset);
				if (record.offset === 4) await busy.wait(); // the handler of offset 4 is under way
			}
		})();
		await busy.reached;
		await consumer.close(); // a SIGTERM handler: the process may die before offset 4 is done
		const state = await groupState(group);
		expect(state.members).toEqual([]);
		expect(state.offsets[0]?.committed, "offset 4 was still being processed: it is delivered again").toBe(4);
		busy.open();
		await loop;
		expect(seen).toEqual([0, 1, 2, 3, 4]);
	});

	it("stop() waits for the record being processed, then commits it and leaves", async () => {
		const { topic, group } = await filled("stop", 10);
		const { client } = wiredClient();
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const busy = gate();
		const seen: number[] = [];
		let handled = false;
		const loop = (async () => {
			for await (const record of consumer) {
				seen.push(record.offset);
				if (record.offset === 4) {
					await busy.wait();
					handled = true;
				}
			}
		})();
		await busy.reached;
		let stoppedAfterHandling: boolean | null = null;
		const stopping = consumer.stop().then(() => (stoppedAfterHandling = handled));
		// While the handler runs, the member is still in the group and offset 4 is not committed.
		const during = await groupState(group);
		expect(during.members).toHaveLength(1);
		expect(during.offsets[0]?.committed).not.toBe(5);
		busy.open();
		await Promise.all([loop, stopping]);
		expect(stoppedAfterHandling).toBe(true);
		expect(seen).toEqual([0, 1, 2, 3, 4]);
		const after = await groupState(group);
		expect(after.members).toEqual([]);
		expect(after.offsets[0]?.committed).toBe(5);
	});

	it("stop() with no record in hand is close()", async () => {
		const { topic, group } = await filled("stop-idle", 3);
		const { client } = wiredClient();
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		await consumer.join();
		await consumer.stop();
		expect((await groupState(group)).members).toEqual([]);
		await expect(consumer.join()).rejects.toThrow(/closed/);
	});
});

describe("SDK consumer stop() while the record in hand is no longer this member's", { timeout: 30_000 }, () => {
	it("stop() waits for the loop to move past a record whose partition a rebalance took, then leaves", async () => {
		const topic = uniqueTopic("stop-taken");
		const group = uniqueTopic("g");
		await createTopic(topic, 2);
		await produce(
			topic,
			Array.from({ length: 3 }, (_, i) => ({ value: i, partition: 1 })),
		);
		// `range` in instance-id order: "a…" gets partition 0 and "z…" partition 1 once both are members.
		const options = { group, topics: [topic], from: "earliest" as const, waitMs: 50, strategy: "range" as const };
		const wire = wiredClient();
		const consumer = wire.client.consumer({ ...options, instanceId: `a-${group}` });
		const it = consumer[Symbol.asyncIterator]();
		expect(((await it.next()).value as ConsumerRecord).partition).toBe(1); // the loop body holds it
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		await other.join();
		// A commit follows the rebalance (refused, then a heartbeat): partition 1, whose record is in hand, is taken.
		const followed = async () => {
			await consumer.commit();
			return consumer.assignment;
		};
		await expect.poll(followed, { timeout: 20_000 }).toEqual([{ topic, partition: 0 }]);
		let movedOn = false;
		let stoppedAfterMoveOn: boolean | null = null;
		const stopping = consumer.stop().then(() => (stoppedAfterMoveOn = movedOn));
		// A whole request to the broker later, the loop body is still on its record: the member has not left.
		expect((await groupState(group)).members).toHaveLength(2);
		expect(wire.sent.filter((r) => r.method === "DELETE")).toEqual([]);
		movedOn = true;
		expect(await it.next()).toEqual({ done: true, value: undefined });
		await stopping;
		expect(stoppedAfterMoveOn, "stop() resolved once the loop had moved on").toBe(true);
		expect((await groupState(group)).members).toHaveLength(1);
		await other.close();
	});
});

describe("SDK consumer stop() called inside the loop, not awaited", { timeout: 20_000 }, () => {
	it("ends the loop once the body returns: the record in hand is committed and the member has left when the loop ends", async () => {
		const { topic, group } = await filled("stop-in-void", 10);
		const { client } = wiredClient();
		// The default session (45 s) is longer than this test may take: nothing may wait for it.
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const seen: number[] = [];
		for await (const record of consumer) {
			seen.push(record.offset);
			if (record.offset === 4) void consumer.stop();
		}
		expect(seen).toEqual([0, 1, 2, 3, 4]);
		const state = await groupState(group);
		expect(state.members).toEqual([]);
		expect(state.offsets[0]?.committed).toBe(5);
	});
});

describe("SDK consumer close() awaited inside the loop", { timeout: 20_000 }, () => {
	it("returns at once and ends the loop: what the loop moved past is committed, the record in hand is not, the member leaves once", async () => {
		const { topic, group } = await filled("close-in", 10);
		const wire = wiredClient();
		// The default session (45 s) is longer than this test may take: nothing may wait for it.
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const seen: number[] = [];
		for await (const record of consumer) {
			seen.push(record.offset);
			if (record.offset === 4) await consumer.close(); // a poison record: stop without counting it as done
		}
		expect(seen).toEqual([0, 1, 2, 3, 4]);
		const state = await groupState(group);
		expect(state.members).toEqual([]);
		expect(state.offsets[0]?.committed, "offset 4 was in hand: close() does not count it as processed").toBe(4);
		expect(wire.sent.filter((r) => r.method === "DELETE")).toHaveLength(1);
	});
});

// Each test waits out a whole session for a loop that never comes back, on its own topic and group: run together,
// the file waits for one session rather than two.
describe.concurrent("SDK consumer stop() from the loop itself", { timeout: 30_000 }, () => {
	// The shortest session the broker takes: stop() waits for the loop at most this long.
	const sessionTimeoutMs = 6_000;

	it("stop() awaited inside the loop does not wait for itself: it leaves within a session, the record in hand delivered again", async ({
		expect,
	}) => {
		const { topic, group } = await filled("stop-in", 10);
		const { client } = wiredClient();
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50, sessionTimeoutMs });
		const seen: number[] = [];
		for await (const record of consumer) {
			seen.push(record.offset);
			if (record.offset === 4) await consumer.stop();
		}
		expect(seen).toEqual([0, 1, 2, 3, 4]);
		const state = await groupState(group);
		expect(state.members).toEqual([]);
		expect(state.offsets[0]?.committed, "offset 4 was in hand when stop() gave up on the loop").toBe(4);
	});

	it("stop() on a hand-driven iterator never advanced again leaves within a session", async ({ expect }) => {
		const { topic, group } = await filled("stop-hand", 10);
		const { client } = wiredClient();
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50, sessionTimeoutMs });
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 3; i++) await it.next();
		await consumer.stop();
		const state = await groupState(group);
		expect(state.members).toEqual([]);
		expect(state.offsets[0]?.committed).toBe(2);
		expect(await it.next()).toEqual({ done: true, value: undefined });
	});
});

describe("SDK consumer stopped from its own rebalance callbacks", { timeout: 20_000 }, () => {
	it("stop() awaited in onAssign ends the loop at once: the member leaves, nothing is read", async () => {
		const { topic, group } = await filled("stop-on-assign", 3);
		const consumer: Consumer = wiredClient().client.consumer({
			group,
			topics: [topic],
			from: "earliest",
			waitMs: 50,
			onAssign: () => consumer.stop(),
		});
		const seen: number[] = [];
		for await (const record of consumer) seen.push(record.offset);
		expect(seen).toEqual([]);
		expect((await groupState(group)).members).toEqual([]);
	});

	it("close() awaited in onRevoke, a rebalance taking a partition, ends the loop; the other member reads on", async () => {
		const topic = uniqueTopic("close-on-revoke");
		const group = uniqueTopic("g");
		await createTopic(topic, 2);
		const options = { group, topics: [topic], from: "earliest" as const, waitMs: 50, strategy: "range" as const };
		const revoked: TopicPartition[][] = [];
		const consumer: Consumer = wiredClient().client.consumer({
			...options,
			instanceId: `a-${group}`,
			onRevoke: async (partitions) => {
				revoked.push(partitions);
				// Also from the revoke of the close this starts: that one joins the close under way.
				await consumer.close();
			},
		});
		await consumer.join();
		const loop = (async () => {
			for await (const _ of consumer);
		})();
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		await other.join();
		await loop;
		expect(revoked).toEqual([[{ topic, partition: 1 }], [{ topic, partition: 0 }]]);
		expect((await groupState(group)).members).toHaveLength(1);
		await other.close();
	});
});

describe("SDK consumer stop() or close() awaited in onRevoke", { timeout: 20_000 }, () => {
	// The callback waiting for the leave under way would be the callback waiting for itself.
	it.each(["stop", "close"] as const)(
		"%s() awaited in the onRevoke that its own leave runs returns: the member leaves once",
		async (method) => {
			const { topic, group } = await filled(`${method}-own-revoke`, 3);
			const revoked: TopicPartition[][] = [];
			const wire = wiredClient();
			const consumer: Consumer = wire.client.consumer({
				group,
				topics: [topic],
				from: "earliest",
				waitMs: 50,
				onRevoke: async (partitions) => {
					revoked.push(partitions);
					await consumer[method]();
				},
			});
			await consumer.join();
			await consumer[method]();
			expect(revoked).toEqual([[{ topic, partition: 0 }]]);
			expect((await groupState(group)).members).toEqual([]);
			expect(wire.sent.filter((r) => r.method === "DELETE")).toHaveLength(1);
		},
	);

	it("a rebalance's onRevoke awaiting stop() while the loop body is busy: that record is committed, the loop ends, the member leaves once", async () => {
		const topic = uniqueTopic("stop-in-revoke");
		const group = uniqueTopic("g");
		await createTopic(topic, 2);
		await produce(
			topic,
			Array.from({ length: 6 }, (_, i) => ({ value: i, partition: i % 2 })),
		);
		// `range` in instance-id order: "a…" keeps partition 0 and "z…" takes partition 1 once both are members.
		const options = { group, topics: [topic], from: "earliest" as const, waitMs: 50, strategy: "range" as const };
		const revoked: TopicPartition[][] = [];
		const wire = wiredClient();
		// The heartbeat's timer is what follows the rebalance while the loop body is busy.
		const consumer: Consumer = wire.client.consumer({
			...options,
			instanceId: `a-${group}`,
			...HEARTBEAT_SOON,
			onRevoke: async (partitions) => {
				revoked.push(partitions);
				await consumer.stop(); // a process told to shut down while a rebalance is under way
			},
		});
		const busy = gate();
		const seen: string[] = [];
		const loop = (async () => {
			for await (const record of consumer) {
				seen.push(`${record.partition}:${record.offset}`);
				if (record.partition === 0 && record.offset === 2) await busy.wait();
			}
		})();
		await busy.reached;
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		await other.join();
		await expect.poll(() => revoked.length, { timeout: 10_000 }).toBe(1);
		expect(revoked[0]).toEqual([{ topic, partition: 1 }]);
		// stop() waits for the record in hand: the member has not left yet.
		expect(wire.sent.filter((r) => r.method === "DELETE")).toEqual([]);
		busy.open();
		await loop;
		expect(seen).toContain("0:2");
		expect(revoked).toEqual([[{ topic, partition: 1 }], [{ topic, partition: 0 }]]);
		const state = await groupState(group);
		expect(state.members).toHaveLength(1);
		expect(state.offsets.find((o) => o.partition === 0)?.committed, "the record in hand when stop() was called was handled").toBe(3);
		expect(wire.sent.filter((r) => r.method === "DELETE")).toHaveLength(1);
		await other.close();
	});
});

describe("SDK consumer stop() and close() together", { timeout: 20_000 }, () => {
	it("close() while stop() waits for the loop ends that wait: stop() resolves with the close", async () => {
		const { topic, group } = await filled("stop-close", 5);
		const { client } = wiredClient();
		// The default session (45 s) is longer than this test may take: stop() must not wait it out.
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		await it.next();
		const stopping = consumer.stop();
		await consumer.close();
		await stopping;
		const state = await groupState(group);
		expect(state.members).toEqual([]);
		expect(state.offsets[0]?.committed ?? null, "the record in hand is delivered again").toBeNull();
	});
});

describe("SDK consumer stop() after close()", { timeout: 20_000 }, () => {
	it("stop() after a close() from outside, the loop still on its record, resolves with that close", async () => {
		const { topic, group } = await filled("close-stop", 5);
		const { client } = wiredClient();
		// The default session (45 s) is longer than this test may take: stop() must not wait it out.
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		await it.next();
		await consumer.close();
		await consumer.stop();
		expect((await groupState(group)).members).toEqual([]);
		expect(await it.next()).toEqual({ done: true, value: undefined });
	});
});

describe("SDK consumer recovering from a 5xx", { timeout: 30_000 }, () => {
	it("keeps the records it processed when a poll fails: the member that joins again commits them, and reads on", async () => {
		const { topic, group } = await filled("recover", 20);
		const wire = wiredClient();
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", maxRecords: 10, waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		const seen: number[] = [];
		for (let i = 0; i < 10; i++) seen.push(((await it.next()).value as ConsumerRecord).offset);
		const first = consumer.memberId;
		// The poll carrying the commit of those 10 fails before the broker serves it: nothing of it is written.
		wire.failUnserved((r) => r.path.endsWith("/poll"));
		for (let i = 0; i < 10; i++) seen.push(((await it.next()).value as ConsumerRecord).offset);
		expect(consumer.memberId).not.toBe(first);
		expect(seen, "no record is read again").toEqual(Array.from({ length: 20 }, (_, i) => i));
		await it.return?.();
		expect((await groupState(group)).offsets[0]?.committed).toBe(20);
	});
	it("a recovery does not commit backwards: another member moved the partition's commit past what it processed meanwhile", async () => {
		const { topic, group } = await filled("recover-behind", 20);
		const wire = wiredClient();
		const options = { group, topics: [topic], from: "earliest" as const, maxRecords: 10, waitMs: 50 };
		const consumer = wire.client.consumer({ ...options, stopWhenIdle: true });
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 10; i++) await it.next();
		// Its next poll fails, it leaves, and its join again waits while another member reads the whole partition.
		wire.failUnserved((r) => r.path.endsWith("/poll"));
		const isJoin = (r: { method: string; path: string }) => r.method === "POST" && r.path === `/v1/groups/${group}/members`;
		const release = wire.hold(isJoin);
		const pending = it.next();
		await expect.poll(() => wire.sent.filter(isJoin).length, UNTIL_SEEN).toBe(2);
		const other = wiredClient().client.consumer({ ...options, stopWhenIdle: true });
		const otherSeen: number[] = [];
		for await (const record of other) otherSeen.push(record.offset);
		expect(otherSeen).toEqual(Array.from({ length: 20 }, (_, i) => i));
		expect((await groupState(group)).offsets[0]?.committed).toBe(20);
		release();
		const after = await pending;
		expect(after.done ? null : after.value?.offset, "nothing is read again").toBeNull();
		expect((await groupState(group)).offsets[0]?.committed).toBe(20);
	});
	it("without autoCommit, commit() after a recovery does not move back a commit another member moved on meanwhile", async () => {
		const { topic, group } = await filled("recover-manual", 20);
		const wire = wiredClient();
		const options = { group, topics: [topic], from: "earliest" as const, maxRecords: 10, waitMs: 50 };
		const consumer = wire.client.consumer({ ...options, autoCommit: false });
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 10; i++) await it.next();
		wire.failUnserved((r) => r.path.endsWith("/poll"));
		const isJoin = (r: { method: string; path: string }) => r.method === "POST" && r.path === `/v1/groups/${group}/members`;
		const release = wire.hold(isJoin);
		const pending = it.next(); // moves past offset 9, then its poll fails and it joins again (held)
		await expect.poll(() => wire.sent.filter(isJoin).length, UNTIL_SEEN).toBe(2);
		for await (const _ of wiredClient().client.consumer({ ...options, stopWhenIdle: true }));
		expect((await groupState(group)).offsets[0]?.committed).toBe(20);
		const polls = () => wire.sent.filter((r) => r.path.endsWith("/poll")).length;
		const pollsBefore = polls();
		release();
		await expect.poll(polls, UNTIL_SEEN).toBeGreaterThan(pollsBefore); // joined again and polling, finding nothing past 20
		await consumer.commit();
		expect((await groupState(group)).offsets[0]?.committed).toBe(20);
		await consumer.close();
		expect(await pending).toEqual({ done: true, value: undefined });
	});
});

describe("SDK consumer joining", { timeout: 30_000 }, () => {
	it("a join whose answer is lost is retried as the same member: no ghost member holds partitions", async () => {
		const { topic, group } = await filled("join-lost", 4);
		const wire = wiredClient();
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		wire.dropAnswer((r) => r.method === "POST" && r.path === `/v1/groups/${group}/members`);
		await consumer.join();
		const joins = wire.sent.filter((r) => r.method === "POST" && r.path === `/v1/groups/${group}/members`);
		expect(joins).toHaveLength(2);
		const members = (await json<{ members: { member_id: string }[] }>("GET", `/v1/groups/${group}`, 200)).members;
		expect(members.map((m) => m.member_id)).toEqual([consumer.memberId]);
		await consumer.close();
	});
});

/**
 * A joined consumer whose onRevoke waits on `revoking` (a slow flush) and whose leave's DELETE is held until
 * `releaseLeave()`: a shutdown's leave can be stopped inside its onRevoke, then after it.
 */
async function slowRevokeOnLeave(name: string) {
	const { topic, group } = await filled(name, 3);
	const wire = wiredClient();
	const revoking = gate();
	const consumer: Consumer = wire.client.consumer({
		group,
		topics: [topic],
		from: "earliest",
		waitMs: 50,
		onRevoke: () => revoking.wait(),
	});
	await consumer.join();
	const isLeave = (r: { method: string }) => r.method === "DELETE";
	const releaseLeave = wire.hold(isLeave);
	return { group, wire, revoking, consumer, isLeave, releaseLeave };
}

describe("SDK consumer stop() while the leave runs onRevoke", { timeout: 20_000 }, () => {
	it("returns at once from anywhere while that onRevoke runs, and a stop() once it returned waits for the member to leave", async () => {
		const { group, wire, revoking, consumer, isLeave, releaseLeave } = await slowRevokeOnLeave("stop-during-leave-revoke");
		const events: string[] = [];
		const closing = consumer.close().then(() => events.push("left")); // SIGTERM's shutdown
		await revoking.reached;
		// SIGINT's: no async context tells it from a stop() awaited in that onRevoke, which must not wait for itself.
		await consumer.stop();
		expect(wire.sent.filter(isLeave), "it returned before the member left").toEqual([]);
		revoking.open();
		await expect.poll(() => wire.sent.filter(isLeave).length, UNTIL_SEEN).toBe(1);
		// The onRevoke returned, the leave's DELETE is under way: this stop() is not the one that returned at once.
		const stopping = consumer.stop().then(() => events.push("stopped"));
		releaseLeave();
		await Promise.all([closing, stopping]);
		expect(events).toEqual(["left", "stopped"]);
		expect((await groupState(group)).members).toEqual([]);
	});
});

describe("SDK consumer.closed", { timeout: 20_000 }, () => {
	it("settles once the member has left, for a second shutdown hook whose stop() returned at once during the leave's onRevoke", async () => {
		const { group, wire, revoking, consumer, isLeave, releaseLeave } = await slowRevokeOnLeave("closed-during-leave-revoke");
		const first = consumer.close(); // SIGTERM's hook
		await revoking.reached;
		await consumer.stop(); // SIGINT's hook: returns at once, the member not left yet
		let settled = false;
		const closed = consumer.closed.then(() => (settled = true));
		revoking.open();
		await expect.poll(() => wire.sent.filter(isLeave).length, UNTIL_SEEN).toBe(1);
		expect(settled, "the leave's DELETE is held: the member has not left yet").toBe(false);
		releaseLeave();
		await closed;
		expect((await groupState(group)).members).toEqual([]);
		await first;
	});

	it("resolves after break and after close(), the same promise each time it is read", async () => {
		const { topic, group } = await filled("closed-break", 3);
		const consumer = wiredClient().client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		expect(consumer.closed).toBe(consumer.closed);
		for await (const _ of consumer) break;
		await expect(consumer.closed).resolves.toBeUndefined();
		expect((await groupState(group)).members).toEqual([]);
		const idle = wiredClient().client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		await idle.close();
		await expect(idle.closed).resolves.toBeUndefined();
	});

	// A throw in the loop's own body ends the loop, and the loop (the caller's code) throws it; the consumer only sees
	// its iterator's return(), as for `break`, which carries no error: `closed` resolves, as a web stream reader's does.
	it("resolves when the loop's own body throws, which the loop rethrows; the member has left", async () => {
		const { topic, group } = await filled("closed-body-throws", 3);
		const failure = new Error("the body failed");
		const consumer = wiredClient().client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		await expect(
			(async () => {
				for await (const _ of consumer) throw failure;
			})(),
		).rejects.toBe(failure);
		await expect(consumer.closed).resolves.toBeUndefined();
		expect((await groupState(group)).members).toEqual([]);
	});

	it("rejects with the error that ended the loop, once the member has left; unread, it is no unhandled rejection", async () => {
		const { topic, group } = await filled("closed-fatal", 3);
		const failure = new Error("onAssign failed");
		const failing = () =>
			wiredClient().client.consumer({
				group,
				topics: [topic],
				from: "earliest",
				waitMs: 50,
				onAssign: () => {
					throw failure;
				},
			});
		const loop = async (consumer: ReturnType<typeof failing>) => {
			for await (const _ of consumer);
		};
		const consumer = failing();
		await expect(loop(consumer)).rejects.toBe(failure);
		await expect(consumer.closed).rejects.toBe(failure);
		expect((await groupState(group)).members).toEqual([]);
		// A consumer nobody asks `closed` of: its rejection must not reach the process as unhandled (vitest fails on one).
		await expect(loop(failing())).rejects.toBe(failure);
	});
});
