/**
 * Committed offsets: fencing by member and generation, auto-commit at the next poll, auto_offset_reset,
 * lag in GET /v1/groups/{group}, resets of an empty group, group deletion and the group list.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { GroupRules } from "../../src/group/group-rules.ts";
import { commit, describeGroup, expire, heartbeat, join, type Partition, poll } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { coordinatorStub, partitionStub } from "../support/stubs.ts";
import { call, createTopic, expectError, json, produce, topicOfThreeRecords } from "../support/worker.ts";

function values(count: number, partition = 0) {
	return Array.from({ length: count }, (_, i) => ({ value: i, partition }));
}

describe("commits", () => {
	it("fences commits by member and generation, writing nothing when refused", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		// Commits must stay within each partition's log (a commit past the high watermark is a 416).
		await produce(topic, [...values(10, 0), ...values(10, 1)]);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic] });
		const p0 = { topic, partition: 0 };
		await commit(group, a.member_id, a.generation, [{ ...p0, offset: 3, metadata: "checkpoint" }]);
		const b = await join(group, { topics: [topic] });
		const stale = await expectError("POST", `/v1/groups/${group}/offsets`, 409, "rebalance_in_progress", {
			body: { member_id: a.member_id, generation: a.generation, offsets: [{ ...p0, offset: 5 }] },
		});
		expect(stale).toMatchObject({ generation: b.generation, retriable: false });
		const unknown = await expectError("POST", `/v1/groups/${group}/offsets`, 409, "unknown_member", {
			body: { member_id: "not-a-member", generation: b.generation, offsets: [{ ...p0, offset: 5 }] },
		});
		expect(unknown).toMatchObject({ generation: b.generation, member_id: "not-a-member" });
		const aView = await heartbeat(group, a.member_id);
		const notMine = b.assignment[0] as Partition;
		const refused = await expectError("POST", `/v1/groups/${group}/offsets`, 409, "partition_not_assigned", {
			body: {
				member_id: a.member_id,
				generation: aView.generation,
				offsets: [...aView.assignment.map((p) => ({ ...p, offset: 9 })), { ...notMine, offset: 9 }],
			},
		});
		expect(refused).toMatchObject({ topic, partition: notMine.partition, generation: b.generation });
		const offsets = (await describeGroup(group)).offsets;
		expect(offsets.map((o) => o.committed)).toEqual([3, null]);
		const ok = await commit(
			group,
			a.member_id,
			aView.generation,
			aView.assignment.map((p) => ({ ...p, offset: 1 })),
		);
		expect(ok).toEqual({ generation: b.generation, offsets: aView.assignment.map((p) => ({ ...p, offset: 1 })) });
	});

	// The Kafka gateway asks it for a commit whose every partition a broker refuses alone (metadata too large): the member
	// and generation are judged by the commit rule, which takes a rejoining member's commits since it last joined.
	it("judges a member's commit of no offsets by the commit rule and commits nothing: in time 200, over 409, unknown member 409", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], rejoins: true });
		const b = await join(group, { topics: [topic] });
		const empty = (member_id: string, generation: number) => ({ body: { member_id, generation, offsets: [] } });
		expect(await json("POST", `/v1/groups/${group}/offsets`, 200, empty(a.member_id, a.generation))).toEqual({
			generation: b.generation,
			offsets: [],
		});
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "rebalance_in_progress", empty(b.member_id, a.generation));
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "unknown_member", empty("not-a-member", b.generation));
		expect((await describeGroup(group)).offsets.map((o) => o.committed)).toEqual([null, null]);
	});

	it("refuses a commit past the high watermark with 416 and the partition's bounds, committing nothing", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		await produce(topic, [...values(3, 0), ...values(1, 1)]);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic] });
		await commit(group, a.member_id, a.generation, [{ topic, partition: 0, offset: 3 }]);
		const refused = await expectError("POST", `/v1/groups/${group}/offsets`, 416, "offset_out_of_range", {
			body: {
				member_id: a.member_id,
				generation: a.generation,
				offsets: [
					{ topic, partition: 0, offset: 1 },
					{ topic, partition: 1, offset: 42 },
				],
			},
		});
		expect(refused).toMatchObject({ topic, partition: 1, offset: 42, log_start_offset: 0, high_watermark: 1, retriable: false });
		expect(refused.message).toContain("from 0 to 1");
		expect((await describeGroup(group)).offsets.map((o) => [o.committed, o.lag])).toEqual([
			[3, 0],
			[null, null],
		]);
	});

	it("counts members in plain English when refusing to delete or reset a group that has them", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const group = uniqueGroup();
		await join(group, { topics: [topic] });
		const one = await expectError("DELETE", `/v1/groups/${group}`, 409, "group_not_empty");
		expect(one).toMatchObject({ members: 1, message: `group "${group}" has 1 member; only an empty group may be deleted` });
		await join(group, { topics: [topic] });
		const two = await expectError("POST", `/v1/groups/${group}/offsets/reset`, 409, "group_not_empty", { body: { topic, to: "earliest" } });
		expect(two.message).toContain("has 2 members;");
	});

	it("answers group_not_found for member calls on a group nobody joined", async () => {
		const group = uniqueGroup();
		for (const path of [`members/m-1/poll`, `members/m-1/heartbeat`]) {
			const error = await expectError("POST", `/v1/groups/${group}/${path}`, 404, "group_not_found", { body: {} });
			expect(error).toMatchObject({ group });
		}
		await expectError("DELETE", `/v1/groups/${group}/members/m-1`, 404, "group_not_found");
	});

	it("resumes a partition's next owner at the committed offset (the next offset to read)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(10));
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		// Manual commits only: with the default auto-commit, leaving would commit what the last poll returned.
		const first = await poll(group, a.member_id, { max_records: 4, auto_commit: false });
		expect(first.records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
		await commit(group, a.member_id, first.generation, [{ topic, partition: 0, offset: 2 }]);
		const second = await poll(group, a.member_id, { max_records: 2, auto_commit: false });
		expect(second.records.map((r) => r.offset)).toEqual([4, 5]);
		expect((await call("DELETE", `/v1/groups/${group}/members/${a.member_id}`)).status).toBe(204);
		const b = await join(group, { topics: [topic] });
		const resumed = await poll(group, b.member_id, { max_records: 3 });
		expect(resumed.records.map((r) => r.offset)).toEqual([2, 3, 4]);
	});

	it("auto-commits what a poll returned at the member's next poll, not before", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(6));
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const first = await poll(group, a.member_id, { max_records: 4, auto_commit: true });
		expect(first.records).toHaveLength(4);
		expect((await describeGroup(group)).offsets[0]?.committed).toBeNull();
		await poll(group, a.member_id, { max_records: 1, auto_commit: true });
		expect((await describeGroup(group)).offsets[0]?.committed).toBe(4);
		// A member that crashes now has its last batch redelivered: offset 4 was handed out but not committed.
		expect((await call("DELETE", `/v1/groups/${group}/members/${a.member_id}`)).status).toBe(204);
		expect((await describeGroup(group)).offsets[0]?.committed).toBe(5);
	});

	it("auto-commits by default, as Kafka's enable.auto.commit; auto_commit false leaves commits to the member", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(6));
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		expect((await poll(group, a.member_id, { max_records: 2 })).records.map((r) => r.offset)).toEqual([0, 1]);
		expect((await describeGroup(group)).offsets[0]).toMatchObject({ committed: null, lag: null });
		await poll(group, a.member_id, { max_records: 2, auto_commit: false });
		// The first poll's records are committed by the second; the second's (manual) records are not.
		expect((await describeGroup(group)).offsets[0]).toMatchObject({ committed: 2, high_watermark: 6, lag: 4 });
		await poll(group, a.member_id, { max_records: 2, auto_commit: false });
		expect((await describeGroup(group)).offsets[0]).toMatchObject({ committed: 2, lag: 4 });
	});

	it("auto-commits on an interval (auto_commit_interval_ms, Kafka's auto.commit.interval.ms), and at every poll without", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(10));
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const onInterval = { max_records: 2, auto_commit_interval_ms: 60_000 };
		const committed = async () => (await describeGroup(group)).offsets[0]?.committed;
		expect((await poll(group, a.member_id, onInterval)).records.map((r) => r.offset)).toEqual([0, 1]);
		expect(await committed()).toBeNull();
		// The first auto-commit is due at once (none before it), then not again for 60 s.
		await poll(group, a.member_id, onInterval);
		expect(await committed()).toBe(2);
		await poll(group, a.member_id, onInterval);
		await poll(group, a.member_id, onInterval);
		expect(await committed()).toBe(2);
		// Once the interval has passed (asked of the rules with a later clock), the next poll's auto-commit is due.
		const due = await runInDurableObject(coordinatorStub(group), (instance) => {
			const { rules } = instance as unknown as { rules: GroupRules };
			return [Date.now(), Date.now() + 60_000].map((now) => rules.commits.autoCommitDue(a.member_id, 60_000, now));
		});
		expect(due).toEqual([false, true]);
		// A poll without the interval commits what the earlier polls returned (offsets 0 to 7).
		expect((await poll(group, a.member_id, { max_records: 2 })).records.map((r) => r.offset)).toEqual([8, 9]);
		expect(await committed()).toBe(8);
		// The interval bounds what a crash redelivers, never what leaving commits: everything handed out.
		await poll(group, a.member_id, onInterval);
		expect((await call("DELETE", `/v1/groups/${group}/members/${a.member_id}`)).status).toBe(204);
		expect(await committed()).toBe(10);
	});

	it("leaving with auto_commit=false commits what the member confirmed, not what its last poll returned", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(10));
		const group = uniqueGroup();
		const committed = async () => (await describeGroup(group)).offsets[0]?.committed;
		// On an interval: the second poll commits the first's 2 (due at once), the third confirms the second's 4.
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		for (let i = 0; i < 3; i++) await poll(group, a.member_id, { max_records: 2, auto_commit_interval_ms: 60_000 });
		expect(await committed()).toBe(2);
		await expectError("DELETE", `/v1/groups/${group}/members/${a.member_id}?auto_commit=maybe`, 400, "invalid_request");
		expect((await call("DELETE", `/v1/groups/${group}/members/${a.member_id}?auto_commit=false`)).status).toBe(204);
		expect(await committed()).toBe(4);
		// At every poll: the second poll committed the first's, and leaving leaves the second's records uncommitted.
		const b = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		for (let i = 0; i < 2; i++) await poll(group, b.member_id, { max_records: 2 });
		expect(await committed()).toBe(6);
		expect((await call("DELETE", `/v1/groups/${group}/members/${b.member_id}?auto_commit=false`)).status).toBe(204);
		expect(await committed()).toBe(6);
	});

	it("on an interval, a rebalance commits what the member confirmed on a partition it gives up, not its last poll", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const onInterval = { max_records: 100, auto_commit_interval_ms: 60_000 };
		const committed = async () => (await describeGroup(group)).offsets.map((o) => o.committed);
		for (let round = 0; round < 3; round++) {
			await produce(topic, [...values(2, 0), ...values(2, 1)]);
			expect((await poll(group, a.member_id, onInterval)).records).toHaveLength(4);
		}
		// The second poll auto-committed what the first returned (2 on each partition); the third confirmed the
		// second's (4), which the interval left uncommitted; the third's own (6) is pending.
		expect(await committed()).toEqual([2, 2]);
		const b = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const moved = (b.assignment[0] as Partition).partition;
		const after = await committed();
		expect(after[moved]).toBe(4);
		expect(after[1 - moved]).toBe(2);
		// The new owner reads again only what a's last poll returned.
		expect((await poll(group, b.member_id, { max_records: 100 })).records.map((r) => r.offset)).toEqual([4, 5]);
	});

	it("commits what a timed-out member confirmed on an interval; its last poll is read again", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(10));
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		for (let i = 0; i < 4; i++) await poll(group, a.member_id, { max_records: 2, auto_commit_interval_ms: 60_000 });
		// Committed 2 (the second poll), confirmed 6 (the fourth), pending 8.
		expect((await describeGroup(group)).offsets[0]?.committed).toBe(2);
		await expire(group, [a.member_id]);
		expect((await describeGroup(group)).offsets[0]?.committed).toBe(6);
		const b = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		expect((await poll(group, b.member_id)).records.map((r) => r.offset)).toEqual([6, 7, 8, 9]);
	});

	it("lets an explicit commit win over what the member confirmed on an interval", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(10));
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		for (let i = 0; i < 3; i++) await poll(group, a.member_id, { max_records: 2, auto_commit_interval_ms: 60_000 });
		// Confirmed 4; the member then commits 1 itself (it wants offset 1 read again), and times out.
		const view = await heartbeat(group, a.member_id);
		await commit(group, a.member_id, view.generation, [{ topic, partition: 0, offset: 1 }]);
		await expire(group, [a.member_id]);
		expect((await describeGroup(group)).offsets[0]?.committed).toBe(1);
	});

	it("drops a timed-out member's pending auto-commit, so its last batch is read again", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(3));
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		await poll(group, a.member_id, { auto_commit: true });
		await expire(group, [a.member_id]);
		const b = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		expect((await poll(group, b.member_id)).records.map((r) => r.offset)).toEqual([0, 1, 2]);
	});
});

describe("auto_offset_reset", () => {
	it("starts at the log start (earliest) or at the end as of the first poll (latest)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(3));
		const early = await join(uniqueGroup(), { topics: [topic], auto_offset_reset: "earliest" });
		const lateGroup = uniqueGroup();
		const late = await join(lateGroup, { topics: [topic] });
		expect((await poll(lateGroup, late.member_id)).records).toEqual([]);
		await produce(topic, [{ value: "new" }]);
		expect((await poll(lateGroup, late.member_id)).records.map((r) => r.value)).toEqual(["new"]);
		expect(early.assignment).toEqual([{ topic, partition: 0 }]);
	});

	it("refuses a poll under `none` until an offset is committed", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		await produce(topic, values(4, 1));
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "none" });
		const error = await expectError("POST", `/v1/groups/${group}/members/${a.member_id}/poll`, 409, "no_committed_offset", { body: {} });
		expect(error.partitions).toEqual([
			{ topic, partition: 0 },
			{ topic, partition: 1 },
		]);
		expect(error.generation).toBe(a.generation);
		await commit(group, a.member_id, a.generation, [
			{ topic, partition: 0, offset: 0 },
			{ topic, partition: 1, offset: 2 },
		]);
		expect((await poll(group, a.member_id)).records.map((r) => [r.partition, r.offset])).toEqual([
			[1, 2],
			[1, 3],
		]);
	});

	it("treats a committed offset below the log start like a missing one", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, values(10));
		const strict = uniqueGroup();
		const lenient = uniqueGroup();
		for (const group of [strict, lenient]) {
			const m = await join(group, { topics: [topic] });
			await commit(group, m.member_id, m.generation, [{ topic, partition: 0, offset: 2 }]);
			expect((await call("DELETE", `/v1/groups/${group}/members/${m.member_id}`)).status).toBe(204);
		}
		await truncateLogStart(topic, 6);
		const s = await join(strict, { topics: [topic], auto_offset_reset: "none" });
		const error = await expectError("POST", `/v1/groups/${strict}/members/${s.member_id}/poll`, 416, "offset_out_of_range", { body: {} });
		expect(error).toMatchObject({ topic, partition: 0, offset: 2, log_start_offset: 6, high_watermark: 10 });
		const l = await join(lenient, { topics: [topic], auto_offset_reset: "earliest" });
		expect((await poll(lenient, l.member_id)).records.map((r) => r.offset)).toEqual([6, 7, 8, 9]);
	});
});

/** Moves a partition's log start forward as retention would: the batches below are deleted, then it reloads. */
async function truncateLogStart(topic: string, logStartOffset: number): Promise<void> {
	await runInDurableObject(await partitionStub(topic, 0), (_, state) => {
		state.storage.sql.exec("DELETE FROM batches WHERE last_offset < ?", logStartOffset);
		state.storage.sql.exec("UPDATE partition_state SET log_start_offset = ?1, local_log_start_offset = ?1 WHERE id = 1", logStartOffset);
	});
	await abortAllDurableObjects();
}

