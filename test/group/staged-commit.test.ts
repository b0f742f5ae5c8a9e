/**
 * A commit a poll carries is staged when the poll starts and written when it completes (src/group/store.ts), so
 * the members' polls that end close together share one storage commit. What must still hold: the poll's answer,
 * which acknowledges the commit, leaves only once the commit is written; a coordinator that restarts between the
 * poll's two calls refuses the poll (the commit may be lost); a transaction that throws neither loses a staged
 * commit nor leaves one of its own staged.
 */

import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { GroupCoordinator } from "../../src/group/group-coordinator.ts";
import type { GroupRules } from "../../src/group/group-rules.ts";
import { pollStartOf, settlementOf } from "../../src/group/poll-answer.ts";
import type { GroupStore } from "../../src/group/store.ts";
import type { PollPlan } from "../../src/group/types.ts";
import { describeGroup, join, poll } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { countRows } from "../support/sql-rows.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { createTopic, produce } from "../support/worker.ts";

type Coordinator = Pick<GroupCoordinator, "beginPoll" | "completePoll">;

/** A topic of `partitions` partitions with 3 records in each, and one member per partition that has read them. */
async function setUp(partitions: number) {
	const topic = uniqueTopic();
	await createTopic(topic, partitions);
	await produce(
		topic,
		Array.from({ length: partitions * 3 }, (_, i) => ({ value: i, partition: i % partitions })),
	);
	const group = uniqueGroup();
	const members: { id: string; partition: number }[] = [];
	for (let i = 0; i < partitions; i++) members.push({ id: (await join(group, { topics: [topic], auto_offset_reset: "earliest" })).member_id, partition: -1 });
	for (const m of members) {
		const polled = await poll(group, m.id, { auto_commit: false });
		expect(polled.records).toHaveLength(3);
		m.partition = polled.records[0]?.partition ?? -1;
	}
	const { generation } = await describeGroup(group);
	return { topic, group, members, generation };
}

/** A poll's first half carrying the commit of `offset` on `partition`, its carried commit staged. */
async function begin(coordinator: Coordinator, group: string, member: string, generation: number, topic: string, partition: number, offset: number) {
	const commit = { generation, offsets: [{ topic, partition, offset, metadata: null }] };
	const started = pollStartOf(await coordinator.beginPoll(group, member, 64, commit, false, true, true));
	if (!started.ok || !started.value.started) throw new Error(`the poll did not start: ${JSON.stringify(started)}`);
	expect(started.value.plan.commitTicket).toEqual(expect.any(String));
	return started.value.plan;
}

/** The poll's second half, having read nothing. */
async function complete(coordinator: Coordinator, group: string, member: string, plan: PollPlan) {
	const outcomes = plan.fetches.map((f) => ({ ...f, nextOffset: f.offset ?? 0, recordCount: 0 }));
	return settlementOf(await coordinator.completePoll(group, member, plan.generation, outcomes, false, false, true, plan.commitTicket ?? null));
}

/** The offset SQLite holds for the partition, or null. */
function storedCommit(group: string, topic: string, partition: number): Promise<number | null> {
	return runInDurableObject(coordinatorStub(group), (_, state) => {
		const rows = state.storage.sql
			.exec<{ offset: number }>("SELECT committed_offset AS offset FROM commits WHERE topic = ? AND partition = ?", topic, partition)
			.toArray();
		return rows[0]?.offset ?? null;
	});
}

async function describedCommit(group: string, partition: number): Promise<number | null> {
	return (await describeGroup(group)).offsets.find((o) => o.partition === partition)?.committed ?? null;
}

