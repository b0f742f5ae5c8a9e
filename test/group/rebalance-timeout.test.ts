/**
 * Kafka's rebalance timeout for members that rejoin: a rebalance holds a member's partitions on it until it joins
 * again, but only until its rebalance timeout (`rebalance_timeout_ms`, else its session timeout) has run out since
 * the rebalance that asked it to. Past that, a dynamic member that only heartbeats is removed, as Kafka's coordinator
 * removes it, and the others get its partitions; a static one stays (until its session ends) but no longer holds the
 * round up: the others get their share, as Kafka's coordinator completes the join without it. The deadline lives in
 * SQLite, so a restarted coordinator keeps it, and the alarm and every call enforce it.
 * Where time must pass, Date is faked (the coordinator runs in this isolate and reads the same clock): nobody sleeps.
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { GroupCoordinator } from "../../src/group/group-coordinator.ts";
import { GROUP_SCHEMA_VERSION } from "../../src/group/schema.ts";
import type { GroupStore } from "../../src/group/store.ts";
import { REBALANCE_TIMEOUT_MS_MAX } from "../../src/shared/limits.ts";
import { fakeDateEachTest } from "../support/clock.ts";
import { commit, describeGroup, expectPartitioned, heartbeat, join, type Partition, partitionsOf } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { createTopic, expectError } from "../support/worker.ts";

interface Stored {
	rebalance_timeout_ms: number | null;
	rejoin_deadline_ms: number | null;
}

/** A member's row as the coordinator stores it. */
async function stored(group: string, member: string): Promise<Stored> {
	return runInDurableObject(coordinatorStub(group), (_instance, state) =>
		state.storage.sql
			.exec<Stored & Record<string, SqlStorageValue>>(
				"SELECT rebalance_timeout_ms, rejoin_deadline_ms FROM members WHERE member_id = ?",
				member,
			)
			.one(),
	);
}

/**
 * Moves every stored rejoin deadline into the past and has the coordinator read its members back from SQLite, as a
 * restarted one does (nobody sleeps); `alarm`: then runs its alarm.
 */
async function passRejoinDeadlines(group: string, alarm: boolean): Promise<void> {
	const stub = coordinatorStub(group);
	await runInDurableObject(stub, (instance, state) => {
		state.storage.sql.exec("UPDATE members SET rejoin_deadline_ms = 0 WHERE rejoin_deadline_ms IS NOT NULL");
		(instance as unknown as { store: { forgetLiveState(): void } }).store.forgetLiveState();
	});
	if (alarm) await runDurableObjectAlarm(stub);
}

/** The coordinator's live session deadline for `member`, after it is touched up to `touchedToMs` if given. */
async function liveDeadline(group: string, member: string, touchedToMs?: number): Promise<number | undefined> {
	return runInDurableObject(coordinatorStub(group), (instance) => {
		const { store } = instance as unknown as { store: GroupStore };
		if (touchedToMs !== undefined) store.touch(member, touchedToMs);
		return store.member(member)?.deadlineMs;
	});
}

/** Whether `member` is still a stored member of `group`. */
async function isStored(group: string, member: string): Promise<boolean> {
	return runInDurableObject(
		coordinatorStub(group),
		(_instance, state) => state.storage.sql.exec("SELECT 1 FROM members WHERE member_id = ?", member).toArray().length > 0,
	);
}