describe("GET /v1/groups/{group}", () => {
	it("reports lag as produced minus committed, and no lag (null) where nothing is committed", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 3);
		await produce(topic, [...values(5, 0), ...values(3, 1)]);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		await commit(group, a.member_id, a.generation, [
			{ topic, partition: 0, offset: 2 },
			{ topic, partition: 1, offset: 3 },
		]);
		const described = await describeGroup(group);
		expect(described).toMatchObject({ group, state: "stable", generation: a.generation, strategy: "sticky" });
		expect(described.members).toEqual([
			{
				member_id: a.member_id,
				instance_id: null,
				topics: [topic],
				session_timeout_ms: 45_000,
				auto_offset_reset: "earliest",
				assignment: a.assignment,
			},
		]);
		expect(described.offsets).toEqual([
			{ topic, partition: 0, committed: 2, metadata: null, high_watermark: 5, lag: 3 },
			{ topic, partition: 1, committed: 3, metadata: null, high_watermark: 3, lag: 0 },
			{ topic, partition: 2, committed: null, metadata: null, high_watermark: 0, lag: null },
		]);
		await produce(topic, values(4, 2));
		// Kafka's tools show "-": with nothing committed a `latest` member would read none of these 4 records.
		expect((await describeGroup(group)).offsets[2]).toMatchObject({ committed: null, high_watermark: 4, lag: null });
	});

	it("404s a group that does not exist", async () => {
		const error = await expectError("GET", `/v1/groups/${uniqueGroup()}`, 404, "group_not_found");
		expect(typeof error.group).toBe("string");
	});
});

