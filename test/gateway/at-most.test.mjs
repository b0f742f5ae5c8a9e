// @ts-check
/** mapAtMost: at most `limit` calls at once, answers in the items' order; a limit below 1 is a caller's bug. */

import assert from "node:assert/strict";
import { test } from "node:test";
import { mapAtMost } from "../../gateway/at-most.js";

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
