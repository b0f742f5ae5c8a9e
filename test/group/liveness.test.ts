/**
 * Liveness and read positions in memory over SQLite: a member's live deadline moves with every call, SQLite's
 * copy is written only when it would fall more than `SESSION_DEADLINE_STALENESS_FRACTION` of the session behind,
 * a silent member expires at its live deadline, read positions reach SQLite by the alarm within
 * `POSITION_WRITE_INTERVAL_MS`, and a restart (which forgets what memory held) falls back to what is stored:
 * a member may re-read records, never lose a member row or a commit.
 */

import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SESSION_DEADLINE_STALENESS_FRACTION } from "../../src/shared/limits.ts";
import { runDueAlarm } from "../support/alarm.ts";
import { commit, describeGroup, join, poll } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { createTopic, produce } from "../support/worker.ts";

const SESSION_MS = 6_000;
const STALENESS_MS = SESSION_MS * SESSION_DEADLINE_STALENESS_FRACTION;

interface Store {
	touch(memberId: string, deadlineMs: number): void;
	member(memberId: string): { deadlineMs: number } | null;
}

/** The coordinator's store (private: reached the way the group test support reaches its other internals). */
const storeOf = (instance: unknown) => (instance as { store: Store }).store;

function storedDeadline(state: DurableObjectState, memberId: string): number {
	return state.storage.sql.exec<{ d: number }>("SELECT deadline_ms AS d FROM members WHERE member_id = ?", memberId).one().d;
}

async function joined() {
	const topic = uniqueTopic();
	await createTopic(topic, 1);
	const group = uniqueGroup();
	const m = await join(group, { topics: [topic], session_timeout_ms: SESSION_MS, auto_offset_reset: "earliest" });
	return { topic, group, member: m.member_id, generation: m.generation };
}

describe("session liveness", () => {
	it("writes a deadline to SQLite only when the stored one would fall more than the bounded staleness behind", async () => {
		const { group, member } = await joined();
		await runInDurableObject(coordinatorStub(group), (instance, state) => {
			const store = storeOf(instance);
			const stored = storedDeadline(state, member);
			store.touch(member, stored + STALENESS_MS - 1);
			expect(storedDeadline(state, member), "within the staleness: memory only").toBe(stored);
			expect(store.member(member)?.deadlineMs).toBe(stored + STALENESS_MS - 1);
			store.touch(member, stored + STALENESS_MS + 1);
			expect(storedDeadline(state, member), "past it: written").toBe(stored + STALENESS_MS + 1);
		});
	});

	it("expires a silent member at its live deadline, and keeps one whose live deadline is ahead of SQLite's", async () => {
		const { group, member } = await joined();
		const stub = coordinatorStub(group);
		await runInDurableObject(stub, (instance, state) => {
			// SQLite says the session ended long ago; memory, which every call moves, says it has not.
			state.storage.sql.exec("UPDATE members SET deadline_ms = 0 WHERE member_id = ?", member);
			storeOf(instance).touch(member, Date.now() + SESSION_MS);
		});
		await runDurableObjectAlarm(stub);
		expect((await describeGroup(group)).members.map((m) => m.member_id)).toEqual([member]);
		await runInDurableObject(stub, (instance) => {
			// The live deadline passes (as if the member went silent for a whole session).
			const session = (storeOf(instance) as unknown as { liveSessions: Map<string, { deadlineMs: number }> }).liveSessions.get(member);
			if (session === undefined) throw new Error("the member has no live session");
			session.deadlineMs = Date.now() - 1;
		});
		// The alarm the first run set is the live deadline, SESSION_MS ahead of the real clock: a slow step lets workerd
		// run it first. The member's row gone proves a run, read from SQLite: any call expires an overdue member too.
		await runDueAlarm(stub);
		expect(await runInDurableObject(stub, (_, state) => state.storage.sql.exec("SELECT member_id FROM members").toArray())).toEqual([]);
		expect((await describeGroup(group)).members).toEqual([]);
	});

	it("falls back to the stored deadlines after a restart, and keeps every acknowledged commit", async () => {
		const { topic, group, member, generation } = await joined();
		await commit(group, member, generation, [{ topic, partition: 0, offset: 0 }]);
		const stub = coordinatorStub(group);
		const live = await runInDurableObject(stub, (instance, state) => {
			const store = storeOf(instance);
			store.touch(member, storedDeadline(state, member) + STALENESS_MS - 1);
			return store.member(member)?.deadlineMs ?? 0;
		});
		await abortAllDurableObjects();
		// A stub of the aborted object stays broken: the restarted one is reached through a new stub.
		await runInDurableObject(coordinatorStub(group), (instance, state) => {
			const restored = storeOf(instance).member(member)?.deadlineMs ?? 0;
			expect(restored).toBe(storedDeadline(state, member));
			expect(live - restored, "forgotten: at most the bounded staleness").toBeLessThanOrEqual(STALENESS_MS);
			expect(live - restored).toBeGreaterThan(0);
		});
		expect((await describeGroup(group)).offsets.map((o) => o.committed)).toEqual([0]);
	});

	it("stores read positions by the alarm, and re-delivers from the committed offset what a restart forgot", async () => {
		const { topic, group, member } = await joined();
		await produce(
			topic,
			Array.from({ length: 10 }, (_, i) => ({ value: i, partition: 0 })),
		);
		const offsets = async (body: Record<string, unknown>) => (await poll(group, member, body)).records.map((r) => r.offset);
		expect(await offsets({ max_records: 3, auto_commit: false })).toEqual([0, 1, 2]);
		// Not written yet: a restart now forgets the position, and the member reads again from the committed offset.
		await abortAllDurableObjects();
		expect(await offsets({ max_records: 3, auto_commit: false })).toEqual([0, 1, 2]);
		const stored = (state: DurableObjectState) =>
			state.storage.sql.exec<{ n: number }>("SELECT next_offset AS n FROM positions WHERE member_id = ?", member).toArray()[0]?.n;
		expect(await runInDurableObject(coordinatorStub(group), (_, state) => stored(state))).toBeUndefined();
		// The alarm, due POSITION_WRITE_INTERVAL_MS after the read (workerd may run it first), writes it; after a restart
		// the member reads on from there.
		await runDueAlarm(coordinatorStub(group));
		expect(await runInDurableObject(coordinatorStub(group), (_, state) => stored(state))).toBe(3);
		await abortAllDurableObjects();
		expect(await offsets({ max_records: 3, auto_commit: false })).toEqual([3, 4, 5]);
		// A commit after the stored position (3): a restart reads on from the commit, not from the older position.
		const { generation } = await describeGroup(group);
		await commit(group, member, generation, [{ topic, partition: 0, offset: 6 }]);
		await abortAllDurableObjects();
		expect(await offsets({ max_records: 3, auto_commit: false })).toEqual([6, 7, 8]);
	});
});
