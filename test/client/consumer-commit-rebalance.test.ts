/**
 * What the SDK consumer's `commit()` does with the partitions it lost, against the real Worker (inside workerd), as
 * Java's KafkaConsumer does: after an ordinary rebalance (Java's `commitSync()` after the poll that completed it) it
 * commits the partitions still owned and drops the taken ones' offsets without an error; after a leave on
 * `maxPollIntervalMs`, or once its membership is gone (session expired, removed: Java's `CommitFailedException`), it
 * is refused, and nothing is committed. The commit of a leave's `onRevoke` (Kafka's pattern) is stored, a recovery's
 * from a lost poll answer too, whatever close() comes meanwhile; a join() meanwhile returns joined again.
 */

import { describe, expect, it } from "vitest";
import type { ConsumerRecord } from "../../client/index.ts";
import { handedBoth, latch } from "../support/consumer-fixtures.ts";
import { expire } from "../support/group.ts";
import { uniqueTopic } from "../support/names.ts";
import { wiredClient } from "../support/sdk.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { call, createTopic, json, produce } from "../support/worker.ts";

interface GroupState {
	members: unknown[];
	offsets: { partition: number; committed: number | null }[];
}

/** The committed offsets of partitions 0 and 1 (null: none; a group with no member lists none). */
async function committed(group: string): Promise<(number | null)[]> {
	const { offsets } = await json<GroupState>("GET", `/v1/groups/${group}`, 200);
	return [0, 1].map((partition) => offsets.find((o) => o.partition === partition)?.committed ?? null);
}

describe("SDK consumer commit() of partitions it lost", { timeout: 30_000 }, () => {
	it("after an ordinary rebalance: commits the partitions it still owns, drops the taken one's offsets, no error", async () => {
		const { topic, group, options, consumer, it } = await handedBoth("commit-rebalanced");
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		await other.join();
		expect(other.assignment).toEqual([{ topic, partition: 1 }]);
		await consumer.commit(); // refused for the old generation, it follows the rebalance and commits again
		expect(consumer.assignment).toEqual([{ topic, partition: 0 }]);
		expect(await committed(group)).toEqual([2, null]);
		await other.close();
		await consumer.close();
		expect(await it.next()).toEqual({ done: true, value: undefined });
	});

	it("after a leave on maxPollIntervalMs: refused with rebalance_in_progress, nothing committed", async () => {
		const { group, consumer, it } = await handedBoth("commit-left", { maxPollIntervalMs: 300 });
		await expect.poll(() => consumer.memberId, { timeout: 20_000 }).toBeNull();
		const refused = await consumer.commit().catch((error: unknown) => error);
		expect(refused).toMatchObject({ name: "TributaryError", code: "rebalance_in_progress" });
		expect(await committed(group)).toEqual([null, null]);
		await consumer.close();
		expect(await it.next()).toEqual({ done: true, value: undefined });
	});

	it("a leave's onRevoke commits what was handed out (Kafka's commit in onPartitionsRevoked)", async () => {
		let consumer: { commit(): Promise<void> } | null = null;
		const handed = await handedBoth("commit-in-revoke", { onRevoke: () => consumer?.commit() });
		consumer = handed.consumer;
		await handed.it.return(undefined); // as `break`: moves past the record in hand, then leaves
		// A member to list the group's offsets (a group with none lists none).
		const next = wiredClient().client.consumer(handed.options);
		await next.join();
		expect(await committed(handed.group)).toEqual([2, 2]);
		await next.close();
	});
});

/** What `promise` rejects with (null if it resolves). */
const refusal = (promise: Promise<unknown>) =>
	promise.then(
		() => null,
		(error: unknown) => error,
	);

/** The refusal of a commit whose membership is gone: Kafka's CommitFailedException, in the code of the leave above. */
const lostCommit = {
	name: "TributaryError",
	code: "rebalance_in_progress",
	retriable: false,
	message: expect.stringMatching(/not stored.*delivered again/),
};

