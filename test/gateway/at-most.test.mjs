// @ts-check
/**
 * mapAtMost: at most `limit` calls at once, answers in the items' order; a limit below 1 is a caller's bug.
 * mapGroupsAtMost: the same cap across several groups' items, the answers grouped as the items were.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { mapAtMost, mapGroupsAtMost } from "../../gateway/at-most.js";

test("mapAtMost answers in the items' order with at most limit calls unsettled", async () => {
	let running = 0;
	let most = 0;
	const answers = await mapAtMost([3, 1, 2, 0], 2, async (n) => {
		most = Math.max(most, ++running);
		await new Promise((resolve) => setImmediate(resolve));
		running--;
		return n * 10;
	});
	assert.deepEqual(answers, [30, 10, 20, 0]);
	assert.equal(most, 2);
});

// A limit of 0 or NaN began no call and answered an array of holes, which a caller read as answers.
test("mapAtMost refuses a limit below 1", async () => {
	for (const limit of [0, Number.NaN, -1]) {
		await assert.rejects(
			mapAtMost([1, 2], limit, async (n) => n),
			(/** @type {Error} */ error) => error.message === `mapAtMost's limit must be at least 1, got ${limit}`,
		);
	}
});

test("mapGroupsAtMost caps the calls across groups and answers each group's items in their order, an empty group empty", async () => {
	let running = 0;
	let most = 0;
	const groups = [
		{ name: "a", items: [1, 2, 3] },
		{ name: "b", items: [] },
		{ name: "c", items: [4, 5] },
	];
	const answers = await mapGroupsAtMost(
		groups,
		(g) => g.items,
		2,
		async (n, g) => {
			most = Math.max(most, ++running);
			await new Promise((resolve) => setImmediate(resolve));
			running--;
			return `${g.name}${n}`;
		},
	);
	assert.deepEqual(answers, [["a1", "a2", "a3"], [], ["c4", "c5"]]);
	assert.equal(most, 2);
});