describe("a commit carried by a poll", () => {
	it("is decided when the poll starts and written before the poll's answer", async () => {
		const { topic, group, members, generation } = await setUp(1);
		const [m] = members as [{ id: string; partition: number }];
		const coordinator = coordinatorStub(group);
		const plan = await begin(coordinator, group, m.id, generation, topic, m.partition, 2);
		expect(await storedCommit(group, topic, m.partition)).toBeNull();
		expect(await describedCommit(group, m.partition)).toBe(2);
		expect((await complete(coordinator, group, m.id, plan)).ok).toBe(true);
		expect(await storedCommit(group, topic, m.partition)).toBe(2);
	});

	it("is written by whichever poll completes first, so the other's completion writes no row", async () => {
		const { topic, group, members, generation } = await setUp(2);
		const [a, b] = members as [{ id: string; partition: number }, { id: string; partition: number }];
		const coordinator = coordinatorStub(group);
		const planA = await begin(coordinator, group, a.id, generation, topic, a.partition, 3);
		const planB = await begin(coordinator, group, b.id, generation, topic, b.partition, 1);
		expect((await complete(coordinator, group, a.id, planA)).ok).toBe(true);
		expect(await storedCommit(group, topic, b.partition)).toBe(1);
		const sql = await runInDurableObject(coordinator, (_, state) => state.storage.sql);
		const { result, rowsWritten } = await countRows(sql, () => complete(coordinator, group, b.id, planB), true);
		expect(result.ok).toBe(true);
		expect(rowsWritten).toBe(0);
		expect(await storedCommit(group, topic, a.partition)).toBe(3);
	});

	it("refuses the poll when the coordinator restarted between its halves, and nothing is skipped", async () => {
		const { topic, group, members, generation } = await setUp(1);
		const [m] = members as [{ id: string; partition: number }];
		const plan = await begin(coordinatorStub(group), group, m.id, generation, topic, m.partition, 2);
		await abortAllDurableObjects();
		const completed = await complete(coordinatorStub(group), group, m.id, plan);
		expect(completed.ok ? "acknowledged" : completed.error.code).toBe("unavailable");
		// The staged commit was lost with the object: the member reads again from before it (at-least-once).
		expect(await storedCommit(group, topic, m.partition)).toBeNull();
		const again = await poll(group, m.id, { auto_commit: false });
		expect(again.records[0]?.offset).toBe(0);
	});

	it("stays staged, to be written, when the transaction that was writing it throws", async () => {
		const { topic, group, members, generation } = await setUp(1);
		const [m] = members as [{ id: string; partition: number }];
		await runInDurableObject(coordinatorStub(group), async (instance: GroupCoordinator) => {
			const plan = await begin(instance, group, m.id, generation, topic, m.partition, 2);
			const rules = (instance as unknown as { rules: GroupRules }).rules;
			const settlePoll = rules.settlePoll.bind(rules);
			rules.settlePoll = () => {
				throw new Error("injected: the settling transaction fails after the staged commits were written");
			};
			try {
				await expect(complete(instance, group, m.id, plan)).rejects.toThrow("injected");
			} finally {
				rules.settlePoll = settlePoll;
			}
			expect((await complete(instance, group, m.id, plan)).ok).toBe(true);
		});
		expect(await storedCommit(group, topic, m.partition)).toBe(2);
	});

	it("is not decided when the transaction that staged it throws", async () => {
		const { topic, group, members, generation } = await setUp(1);
		const [m] = members as [{ id: string; partition: number }];
		await runInDurableObject(coordinatorStub(group), async (instance: GroupCoordinator) => {
			const store = (instance as unknown as { store: GroupStore }).store;
			const assignmentOf = store.assignmentOf.bind(store);
			store.assignmentOf = () => {
				throw new Error("injected: planning fails after the carried commit was staged");
			};
			try {
				await expect(begin(instance, group, m.id, generation, topic, m.partition, 2)).rejects.toThrow("injected");
			} finally {
				store.assignmentOf = assignmentOf;
			}
		});
		expect(await describedCommit(group, m.partition)).toBeNull();
		expect(await storedCommit(group, topic, m.partition)).toBeNull();
	});
});