describe("SDK consumer commit() after its membership is gone", { timeout: 30_000 }, () => {
	it("expired (session): refused with rebalance_in_progress, in onRevoke too, until the loop's next record; nothing committed", async () => {
		const revokeCommits: unknown[] = [];
		let consumer: { commit(): Promise<void> } | null = null;
		const onRevoke = async () => void revokeCommits.push(await refusal(consumer?.commit() ?? Promise.resolve()));
		const handed = await handedBoth("commit-expired", { onRevoke });
		({ consumer } = handed);
		const { group, it: records } = handed;
		await expire(group, [handed.consumer.memberId as string]);
		// The commit learns of it (unknown_member): the offsets it carried are not stored.
		expect(await refusal(handed.consumer.commit())).toMatchObject(lostCommit);
		expect(await committed(group)).toEqual([null, null]);
		// Still refused before the loop moves on: the records handed out in the lost membership are not committed.
		expect(await refusal(handed.consumer.commit())).toMatchObject(lostCommit);
		const again = (await records.next()).value as ConsumerRecord;
		// onRevoke (the partitions lost) ran before the next record: its commit was refused as well.
		expect(revokeCommits).toEqual([expect.objectContaining(lostCommit)]);
		expect(again.offset, "read again from the last commit").toBe(0);
		await handed.consumer.commit(); // the new membership's record in hand
		expect((await committed(group))[again.partition]).toBe(1);
		await handed.consumer.close();
	});

	it("removed, seen by the heartbeat: refused with rebalance_in_progress; nothing committed", async () => {
		const { topic, group, consumer } = await handedBoth("commit-removed", { sessionTimeoutMs: 6_000 });
		const member = consumer.memberId as string;
		expect((await call("DELETE", `/v1/groups/${group}/members/${member}?auto_commit=false`)).ok).toBe(true);
		// The heartbeat timer (a third of the session) finds the member gone while the loop body holds its record.
		await expect.poll(() => consumer.memberId, { timeout: 10_000, interval: 50 }).toBeNull();
		const refused = await refusal(consumer.commit());
		expect(refused).toMatchObject(lostCommit);
		// The offsets not stored: past every record handed out, the one in hand included.
		const offsets = (refused as { details: { offsets: { partition: number }[] } }).details.offsets;
		expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([0, 1].map((partition) => ({ topic, partition, offset: 2 })));
		expect(await committed(group)).toEqual([null, null]);
		await consumer.close();
	});

	it("with autoCommit: the loop reads on from the last commit, and close() resolves, without an error", async () => {
		const { group, consumer, it: records } = await handedBoth("commit-expired-auto", { autoCommit: true });
		await expire(group, [consumer.memberId as string]);
		expect(((await records.next()).value as ConsumerRecord).offset, "read again from the last commit").toBe(0);
		await expire(group, [consumer.memberId as string]);
		expect(await refusal(consumer.close())).toBeNull();
		expect(await refusal(consumer.closed)).toBeNull();
	});
});

describe("SDK consumer commit()s at once whose heartbeat finds the membership gone", { timeout: 30_000 }, () => {
	const isHeartbeat = (r: { method: string; path: string }) => r.method === "POST" && r.path.endsWith("/heartbeat");

	it("each is refused as a lost membership's commit, also the one whose heartbeat is answered after the other dropped the member", async () => {
		const { group, options, wire, consumer } = await handedBoth("commits-heartbeat-gone");
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		await other.join(); // the generation moves on: both commits are refused, and each heartbeats to follow it
		const member = consumer.memberId as string;
		// The member is removed before its heartbeats are served: each is answered unknown_member.
		wire.beforeServing(isHeartbeat, () => call("DELETE", `/v1/groups/${group}/members/${member}?auto_commit=false`));
		const release = wire.hold(isHeartbeat);
		const sent = wire.sent.length;
		const commits = [refusal(consumer.commit()), refusal(consumer.commit())];
		await expect.poll(() => wire.sent.slice(sent).filter(isHeartbeat).length, UNTIL_SEEN).toBe(2);
		release();
		const refused = await Promise.all(commits);
		expect(refused[0]).toMatchObject(lostCommit);
		expect(refused[1]).toMatchObject(lostCommit);
		expect(await committed(group)).toEqual([null, null]);
		await consumer.close();
		await other.close();
	});
});

describe("SDK consumer: a poll answered for a membership lost while it was under way", { timeout: 30_000 }, () => {
	it("its records are dropped, not handed out under the membership joined meanwhile: the loop reads from the last commit", async () => {
		const topic = uniqueTopic("poll-outlived");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await produce(topic, [{ value: 0 }, { value: 1 }]);
		const wire = wiredClient();
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50, autoCommit: false });
		const records = consumer[Symbol.asyncIterator]();
		for (const offset of [0, 1]) expect(((await records.next()).value as ConsumerRecord).offset).toBe(offset);
		await produce(topic, [{ value: 2 }, { value: 3 }]);
		// The loop's next poll reads offsets 2 and 3 on the broker; its answer comes back only once released.
		const held = wire.delayAnswer((r) => r.method === "POST" && r.path.endsWith("/poll"));
		const next = records.next();
		await held.served;
		await expire(group, [consumer.memberId as string]);
		// A commit learns the membership is gone (unknown_member); join() takes a new one before the poll answers.
		expect(await refusal(consumer.commit())).toMatchObject(lostCommit);
		await consumer.join();
		held.release();
		const record = (await next).value as ConsumerRecord;
		expect(record.offset, "read again from the last commit (none: earliest), not the lost membership's 2").toBe(0);
		await consumer.close();
	});
});