describe("offset reset", () => {
	it("resets an empty group's offsets to earliest, latest, a time or an offset, and refuses while it has members", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		// Recent timestamps: records from 1970 would be gone to time-based retention.
		const t0 = Date.now() - 60_000;
		await produce(topic, [
			{ value: "a", partition: 0, timestamp: t0 + 1_000 },
			{ value: "b", partition: 0, timestamp: t0 + 2_000 },
			{ value: "c", partition: 0, timestamp: t0 + 3_000 },
			{ value: "d", partition: 1, timestamp: t0 + 2_500 },
		]);
		const group = uniqueGroup();
		const reset = (to: unknown) =>
			json<{ offsets: { partition: number; offset: number }[] }>("POST", `/v1/groups/${group}/offsets/reset`, 200, { body: { topic, to } });
		const committed = async () => (await describeGroup(group)).offsets.map((o) => o.committed);
		await reset("latest");
		expect(await committed()).toEqual([3, 1]);
		await reset("earliest");
		expect(await committed()).toEqual([0, 0]);
		expect((await reset({ timestamp: t0 + 2_000 })).offsets).toEqual([
			{ topic, partition: 0, offset: 1 },
			{ topic, partition: 1, offset: 0 },
		]);
		await reset({ offset: 2 });
		expect(await committed()).toEqual([2, 1]);
		const m = await join(group, { topics: [topic], auto_offset_reset: "none" });
		expect((await poll(group, m.member_id)).records.map((r) => r.value)).toEqual(["c"]);
		const busy = await expectError("POST", `/v1/groups/${group}/offsets/reset`, 409, "group_not_empty", {
			body: { topic, to: "earliest" },
		});
		expect(busy.members).toBe(1);
		await expectError("POST", `/v1/groups/${group}/offsets/reset`, 404, "topic_not_found", {
			body: { topic: "missing-topic", to: "earliest" },
		});
	});
});

