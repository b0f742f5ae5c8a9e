/**
 * Offsets retention while a group has members (Kafka's KIP-496): the offsets of a topic no member subscribes to any
 * more expire a retention after the later of their last commit and when the topic left the subscriptions; those of
 * the subscribed topics, and of topics the partition cap left out (still subscribed to), stay. `Date.now()` is held
 * (the coordinator runs in this isolate, so it reads the same clock), and each step is the alarm run at once.
 */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupCoordinator } from "../../src/group/group-coordinator.ts";
import { GROUP_SCHEMA_VERSION } from "../../src/group/schema.ts";
import { GROUP_PARTITIONS_MAX, PARTITIONS_MAX, SESSION_TIMEOUT_MS_MAX } from "../../src/shared/limits.ts";
import { type HeldClock, holdClock } from "../support/clock.ts";
import { commit, describeGroup, forceMetadataRefresh, heartbeat, join, setOffsetsRetention } from "../support/group.ts";
import { uniqueGroup } from "../support/names.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { createTopic, produce } from "../support/worker.ts";

/** Ten minutes, as `OFFSETS_RETENTION_MINUTES = "10"` would: a third of the longest session, so members outlive it. */
const RETENTION_MS = 10 * 60_000;

let clock: HeldClock;
beforeEach(() => {
	clock = holdClock();
});
afterEach(() => {
	clock.release();
});

/** Moves the held clock to `ms`. */
const clockAt = (ms: number) => clock.advance(ms - clock.nowMs);

/** The committed offsets the coordinator holds, as `topic/partition@offset`, sorted. */
async function stored(group: string): Promise<string[]> {
	const described = await coordinatorStub(group).describe(group);
	if (!described.ok) throw new Error(described.error.message);
	return described.value.committed.map((c) => `${c.topic}/${c.partition}@${c.offset}`).sort();
}

const alarmAt = (group: string) => runInDurableObject(coordinatorStub(group), (_i, state) => state.storage.getAlarm());

/**
 * Topics `{prefix}-a` and `{prefix}-b` (one record each) and a new group whose one member joined with `subscription`
 * and committed offset 1 of both, at the clock's time.
 */
async function memberOfBoth(subscription: (prefix: string) => Record<string, unknown>) {
	const prefix = `kip496-${crypto.randomUUID().slice(0, 6)}`;
	const [a, b] = [`${prefix}-a`, `${prefix}-b`];
	for (const topic of [a, b]) {
		await createTopic(topic, 1);
		await produce(topic, [{ value: 0 }]);
	}
	const group = uniqueGroup();
	await setOffsetsRetention(group, RETENTION_MS);
	const m = await join(group, { ...subscription(prefix), session_timeout_ms: SESSION_TIMEOUT_MS_MAX });
	await commit(group, m.member_id, m.generation, [
		{ topic: a, partition: 0, offset: 1 },
		{ topic: b, partition: 0, offset: 1 },
	]);
	const rejoin = (body: Record<string, unknown>) =>
		join(group, { ...body, member_id: m.member_id, session_timeout_ms: SESSION_TIMEOUT_MS_MAX });
	return { prefix, a, b, group, member: m.member_id, rejoin };
}

