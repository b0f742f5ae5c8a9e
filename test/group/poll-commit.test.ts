/**
 * A poll that carries a commit: the commit is fenced exactly as `POST /v1/groups/{group}/offsets` is, written
 * before the poll answers (it survives a restart of every object), and when refused the poll reads nothing.
 */

import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { describeGroup, join, type Partition, poll } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { call, createTopic, expectError, produce } from "../support/worker.ts";

async function setUp(partitions = 1, records = 10) {
	const topic = uniqueTopic();
	await createTopic(topic, partitions);
	await produce(
		topic,
		Array.from({ length: records * partitions }, (_, i) => ({ value: i, partition: i % partitions })),
	);
	const group = uniqueGroup();
	const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
	return { topic, group, member: m.member_id, generation: m.generation };
}

const committedOf = async (group: string) => (await describeGroup(group)).offsets.map((o) => o.committed);

describe("a poll carrying a commit", () => {
	it("commits before it answers, durably, and reads on from the member's position", async () => {
		const { topic, group, member, generation } = await setUp();
		const first = await poll(group, member, { max_records: 4, auto_commit: false });
		expect(first.records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
		const second = await poll(group, member, {
			max_records: 4,
			auto_commit: false,
			commit: { generation, offsets: [{ topic, partition: 0, offset: 4 }] },
		});
		expect(second.records.map((r) => r.offset)).toEqual([4, 5, 6, 7]);
		await abortAllDurableObjects();
		expect(await committedOf(group)).toEqual([4]);
	});

	it("refuses a stale generation or a partition the member does not own, and then reads and commits nothing", async () => {
		const { topic, group, member, generation } = await setUp(2);
		await poll(group, member, { max_records: 2, auto_commit: false });
		const other = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const stale = await expectError("POST", `/v1/groups/${group}/members/${member}/poll`, 409, "rebalance_in_progress", {
			body: { auto_commit: false, commit: { generation, offsets: [{ topic, partition: 0, offset: 1 }] } },
		});
		expect(stale).toMatchObject({ generation: other.generation });
		const view = await poll(group, member, { max_records: 1, auto_commit: false });
		const notMine = other.assignment[0] as Partition;
		const mine = view.assignment[0] as Partition;
		await expectError("POST", `/v1/groups/${group}/members/${member}/poll`, 409, "partition_not_assigned", {
			body: {
				auto_commit: false,
				commit: {
					generation: view.generation,
					offsets: [
						{ ...mine, offset: 1 },
						{ ...notMine, offset: 1 },
					],
				},
			},
		});
		expect(await committedOf(group)).toEqual([null, null]);
		// The refused polls read nothing: the member's next poll goes on right after what `view` returned.
		const next = await poll(group, member, { max_records: 1, auto_commit: false });
		expect(next.records.map((r) => [r.partition, r.offset])).toEqual([[mine.partition, (view.records[0]?.offset ?? -1) + 1]]);
	});

	it("checks an offset beyond the member's position against the partition: past the high watermark is a 416", async () => {
		const { topic, group, member, generation } = await setUp(1, 5);
		const refused = await expectError("POST", `/v1/groups/${group}/members/${member}/poll`, 416, "offset_out_of_range", {
			body: { commit: { generation, offsets: [{ topic, partition: 0, offset: 6 }] } },
		});
		expect(refused).toMatchObject({ topic, partition: 0, offset: 6, high_watermark: 5 });
		expect(await committedOf(group)).toEqual([null]);
		// Up to the high watermark is accepted though nothing was read yet (as a commit on its own); with no
		// position yet, the member then starts from that commit.
		const polled = await poll(group, member, { commit: { generation, offsets: [{ topic, partition: 0, offset: 5, metadata: "m" }] } });
		expect(polled.records).toEqual([]);
		expect(await committedOf(group)).toEqual([5]);
	});

	it("refuses a commit of a generation that is over as such, even when it names a topic deleted since", async () => {
		const { topic, group, member, generation } = await setUp();
		const other = uniqueTopic();
		await createTopic(other, 1);
		// Another member subscribed to another topic: a new generation, in which this member keeps its partitions.
		await join(group, { topics: [other] });
		expect((await call("DELETE", `/v1/topics/${other}`)).status).toBe(204);
		for (const offsets of [[{ topic: other, partition: 0, offset: 1 }], [{ topic, partition: 0, offset: 99 }]]) {
			await expectError("POST", `/v1/groups/${group}/members/${member}/poll`, 409, "rebalance_in_progress", {
				body: { commit: { generation, offsets } },
			});
			await expectError("POST", `/v1/groups/${group}/offsets`, 409, "rebalance_in_progress", {
				body: { member_id: member, generation, offsets },
			});
		}
		const offsets = (await describeGroup(group)).offsets.filter((o) => o.topic === topic);
		expect(offsets.map((o) => o.committed)).toEqual([null]);
	});

	it("refuses a commit that names a partition twice, or an unknown topic, before anything happens", async () => {
		const { topic, group, member, generation } = await setUp();
		const p0 = { topic, partition: 0, offset: 1 };
		await expectError("POST", `/v1/groups/${group}/members/${member}/poll`, 400, "invalid_request", {
			body: { commit: { generation, offsets: [p0, p0] } },
		});
		await expectError("POST", `/v1/groups/${group}/members/${member}/poll`, 404, "topic_not_found", {
			body: { commit: { generation, offsets: [{ topic: uniqueTopic(), partition: 0, offset: 0 }] } },
		});
		expect(await committedOf(group)).toEqual([null]);
	});
});
