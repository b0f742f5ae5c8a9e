/**
 * Topic admin and Metadata as a Kafka broker answers them, against a stand-in for Tributary that records its calls:
 * a name given twice in one CreateTopics or DeleteTopics is INVALID_REQUEST, answered once, and none of its entries
 * acts (Kafka's ControllerApis); Metadata of every topic reuses a connection's listing for METADATA_CACHE_MS, and a
 * create or delete through the gateway, on any of its connections, makes the next Metadata list again.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { createTopics, deleteTopics, metadata } from "../../gateway/handlers/cluster.js";
import { METADATA_CACHE_MS } from "../../gateway/limits.js";
import { TopicChanges, TopicList } from "../../gateway/topic-list.js";

/** A Tributary holding `names` (one partition each) that records every call it gets. @param {string[]} names */
function standIn(names) {
	const topics = new Set(names);
	/** @type {string[]} */
	const calls = [];
	const tributary = {
		async listAllTopics() {
			calls.push("list");
			return { status: 200, body: { topics: [...topics].map((name) => ({ name, partitions: 1 })) } };
		},
		/** @param {string} name */
		async describeTopic(name) {
			calls.push(`describe ${name}`);
			return topics.has(name)
				? { status: 200, body: { name, partitions: [{ partition: 0 }] } }
				: { status: 404, body: { error: { code: "topic_not_found", message: "no" } } };
		},
		/** @param {{ name: string }} body */
		async createTopic(body) {
			calls.push(`create ${body.name}`);
			topics.add(body.name);
			return { status: 201, body: { name: body.name, partitions: 1 } };
		},
		/** @param {string} name */
		async deleteTopic(name) {
			calls.push(`delete ${name}`);
			topics.delete(name);
			return { status: 204, body: null };
		},
	};
	return { tributary, calls };
}

/** A request context on `tributary`, its connection's topic list on the gateway's shared `changes`, at time `clock.ms`. */
function context(tributary, changes = new TopicChanges(), clock = { ms: 1_000_000 }) {
	const session = { topicList: new TopicList(changes, () => clock.ms) };
	return /** @type {any} */ ({ tributary, session, version: 9, advertised: { host: "h", port: 1 }, log: () => {} });
}

const creatable = (/** @type {string} */ name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] });
const ALL_TOPICS = { topics: null, allowAutoTopicCreation: false };

test("CreateTopics with a name given twice: INVALID_REQUEST for that name, once, and neither entry creates it", async () => {
	const { tributary, calls } = standIn([]);
	const request = { topics: [creatable("dup"), creatable("solo"), creatable("dup")], timeoutMs: 1_000, validateOnly: false };
	const answer = /** @type {any} */ (await createTopics(request, context(tributary)));
	assert.deepEqual(answer.topics.map((/** @type {any} */ t) => [t.name, t.errorCode]).sort(), [
		["dup", KAFKA.INVALID_REQUEST],
		["solo", KAFKA.NONE],
	]);
	assert.deepEqual(calls, ["create solo"]);
});

test("DeleteTopics with a name given twice: INVALID_REQUEST for that name, once, and it is not deleted", async () => {
	const { tributary, calls } = standIn(["dup", "solo"]);
	const answer = /** @type {any} */ (await deleteTopics({ topicNames: ["dup", "solo", "dup"], timeoutMs: 1_000 }, context(tributary)));
	assert.deepEqual(answer.responses.map((/** @type {any} */ t) => [t.name, t.errorCode]).sort(), [
		["dup", KAFKA.INVALID_REQUEST],
		["solo", KAFKA.NONE],
	]);
	assert.deepEqual(calls, ["delete solo"]);
});

test("Metadata of every topic lists once per METADATA_CACHE_MS on a connection; a create or delete through the gateway lists again", async () => {
	const { tributary, calls } = standIn(["a"]);
	const changes = new TopicChanges();
	const clock = { ms: 1_000_000 };
	const ctx = context(tributary, changes, clock);
	const names = async () => /** @type {any} */ (await metadata(ALL_TOPICS, ctx)).topics.map((/** @type {any} */ t) => t.name).sort();
	assert.deepEqual(await names(), ["a"]);
	assert.deepEqual(await names(), ["a"]);
	assert.equal(calls.filter((c) => c === "list").length, 1, "the second Metadata reused the listing");
	clock.ms += METADATA_CACHE_MS;
	assert.deepEqual(await names(), ["a"]);
	assert.equal(calls.filter((c) => c === "list").length, 2, "a listing METADATA_CACHE_MS old is read again");
	// Created through another connection of the same gateway: this connection's next Metadata sees it.
	await createTopics({ topics: [creatable("b")], timeoutMs: 1_000, validateOnly: false }, context(tributary, changes, clock));
	assert.deepEqual(await names(), ["a", "b"]);
	await deleteTopics({ topicNames: ["a"], timeoutMs: 1_000 }, ctx);
	assert.deepEqual(await names(), ["b"]);
	assert.equal(calls.filter((c) => c === "list").length, 4);
});

test("Metadata naming a topic its connection's listing does not hold yet looks it up: a topic created elsewhere is found at once", async () => {
	const { tributary, calls } = standIn(["a"]);
	const ctx = context(tributary);
	await metadata(ALL_TOPICS, ctx);
	await tributary.createTopic({ name: "made-over-http" });
	const answer = /** @type {any} */ (await metadata({ topics: [{ name: "made-over-http" }], allowAutoTopicCreation: false }, ctx));
	assert.deepEqual(
		answer.topics.map((/** @type {any} */ t) => [t.name, t.errorCode, t.partitions.length]),
		[["made-over-http", KAFKA.NONE, 1]],
	);
	assert.ok(calls.includes("describe made-over-http"));
});

test("Metadata checks topic names as Kafka's Topic.validate does without looking them up; a null name (v10+: a topic id) is not taken for one", async () => {
	const { tributary, calls } = standIn(["a"]);
	const ctx = context(tributary);
	const named = (/** @type {(string | null)[]} */ names) => ({ topics: names.map((name) => ({ name })), allowAutoTopicCreation: false });
	const answer = /** @type {any} */ (await metadata(named(["", "..", "x".repeat(250), "a b", "x".repeat(249), "a", null]), ctx));
	assert.deepEqual(
		answer.topics.map((/** @type {any} */ t) => t.errorCode),
		[
			KAFKA.INVALID_TOPIC_EXCEPTION,
			KAFKA.INVALID_TOPIC_EXCEPTION,
			KAFKA.INVALID_TOPIC_EXCEPTION,
			KAFKA.INVALID_TOPIC_EXCEPTION,
			KAFKA.UNKNOWN_TOPIC_OR_PARTITION,
			KAFKA.NONE,
			KAFKA.UNKNOWN_TOPIC_OR_PARTITION,
		],
	);
	const invalid = new Set(["", "..", "x".repeat(250), "a b"].map((name) => `describe ${name}`));
	assert.deepEqual(
		calls.filter((c) => invalid.has(c)),
		[],
		"no invalid name is looked up",
	);
});
