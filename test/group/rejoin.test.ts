/**
 * Members that rejoin (Kafka's classic protocol, the gateway's members): they read from positions they keep
 * themselves, so a rebalance holds their partitions on them until they join again (`holdPartitions`), and their
 * commits of the generations since their last join are taken meanwhile. HTTP members' partitions still move at once.
 */
import { describe, expect, it } from "vitest";
import { type Assignment, type AssignorInput, assign, checkAssignment, holdPartitions, sameOwners } from "../../src/group/assignors.ts";
import type { TopicPartition } from "../../src/group/types.ts";
import { commit, expectPartitioned, expire, forceMetadataRefresh, heartbeat, join, partitionsOf } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { call, createTopic, expectError, produce } from "../support/worker.ts";

const tp = (partition: number): TopicPartition => ({ topic: "t", partition });

function input(ids: string[], previous: Record<string, number[]>): AssignorInput {
	return {
		members: ids.map((memberId) => ({ memberId, sortKey: memberId, topics: new Set(["t"]) })),
		partitionCounts: new Map([["t", 4]]),
		previous: new Map(Object.entries(previous).map(([id, ps]) => [id, ps.map(tp)])),
	};
}

const partitions = (a: Assignment) => Object.fromEntries([...a].map(([id, ps]) => [id, ps.map((p) => p.partition)]));

describe("holdPartitions (pure)", () => {
	it("keeps a holder's partitions on it and gives the newcomer only what was free", () => {
		const i = input(["a", "b"], { a: [0, 1, 2, 3] });
		const next = assign("sticky", i);
		expect(partitions(next).b).toHaveLength(2);
		const held = holdPartitions(i, next, new Set(["a"]));
		checkAssignment(i, held);
		expect(partitions(held)).toEqual({ a: [0, 1, 2, 3], b: [] });
		expect(sameOwners(held, i.previous)).toBe(true);
		// The same rebalance with "a" as the member rejoining: what the assignor moves off it moves.
		expect(holdPartitions(i, next, new Set())).toEqual(next);
		expect(sameOwners(next, i.previous)).toBe(false);
	});

	it("holds only on members still in the group and subscribed: a member gone or unsubscribed lets go", () => {
		const gone = input(["b"], { a: [0, 1], b: [2, 3] });
		expect(partitions(holdPartitions(gone, assign("range", gone), new Set(["a"])))).toEqual({ b: [0, 1, 2, 3] });
		const other: AssignorInput = {
			...input(["a", "b"], { a: [0, 1, 2, 3] }),
			members: [
				{ memberId: "a", sortKey: "a", topics: new Set(["u"]) },
				{ memberId: "b", sortKey: "b", topics: new Set(["t"]) },
			],
		};
		const held = holdPartitions(other, assign("range", other), new Set(["a"]));
		checkAssignment(other, held);
		expect(partitions(held)).toEqual({ a: [], b: [0, 1, 2, 3] });
	});

	it("never gives a partition two owners, whatever the holders, for every strategy", () => {
		for (const strategy of ["sticky", "range", "round-robin"] as const) {
			const i = input(["a", "b", "c"], { a: [0, 3], b: [1], c: [2] });
			for (const holders of [[], ["a"], ["b", "c"], ["a", "b", "c"]])
				checkAssignment(i, holdPartitions(i, assign(strategy, i), new Set(holders)));
		}
	});
});

