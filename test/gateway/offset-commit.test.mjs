/**
 * OffsetCommit's per-partition answers as a broker gives them, against a stand-in for Tributary's commit that refuses
 * as the Worker does (its schema's 400 for metadata over COMMIT_METADATA_BYTES_MAX bytes, the whole commit) and records
 * what it stored: a partition whose metadata is over Kafka's offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE
 * alone and the others are committed; a refused member's commit answers its error for every partition.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { offsetCommit } from "../../gateway/handlers/groups.js";
import { COMMIT_METADATA_BYTES_MAX } from "../../gateway/limits.js";

/** @param {{ fenced?: boolean }} [options] fenced: every commit is refused as a generation that is over */
function context({ fenced = false } = {}) {
	/** @type {any[]} */
	const committed = [];
	const tributary = {
		/** @param {string} _group @param {{ offsets: { metadata: string | null }[] }} body */
		async commit(_group, body) {
			const index = body.offsets.findIndex((o) => o.metadata !== null && Buffer.byteLength(o.metadata) > COMMIT_METADATA_BYTES_MAX);
			if (index >= 0) {
				const path = `offsets[${index}].metadata`;
				const message = `metadata may be at most ${COMMIT_METADATA_BYTES_MAX} bytes`;
				return { status: 400, body: { error: { code: "invalid_request", message: `${path}: ${message}`, issues: [{ path, message }] } } };
			}
			if (fenced) return { status: 409, body: { error: { code: "rebalance_in_progress", message: "generation 1 is over" } } };
			committed.push(...body.offsets);
			return { status: 200, body: {} };
		},
	};
	return { ctx: /** @type {any} */ ({ tributary, version: 8, log: () => {} }), committed };
}

/** A member's commit of `entries` ([partition, offset, metadata]) on topic `orders`. @param {[number, number, string | null][]} entries */
const commitOf = (entries) => ({
	groupId: "billing",
	memberId: "m-1",
	generationIdOrMemberEpoch: 1,
	groupInstanceId: null,
	topics: [
		{
			name: "orders",
			partitions: entries.map(([partitionIndex, committedOffset, committedMetadata]) => ({
				partitionIndex,
				committedOffset,
				committedLeaderEpoch: -1,
				committedMetadata,
			})),
		},
	],
});

/** @param {any} answer */
const codes = (answer) => answer.topics[0].partitions.map((/** @type {any} */ p) => [p.partitionIndex, p.errorCode]);

test("a partition committed with metadata over offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE alone; the others are committed", async () => {
	const { ctx, committed } = context();
	const long = "m".repeat(COMMIT_METADATA_BYTES_MAX + 1);
	// Bytes, not characters: 2,048 two-byte characters are at the cap, one more is over it.
	const wide = "é".repeat(COMMIT_METADATA_BYTES_MAX / 2 + 1);
	const answer = await offsetCommit(
		commitOf([
			[0, 5, "ok"],
			[1, 6, long],
			[2, 7, null],
			[3, 8, wide],
			[4, 9, "é".repeat(COMMIT_METADATA_BYTES_MAX / 2)],
		]),
		ctx,
	);
	assert.deepEqual(codes(answer), [
		[0, KAFKA.NONE],
		[1, KAFKA.OFFSET_METADATA_TOO_LARGE],
		[2, KAFKA.NONE],
		[3, KAFKA.OFFSET_METADATA_TOO_LARGE],
		[4, KAFKA.NONE],
	]);
	assert.deepEqual(
		committed.map((o) => [o.partition, o.offset]),
		[
			[0, 5],
			[2, 7],
			[4, 9],
		],
	);
});

test("a commit refused for the member answers that error for every partition, the one with too much metadata too (a broker checks the member first)", async () => {
	const { ctx, committed } = context({ fenced: true });
	const answer = await offsetCommit(
		commitOf([
			[0, 5, "ok"],
			[1, 6, "m".repeat(COMMIT_METADATA_BYTES_MAX + 1)],
		]),
		ctx,
	);
	assert.deepEqual(codes(answer), [
		[0, KAFKA.ILLEGAL_GENERATION],
		[1, KAFKA.ILLEGAL_GENERATION],
	]);
	assert.deepEqual(committed, []);
});
