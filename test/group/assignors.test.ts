/**
 * The assignors as pure functions: coverage, balance, stickiness and determinism, by example and by property.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	type Assignment,
	type AssignorInput,
	type AssignorMember,
	assign,
	checkAssignment,
	keyOf,
	rangeAssign,
	roundRobinAssign,
	stickyAssign,
} from "../../src/group/assignors.ts";
import { STRATEGIES, type TopicPartition } from "../../src/group/types.ts";

function member(id: string, topics: string[], sortKey = id): AssignorMember {
	return { memberId: id, sortKey, topics: new Set(topics) };
}

function input(members: AssignorMember[], counts: Record<string, number>, previous: Assignment = new Map()): AssignorInput {
	return { members, partitionCounts: new Map(Object.entries(counts)), previous };
}

const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });

function loads(assignment: Assignment): number[] {
	return [...assignment.values()].map((p) => p.length);
}

/** How many partitions changed owner between two assignments (partitions absent from either are not counted). */
function moved(before: Assignment, after: Assignment): number {
	const owner = new Map<string, string>();
	for (const [id, parts] of before) for (const p of parts) owner.set(keyOf(p), id);
	let count = 0;
	for (const [id, parts] of after) for (const p of parts) if (owner.has(keyOf(p)) && owner.get(keyOf(p)) !== id) count++;
	return count;
}

describe("range", () => {
	it("gives each member consecutive partitions per topic, the first members one more", () => {
		const result = rangeAssign(input([member("b", ["t", "u"]), member("a", ["t", "u"])], { t: 5, u: 2 }));
		expect(result.get("a")).toEqual([tp("t", 0), tp("t", 1), tp("t", 2), tp("u", 0)]);
		expect(result.get("b")).toEqual([tp("t", 3), tp("t", 4), tp("u", 1)]);
	});

	it("orders static members by instance id, so a restart under a new member id keeps the same ranges", () => {
		const before = rangeAssign(input([member("m-1", ["t"], "alpha"), member("m-2", ["t"], "beta")], { t: 4 }));
		const after = rangeAssign(input([member("z-9", ["t"], "alpha"), member("m-2", ["t"], "beta")], { t: 4 }));
		expect(after.get("z-9")).toEqual(before.get("m-1"));
	});
});

describe("round-robin", () => {
	it("deals partitions of all topics in turn", () => {
		const result = roundRobinAssign(input([member("a", ["t", "u"]), member("b", ["t", "u"])], { t: 3, u: 2 }));
		expect(result.get("a")).toEqual([tp("t", 0), tp("t", 2), tp("u", 1)]);
		expect(result.get("b")).toEqual([tp("t", 1), tp("u", 0)]);
	});

	it("skips members not subscribed to a topic", () => {
		const result = roundRobinAssign(input([member("a", ["t"]), member("b", ["t", "u"])], { t: 2, u: 3 }));
		expect(result.get("a")).toEqual([tp("t", 0)]);
		expect(result.get("b")).toEqual([tp("t", 1), tp("u", 0), tp("u", 1), tp("u", 2)]);
	});
});

