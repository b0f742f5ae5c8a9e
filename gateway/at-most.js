// @ts-check
/**
 * @module
 * A map over many items whose calls run at most a given number at a time, in order of the items; and one over the
 * items of several groups (a Kafka request's partitions, topic by topic) under one such cap.
 */

import assert from "node:assert/strict";

/**
 * `items` mapped by `fn`, with at most `limit` calls of `fn` unsettled at once; the answers in the order of `items`.
 * Rejects with the first rejection (the calls already begun run on, none more begin). `limit` is at least 1: below
 * (0, NaN) no call would begin, and the answers would be an array of holes.
 * @template T, R
 * @param {readonly T[]} items @param {number} limit @param {(item: T, index: number) => Promise<R>} fn
 * @returns {Promise<R[]>}
 * @example const ends = await mapAtMost(partitions, WORKER_REQUESTS_AT_ONCE_MAX, (p) => tributary.offsetAt(topic, p, "latest"));
 */
export async function mapAtMost(items, limit, fn) {
	assert(limit >= 1, `mapAtMost's limit must be at least 1, got ${limit}`);
	/** @type {R[]} */
	const results = new Array(items.length);
	let next = 0;
	let failed = false;
	const worker = async () => {
		while (next < items.length && !failed) {
			const i = next++;
			try {
				results[i] = await fn(items[i], i);
			} catch (error) {
				failed = true;
				throw error;
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
	return results;
}

/**
 * Every group's items mapped by `fn`, at most `limit` calls unsettled at once across all the groups (`mapAtMost`): the
 * answers as one array per group, each in the order of its items.
 * @template G, T, R
 * @param {readonly G[]} groups @param {(group: G) => readonly T[]} itemsOf @param {number} limit
 * @param {(item: T, group: G) => Promise<R>} fn
 * @returns {Promise<R[][]>}
 * @example const partitions = await mapGroupsAtMost(request.topics, (t) => t.partitions, WORKER_REQUESTS_AT_ONCE_MAX, (p, t) => deletePartition(ctx, t.name, p));
 */
export async function mapGroupsAtMost(groups, itemsOf, limit, fn) {
	const items = groups.flatMap((group) => itemsOf(group).map((item) => ({ group, item })));
	const answers = await mapAtMost(items, limit, ({ group, item }) => fn(item, group));
	let start = 0;
	return groups.map((group) => {
		const end = start + itemsOf(group).length;
		const own = answers.slice(start, end);
		start = end;
		return own;
	});
}