describe("SDK consumer commit() once closed", { timeout: 30_000 }, () => {
	/** Java's commitSync() after close() throws IllegalStateException; kafkajs's commitOffsets() after stop() rejects. */
	const closed = { name: "TributaryError", code: "closed" };

	it("after break, stop() or close(): rejects with closed, also with nothing to commit; the leave's onRevoke still commits", async () => {
		let consumer: { commit(): Promise<void> } | null = null;
		const handed = await handedBoth("commit-closed", { onRevoke: () => consumer?.commit() });
		consumer = handed.consumer;
		await handed.it.return(undefined); // as `break`
		expect(await refusal(handed.consumer.commit())).toMatchObject(closed);
		expect(await refusal(handed.consumer.stop())).toBeNull();
		expect(await refusal(handed.consumer.commit())).toMatchObject(closed);
		const next = wiredClient().client.consumer(handed.options);
		await next.join();
		expect(await committed(handed.group), "the onRevoke of the leave committed").toEqual([2, 2]);
		await next.close();
		expect(await refusal(next.commit())).toMatchObject(closed);
	});

	it("a commit() of the loop body while a stop() from outside waits for it is stored; one after the stop is refused", async () => {
		const { group, consumer, it: records } = await handedBoth("commit-stopping");
		const stopped = consumer.stop(); // waits for the loop to move past the record in hand
		await consumer.commit();
		expect(await committed(group)).toEqual([2, 2]);
		expect(await records.next()).toEqual({ done: true, value: undefined });
		await stopped;
		expect(await refusal(consumer.commit())).toMatchObject(closed);
	});
});

describe("SDK consumer commit() around a recovery from a lost poll answer", { timeout: 30_000 }, () => {
	const isPoll = (r: { method: string; path: string }) => r.method === "POST" && r.path.endsWith("/poll");

	it("onRevoke's commit() (Kafka's pattern) is not refused: it stores what the loop moved past under the member leaving; the loop reads on", async () => {
		let consumer: { commit(): Promise<void> } | null = null;
		const handed = await handedBoth("commit-recovery-revoke", { onRevoke: () => consumer?.commit() });
		({ consumer } = handed);
		const { topic, group, wire, it: records } = handed;
		await produce(topic, [{ value: 2, partition: 0 }]);
		// The loop's next poll reads offset 2 on the broker, and its answer is lost: the consumer leaves and joins again.
		wire.dropAnswer(isPoll);
		const again = (await records.next()).value as ConsumerRecord;
		expect(`${again.partition}:${again.offset}`, "read on from the commit onRevoke stored").toBe("0:2");
		expect(await committed(group)).toEqual([2, 2]);
		await handed.consumer.close();
	});

	it("a commit() from outside the loop while it joins again waits for the new member and stores what it got back", async () => {
		const { topic, group, wire, consumer, it: records } = await handedBoth("commit-recovery-outside");
		await produce(topic, [{ value: 2, partition: 0 }]);
		wire.dropAnswer(isPoll);
		const rejoin = wire.hold((r) => r.method === "POST" && r.path === `/v1/groups/${group}/members`);
		const next = records.next();
		await expect.poll(() => consumer.memberId, { timeout: 10_000, interval: 20 }).toBeNull();
		const commit = refusal(consumer.commit());
		rejoin();
		expect(await commit).toBeNull();
		expect(await committed(group)).toEqual([2, 2]);
		expect(((await next).value as ConsumerRecord).offset).toBe(2);
		await consumer.close();
	});

	it("a commit() refused because the member the recovery dropped is gone does not refuse the next one, which waits for the new member", async () => {
		let first: Promise<unknown> | null = null;
		let handed: Awaited<ReturnType<typeof handedBoth>> | null = null;
		const onRevoke = () => {
			// The recovery's: a commit() not awaited here, sent under the member that is about to leave.
			if (handed !== null && first === null) first = refusal(handed.consumer.commit());
		};
		handed = await handedBoth("commit-recovery-refused-gone", { onRevoke });
		const { topic, group, wire, consumer, it: records } = handed;
		await produce(topic, [{ value: 2, partition: 0 }]);
		const member = consumer.memberId as string;
		const isCommit = (r: { method: string; path: string }) => r.method === "POST" && r.path.endsWith("/offsets");
		const removing = gate();
		let commits = 0;
		// That commit is served once the member was removed (after the recovery dropped it): it is refused as gone.
		wire.beforeServing(
			(r) => isCommit(r) && ++commits === 1,
			async () => {
				await removing.opened;
				await call("DELETE", `/v1/groups/${group}/members/${member}?auto_commit=false`);
			},
		);
		const releaseLeave = wire.hold((r) => r.method === "DELETE");
		wire.dropAnswer(isPoll);
		const next = records.next();
		await expect.poll(() => wire.sent.some((r) => r.method === "DELETE"), UNTIL_SEEN).toBe(true);
		expect(consumer.memberId, "the recovery dropped the member; its leave is held").toBeNull();
		removing.open();
		expect(await first).toMatchObject({ code: "rebalance_in_progress" });
		const second = refusal(consumer.commit());
		releaseLeave();
		expect(await second, "what the recovery kept is stored by the new member, not refused").toBeNull();
		expect(await committed(group)).toEqual([2, 2]);
		expect(((await next).value as ConsumerRecord).offset).toBe(2);
		await consumer.close();
	});
});

