/**
 * OffsetCommit's per-partition answers as a broker gives them, against a stand-in for Tributary's commit that refuses
 * as the Worker does (its schema's 400 for metadata over COMMIT_METADATA_BYTES_MAX bytes, the whole commit) and records
 * what it stored: a partition whose metadata is over Kafka's offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE
 * alone and the others are committed; a refused member's commit answers its error for every partition, also when
 * every partition's metadata is over the cap (the member is then judged by a commit of no partition, by the Worker's
 * commit rule; by a heartbeat where the Worker is older; with generation -1, in the group's describe, never by a
 * heartbeat, which renews the member's session); and a topic or partition
 * Tributary does not have is UNKNOWN_TOPIC_OR_PARTITION whatever its metadata, as a broker checks the topic first; a
 * partition committed past its high watermark, which Tributary refuses, is committed at the high watermark.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { offsetCommit } from "../../gateway/handlers/offsets.js";
import { COMMIT_METADATA_BYTES_MAX, WORKER_REQUESTS_AT_ONCE_MAX } from "../../gateway/limits.js";
import { inFlight } from "./lib/in-flight.mjs";

/** How many partitions the stand-in's topic `orders` has. */
const ORDERS_PARTITIONS = 5;
/** Every partition's high watermark: the Worker refuses a commit past it (416), naming the first such partition. */
const HIGH_WATERMARK = 100;

/**
 * @param {{ fenced?: boolean, saidHighWatermark?: number, partitions?: number, members?: string[], inTime?: number[], emptyRefused?: boolean }} [options]
 * fenced: every commit is refused as a generation that is over; saidHighWatermark: the high watermark a refusal past
 * the end names, and a read of the log's end answers (the log may shrink after it); partitions: how many partitions
 * `orders` has; members: the member ids group `billing` has (a standalone commit is refused while there is one);
 * inTime: the generations the Worker's commit rule takes from the member (the group is at generation 1; a member that
 * rejoins may commit those since it last joined); emptyRefused: as a Worker from before a commit of no partition,
 * whose schema refuses it (400)
 */
function context({
	fenced = false,
	saidHighWatermark = HIGH_WATERMARK,
	partitions = ORDERS_PARTITIONS,
	members = ["m-1"],
	inTime = [1],
	emptyRefused = false,
} = {}) {
	/** @type {any[]} */
	const committed = [];
	/** Every commit the stand-in received, taken or refused, and every heartbeat (each renews its member's session). */
	const sent = { commits: 0, heartbeats: 0 };
	/** Reads of a log's end, and the most in flight at once. */
	const reads = inFlight();
	const tributary = {
		/** @param {string} _group @param {{ member_id?: string, generation?: number, offsets: { metadata: string | null }[] }} body */
		async commit(_group, body) {
			sent.commits++;
			if (emptyRefused && body.offsets.length === 0) {
				const message = "must hold at least 1 item";
				return {
					status: 400,
					body: { error: { code: "invalid_request", message: `offsets: ${message}`, issues: [{ path: "offsets", message }] } },
				};
			}
			// The Worker's standalone commit (no member id) is taken only while the group has no members.
			if (body.member_id === undefined && members.length > 0) {
				const message = `group "billing" has ${members.length} members; offsets may be reset only when it has none`;
				return { status: 409, body: { error: { code: "group_not_empty", message } } };
			}
			const index = body.offsets.findIndex((o) => o.metadata !== null && Buffer.byteLength(o.metadata) > COMMIT_METADATA_BYTES_MAX);
			if (index >= 0) {
				const path = `offsets[${index}].metadata`;
				const message = `metadata may be at most ${COMMIT_METADATA_BYTES_MAX} bytes`;
				return { status: 400, body: { error: { code: "invalid_request", message: `${path}: ${message}`, issues: [{ path, message }] } } };
			}
			const over = body.member_id !== undefined && !inTime.includes(/** @type {number} */ (body.generation));
			if (fenced || over) return { status: 409, body: { error: { code: "rebalance_in_progress", message: "generation 1 is over" } } };
			const past = body.offsets.find((o) => o.offset > HIGH_WATERMARK);
			if (past !== undefined) {
				const { topic, partition, offset } = past;
				const message = `offset ${offset} is past the end of ${topic}/${partition}`;
				const error = {
					code: "offset_out_of_range",
					message,
					topic,
					partition,
					offset,
					log_start_offset: 0,
					high_watermark: saidHighWatermark,
				};
				return { status: 416, body: { error } };
			}
			committed.push(...body.offsets);
			return { status: 200, body: {} };
		},
		/** The member's check on its own: unknown, or fenced (its group has moved past generation 1). @param {string} _group @param {string} member */
		async heartbeat(_group, member) {
			sent.heartbeats++;
			if (!members.includes(member))
				return { status: 409, body: { error: { code: "unknown_member", message: `member "${member}" is not in group "billing"` } } };
			if (fenced) return { status: 409, body: { error: { code: "rebalance_in_progress", message: "generation 1 is over" } } };
			return { status: 200, body: { generation: 1 } };
		},
		/** Group `billing` and its members (by default one, so a standalone commit is refused). */
		async describeGroup() {
			return { status: 200, body: { members: members.map((member_id) => ({ member_id, instance_id: null })) } };
		},
		/**
		 * Tributary has topic `orders` with `partitions` partitions, and no other; every partition's log starts at 0.
		 * @param {string} topic @param {number} partition @param {string} at
		 */
		offsetAt: (topic, partition, at) =>
			reads.answer(() => {
				if (topic !== "orders")
					return { status: 404, body: { error: { code: "topic_not_found", message: `topic "${topic}" does not exist`, topic } } };
				if (partition >= partitions) {
					const message = `topic "orders" has partitions 0 to ${partitions - 1}`;
					return { status: 404, body: { error: { code: "partition_not_found", message, topic, partitions } } };
				}
				return { status: 200, body: { offset: at === "latest" ? saidHighWatermark : 0 } };
			}),
	};
	return { ctx: /** @type {any} */ ({ tributary, version: 8, log: () => {} }), committed, sent, reads: reads.counts };
}

