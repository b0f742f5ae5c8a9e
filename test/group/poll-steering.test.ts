/**
 * A poll's `seek` and `paused` (Kafka's `seek` and `pause`) over HTTP: a seek moves the member's read position on a
 * partition it owns before the poll reads, a paused partition is not read while the member keeps it, and neither
 * touches partitions the member does not own.
 */
import { describe, expect, it } from "vitest";
import { join, poll } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { createTopic, expectError, produce } from "../support/worker.ts";

/** A topic of `partitions`, each holding values 0–9, and a member of a new group that owns every partition. */
async function ownedTopic(partitions: number) {
	const topic = uniqueTopic();
	await createTopic(topic, partitions);
	await produce(
		topic,
		Array.from({ length: partitions * 10 }, (_, i) => ({ value: i % 10, partition: Math.floor(i / 10) })),
	);
	const group = uniqueGroup();
	const member = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
	return { topic, group, member: member.member_id };
}

const offsetsOf = (records: { partition: number; offset: number }[], partition = 0) =>
	records.filter((r) => r.partition === partition).map((r) => r.offset);

describe("poll steering", () => {
	it("seek moves the member's position before the poll reads: back and forward", async () => {
		const { topic, group, member } = await ownedTopic(1);
		expect(offsetsOf((await poll(group, member, { max_records: 6, auto_commit: false })).records)).toEqual([0, 1, 2, 3, 4, 5]);
		const back = await poll(group, member, { max_records: 3, auto_commit: false, seek: [{ topic, partition: 0, offset: 2 }] });
		expect(offsetsOf(back.records)).toEqual([2, 3, 4]);
		// The position stays where the seek put it and the reads moved it.
		expect(offsetsOf((await poll(group, member, { max_records: 1, auto_commit: false })).records)).toEqual([5]);
		const forward = await poll(group, member, { max_records: 10, auto_commit: false, seek: [{ topic, partition: 0, offset: 8 }] });
		expect(offsetsOf(forward.records)).toEqual([8, 9]);
	});

	it("a seek past the log's end follows auto_offset_reset, as a fetch out of range does", async () => {
		const { topic, group, member } = await ownedTopic(1);
		const polled = await poll(group, member, { auto_commit: false, seek: [{ topic, partition: 0, offset: 1_000 }] });
		expect(offsetsOf(polled.records)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
	});

	it("a paused partition is not read, stays the member's, and is read from where it stood once resumed", async () => {
		const { topic, group, member } = await ownedTopic(2);
		const first = await poll(group, member, { max_records: 4, auto_commit: false });
		expect([offsetsOf(first.records, 0), offsetsOf(first.records, 1)]).toEqual([
			[0, 1],
			[0, 1],
		]);
		const paused = await poll(group, member, { max_records: 100, auto_commit: false, paused: [{ topic, partition: 0 }] });
		expect(paused.records.every((r) => r.partition === 1)).toBe(true);
		expect(offsetsOf(paused.records, 1)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
		expect(paused.assignment).toHaveLength(2);
		const resumed = await poll(group, member, { max_records: 100, auto_commit: false });
		expect(offsetsOf(resumed.records, 0)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
	});

	it("a seek or pause of a partition the member does not own changes nothing", async () => {
		const { topic, group, member } = await ownedTopic(1);
		const other = uniqueTopic();
		const polled = await poll(group, member, {
			max_records: 3,
			auto_commit: false,
			seek: [{ topic: other, partition: 0, offset: 5 }],
			paused: [{ topic, partition: 1 }],
		});
		expect(offsetsOf(polled.records)).toEqual([0, 1, 2]);
	});

	it("refuses a seek naming a partition twice, or a negative offset", async () => {
		const { topic, group, member } = await ownedTopic(1);
		const path = `/v1/groups/${group}/members/${member}/poll`;
		await expectError("POST", path, 400, "invalid_request", {
			body: {
				seek: [
					{ topic, partition: 0, offset: 1 },
					{ topic, partition: 0, offset: 2 },
				],
			},
		});
		await expectError("POST", path, 400, "invalid_request", { body: { seek: [{ topic, partition: 0, offset: -1 }] } });
	});
});
