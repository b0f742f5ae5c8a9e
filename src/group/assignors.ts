/**
 * @module
 * Partition assignment strategies, as pure functions of the members, their subscriptions, the partition counts
 * and (for `sticky`) the previous assignment. Each is deterministic: the same input gives the same output, so a
 * coordinator restarted from SQLite recomputes nothing differently. Members with different subscriptions are
 * allowed; a partition only ever goes to a member subscribed to its topic.
 *
 * @example
 * const next = assign("sticky", { members, partitionCounts: new Map([["orders", 4]]), previous });
 */

import { assert } from "../shared/assert.ts";
import type { Strategy, TopicPartition } from "./types.ts";

export interface AssignorMember {
	readonly memberId: string;
	/** Orders members: the static instance id when there is one (KIP-345 keeps `range` stable across restarts). */
	readonly sortKey: string;
	readonly topics: ReadonlySet<string>;
}

export interface AssignorInput {
	readonly members: readonly AssignorMember[];
	/** Partition count of every subscribed topic that exists. */
	readonly partitionCounts: ReadonlyMap<string, number>;
	/** The assignment of the previous generation, by member id (members gone since are ignored). */
	readonly previous: ReadonlyMap<string, readonly TopicPartition[]>;
}

/** Partitions by member id; every member of the input has an entry, sorted by topic then partition. */
export type Assignment = Map<string, TopicPartition[]>;

export function assign(strategy: Strategy, input: AssignorInput): Assignment {
	switch (strategy) {
		case "range":
			return rangeAssign(input);
		case "round-robin":
			return roundRobinAssign(input);
		case "sticky":
			return stickyAssign(input);
	}
}

function byKey(a: AssignorMember, b: AssignorMember): number {
	return compare(a.sortKey, b.sortKey) || compare(a.memberId, b.memberId);
}

