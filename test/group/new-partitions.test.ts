/**
 * Partitions a group discovers after it subscribed (partitions added to a topic, a topic created under its pattern)
 * start at their first record whatever `auto_offset_reset` says: every record in them was written after the group
 * subscribed, and the coordinator notices them only at its next metadata refresh (up to 5 s later), so `latest`
 * would skip what was written in between. They start at their log start, not at 0, which retention or DeleteRecords
 * may have passed. Partitions a member's join finds keep `latest`, as do those of a topic the partition cap left out
 * and a later refresh let in.
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { assert, describe, expect, it, vi } from "vitest";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { GROUP_DISCOVERY_CALLS_MAX, GROUP_PARTITIONS_MAX, PARTITIONS_MAX } from "../../src/shared/limits.ts";
import { describeGroup, forceMetadataRefresh, heartbeat, join, type PolledRecord, poll } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { call, createTopic, json, produce } from "../support/worker.ts";

/** Polls until `count` records came back (at most 5 polls), so a rebalance in between cannot hide any. */
async function pollFor(group: string, member: string, count: number): Promise<PolledRecord[]> {
	const got: PolledRecord[] = [];
	for (let i = 0; i < 5 && got.length < count; i++) got.push(...(await poll(group, member, { wait_ms: 50 })).records);
	return got;
}

/** The offsets the coordinator holds committed on `topic` (read from it directly: the edge's describe asks every partition). */
async function committedOn(group: string, topic: string): Promise<number[]> {
	const described = await coordinatorStub(group).describe(group);
	assert(described.ok);
	return described.value.committed.filter((c) => c.topic === topic).map((c) => c.offset);
}

const placed = (records: PolledRecord[]) => records.map((r) => `${r.topic}/${r.partition}@${r.offset}`).sort();

/**
 * A member of a new group subscribed by pattern under `latest` to `{prefix}-a` (polled once: nothing), then a
 * topic `{prefix}-b` created under the pattern, not yet seen by the coordinator.
 */
async function patternMemberThenNewTopic() {
	const prefix = `late-${crypto.randomUUID().slice(0, 6)}`;
	await createTopic(`${prefix}-a`, 1);
	const group = uniqueGroup();
	const a = await join(group, { topic_pattern: `${prefix}-.*`, auto_offset_reset: "latest" });
	expect((await poll(group, a.member_id)).records).toEqual([]);
	await createTopic(`${prefix}-b`, 1);
	return { prefix, group, a };
}