describe("a reset sent again", () => {
	// The SDK sends a reset to earliest, a time or an offset again when its answer is lost (the same place resolved
	// again); a member may join in between. Every partition still where the reset put it, since before every member
	// joined, is that reset in force: the members started there. Anything committed since is the group's own.
	it("answers a reset whose offsets are in force since before every member joined as done, and refuses one that would move them", async () => {
		const topic = await topicOfThreeRecords();
		const group = uniqueGroup();
		const path = `/v1/groups/${group}/offsets/reset`;
		const earliest = { body: { topic, to: "earliest" } };
		// A group that had a member, as one reset between runs of its consumers.
		const gone = await join(group, { topics: [topic] });
		expect((await call("DELETE", `/v1/groups/${group}/members/${gone.member_id}`)).status).toBe(204);
		const first = await json("POST", path, 200, earliest);
		const m = await join(group, { topics: [topic] });
		expect(await json("POST", path, 200, earliest)).toEqual(first);
		await expectError("POST", path, 409, "group_not_empty", { body: { topic, to: { offset: 1 } } });
		// Back where the reset put it, but by the member's commits: no longer the reset's. Each partition's offset is read
		// with its number: partition 1 stays where the reset put it, only partition 0 moves.
		const committed = async () => (await describeGroup(group)).offsets.map((o) => [o.partition, o.committed]);
		await commit(group, m.member_id, m.generation, [{ topic, partition: 0, offset: 1 }]);
		expect(await committed()).toEqual([
			[0, 1],
			[1, 0],
		]);
		await commit(group, m.member_id, m.generation, [{ topic, partition: 0, offset: 0 }]);
		await expectError("POST", path, 409, "group_not_empty", earliest);
		expect(await committed()).toEqual([
			[0, 0],
			[1, 0],
		]);
	});

	it("refuses it once a member has read past where it put the offsets, though nothing was committed since", async () => {
		const topic = uniqueTopic();
		// Partition 1's records, partition 0 empty: each record read is checked with its partition.
		await createTopic(topic, 2);
		await produce(topic, [
			{ value: "a", partition: 1 },
			{ value: "b", partition: 1 },
		]);
		const group = uniqueGroup();
		const path = `/v1/groups/${group}/offsets/reset`;
		const earliest = { body: { topic, to: "earliest" } };
		await json("POST", path, 200, earliest);
		const m = await join(group, { topics: [topic] });
		expect((await poll(group, m.member_id, { auto_commit: false })).records.map((r) => [r.partition, r.offset])).toEqual([
			[1, 0],
			[1, 1],
		]);
		// Answered done, the member would read on from 2 and its next commit would undo the reset: the group's, not the reset's.
		await expectError("POST", path, 409, "group_not_empty", earliest);
	});
});

