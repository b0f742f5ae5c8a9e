/**
 * How much a partition object's appends shared their commits, counted by the test: the object's commit queue writes
 * each group through its `writeGroup`, which this wraps. The Worker keeps no such count.
 */

import type { PartitionLog } from "../../src/partition/partition-log.ts";

/** Groups written since `countGroupWrites`, the requests in them, and the largest group. */
export interface GroupWrites {
	groups: number;
	requests: number;
	largestGroup: number;
}

/** Counts the groups `log` writes from now on (call it in the object, from `runInDurableObject`). */
export function countGroupWrites(log: PartitionLog): GroupWrites {
	const counted: GroupWrites = { groups: 0, requests: 0, largestGroup: 0 };
	const object = log as unknown as { writeGroup(entries: readonly unknown[]): unknown[] };
	const write = object.writeGroup;
	object.writeGroup = (entries) => {
		counted.groups++;
		counted.requests += entries.length;
		counted.largestGroup = Math.max(counted.largestGroup, entries.length);
		return write.call(log, entries);
	};
	return counted;
}
