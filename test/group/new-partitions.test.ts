/**
 * Partitions a group discovers after it subscribed (partitions added to a topic, a topic created under its pattern)
 * start at their first record whatever `auto_offset_reset` says: every record in them was written after the group
 * subscribed, and the coordinator notices them only at its next metadata refresh (up to 5 s later), so `latest`
 * would skip what was written in between. Partitions a member's join finds keep `latest`.
 */
import { describe, expect, it } from "vitest";
import { describeGroup, forceMetadataRefresh, join, type PolledRecord, poll } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { createTopic, json, produce } from "../support/worker.ts";

/** Polls until `count` records came back (at most 5 polls), so a rebalance in between cannot hide any. */
async function pollFor(group: string, member: string, count: number): Promise<PolledRecord[]> {
	const got: PolledRecord[] = [];
	for (let i = 0; i < 5 && got.length < count; i++) got.push(...(await poll(group, member, { wait_ms: 50 })).records);
	return got;
}

const placed = (records: PolledRecord[]) => records.map((r) => `${r.topic}/${r.partition}@${r.offset}`).sort();

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
});