describe("sticky", () => {
	it("balances a fresh group like any other strategy", () => {
		const result = stickyAssign(input([member("a", ["t"]), member("b", ["t"]), member("c", ["t"])], { t: 8 }));
		expect(loads(result).sort()).toEqual([2, 3, 3]);
	});

	it("moves only the leaver's partitions when a member leaves", () => {
		const members = ["a", "b", "c", "d"].map((id) => member(id, ["t"]));
		const before = stickyAssign(input(members, { t: 12 }));
		const after = stickyAssign(input(members.slice(1), { t: 12 }, before));
		const stayed = new Map([...before].filter(([id]) => id !== "a"));
		expect(moved(stayed, after)).toBe(0);
		expect(loads(after)).toEqual([4, 4, 4]);
	});

	it("moves only what the newcomer needs when a member joins", () => {
		const members = ["a", "b", "c"].map((id) => member(id, ["t"]));
		const before = stickyAssign(input(members, { t: 12 }));
		const after = stickyAssign(input([...members, member("d", ["t"])], { t: 12 }, before));
		expect(moved(before, after)).toBe(3);
		expect(after.get("d")).toHaveLength(3);
	});

	it("keeps everything in place when nothing changed, unlike range after a membership change", () => {
		const members = ["a", "b", "c"].map((id) => member(id, ["t"]));
		const before = stickyAssign(input(members, { t: 10 }));
		expect(stickyAssign(input(members, { t: 10 }, before))).toEqual(before);
		const grown = stickyAssign(input(members, { t: 13 }, before));
		expect(moved(before, grown)).toBe(0);
		expect(loads(grown).sort()).toEqual([4, 4, 5]);
	});

	it("ignores previous partitions a member no longer subscribes to or that no longer exist", () => {
		const previous: Assignment = new Map([["a", [tp("gone", 0), tp("t", 9), tp("t", 0)]]]);
		const result = stickyAssign(input([member("a", ["t"]), member("b", ["t"])], { t: 2 }, previous));
		expect(result.get("a")).toEqual([tp("t", 0)]);
		expect(result.get("b")).toEqual([tp("t", 1)]);
	});
});

const arbitraryGroup = fc
	.record({
		memberCount: fc.integer({ min: 1, max: 8 }),
		counts: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }),
		subscriptions: fc.array(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), { minLength: 8, maxLength: 8 }),
		homogeneous: fc.boolean(),
	})
	.map(({ memberCount, counts, subscriptions, homogeneous }) => {
		const topics = counts.map((_, i) => `topic-${i}`);
		const members = Array.from({ length: memberCount }, (_, m) => {
			const wanted = homogeneous ? topics : topics.filter((_, i) => subscriptions[m]?.[i]);
			return member(`member-${m}`, wanted.length > 0 ? wanted : [topics[0] as string]);
		});
		return input(members, Object.fromEntries(topics.map((t, i) => [t, counts[i] as number])));
	});

describe("every strategy", () => {
	it("covers every subscribed partition exactly once, only for subscribers, deterministically", () => {
		fc.assert(
			fc.property(arbitraryGroup, fc.constantFrom(...STRATEGIES), (group, strategy) => {
				const result = assign(strategy, group);
				checkAssignment(group, result);
				const shuffled = { ...group, members: [...group.members].reverse() };
				expect(assign(strategy, shuffled)).toEqual(result);
			}),
		);
	});

	it("balances homogeneous subscriptions to within one partition", () => {
		fc.assert(
			fc.property(arbitraryGroup, fc.constantFrom("round-robin" as const, "sticky" as const), (group, strategy) => {
				fc.pre(group.members.every((m) => m.topics.size === group.partitionCounts.size));
				const counts = loads(assign(strategy, group));
				expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
			}),
		);
	});
});

describe("sticky, by property", () => {
	it("stays balanced and checked after random joins and leaves, and never moves more than balance needs", () => {
		fc.assert(
			fc.property(arbitraryGroup, fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }), (group, steps) => {
				let members = [...group.members];
				let previous = stickyAssign(group);
				let next = members.length;
				for (const join of steps) {
					members =
						join || members.length === 1
							? [...members, member(`new-${next++}`, [...(members[0] as AssignorMember).topics])]
							: members.slice(1);
					const step = { ...group, members, previous };
					const result = stickyAssign(step);
					checkAssignment(step, result);
					// A partition moves only off a member above the new ceiling or off a member that left.
					const total = loads(result).reduce((a, b) => a + b, 0);
					const ceiling = Math.ceil(total / members.length);
					const kept = [...previous].filter(([id]) => members.some((m) => m.memberId === id));
					const overflow = kept.reduce((n, [, parts]) => n + Math.max(0, parts.length - ceiling), 0);
					const homogeneous = members.every((m) => m.topics.size === group.partitionCounts.size);
					if (homogeneous) expect(moved(new Map(kept), result)).toBeLessThanOrEqual(overflow + members.length);
					previous = result;
				}
			}),
		);
	});
});
