/**
 * A produce's answer as the gateway reads it (gateway/tributary.js `produceAnswer`): the Produce response needs only
 * the batch's first position (its base offset and, for a LogAppendTime topic, its time), which is read from the head
 * of the Worker's `{"offsets":[…]}` without parsing the other positions; any answer of another shape is parsed whole.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { produceAnswer } from "../../gateway/tributary.js";

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
console.log(`# fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay)`);

const position = fc.record({
	partition: fc.nat({ max: 9_999 }),
	offset: fc.maxSafeNat(),
	timestamp: fc.nat({ max: 8_640_000_000_000_000 }),
});

/** `text` cut into chunks at `cuts`, as a socket may deliver it. @param {string} text @param {number[]} cuts */
function chunked(text, cuts) {
	const bytes = Buffer.from(text);
	const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
	return [0, ...at].map((start, i) => bytes.subarray(start, at[i] ?? bytes.length)).filter((c) => c.length > 0);
}

test("fuzz: the first position of a Worker's produce answer is JSON.parse's, however the answer is cut into chunks", () => {
	fc.assert(
		fc.property(fc.array(position, { minLength: 1, maxLength: 120 }), fc.array(fc.nat(), { maxLength: 4 }), (offsets, cuts) => {
			const text = JSON.stringify({ offsets });
			assert.deepEqual(produceAnswer(chunked(text, cuts)).offsets[0], JSON.parse(text).offsets[0]);
		}),
		{ seed: SEED, numRuns: 2_000 },
	);
});

test("an answer of another shape is parsed whole, as JSON.parse reads it", () => {
	for (const body of [
		{ offsets: [{ offset: 3, partition: 0, timestamp: 5 }] },
		{ offsets: [{ partition: 0, offset: 3, timestamp: 5, extra: true }] },
		{ offsets: [{ partition: 0, offset: 3.5, timestamp: 5 }] },
		{ offsets: [{ partition: 0, offset: 3, timestamp: -5 }] },
		{ offsets: [] },
		{ error: { code: "topic_not_found", message: "no topic" } },
	]) {
		const text = JSON.stringify(body);
		assert.deepEqual(produceAnswer([Buffer.from(text)]), JSON.parse(text));
	}
	assert.deepEqual(produceAnswer([Buffer.from(' {"offsets":[{"partition":0,"offset":1,"timestamp":2}]}')]), {
		offsets: [{ partition: 0, offset: 1, timestamp: 2 }],
	});
	assert.throws(() => produceAnswer([Buffer.from('{"offsets":[{"partition":0,"offset":1,"timestamp":2}')]), SyntaxError);
});