describe("standalone commits (no member, no generation: Kafka's generation -1)", () => {
	it("stores them while the group has no members, checked as a member's are, and refuses them once it has one", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		await produce(topic, [...values(5, 0), ...values(3, 1)]);
		const group = uniqueGroup();
		const path = `/v1/groups/${group}/offsets`;
		const offsets = [
			{ topic, partition: 0, offset: 4, metadata: "by hand" },
			{ topic, partition: 1, offset: 3 },
		];
		expect(await json("POST", path, 200, { body: { offsets } })).toEqual({
			generation: -1,
			offsets: offsets.map(({ metadata: _, ...o }) => o),
		});
		const described = await describeGroup(group);
		expect(described.offsets.map((o) => [o.partition, o.committed, o.metadata])).toEqual([
			[0, 4, "by hand"],
			[1, 3, null],
		]);
		// Past a partition's end: 416, and nothing of the request is stored.
		await expectError("POST", path, 416, "offset_out_of_range", {
			body: {
				offsets: [
					{ topic, partition: 0, offset: 1 },
					{ topic, partition: 1, offset: 4 },
				],
			},
		});
		await expectError("POST", path, 400, "invalid_request", { body: { member_id: "m", offsets } });
		// A member starts where the standalone commit left the group.
		const a = await join(group, { topics: [topic] });
		expect((await poll(group, a.member_id)).records.map((r) => [r.partition, r.offset])).toEqual([[0, 4]]);
		await expectError("POST", path, 409, "group_not_empty", { body: { offsets } });
	});
});