describe("partitions discovered after subscribing", () => {
	it("a partition added to a topic is read from its first record under latest", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: "before the group", partition: 0 }]);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "latest" });
		expect((await poll(group, a.member_id)).records).toEqual([]);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { partitions: 2 } });
		// Written before the coordinator learns of partition 1.
		await produce(topic, [
			{ value: "new 0", partition: 1 },
			{ value: "new 1", partition: 1 },
			{ value: "after join", partition: 0 },
		]);
		await forceMetadataRefresh(group);
		expect(placed(await pollFor(group, a.member_id, 3))).toEqual([`${topic}/0@1`, `${topic}/1@0`, `${topic}/1@1`]);
	});

	it("a topic created under the group's pattern is read from its first record under latest", async () => {
		const prefix = `late-${crypto.randomUUID().slice(0, 6)}`;
		await createTopic(`${prefix}-a`, 1);
		await produce(`${prefix}-a`, [{ value: "before the group" }]);
		const group = uniqueGroup();
		const a = await join(group, { topic_pattern: `${prefix}-.*`, auto_offset_reset: "latest" });
		expect((await poll(group, a.member_id)).records).toEqual([]);
		await createTopic(`${prefix}-b`, 1);
		await produce(`${prefix}-b`, [{ value: "first" }, { value: "second" }]);
		await forceMetadataRefresh(group);
		expect(placed(await pollFor(group, a.member_id, 2))).toEqual([`${prefix}-b/0@0`, `${prefix}-b/0@1`]);
		// The partition that was there at the join still started at its end.
		expect((await describeGroup(group)).offsets.find((o) => o.topic === `${prefix}-a`)?.committed ?? null).toBe(1);
	});

	it("a topic created after subscribing whose log start passed 0 is read from its log start", async () => {
		const { prefix, group, a } = await patternMemberThenNewTopic();
		await produce(`${prefix}-b`, [{ value: "deleted" }, { value: "kept 1" }, { value: "kept 2" }]);
		await json("POST", `/v1/topics/${prefix}-b/partitions/0/delete-records`, 200, { body: { before_offset: 1 } });
		await forceMetadataRefresh(group);
		expect(placed(await pollFor(group, a.member_id, 2))).toEqual([`${prefix}-b/0@1`, `${prefix}-b/0@2`]);
	});

	it("a new partition that does not answer for its offsets starts at 0, and the refresh takes the topic in", async () => {
		const { prefix, group, a } = await patternMemberThenNewTopic();
		await produce(`${prefix}-b`, [{ value: "first" }, { value: "second" }]);
		// The coordinator's question to the new partition fails, as a partition object down or unreachable would.
		const offsets = vi.spyOn(PartitionLog.prototype, "offsets").mockImplementation(() => {
			throw new Error("injected: the partition does not answer");
		});
		try {
			await forceMetadataRefresh(group);
			await heartbeat(group, a.member_id);
			expect(offsets).toHaveBeenCalled();
		} finally {
			offsets.mockRestore();
		}
		expect(await committedOn(group, `${prefix}-b`)).toEqual([0]);
		expect(placed(await pollFor(group, a.member_id, 2))).toEqual([`${prefix}-b/0@0`, `${prefix}-b/0@1`]);
	});

	it(`asks at most ${GROUP_DISCOVERY_CALLS_MAX} new partitions per refresh, handing out the rest once asked`, async () => {
		const prefix = `many-${crypto.randomUUID().slice(0, 6)}`;
		await createTopic(`${prefix}-a`, 1);
		const group = uniqueGroup();
		const a = await join(group, { topic_pattern: `${prefix}-.*`, auto_offset_reset: "latest" });
		expect((await poll(group, a.member_id)).records).toEqual([]);
		const many = `${prefix}-b`;
		// More than one refresh asks, and the cut falls inside the topic.
		const count = GROUP_DISCOVERY_CALLS_MAX + GROUP_DISCOVERY_CALLS_MAX / 2;
		await createTopic(many, count);
		const last = count - 1;
		await produce(many, [
			{ value: "deleted", partition: last },
			{ value: "kept", partition: last },
		]);
		await json("POST", `/v1/topics/${many}/partitions/${last}/delete-records`, 200, { body: { before_offset: 1 } });
		// Counts the questions the coordinator asks, answering them as usual.
		const spy = vi.spyOn(PartitionLog.prototype, "offsets");
		const owned = (assignment: readonly { topic: string; partition: number }[]) => assignment.filter((p) => p.topic === many).length;
		try {
			await forceMetadataRefresh(group);
			const first = await heartbeat(group, a.member_id);
			expect(spy).toHaveBeenCalledTimes(GROUP_DISCOVERY_CALLS_MAX);
			// Those not asked yet are not handed out: their start is not known.
			expect(owned(first.assignment)).toBe(GROUP_DISCOVERY_CALLS_MAX);
			// The next call refreshes again, without waiting for the refresh interval, and asks the rest.
			const second = await heartbeat(group, a.member_id);
			expect(spy).toHaveBeenCalledTimes(count);
			expect(owned(second.assignment)).toBe(count);
		} finally {
			spy.mockRestore();
		}
		const committed = await committedOn(group, many);
		expect(committed).toEqual([...Array(last).fill(0), 1]);
	}, 60_000);

	it("a topic the partition cap left out, included later, starts where auto_offset_reset says, across a restart", async () => {
		// Topics of PARTITIONS_MAX partitions and a small one, "b", fill the group up to the cap, all there before it joins.
		const prefix = `cap-${crypto.randomUUID().slice(0, 6)}`;
		const fillers = Math.floor(GROUP_PARTITIONS_MAX / PARTITIONS_MAX);
		const room = GROUP_PARTITIONS_MAX - fillers * PARTITIONS_MAX;
		for (let i = 0; i < fillers; i++) await createTopic(`${prefix}-a${String(i).padStart(3, "0")}`, PARTITIONS_MAX);
		await createTopic(`${prefix}-b`, room);
		const group = uniqueGroup();
		const a = await join(group, { topic_pattern: `${prefix}-.*`, auto_offset_reset: "latest" });
		// Created after the join, found by the refresh, and left out (the cap keeps topics in name order).
		const late = `${prefix}-z`;
		await createTopic(late, room);
		await produce(late, [{ value: "while left out", partition: 0 }]);
		await forceMetadataRefresh(group);
		await heartbeat(group, a.member_id);
		expect(await committedOn(group, late)).toEqual([]);
		// The coordinator restarts (its memory gone), then "b" goes: the left-out topic fits now, and is no new topic
		// for the group, which looked at it before.
		await abortAllDurableObjects();
		expect((await call("DELETE", `/v1/topics/${prefix}-b`)).status).toBe(204);
		await heartbeat(group, a.member_id);
		const described = await coordinatorStub(group).describe(group);
		assert(described.ok);
		expect(described.value.topics.map((t) => t.topic)).toContain(late);
		// Under latest, nothing committed: the member starts at the end, as on any topic there when it joined.
		expect(await committedOn(group, late)).toEqual([]);
	}, 120_000);
});