describe("the rebalance timeout of members that rejoin", () => {
	it("a member that heartbeats but never rejoins is removed once its rebalance timeout has run out; the others get its partitions", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const all = partitionsOf(topic, 4);
		// Sessions longer than the rebalance timeout: the alarm can only come by the rejoin deadline if the ask set it.
		const sessions = { session_timeout_ms: 120_000 };
		const a = await join(group, { topics: [topic], rejoins: true, rebalance_timeout_ms: 60_000, ...sessions });
		expect(await stored(group, a.member_id)).toEqual({ rebalance_timeout_ms: 60_000, rejoin_deadline_ms: null });
		const before = Date.now();
		const b = await join(group, { topics: [topic], ...sessions });
		const after = Date.now();
		expect(b.assignment, "held on a until it rejoins").toEqual([]);
		// b's join is the rebalance that asks a to rejoin: a has its rebalance timeout from then.
		const { rejoin_deadline_ms: deadline } = await stored(group, a.member_id);
		expect(deadline).toBeGreaterThanOrEqual(before + 60_000);
		expect(deadline).toBeLessThanOrEqual(after + 60_000);
		const alarm = await runInDurableObject(coordinatorStub(group), (_instance, state) => state.storage.getAlarm());
		expect(alarm, "the alarm comes at the rejoin deadline").toBe(deadline);
		// Its heartbeats within the timeout keep it, and its partitions.
		expect((await heartbeat(group, a.member_id)).assignment).toEqual(all);

		await passRejoinDeadlines(group, false);
		await expectError("POST", `/v1/groups/${group}/members/${a.member_id}/heartbeat`, 409, "unknown_member");
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "unknown_member", {
			body: { member_id: a.member_id, generation: b.generation, offsets: [{ topic, partition: 0, offset: 0 }] },
		});
		expect((await heartbeat(group, b.member_id)).assignment).toEqual(all);
	});

	it("the alarm removes it too, with no call from it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], rejoins: true, rebalance_timeout_ms: 10_000 });
		const b = await join(group, { topics: [topic] });
		await passRejoinDeadlines(group, true);
		expect(await isStored(group, a.member_id), "removed by the alarm").toBe(false);
		expect((await heartbeat(group, b.member_id)).assignment).toEqual(partitionsOf(topic, 2));
	});

	it("a member that rejoins in time keeps the barrier: its partitions move only at its rejoin, and it stays", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const all = partitionsOf(topic, 4);
		// No rebalance timeout: its session timeout's, as Kafka's JoinGroup v0.
		const a = await join(group, { topics: [topic], rejoins: true, session_timeout_ms: 10_000 });
		expect((await stored(group, a.member_id)).rebalance_timeout_ms).toBe(10_000);
		const before = Date.now();
		const b = await join(group, { topics: [topic] });
		expect(b.assignment).toEqual([]);
		expect((await stored(group, a.member_id)).rejoin_deadline_ms).toBeGreaterThanOrEqual(before + 10_000);

		const again = await join(group, { topics: [topic], rejoins: true, member_id: a.member_id });
		expect(again.assignment).toHaveLength(2);
		expect((await stored(group, a.member_id)).rejoin_deadline_ms, "its rejoin answers the rebalance").toBeNull();
		await passRejoinDeadlines(group, true);
		const aView = await heartbeat(group, a.member_id);
		expectPartitioned([aView.assignment, (await heartbeat(group, b.member_id)).assignment], all);
	});

	it("a rebalance timeout past REBALANCE_TIMEOUT_MS_MAX is capped to it; none below 1 ms", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], rejoins: true, rebalance_timeout_ms: 2_147_483_647 });
		expect((await stored(group, a.member_id)).rebalance_timeout_ms).toBe(REBALANCE_TIMEOUT_MS_MAX);
		await expectError("POST", `/v1/groups/${group}/members`, 400, "invalid_request", {
			body: { topics: [topic], rejoins: true, rebalance_timeout_ms: 0 },
		});
	});

	it("a member from before schema v7 (no rebalance timeout stored) is asked to rejoin within its session timeout", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], rejoins: true, session_timeout_ms: 20_000, rebalance_timeout_ms: 99_000 });
		await runInDurableObject(coordinatorStub(group), (instance, state) => {
			const sql = state.storage.sql;
			// Back to schema v6: a's row loses its rebalance timeout, as a member that joined before v7 never had one.
			sql.exec("ALTER TABLE members DROP COLUMN rebalance_timeout_ms");
			sql.exec("ALTER TABLE members DROP COLUMN rejoin_deadline_ms");
			sql.exec("UPDATE schema_version SET version = 6");
			new GroupCoordinator(state, env);
			expect(sql.exec("SELECT version FROM schema_version").one().version).toBe(GROUP_SCHEMA_VERSION);
			(instance as unknown as { store: GroupStore }).store.forgetLiveState();
		});
		const before = Date.now();
		await join(group, { topics: [topic] });
		const after = Date.now();
		const { rebalance_timeout_ms, rejoin_deadline_ms } = await stored(group, a.member_id);
		expect(rebalance_timeout_ms).toBeNull();
		expect(rejoin_deadline_ms, "its session timeout, as JoinGroup v0's").toBeGreaterThanOrEqual(before + 20_000);
		expect(rejoin_deadline_ms).toBeLessThanOrEqual(after + 20_000);
		expect((await heartbeat(group, a.member_id)).assignment).toEqual(partitionsOf(topic, 2));
	});
});