/**
 * A member's commit of `entries` ([partition, offset, metadata]) on `topic`.
 * @param {[number, number, string | null][]} entries @param {string} [topic]
 */
const commitOf = (entries, topic = "orders") => ({
	groupId: "billing",
	memberId: "m-1",
	generationIdOrMemberEpoch: 1,
	groupInstanceId: null,
	topics: [
		{
			name: topic,
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

test("a refused member committing only partitions with too much metadata is told its refusal, not OFFSET_METADATA_TOO_LARGE", async () => {
	const { ctx, committed } = context({ fenced: true });
	const answer = await offsetCommit(commitOf([[1, 6, "m".repeat(COMMIT_METADATA_BYTES_MAX + 1)]]), ctx);
	assert.deepEqual(codes(answer), [[1, KAFKA.ILLEGAL_GENERATION]]);
	assert.deepEqual(committed, []);
});

test("a member whose generation is not the group's, committing only too much metadata, is ILLEGAL_GENERATION", async () => {
	const { ctx } = context();
	const stale = { ...commitOf([[1, 6, "m".repeat(COMMIT_METADATA_BYTES_MAX + 1)]]), generationIdOrMemberEpoch: 0 };
	assert.deepEqual(codes(await offsetCommit(stale, ctx)), [[1, KAFKA.ILLEGAL_GENERATION]]);
});

// A broker judges a commit of the generation that is ending as it judges one of the current generation until the
// member rejoins, and the Worker's commit rule takes it so: the member's heartbeat, which names the current generation
// only, cannot judge it, so a commit of too much metadata only is judged by the Worker, as a commit of no partition.
test("a member's commit of an older generation that the Worker's commit rule takes is OFFSET_METADATA_TOO_LARGE with too much metadata only, as with other partitions; nothing stored, no heartbeat", async () => {
	const { ctx, committed, sent } = context({ inTime: [0, 1] });
	const long = "m".repeat(COMMIT_METADATA_BYTES_MAX + 1);
	const older = (/** @type {[number, number, string | null][]} */ entries) => ({ ...commitOf(entries), generationIdOrMemberEpoch: 0 });
	assert.deepEqual(codes(await offsetCommit(older([[1, 6, long]]), ctx)), [[1, KAFKA.OFFSET_METADATA_TOO_LARGE]]);
	assert.deepEqual(
		codes(
			await offsetCommit(
				older([
					[0, 5, "ok"],
					[1, 6, long],
				]),
				ctx,
			),
		),
		[
			[0, KAFKA.NONE],
			[1, KAFKA.OFFSET_METADATA_TOO_LARGE],
		],
	);
	assert.deepEqual(
		committed.map((o) => [o.partition, o.offset]),
		[[0, 5]],
	);
	assert.equal(sent.heartbeats, 0);
});

// A gateway may run ahead of its Worker: one that refuses a commit of no partition has the member judged by its
// heartbeat, as before (the current generation only).
test("a member's commit of too much metadata only, to a Worker that refuses a commit of no partition, is judged by the member's heartbeat", async () => {
	const { ctx, sent } = context({ inTime: [0, 1], emptyRefused: true });
	const long = "m".repeat(COMMIT_METADATA_BYTES_MAX + 1);
	assert.deepEqual(codes(await offsetCommit(commitOf([[1, 6, long]]), ctx)), [[1, KAFKA.OFFSET_METADATA_TOO_LARGE]]);
	const older = { ...commitOf([[1, 6, long]]), generationIdOrMemberEpoch: 0 };
	assert.deepEqual(codes(await offsetCommit(older, ctx)), [[1, KAFKA.ILLEGAL_GENERATION]]);
	assert.equal(sent.heartbeats, 2);
});

test("a topic or partition Tributary does not have is UNKNOWN_TOPIC_OR_PARTITION, even with too much metadata (a broker checks the topic first)", async () => {
	const { ctx, committed } = context();
	const long = "m".repeat(COMMIT_METADATA_BYTES_MAX + 1);
	const alone = await offsetCommit(commitOf([[0, 5, long]], "invoices"), ctx);
	assert.deepEqual(codes(alone), [[0, KAFKA.UNKNOWN_TOPIC_OR_PARTITION]]);
	const mixed = await offsetCommit(
		commitOf([
			[0, 5, "ok"],
			[1, 6, long],
			[ORDERS_PARTITIONS, 7, long],
		]),
		ctx,
	);
	assert.deepEqual(codes(mixed), [
		[0, KAFKA.NONE],
		[1, KAFKA.OFFSET_METADATA_TOO_LARGE],
		[ORDERS_PARTITIONS, KAFKA.UNKNOWN_TOPIC_OR_PARTITION],
	]);
	assert.deepEqual(
		committed.map((o) => [o.partition, o.offset]),
		[[0, 5]],
	);
});

test("a standalone commit to a group with members, of too much metadata only, is UNKNOWN_MEMBER_ID as any standalone commit there", async () => {
	const { ctx } = context();
	const standalone = { ...commitOf([[1, 6, "m".repeat(COMMIT_METADATA_BYTES_MAX + 1)]]), memberId: "", generationIdOrMemberEpoch: -1 };
	assert.deepEqual(codes(await offsetCommit(standalone, ctx)), [[1, KAFKA.UNKNOWN_MEMBER_ID]]);
});

// The member was checked by its heartbeat, which renews its session (a broker's ILLEGAL_GENERATION does not): the
// group's describe names its members instead.
test("a commit naming a member the group has, with generation -1, is ILLEGAL_GENERATION (a broker checks the member, then the generation); nothing stored, no heartbeat", async () => {
	const { ctx, committed, sent } = context();
	const minusOne = { ...commitOf([[1, 6, null]]), generationIdOrMemberEpoch: -1 };
	assert.deepEqual(codes(await offsetCommit(minusOne, ctx)), [[1, KAFKA.ILLEGAL_GENERATION]]);
	const tooLarge = { ...commitOf([[1, 6, "m".repeat(COMMIT_METADATA_BYTES_MAX + 1)]]), generationIdOrMemberEpoch: -1 };
	assert.deepEqual(codes(await offsetCommit(tooLarge, ctx)), [[1, KAFKA.ILLEGAL_GENERATION]]);
	assert.deepEqual(committed, []);
	assert.equal(sent.heartbeats, 0, "a refused commit renewed the member's session");
});

test("a commit naming a member the group does not have, with generation -1, is UNKNOWN_MEMBER_ID while the group has members", async () => {
	const { ctx, committed, sent } = context();
	const stranger = { ...commitOf([[1, 6, null]]), memberId: "m-9", generationIdOrMemberEpoch: -1 };
	assert.deepEqual(codes(await offsetCommit(stranger, ctx)), [[1, KAFKA.UNKNOWN_MEMBER_ID]]);
	const tooLarge = { ...commitOf([[1, 6, "m".repeat(COMMIT_METADATA_BYTES_MAX + 1)]]), memberId: "m-9", generationIdOrMemberEpoch: -1 };
	assert.deepEqual(codes(await offsetCommit(tooLarge, ctx)), [[1, KAFKA.UNKNOWN_MEMBER_ID]]);
	assert.deepEqual(committed, []);
	assert.equal(sent.heartbeats, 0);
});

test("a commit with a member id and generation -1 to a group with no members is stored, as a broker takes it from an Empty group", async () => {
	const { ctx, committed } = context({ members: [] });
	const minusOne = { ...commitOf([[1, 6, null]]), memberId: "m-gone", generationIdOrMemberEpoch: -1 };
	assert.deepEqual(codes(await offsetCommit(minusOne, ctx)), [[1, KAFKA.NONE]]);
	assert.deepEqual(
		committed.map((o) => [o.partition, o.offset]),
		[[1, 6]],
	);
});

test("a partition committed past its high watermark is committed at the high watermark, as kafka-consumer-groups clamps it; the others as sent", async () => {
	const { ctx, committed } = context();
	const answer = await offsetCommit(
		commitOf([
			[0, 5, "ok"],
			[1, HIGH_WATERMARK + 1, null],
			[2, HIGH_WATERMARK, null],
			[3, HIGH_WATERMARK + 7, null],
		]),
		ctx,
	);
	assert.deepEqual(codes(answer), [
		[0, KAFKA.NONE],
		[1, KAFKA.NONE],
		[2, KAFKA.NONE],
		[3, KAFKA.NONE],
	]);
	assert.deepEqual(
		committed.map((o) => [o.partition, o.offset]),
		[
			[0, 5],
			[1, HIGH_WATERMARK],
			[2, HIGH_WATERMARK],
			[3, HIGH_WATERMARK],
		],
	);
});

test("a partition still past its end once moved to the high watermark a refusal named is OFFSET_OUT_OF_RANGE alone, and the commit ends", async () => {
	const { ctx, committed } = context({ saidHighWatermark: HIGH_WATERMARK + 1 });
	const answer = await offsetCommit(
		commitOf([
			[0, 5, null],
			[1, HIGH_WATERMARK + 9, null],
		]),
		ctx,
	);
	assert.deepEqual(codes(answer), [
		[0, KAFKA.NONE],
		[1, KAFKA.OFFSET_OUT_OF_RANGE],
	]);
	assert.deepEqual(
		committed.map((o) => [o.partition, o.offset]),
		[[0, 5]],
	);
});

test("many partitions committed past their high watermark are all moved to it at once: two commits, not one per partition", async () => {
	const partitions = 64;
	const { ctx, committed, sent } = context({ partitions });
	const entries = /** @type {[number, number, null][]} */ (
		Array.from({ length: partitions }, (_, p) => [p, p % 2 === 0 ? HIGH_WATERMARK + 1 + p : p, null])
	);
	const answer = await offsetCommit(commitOf(entries), ctx);
	assert.deepEqual(
		codes(answer),
		entries.map(([p]) => [p, KAFKA.NONE]),
	);
	assert.deepEqual(
		committed.map((o) => [o.partition, o.offset]),
		entries.map(([p, offset]) => [p, Math.min(offset, HIGH_WATERMARK)]),
	);
	assert.equal(sent.commits, 2);
});

test("a commit of every partition past its end, with too much metadata, or at -1, reads at most WORKER_REQUESTS_AT_ONCE_MAX logs' ends at a time", async () => {
	const partitions = 256;
	for (const [what, entry] of /** @type {const} */ ([
		["past its end", (/** @type {number} */ p) => [p, HIGH_WATERMARK + 1, null]],
		["too much metadata", (/** @type {number} */ p) => [p, 5, "m".repeat(COMMIT_METADATA_BYTES_MAX + 1)]],
		["the log's end (-1)", (/** @type {number} */ p) => [p, -1, null]],
	])) {
		const { ctx, reads } = context({ partitions });
		const entries = /** @type {[number, number, string | null][]} */ (Array.from({ length: partitions }, (_, p) => entry(p)));
		const answer = await offsetCommit(commitOf(entries), ctx);
		const expected = what === "too much metadata" ? KAFKA.OFFSET_METADATA_TOO_LARGE : KAFKA.NONE;
		assert.deepEqual(
			codes(answer),
			entries.map(([p]) => [p, expected]),
			what,
		);
		assert.ok(reads.max <= WORKER_REQUESTS_AT_ONCE_MAX, `${what}: ${reads.max} reads at once`);
		assert.ok(reads.max > 1, `${what}: the reads still overlap`);
	}
});