describe("SDK consumer recovering from a lost poll answer, a rebalance followed during its onRevoke", { timeout: 30_000 }, () => {
	const isPoll = (r: { method: string; path: string }) => r.method === "POST" && r.path.endsWith("/poll");

	for (const by of ["the loop", "join()"] as const) {
		it(`${by} joins again once that onRevoke returned; the rebalance's callback, the leaving member's, never runs`, async () => {
			const revoked: number[][] = [];
			const commits: unknown[] = [];
			const joinsBeside: number[] = [];
			const recovering = gate();
			const committing = gate();
			let handed: Awaited<ReturnType<typeof handedBoth>> | null = null;
			const onRevoke = async (tps: { partition: number }[]) => {
				revoked.push(tps.map((tp) => tp.partition));
				if (handed === null) return;
				const { consumer, wire, group } = handed;
				if (tps.length === 2) {
					// The recovery's: its commit() is refused for the generation the other member's join ended, and
					// follows the new one, which queues the rebalance's onRevoke([1]) behind this recovery, for the member
					// that leaves: this onRevoke was given partition 1 already, so that one must not run.
					recovering.open();
					await committing.opened;
					commits.push(await refusal(consumer.commit()));
					return;
				}
				const sent = wire.sent.length;
				// Real round trips: a join sent meanwhile would run beside this callback.
				for (let i = 0; i < 2; i++) await json<GroupState>("GET", `/v1/groups/${group}`, 200);
				const isJoin = (r: { method: string; path: string }) => r.method === "POST" && r.path === `/v1/groups/${group}/members`;
				joinsBeside.push(wire.sent.slice(sent).filter(isJoin).length);
			};
			handed = await handedBoth(`recovery-queued-${by === "join()" ? "join" : "loop"}`, { onRevoke });
			const { topic, group, options, wire, consumer, it: records } = handed;
			await produce(topic, [{ value: 2, partition: 0 }]);
			const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
			await other.join(); // takes partition 1
			// The loop's next poll is served and its answer lost: the recovery runs onRevoke([0, 1]) before its leave.
			wire.dropAnswer(isPoll);
			const next = records.next();
			await recovering.opened;
			const joined = by === "join()" ? consumer.join() : null;
			committing.open();
			await joined;
			const again = (await next).value as ConsumerRecord;
			expect(`${again.partition}:${again.offset}`, "read on from the commit the recovery's onRevoke stored").toBe("0:2");
			expect(revoked, "partition 1 revoked once, by the recovery's onRevoke").toEqual([[0, 1]]);
			expect(commits).toEqual([null]);
			expect(joinsBeside, "the rebalance's onRevoke never ran (no join beside it either)").toEqual([]);
			await consumer.close();
			await other.close();
		});
	}
});