describe("the rejoin deadline on a running coordinator", () => {
	const clock = fakeDateEachTest();

	it("no heartbeat carries the live session deadline past the rejoin deadline", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], rejoins: true, rebalance_timeout_ms: 60_000, session_timeout_ms: 600_000 });
		await join(group, { topics: [topic] });
		await heartbeat(group, a.member_id);
		const { rejoin_deadline_ms: deadline } = await stored(group, a.member_id);
		expect(deadline).toBe(clock.nowMs + 60_000);
		expect(await liveDeadline(group, a.member_id, clock.nowMs + 10_000_000)).toBe(deadline);
	});

	it("a second rebalance before the member rejoins keeps the first rejoin deadline", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], rejoins: true, rebalance_timeout_ms: 60_000, session_timeout_ms: 120_000 });
		const askedAt = clock.nowMs;
		await join(group, { topics: [topic] });
		clock.at(askedAt + 1_000);
		await join(group, { topics: [topic] });
		expect((await stored(group, a.member_id)).rejoin_deadline_ms).toBe(askedAt + 60_000);
		expect(await liveDeadline(group, a.member_id)).toBe(askedAt + 60_000);
	});

	/** A static holder `a` (rebalance timeout 10 s, session 60 s) and a newcomer `b` its barrier holds nothing for. */
	async function staticHolderAndNewcomer() {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const joinedAtMs = clock.nowMs;
		const static_ = { topics: [topic], instance_id: "i-a", rejoins: true, rebalance_timeout_ms: 10_000, session_timeout_ms: 60_000 };
		const a = await join(group, static_);
		const b = await join(group, { topics: [topic], session_timeout_ms: 1_800_000 });
		expect(b.assignment, "held on a until it rejoins").toEqual([]);
		return { group, all: partitionsOf(topic, 4), joinedAtMs, static_, a, b };
	}

	/** Who owns how many partitions, as SQLite has it (read without a member's call). */
	async function ownedCounts(group: string): Promise<Record<string, number>> {
		return runInDurableObject(coordinatorStub(group), (_instance, state) =>
			Object.fromEntries(
				state.storage.sql
					.exec<{ member_id: string; n: number }>("SELECT member_id, COUNT(*) AS n FROM assignments GROUP BY member_id")
					.toArray()
					.map((r) => [r.member_id, r.n]),
			),
		);
	}

	it("a static holder that heartbeats but never rejoins: at its rebalance timeout the round ends without it, and it stays with its share (Kafka's onCompleteJoin)", async () => {
		const { group, all, joinedAtMs, static_, a, b } = await staticHolderAndNewcomer();
		expect((await stored(group, a.member_id)).rejoin_deadline_ms, "b's join asks a to rejoin").toBe(joinedAtMs + 10_000);
		// Before the deadline its heartbeats keep the barrier: b owns none of the held partitions.
		clock.at(joinedAtMs + 9_999);
		expect((await heartbeat(group, a.member_id)).assignment).toEqual(all);
		expect((await heartbeat(group, b.member_id)).assignment).toEqual([]);
		// At it, b's next call ends the round without a: b reads its share, a keeps the rest and hears of a new generation.
		clock.at(joinedAtMs + 10_000);
		const bView = await heartbeat(group, b.member_id);
		expect(bView.generation).toBe(b.generation + 1);
		expect(bView.assignment).toHaveLength(2);
		const aView = await heartbeat(group, a.member_id);
		expect(aView.generation).toBe(bView.generation);
		expectPartitioned([aView.assignment, bView.assignment], all);
		const members = (await describeGroup(group)).members.map((m) => [m.member_id, m.instance_id]);
		expect(members, "a is still a member, under its id and instance").toContainEqual([a.member_id, "i-a"]);
		expect(members).toHaveLength(2);
		expect((await stored(group, a.member_id)).rejoin_deadline_ms, "answered: the next rebalance asks again").toBeNull();
		// Its commits of the generation it read in: taken on what it kept, refused on what moved to b.
		const [moved, kept] = [bView.assignment[0] as Partition, aView.assignment[0] as Partition];
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "partition_not_assigned", {
			body: { member_id: a.member_id, generation: a.generation, offsets: [{ ...moved, offset: 0 }] },
		});
		await commit(group, a.member_id, a.generation, [{ ...kept, offset: 0 }]);
		// Its rejoin is the same member's, and takes nothing b reads.
		const again = await join(group, { ...static_, member_id: a.member_id });
		expect(again.member_id).toBe(a.member_id);
		expect(again.assignment).toEqual(aView.assignment);
		expect((await heartbeat(group, b.member_id)).assignment).toEqual(bView.assignment);
	});

	it("the alarm ends the round at the deadline with no call; the static member's session still ends when its heartbeats stop", async () => {
		const { group, all, joinedAtMs, a, b } = await staticHolderAndNewcomer();
		const stub = coordinatorStub(group);
		const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
		expect(alarm, "the alarm comes at the rejoin deadline, before a's session ends").toBe(joinedAtMs + 10_000);
		clock.at(joinedAtMs + 10_000);
		await runDurableObjectAlarm(stub);
		expect(await ownedCounts(group), "the round ended without a call").toEqual({ [a.member_id]: 2, [b.member_id]: 2 });
		expect(await isStored(group, a.member_id)).toBe(true);
		// Not rejoined by the next rebalance, it is asked again and holds what it owns now.
		const c = await join(group, { topics: [(all[0] as Partition).topic], session_timeout_ms: 1_800_000 });
		expect((await stored(group, a.member_id)).rejoin_deadline_ms).toBe(clock.nowMs + 10_000);
		expect((await ownedCounts(group))[a.member_id], "held again").toBe(2);
		clock.at(joinedAtMs + 60_000);
		await runDurableObjectAlarm(stub);
		expect(await isStored(group, a.member_id), "removed at its session's end").toBe(false);
		expectPartitioned([(await heartbeat(group, b.member_id)).assignment, (await heartbeat(group, c.member_id)).assignment], all);
	});

	it("a coordinator restarted past a static holder's deadline ends the round the same way (the deadline is in SQLite)", async () => {
		const { group, all, joinedAtMs, static_, a, b } = await staticHolderAndNewcomer();
		clock.at(joinedAtMs + 10_000);
		await abortAllDurableObjects();
		const bView = await heartbeat(group, b.member_id);
		expect(bView.assignment).toHaveLength(2);
		const aView = await heartbeat(group, a.member_id);
		expectPartitioned([aView.assignment, bView.assignment], all);
		const again = await join(group, { ...static_, member_id: a.member_id });
		expect(again.member_id).toBe(a.member_id);
		expectPartitioned([again.assignment, (await heartbeat(group, b.member_id)).assignment], all);
	});
});
