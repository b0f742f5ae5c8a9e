/**
 * A topic the caller may not see, in the group calls that name topics, answered as a broker answers it: against a
 * stand-in for Tributary where the key may consume `orders`, may not describe `secret` (every call naming it 403, the
 * group's describe leaving its offsets out, as the Worker filters them) and `ghost` does not exist. OffsetFetch answers
 * `secret`'s partitions TOPIC_AUTHORIZATION_FAILED, not "nothing committed"; OffsetCommit refuses `secret` alone with
 * it and commits the rest, as KafkaApis refuses unauthorized partitions and commits the others. JoinGroup with a
 * subscribed topic the key may not consume is TOPIC_AUTHORIZATION_FAILED, which names the topic to the application
 * (kafkajs "Not authorized to access topics", librdkafka "Topic authorization failed"); a group it may not join stays
 * GROUP_AUTHORIZATION_FAILED.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { joinGroup } from "../../gateway/handlers/groups.js";
import { offsetCommit, offsetFetch } from "../../gateway/handlers/offsets.js";
import { TopicList } from "../../gateway/topic-list.js";
import { joinRequest } from "./lib/join-request.mjs";

const FORBIDDEN = "secret";
/** @param {string} topic */
const forbidden = (topic) => ({
	status: 403,
	body: { error: { code: "forbidden", message: `key "k" may not consume topic "${topic}"`, resource: `topic:${topic}` } },
});
/** @param {string} topic */
const missing = (topic) => ({
	status: 404,
	body: { error: { code: "topic_not_found", message: `topic "${topic}" does not exist`, topic } },
});

function context() {
	/** @type {any[]} */
	const committed = [];
	const tributary = {
		credentials: { authorization: "Basic k" },
		async listAllTopics() {
			return { status: 200, body: { topics: [{ name: "orders", partitions: 2 }] } };
		},
		/** @param {string} topic */
		async topicConfig(topic) {
			if (topic === FORBIDDEN) return forbidden(topic);
			return topic === "orders" ? { status: 200, body: { name: "message.timestamp.type", value: "CreateTime" } } : missing(topic);
		},
		/** @param {string} topic */
		async describeTopic(topic) {
			if (topic === FORBIDDEN) return forbidden(topic);
			return topic === "orders" ? { status: 200, body: { name: topic, partitions: [{ partition: 0 }, { partition: 1 }] } } : missing(topic);
		},
		/** The group has committed orders/0 and secret/0; the key's describe shows only the former. */
		async describeGroup() {
			return { status: 200, body: { members: [], offsets: [{ topic: "orders", partition: 0, committed: 12, metadata: null }] } };
		},
		/**
		 * The Worker's join: a topic the key may not consume refuses it (403 naming the topic), as does group `locked`.
		 * @param {string} group @param {{ topics: string[] }} body
		 */
		async joinGroup(group, body) {
			if (body.topics.includes(FORBIDDEN)) return forbidden(FORBIDDEN);
			if (group === "locked") {
				const error = { code: "forbidden", message: 'key "k" may not consume group "locked"', resource: "group:locked" };
				return { status: 403, body: { error } };
			}
			return { status: 200, body: { member_id: "m-1", generation: 1, assignment: [] } };
		},
		/** All or nothing, as the Worker's: the first forbidden topic refuses the commit. @param {string} _group @param {any} body */
		async commit(_group, body) {
			const denied = body.offsets.find((/** @type {any} */ o) => o.topic === FORBIDDEN);
			if (denied !== undefined) return forbidden(denied.topic);
			committed.push(...body.offsets);
			return { status: 200, body: {} };
		},
	};
	const session = { topicList: new TopicList(() => 1_000_000) };
	return { ctx: /** @type {any} */ ({ tributary, session, version: 7, log: () => {} }), committed };
}

/** @param {any} answer as [topic, [partition, committed, error code]…]… */
const offsetsOf = (answer) =>
	answer.topics.map((/** @type {any} */ t) => [
		t.name,
		t.partitions.map((/** @type {any} */ p) => [p.partitionIndex, p.committedOffset, p.errorCode]),
	]);

test("OffsetFetch: a topic the caller may not describe is TOPIC_AUTHORIZATION_FAILED; an unknown one has nothing committed", async () => {
	const { ctx } = context();
	const topics = [
		{ name: "orders", partitionIndexes: [0, 1] },
		{ name: FORBIDDEN, partitionIndexes: [0] },
		{ name: "ghost", partitionIndexes: [0] },
	];
	const answer = await offsetFetch({ groupId: "billing", topics, requireStable: false }, ctx);
	assert.equal(answer.errorCode, KAFKA.NONE);
	assert.deepEqual(offsetsOf(answer), [
		[
			"orders",
			[
				[0, 12, KAFKA.NONE],
				[1, -1, KAFKA.NONE],
			],
		],
		[FORBIDDEN, [[0, -1, KAFKA.TOPIC_AUTHORIZATION_FAILED]]],
		["ghost", [[0, -1, KAFKA.NONE]]],
	]);
});

test("OffsetCommit: a topic the caller may not consume is refused alone with TOPIC_AUTHORIZATION_FAILED, the rest committed", async () => {
	const { ctx, committed } = context();
	const partition = (/** @type {number} */ partitionIndex) => ({
		partitionIndex,
		committedOffset: 3,
		committedLeaderEpoch: -1,
		committedMetadata: "",
	});
	const request = {
		groupId: "billing",
		generationIdOrMemberEpoch: -1,
		memberId: "",
		groupInstanceId: null,
		topics: [
			{ name: "orders", partitions: [partition(0)] },
			{ name: FORBIDDEN, partitions: [partition(0), partition(1)] },
		],
	};
	const answer = await offsetCommit(request, ctx);
	assert.deepEqual(
		answer.topics.map((/** @type {any} */ t) => [t.name, t.partitions.map((/** @type {any} */ p) => p.errorCode)]),
		[
			["orders", [KAFKA.NONE]],
			[FORBIDDEN, [KAFKA.TOPIC_AUTHORIZATION_FAILED, KAFKA.TOPIC_AUTHORIZATION_FAILED]],
		],
	);
	assert.deepEqual(
		committed.map((o) => [o.topic, o.partition, o.offset]),
		[["orders", 0, 3]],
	);
});

test("JoinGroup: a subscribed topic the caller may not consume is TOPIC_AUTHORIZATION_FAILED; a group it may not join GROUP_AUTHORIZATION_FAILED", async () => {
	const { ctx } = context();
	ctx.version = 3;
	assert.equal((await joinGroup(joinRequest("billing", ["orders", FORBIDDEN]), ctx)).errorCode, KAFKA.TOPIC_AUTHORIZATION_FAILED);
	assert.equal((await joinGroup(joinRequest("locked", ["orders"]), ctx)).errorCode, KAFKA.GROUP_AUTHORIZATION_FAILED);
	assert.equal((await joinGroup(joinRequest("billing", ["orders"]), ctx)).errorCode, KAFKA.NONE);
});
