/**
 * The coordinator counts its members from memory (the sessions map, which every member call reads): the map must
 * hold exactly the `members` rows after every kind of change — a join, a static member taking back its place under
 * a new id, a leave, an expiry, a transaction that threw, and a restart that rebuilds the map from SQLite.
 */

import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Member } from "../../src/group/types.ts";
import { expire, join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { call, createTopic } from "../support/worker.ts";

interface Store {
	memberCount(): number;
	isMember(memberId: string): boolean;
	putMember(member: Member, nowMs: number): void;
}

interface Coordinator {
	store: Store;
	transact<T>(work: () => T): T;
}

/** Asserts the in-memory count and membership equal the `members` table's; answers the member ids. */
async function expectCountInStep(group: string): Promise<string[]> {
	return runInDurableObject(coordinatorStub(group), (instance, state) => {
		const { store } = instance as unknown as Coordinator;
		const ids = state.storage.sql
			.exec<{ member_id: string }>("SELECT member_id FROM members")
			.toArray()
			.map((r) => r.member_id);
		expect(store.memberCount(), "memberCount equals the table's row count").toBe(ids.length);
		for (const id of ids) expect(store.isMember(id), `${id} is a member in memory too`).toBe(true);
		return ids;
	});
}

describe("the member count from memory", () => {
	it("stays equal to the members table through joins, a static rejoin, a leave, an expiry, a rollback and a restart", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic] });
		const b = await join(group, { topics: [topic], instance_id: "static-b" });
		const c = await join(group, { topics: [topic] });
		expect(await expectCountInStep(group)).toHaveLength(3);

		// The static member comes back under a new id: its old id is fenced out, the count stays.
		const b2 = await join(group, { topics: [topic], instance_id: "static-b" });
		expect((await expectCountInStep(group)).sort()).toEqual([a.member_id, b2.member_id, c.member_id].sort());
		expect(b2.member_id).not.toBe(b.member_id);

		expect((await call("DELETE", `/v1/groups/${group}/members/${a.member_id}`)).status).toBe(204);
		expect(await expectCountInStep(group)).toHaveLength(2);

		await expire(group, [c.member_id]);
		expect(await expectCountInStep(group)).toEqual([b2.member_id]);

		// A join whose transaction throws after the insert: SQLite rolls the row back, memory must follow.
		await runInDurableObject(coordinatorStub(group), (instance) => {
			const coordinator = instance as unknown as Coordinator;
			const ghost: Member = {
				memberId: "ghost",
				instanceId: null,
				subscription: { topics: [topic], pattern: null },
				sessionTimeoutMs: 10_000,
				autoOffsetReset: "latest",
				autoCommit: null,
				rejoinedGeneration: null,
				rebalanceTimeoutMs: 10_000,
				deadlineMs: Date.now() + 10_000,
			};
			expect(() =>
				coordinator.transact(() => {
					coordinator.store.putMember(ghost, Date.now());
					throw new Error("rolled back");
				}),
			).toThrow("rolled back");
		});
		expect(await expectCountInStep(group)).toEqual([b2.member_id]);

		// A restart rebuilds the map from SQLite; changes after it keep the two in step.
		await abortAllDurableObjects();
		expect(await expectCountInStep(group)).toEqual([b2.member_id]);
		const d = await join(group, { topics: [topic] });
		expect((await expectCountInStep(group)).sort()).toEqual([b2.member_id, d.member_id].sort());
		expect((await call("DELETE", `/v1/groups/${group}/members/${b2.member_id}`)).status).toBe(204);
		expect(await expectCountInStep(group)).toEqual([d.member_id]);
	});
});