/** A promise to await, and the function that resolves it. */
/** The recovery's one `onRevoke` ran and its one `commit()` was stored: the group's next member finds [2, 2] committed. */
async function storedOnce(handed: Pick<Awaited<ReturnType<typeof handedBoth>>, "group" | "options">, commits: unknown[], revokes: number) {
	expect(commits).toEqual([null]);
	expect(revokes, "onRevoke ran once").toBe(1);
	const next = wiredClient().client.consumer(handed.options);
	await next.join();
	expect(await committed(handed.group)).toEqual([2, 2]);
	await next.close();
}

function gate(): { opened: Promise<void>; open: () => void } {
	const [opened, open] = latch();
	return { opened, open };
}

describe("SDK consumer closing or joining while it recovers from a lost poll answer", { timeout: 30_000 }, () => {
	const isPoll = (r: { method: string; path: string }) => r.method === "POST" && r.path.endsWith("/poll");

	/** A member handed all four records whose `onRevoke` (the recovery's) signals `started`, waits for `release`, then runs `then`. */
	async function recovering(name: string, then: (consumer: { commit(): Promise<void>; close(): Promise<void> }) => Promise<void>) {
		const started = gate();
		const release = gate();
		let revokes = 0;
		let consumer: { commit(): Promise<void>; close(): Promise<void> } | null = null;
		const onRevoke = async () => {
			revokes++;
			started.open();
			await release.opened;
			if (consumer !== null) await then(consumer);
		};
		const handed = await handedBoth(name, { onRevoke });
		({ consumer } = handed);
		// The loop's next poll is served and its answer lost: the recovery runs onRevoke, then leaves and joins again.
		handed.wire.dropAnswer(isPoll);
		const next = handed.it.next();
		await started.opened;
		return { ...handed, next, release: release.open, revokes: () => revokes };
	}

	it("join() from outside waits for the recovery's leave and returns joined again, as one member of the group", async () => {
		const { group, consumer, next, release } = await recovering("join-recovery", async () => {});
		const before = consumer.memberId;
		const joined = consumer.join();
		release();
		await joined;
		expect(consumer.memberId, "a member once join() returned").not.toBeNull();
		expect(consumer.memberId).not.toBe(before);
		expect(consumer.assignment).toHaveLength(2);
		const { members } = await json<GroupState>("GET", `/v1/groups/${group}`, 200);
		expect(members).toHaveLength(1);
		expect((await next).done).toBe(false);
		await consumer.close();
	});

	it("close() from outside while the recovery's onRevoke runs: that callback's commit() stores what the loop moved past", async () => {
		const commits: unknown[] = [];
		const handed = await recovering("close-recovery", async (c) => void commits.push(await refusal(c.commit())));
		const closing = handed.consumer.close(); // returns at once while onRevoke runs; `closed` settles once left
		handed.release();
		await closing;
		expect(await refusal(handed.consumer.closed)).toBeNull();
		await storedOnce(handed, commits, handed.revokes());
		expect(await handed.next).toEqual({ done: true, value: undefined });
	});

	it("close() from outside while the poll whose answer is lost is under way: onRevoke runs once, and its commit() is stored", async () => {
		const commits: unknown[] = [];
		let revokes = 0;
		let consumer: { commit(): Promise<void> } | null = null;
		const onRevoke = async () => {
			revokes++;
			if (consumer !== null) commits.push(await refusal(consumer.commit()));
		};
		const handed = await handedBoth("close-polling-recovery", { onRevoke });
		({ consumer } = handed);
		handed.wire.dropAnswer(isPoll);
		const release = handed.wire.hold(isPoll);
		const sent = handed.wire.sent.length;
		const next = handed.it.next();
		await expect.poll(() => handed.wire.sent.slice(sent).some(isPoll), { timeout: 10_000, interval: 20 }).toBe(true);
		const closing = handed.consumer.close(); // waits for that poll, whose recovery queues onRevoke
		release();
		await closing;
		expect(await refusal(handed.consumer.closed)).toBeNull();
		await storedOnce(handed, commits, revokes);
		expect(await next).toEqual({ done: true, value: undefined });
	});

	it("close() from outside while the recovery's onRevoke is queued behind a rebalance's: the leave waits for both, each commit() is stored", async () => {
		const revoked: number[][] = [];
		const commits: unknown[] = [];
		const held: (() => void)[] = [];
		let consumer: { commit(): Promise<void> } | null = null;
		const onRevoke = async (tps: { partition: number }[]) => {
			revoked.push(tps.map((tp) => tp.partition));
			await new Promise<void>((resolve) => held.push(resolve));
			// The rebalance's ([1]) is not the leave's, but the leave waits for it: its commit() finds the member there.
			if (consumer !== null) commits.push(await refusal(consumer.commit()));
		};
		const handed = await handedBoth("close-queued-recovery", { onRevoke });
		({ consumer } = handed);
		const { topic, group, options, wire, it: records } = handed;
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		await other.join(); // takes partition 1: the loop's next poll follows, and onRevoke([1]) is held
		const next = records.next();
		await expect.poll(() => revoked, { timeout: 10_000, interval: 20 }).toEqual([[1]]);
		// The loop polls on; one poll's answer is lost, so the recovery's onRevoke is queued behind the one held.
		const lost = wire.delayAnswer(isPoll);
		wire.dropAnswer(isPoll);
		await lost.served;
		// Returns at once: a rebalance's onRevoke runs, which the leave (after that poll) waits for, and its queue after it.
		await handed.consumer.close();
		lost.release();
		held.shift()?.(); // the rebalance's onRevoke commits and returns: the recovery's step runs onRevoke([0]) next
		await expect.poll(() => revoked, { timeout: 10_000, interval: 20 }).toEqual([[1], [0]]);
		while (held.length > 0) held.shift()?.();
		await handed.consumer.closed;
		expect(revoked, "onRevoke([0]) ran once, for the recovery and the leave").toEqual([[1], [0]]);
		expect(commits, "the commit() of each onRevoke, stored before the leave").toEqual([null, null]);
		expect((await committed(group))[0]).toBe(2);
		expect(await next).toEqual({ done: true, value: undefined });
		expect(other.assignment).toEqual([{ topic, partition: 1 }]);
		await other.close();
	});

	it("close() while the recovery's leave is under way: closed settles only once that leave was answered", async () => {
		const handed = await recovering("close-recovery-leave", async () => {});
		const sent = handed.wire.sent.length;
		const releaseLeave = handed.wire.hold((r) => r.method === "DELETE");
		handed.release();
		await expect.poll(() => handed.wire.sent.slice(sent).some((r) => r.method === "DELETE"), UNTIL_SEEN).toBe(true);
		const order: string[] = [];
		void handed.consumer.close();
		const settled = handed.consumer.closed.then(() => order.push("closed"));
		// A round trip to the Worker while the DELETE is held: a `closed` not waiting for that leave settles meanwhile.
		const { members } = await json<GroupState>("GET", `/v1/groups/${handed.group}`, 200);
		expect(members, "the recovery's leave is not answered yet").toHaveLength(1);
		order.push("leave answered");
		releaseLeave();
		await settled;
		expect(order).toEqual(["leave answered", "closed"]);
		expect((await json<GroupState>("GET", `/v1/groups/${handed.group}`, 200)).members).toEqual([]);
		expect(await handed.next).toEqual({ done: true, value: undefined });
	});

	it("an onRevoke that calls close() before commit() stores what the loop moved past, and the consumer closes", async () => {
		const commits: unknown[] = [];
		const handed = await recovering("close-commit-recovery", async (c) => {
			await c.close();
			commits.push(await refusal(c.commit()));
		});
		handed.release();
		expect(await handed.next).toEqual({ done: true, value: undefined });
		expect(await refusal(handed.consumer.closed)).toBeNull();
		await storedOnce(handed, commits, handed.revokes());
	});
});