describe("members that rejoin, through the coordinator", () => {
	it("a join does not move partitions off a member that rejoins until it rejoins; its commit of the generation before is taken", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const all = partitionsOf(topic, 4);
		const a = await join(group, { topics: [topic], rejoins: true });
		expect(a.assignment).toEqual(all);
		const b = await join(group, { topics: [topic], rejoins: true });
		expect(b.generation).toBe(a.generation + 1);
		expect(b.assignment).toEqual([]);
		// a still reads every partition: its commit of the generation it joined in is in time.
		await commit(group, a.member_id, a.generation, [{ topic, partition: 0, offset: 0 }]);
		expect((await heartbeat(group, a.member_id)).assignment).toEqual(all);

		// a rejoins (under its id): it has stopped reading, so half moves to b, in a new generation.
		const again = await join(group, { topics: [topic], rejoins: true, member_id: a.member_id });
		expect(again.member_id).toBe(a.member_id);
		expect(again.generation).toBe(b.generation + 1);
		expect(again.assignment).toHaveLength(2);
		// Partitions left a: its commits of generations before its rejoin are refused now.
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "rebalance_in_progress", {
			body: { member_id: a.member_id, generation: a.generation, offsets: [{ topic, partition: 0, offset: 0 }] },
		});
		const bView = await join(group, { topics: [topic], rejoins: true, member_id: b.member_id });
		expect(bView.generation, "a rejoin that moves nothing starts no generation").toBe(again.generation);
		expectPartitioned([again.assignment, bView.assignment], all);
	});

	// Kafka's validateOffsetCommit, with an instance id or not: the member first (FENCED_INSTANCE_ID, UNKNOWN_MEMBER_ID),
	// then ILLEGAL_GENERATION for any generation but the group's. Before its rejoin a member's commits of the generation
	// its join answered are in time (the barrier); once it has rejoined, only those of the generation that join answered.
	it("once a member has rejoined into a new generation, its commit of the generation before is refused, static or not", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const answers: string[] = [];
		for (const instance of [{ instance_id: "i-s" }, {}]) {
			const group = uniqueGroup();
			const s = await join(group, { topics: [topic], rejoins: true, ...instance });
			const t = await join(group, { topics: [topic], rejoins: true });
			const again = await join(group, { topics: [topic], rejoins: true, member_id: s.member_id, ...instance });
			expect(again.generation).toBe(t.generation + 1);
			const kept = again.assignment[0] as TopicPartition;
			for (const generation of [s.generation, t.generation, again.generation]) {
				const body = { member_id: s.member_id, generation, offsets: [{ ...kept, offset: 0 }], ...instance };
				const answer = await call("POST", `/v1/groups/${group}/offsets`, { body });
				const code = answer.ok ? "committed" : (await answer.json<{ error: { code: string } }>()).error.code;
				answers.push(`${JSON.stringify(instance)} g${generation}: ${answer.status} ${code}`);
			}
		}
		expect(answers).toEqual([
			'{"instance_id":"i-s"} g1: 409 rebalance_in_progress',
			'{"instance_id":"i-s"} g2: 409 rebalance_in_progress',
			'{"instance_id":"i-s"} g3: 200 committed',
			"{} g1: 409 rebalance_in_progress",
			"{} g2: 409 rebalance_in_progress",
			"{} g3: 200 committed",
		]);
	});

	it("a member that rejoins and leaves or times out lets go at once; HTTP members' partitions still move at once", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const all = partitionsOf(topic, 4);
		const a = await join(group, { topics: [topic], rejoins: true });
		const b = await join(group, { topics: [topic] });
		expect(b.assignment).toEqual([]);
		expect((await call("DELETE", `/v1/groups/${group}/members/${a.member_id}`)).status).toBe(204);
		expect((await heartbeat(group, b.member_id)).assignment).toEqual(all);

		const c = await join(group, { topics: [topic], rejoins: true });
		expect(c.assignment, "an HTTP member's partitions move at once").toHaveLength(2);
		await expire(group, [c.member_id]);
		expect((await heartbeat(group, b.member_id)).assignment).toEqual(all);
	});

	it("a static member's join naming its own member id is that member again: a join into a group of static members moves nothing before they rejoin", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const all = partitionsOf(topic, 4);
		const a = await join(group, { topics: [topic], instance_id: "i-a", rejoins: true });
		const b = await join(group, { topics: [topic], instance_id: "i-b", rejoins: true });
		expect(b.assignment, "held on a until it rejoins").toEqual([]);
		expect((await heartbeat(group, a.member_id)).assignment).toEqual(all);

		// KIP-345: a join with its instance id and its own member id is that member's rejoin, not a restart under a new id.
		const again = await join(group, { topics: [topic], instance_id: "i-a", member_id: a.member_id, rejoins: true });
		expect(again.member_id).toBe(a.member_id);
		expect(again.generation).toBe(b.generation + 1);
		expect(again.assignment).toHaveLength(2);
		const bView = await join(group, { topics: [topic], instance_id: "i-b", member_id: b.member_id, rejoins: true });
		expect(bView.member_id).toBe(b.member_id);
		expect(bView.generation, "a rejoin that moves nothing starts no generation").toBe(again.generation);
		expectPartitioned([again.assignment, bView.assignment], all);

		// Without its member id, the instance's restart: a new member id takes the old one's place and partitions.
		const restarted = await join(group, { topics: [topic], instance_id: "i-a", rejoins: true });
		expect(restarted.member_id).not.toBe(a.member_id);
		expect(restarted.assignment).toEqual(again.assignment);
		await expectError("POST", `/v1/groups/${group}/members/${a.member_id}/heartbeat`, 409, "unknown_member");
	});

	it("a topic created again under its name refuses a member's commit of a generation before: it read the old topic", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], rejoins: true });
		const b = await join(group, { topics: [topic], rejoins: true });
		expect((await call("DELETE", `/v1/topics/${topic}`)).status).toBe(204);
		await createTopic(topic, 1);
		await produce(
			topic,
			Array.from({ length: 5 }, (_, i) => ({ value: i, partition: 0 })),
		);
		await forceMetadataRefresh(group);
		const view = await heartbeat(group, a.member_id);
		expect(view.generation).toBe(b.generation + 1);
		expect(view.assignment, "still held on a until it rejoins").toEqual(partitionsOf(topic, 1));
		// Offset 3 of the old topic would skip records 0-2 of the new one.
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "rebalance_in_progress", {
			body: { member_id: a.member_id, generation: b.generation, offsets: [{ topic, partition: 0, offset: 3 }] },
		});
		await commit(group, a.member_id, view.generation, [{ topic, partition: 0, offset: 0 }]);
	});
});