describe("group lifecycle", () => {
	it("lists groups with state and member count, and deletes only empty groups", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const group = uniqueGroup("listed");
		const listed = async () =>
			(await json<{ groups: { group: string; state: string; members: number }[] }>("GET", "/v1/groups", 200)).groups;
		const a = await join(group, { topics: [topic] });
		await join(group, { topics: [topic] });
		expect(await listed()).toContainEqual({ group, state: "stable", members: 2 });
		await expectError("DELETE", `/v1/groups/${group}`, 409, "group_not_empty");
		for (const m of (await describeGroup(group)).members) {
			expect((await call("DELETE", `/v1/groups/${group}/members/${m.member_id}`)).status).toBe(204);
		}
		expect(await listed()).toContainEqual({ group, state: "empty", members: 0 });
		expect((await call("DELETE", `/v1/groups/${group}`)).status).toBe(204);
		expect((await listed()).some((g) => g.group === group)).toBe(false);
		await expectError("GET", `/v1/groups/${group}`, 404, "group_not_found");
		await expectError("DELETE", `/v1/groups/${group}`, 404, "group_not_found");
		// The group is gone, so a member call names the group rather than the member.
		await expectError("POST", `/v1/groups/${group}/members/${a.member_id}/heartbeat`, 404, "group_not_found");
		// The id can be used again; generations keep growing so late summaries of the old group are ignored.
		const again = await join(group, { topics: [topic] });
		expect(again.generation).toBeGreaterThan(a.generation);
		expect(await listed()).toContainEqual({ group, state: "stable", members: 1 });
		expect((await describeGroup(group)).offsets[0]?.committed).toBeNull();
	});
});

describe("independent groups", () => {
	it("lets three groups on one topic each read every record", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 3);
		await produce(
			topic,
			Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: i })),
		);
		for (const name of ["stock", "notification", "analytics"]) {
			const group = uniqueGroup(name);
			const members = [await join(group, { topics: [topic], auto_offset_reset: "earliest" })];
			if (name !== "analytics") members.push(await join(group, { topics: [topic], auto_offset_reset: "earliest" }));
			const seen: number[] = [];
			for (let round = 0; round < 10 && seen.length < 60; round++) {
				for (const m of members) {
					const polled = await poll(group, m.member_id, { max_records: 7, auto_commit: true });
					seen.push(...polled.records.map((r) => r.value as number));
				}
			}
			expect(seen.sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i));
		}
	});
});