describe("SDK consumer commit() in the onAssign of the membership joined after a loss", { timeout: 30_000 }, () => {
	it("is not refused (Java's commitSync() in onPartitionsAssigned after the rejoin); the lost one's onRevoke commit is", async () => {
		const assignCommits: unknown[] = [];
		const revokeCommits: unknown[] = [];
		let consumer: { commit(): Promise<void> } | null = null;
		const onAssign = async () => void (consumer !== null && assignCommits.push(await refusal(consumer.commit())));
		const onRevoke = async () => void revokeCommits.push(await refusal(consumer?.commit() ?? Promise.resolve()));
		const handed = await handedBoth("commit-assign-after-loss", { onAssign, onRevoke });
		({ consumer } = handed);
		await expire(handed.group, [handed.consumer.memberId as string]);
		// The loop's next poll finds the member gone: onRevoke on the partitions lost, a new member, onAssign.
		const again = (await handed.it.next()).value as ConsumerRecord;
		expect(again.offset, "read again from the last commit").toBe(0);
		expect(revokeCommits).toEqual([expect.objectContaining(lostCommit)]);
		expect(assignCommits).toEqual([null]);
		await handed.consumer.commit();
		expect((await committed(handed.group))[again.partition]).toBe(1);
		await handed.consumer.close();
	});
});