describe("offsets retention with members (KIP-496)", () => {
	it("expires a topic dropped from the member's list a retention after it was dropped, while the member stays", async () => {
		const startedAt = clock.nowMs;
		const { a, b, group, member, rejoin } = await memberOfBoth((prefix) => ({ topics: [`${prefix}-a`, `${prefix}-b`] }));
		expect(await alarmAt(group), "a new group holds no offset older than its first member").toBe(startedAt + RETENTION_MS);
		const droppedAt = startedAt + RETENTION_MS / 2;
		clockAt(droppedAt);
		await rejoin({ topics: [a] });
		clockAt(startedAt + RETENTION_MS);
		expect(await runDurableObjectAlarm(coordinatorStub(group))).toBe(true);
		expect(await stored(group), "a retention after its commit, but not after it was dropped").toEqual([`${a}/0@1`, `${b}/0@1`]);
		expect(await alarmAt(group), "due a retention after it was dropped").toBe(droppedAt + RETENTION_MS);
		clockAt(droppedAt + RETENTION_MS - 1);
		await runDurableObjectAlarm(coordinatorStub(group));
		expect(await stored(group)).toEqual([`${a}/0@1`, `${b}/0@1`]);
		clockAt(droppedAt + RETENTION_MS);
		await runDurableObjectAlarm(coordinatorStub(group));
		expect(await stored(group), "the dropped topic's offset went, the subscribed one's stays").toEqual([`${a}/0@1`]);
		const described = await describeGroup(group);
		expect(described.members.map((m) => m.member_id)).toEqual([member]);
	});

	it("expires a topic a member's pattern no longer matches, and keeps one subscribed to again before then", async () => {
		const startedAt = clock.nowMs;
		const first = await memberOfBoth((prefix) => ({ topic_pattern: `${prefix}-.*` }));
		await first.rejoin({ topic_pattern: first.a });
		const second = await memberOfBoth((prefix) => ({ topics: [`${prefix}-a`, `${prefix}-b`] }));
		await second.rejoin({ topics: [second.a] });
		clockAt(startedAt + RETENTION_MS / 2);
		await second.rejoin({ topics: [second.a, second.b] });
		clockAt(startedAt + RETENTION_MS);
		for (const { group } of [first, second]) await runDurableObjectAlarm(coordinatorStub(group));
		expect(await stored(first.group), "no longer matched: gone").toEqual([`${first.a}/0@1`]);
		expect(await stored(second.group), "subscribed again: kept").toEqual([`${second.a}/0@1`, `${second.b}/0@1`]);
		// With nothing that may expire, the group is looked at again a retention later, not at every commit.
		expect(await alarmAt(second.group)).toBe(startedAt + 2 * RETENTION_MS);
		clockAt(startedAt + 2 * RETENTION_MS);
		await runDurableObjectAlarm(coordinatorStub(second.group));
		expect(await stored(second.group)).toEqual([`${second.a}/0@1`, `${second.b}/0@1`]);
	});

	it("counts a group with members from its schema's upgrade, not from the old commits of topics it dropped before", async () => {
		const { a, group, rejoin } = await memberOfBoth((prefix) => ({ topics: [`${prefix}-a`, `${prefix}-b`] }));
		await rejoin({ topics: [a] });
		await runInDurableObject(coordinatorStub(group), (_instance, state) => {
			const sql = state.storage.sql;
			// Back to schema v4, where a topic a member dropped kept its commit time, as old as the group here.
			sql.exec("UPDATE group_state SET empty_since_ms = NULL");
			sql.exec("UPDATE commits SET committed_at_ms = 0");
			sql.exec("ALTER TABLE members DROP COLUMN rejoined_generation");
			sql.exec("ALTER TABLE members DROP COLUMN rebalance_timeout_ms");
			sql.exec("ALTER TABLE members DROP COLUMN rejoin_deadline_ms");
			sql.exec("UPDATE schema_version SET version = 4");
			new GroupCoordinator(state, env);
			expect(sql.exec("SELECT version FROM schema_version").one().version).toBe(GROUP_SCHEMA_VERSION);
			// SQLite's clock, not the held one, which stands where the test started: the same within the test's run.
			const since = sql.exec<{ ms: number | null }>("SELECT empty_since_ms AS ms FROM group_state").one().ms;
			expect(since, "set by the upgrade").not.toBeNull();
			expect(Math.abs((since as number) - clock.nowMs)).toBeLessThan(RETENTION_MS / 2);
		});
	});

	it("keeps the offsets of a topic the partition cap left out while the member subscribes to it, and expires them after", async () => {
		const startedAt = clock.nowMs;
		// Topics of PARTITIONS_MAX partitions and a small one fill the group up to the cap before it joins.
		const prefix = `kip496cap-${crypto.randomUUID().slice(0, 6)}`;
		const fillers = Math.floor(GROUP_PARTITIONS_MAX / PARTITIONS_MAX);
		for (let i = 0; i < fillers; i++) await createTopic(`${prefix}-a${String(i).padStart(3, "0")}`, PARTITIONS_MAX);
		await createTopic(`${prefix}-b`, GROUP_PARTITIONS_MAX - fillers * PARTITIONS_MAX);
		const group = uniqueGroup();
		await setOffsetsRetention(group, RETENTION_MS);
		const m = await join(group, { topic_pattern: `${prefix}-.*`, session_timeout_ms: SESSION_TIMEOUT_MS_MAX });
		// Created after the join, found by the refresh, and left out (the cap keeps topics in name order).
		const late = `${prefix}-z`;
		await createTopic(late, 1);
		await forceMetadataRefresh(group);
		await heartbeat(group, m.member_id);
		const described = await coordinatorStub(group).describe(group);
		expect(described.ok && described.value.topics.some((t) => t.topic === late), "left out").toBe(false);
		// An offset on it, and one on a topic no member subscribes to, both as old as the group.
		await runInDurableObject(coordinatorStub(group), (_i, state) => {
			for (const topic of [late, `other-${prefix}`])
				state.storage.sql.exec(
					"INSERT INTO commits (topic, partition, committed_offset, generation, committed_at_ms) VALUES (?, 0, 0, 1, ?)",
					topic,
					startedAt,
				);
		});
		clockAt(startedAt + RETENTION_MS);
		await runDurableObjectAlarm(coordinatorStub(group));
		expect(await stored(group), "the unsubscribed topic's offset went, the left-out one's stays").toEqual([`${late}/0@0`]);
		// The member no longer subscribes to it: its offset expires a retention after the refresh that saw that.
		const droppedAt = startedAt + (3 * RETENTION_MS) / 2;
		clockAt(droppedAt);
		await join(group, { topic_pattern: `${prefix}-[ab].*`, member_id: m.member_id, session_timeout_ms: SESSION_TIMEOUT_MS_MAX });
		await forceMetadataRefresh(group);
		await heartbeat(group, m.member_id);
		clockAt(startedAt + 2 * RETENTION_MS);
		await runDurableObjectAlarm(coordinatorStub(group));
		expect(await stored(group), "a retention after its commit, but not after it was dropped").toEqual([`${late}/0@0`]);
		clockAt(droppedAt + RETENTION_MS);
		await runDurableObjectAlarm(coordinatorStub(group));
		expect(await stored(group)).toEqual([]);
	}, 120_000);
});