function compare(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

export function comparePartitions(a: TopicPartition, b: TopicPartition): number {
	return compare(a.topic, b.topic) || a.partition - b.partition;
}

function sortedTopics(input: AssignorInput): string[] {
	return [...input.partitionCounts.keys()].sort(compare);
}

function emptyAssignment(members: readonly AssignorMember[]): Assignment {
	return new Map(members.map((m) => [m.memberId, []]));
}

function finish(assignment: Assignment): Assignment {
	for (const partitions of assignment.values()) partitions.sort(comparePartitions);
	return assignment;
}

/** Kafka's RangeAssignor: per topic, consecutive ranges to the subscribed members in order; the first get one more. */
export function rangeAssign(input: AssignorInput): Assignment {
	const result = emptyAssignment(input.members);
	const members = [...input.members].sort(byKey);
	for (const topic of sortedTopics(input)) {
		const count = input.partitionCounts.get(topic) ?? 0;
		const eligible = members.filter((m) => m.topics.has(topic));
		if (eligible.length === 0) continue;
		const base = Math.floor(count / eligible.length);
		const extra = count % eligible.length;
		let next = 0;
		eligible.forEach((member, i) => {
			const take = base + (i < extra ? 1 : 0);
			for (let p = next; p < next + take; p++) result.get(member.memberId)?.push({ topic, partition: p });
			next += take;
		});
		assert(next === count, "range covers all");
	}
	return finish(result);
}

/** Kafka's RoundRobinAssignor: all partitions in order, dealt to members in a circle, skipping the unsubscribed. */
export function roundRobinAssign(input: AssignorInput): Assignment {
	const result = emptyAssignment(input.members);
	const members = [...input.members].sort(byKey);
	let cursor = 0;
	for (const topic of sortedTopics(input)) {
		if (!members.some((m) => m.topics.has(topic))) continue;
		const count = input.partitionCounts.get(topic) ?? 0;
		for (let partition = 0; partition < count; partition++) {
			while (!(members[cursor % members.length] as AssignorMember).topics.has(topic)) cursor++;
			result.get((members[cursor % members.length] as AssignorMember).memberId)?.push({ topic, partition });
			cursor++;
		}
	}
	return finish(result);
}

/**
 * Sticky: keep every partition where it was if its owner is still subscribed, give new or orphaned partitions to
 * the least-loaded eligible member, then move partitions one at a time from a member to an eligible one with at
 * least two fewer until no such move exists. Only the moves balance needs are made.
 */
export function stickyAssign(input: AssignorInput): Assignment {
	const members = [...input.members].sort(byKey);
	const result = emptyAssignment(members);
	const owner = new Map<string, string>();
	const eligibleFor = new Map<string, AssignorMember[]>(
		sortedTopics(input).map((topic) => [topic, members.filter((m) => m.topics.has(topic))]),
	);
	const load = (id: string): number => (result.get(id) as TopicPartition[]).length;
	const give = (id: string, tp: TopicPartition): void => {
		(result.get(id) as TopicPartition[]).push(tp);
		owner.set(keyOf(tp), id);
	};
	for (const member of members) {
		const kept = [...(input.previous.get(member.memberId) ?? [])].sort(comparePartitions);
		for (const tp of kept) {
			const count = input.partitionCounts.get(tp.topic);
			if (count === undefined || tp.partition >= count || !member.topics.has(tp.topic) || owner.has(keyOf(tp))) continue;
			give(member.memberId, { topic: tp.topic, partition: tp.partition });
		}
	}
	for (const [topic, eligible] of eligibleFor) {
		if (eligible.length === 0) continue;
		const count = input.partitionCounts.get(topic) ?? 0;
		for (let partition = 0; partition < count; partition++) {
			if (owner.has(keyOf({ topic, partition }))) continue;
			give(leastLoaded(eligible, load).memberId, { topic, partition });
		}
	}
	balance(members, result, eligibleFor, load, owner);
	return finish(result);
}

function leastLoaded(eligible: readonly AssignorMember[], load: (id: string) => number): AssignorMember {
	let best = eligible[0] as AssignorMember;
	for (const member of eligible) if (load(member.memberId) < load(best.memberId)) best = member;
	return best;
}

/** Moves one partition at a time from the most loaded member that can shed one; each move lowers the spread. */
function balance(
	members: readonly AssignorMember[],
	result: Assignment,
	eligibleFor: ReadonlyMap<string, readonly AssignorMember[]>,
	load: (id: string) => number,
	owner: Map<string, string>,
): void {
	const total = [...result.values()].reduce((n, p) => n + p.length, 0);
	// Each move lowers the sum of squared loads by at least 2, so this bound is never reached.
	for (let moves = 0; moves <= total * total; moves++) {
		const heaviestFirst = [...members].sort((a, b) => load(b.memberId) - load(a.memberId) || byKey(a, b));
		let moved = false;
		for (const from of heaviestFirst) {
			const partitions = result.get(from.memberId) as TopicPartition[];
			for (let i = partitions.length - 1; i >= 0 && !moved; i--) {
				const tp = partitions[i] as TopicPartition;
				const to = leastLoaded(eligibleFor.get(tp.topic) ?? [], load);
				if (load(to.memberId) + 2 > load(from.memberId)) continue;
				partitions.splice(i, 1);
				(result.get(to.memberId) as TopicPartition[]).push(tp);
				owner.set(keyOf(tp), to.memberId);
				moved = true;
			}
			if (moved) break;
		}
		if (!moved) return;
	}
	assert(false, "sticky terminates");
}

/**
 * `next`, except that each partition `input.previous` gave a member in `holders` stays with it while it may own it
 * (is a member, subscribed to its topic): such a member reads from positions it keeps itself and learns of a new
 * generation only at its next call, so moving its partitions at once would have another member read them too.
 */
export function holdPartitions(input: AssignorInput, next: Assignment, holders: ReadonlySet<string>): Assignment {
	const eligible = new Map(input.members.map((m) => [m.memberId, m.topics]));
	const holder = new Map<string, string>();
	for (const id of holders) for (const tp of input.previous.get(id) ?? []) if (eligible.get(id)?.has(tp.topic)) holder.set(keyOf(tp), id);
	const held: Assignment = new Map([...next.keys()].map((id) => [id, []]));
	for (const [id, partitions] of next) for (const tp of partitions) held.get(holder.get(keyOf(tp)) ?? id)?.push(tp);
	for (const partitions of held.values()) partitions.sort(comparePartitions);
	return held;
}

/** Whether two assignments give every partition the same owner. */
export function sameOwners(a: ReadonlyMap<string, readonly TopicPartition[]>, b: ReadonlyMap<string, readonly TopicPartition[]>): boolean {
	const owners = (x: typeof a) =>
		JSON.stringify([...x].flatMap(([id, partitions]) => partitions.map((tp) => `${keyOf(tp)}\u0000${id}`)).sort());
	return owners(a) === owners(b);
}

export function keyOf(tp: TopicPartition): string {
	return `${tp.topic}\u0000${tp.partition}`;
}

/**
 * Asserts what every strategy promises: each subscribed partition with an eligible member has exactly one owner,
 * that owner is subscribed to its topic, and no partition outside the subscription is handed out.
 */
export function checkAssignment(input: AssignorInput, assignment: Assignment): void {
	const members = new Map(input.members.map((m) => [m.memberId, m]));
	const seen = new Set<string>();
	for (const [memberId, partitions] of assignment) {
		const member = members.get(memberId);
		assert(member !== undefined, "owners are members");
		for (const tp of partitions) {
			const count = input.partitionCounts.get(tp.topic);
			assert(count !== undefined && tp.partition >= 0 && tp.partition < count, "assigned exists");
			assert(member.topics.has(tp.topic), "owns subscribed");
			assert(!seen.has(keyOf(tp)), "one owner");
			seen.add(keyOf(tp));
		}
	}
	for (const [topic, count] of input.partitionCounts) {
		if (!input.members.some((m) => m.topics.has(topic))) continue;
		for (let partition = 0; partition < count; partition++) assert(seen.has(keyOf({ topic, partition })), "all owned");
	}
}
