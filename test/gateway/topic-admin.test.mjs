/**
 * Topic admin and Metadata as a Kafka broker answers them, against a stand-in for Tributary that records its calls:
 * a name given twice in one CreateTopics or DeleteTopics is INVALID_REQUEST, answered once, and none of its entries
 * acts (Kafka's ControllerApis); Metadata of every topic reuses the gateway's listing for METADATA_CACHE_MS, and a
 * create or delete through the gateway, on any of its connections, makes the next Metadata list again.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { createTopics, deleteTopics, metadata } from "../../gateway/handlers/cluster.js";
import { METADATA_CACHE_MS, TOPIC_ID_RELIST_MS, TOPIC_PARTITIONS_MAX } from "../../gateway/limits.js";
import { APIS, encodeResponse } from "../../gateway/protocol/apis.js";
import { TopicList } from "../../gateway/topic-list.js";

/** A Tributary holding `names` (one partition each) that records every call it gets. @param {string[]} names */
function standIn(names) {
	const topics = new Set(names);
	/** @type {string[]} */
	const calls = [];
	/** @type {any[]} */
	const created = [];
	const tributary = {
		credentials: { authorization: null },
		async listAllTopics() {
			calls.push("list");
			return { status: 200, body: { topics: [...topics].map((name) => ({ name, topic_id: uuidOf(name), partitions: 1 })) } };
		},
		/** @param {string} name */
		async describeTopic(name) {
			calls.push(`describe ${name}`);
			return topics.has(name)
				? { status: 200, body: { name, topic_id: uuidOf(name), partitions: [{ partition: 0 }] } }
				: { status: 404, body: { error: { code: "topic_not_found", message: "no" } } };
		},
		/** @param {{ name: string }} body */
		async createTopic(body) {
			calls.push(`create ${body.name}`);
			created.push(body);
			topics.add(body.name);
			return { status: 201, body: { name: body.name, topic_id: uuidOf(body.name), partitions: body.partitions ?? 1 } };
		},
		/** The Confluent mount's dry-run create, as Tributary answers it: the count and the replication factor. */
		async call(/** @type {string} */ method, /** @type {string} */ path, /** @type {any} */ body) {
			calls.push(`${method} ${path.replace(/.*\/topics$/, "…/topics")}${body.validate_only ? " validate_only" : ""}`);
			return { status: 200, body: { topic_name: body.topic_name, partitions_count: body.partitions_count ?? 1, replication_factor: 1 } };
		},
		/** @param {string} name */
		async deleteTopic(name) {
			calls.push(`delete ${name}`);
			topics.delete(name);
			return { status: 204, body: null };
		},
	};
	return { tributary, calls, created };
}

/** A request context on `tributary`, with the gateway's topic lists `topicList` (shared by its connections). */
function context(tributary, topicList = new TopicList(() => 1_000_000)) {
	const session = { topicList };
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
	const answer = /** @type {any} */ (
		await deleteTopics({ topicNames: ["dup", "solo", "dup"], timeoutMs: 1_000 }, { ...context(tributary), version: 5 })
	);
	assert.deepEqual(answer.responses.map((/** @type {any} */ t) => [t.name, t.errorCode]).sort(), [
		["dup", KAFKA.INVALID_REQUEST],
		["solo", KAFKA.NONE],
	]);
	assert.deepEqual(calls, ["delete solo"]);
});

test("Metadata of every topic lists once per METADATA_CACHE_MS; a create or delete through the gateway lists again", async () => {
	const { tributary, calls } = standIn(["a"]);
	const clock = { ms: 1_000_000 };
	const lists = new TopicList(() => clock.ms);
	const ctx = context(tributary, lists);
	const names = async () => /** @type {any} */ (await metadata(ALL_TOPICS, ctx)).topics.map((/** @type {any} */ t) => t.name).sort();
	assert.deepEqual(await names(), ["a"]);
	assert.deepEqual(await names(), ["a"]);
	assert.equal(calls.filter((c) => c === "list").length, 1, "the second Metadata reused the listing");
	clock.ms += METADATA_CACHE_MS;
	assert.deepEqual(await names(), ["a"]);
	assert.equal(calls.filter((c) => c === "list").length, 2, "a listing METADATA_CACHE_MS old is read again");
	// Created through another connection of the same gateway: this connection's next Metadata sees it.
	await createTopics({ topics: [creatable("b")], timeoutMs: 1_000, validateOnly: false }, context(tributary, lists));
	assert.deepEqual(await names(), ["a", "b"]);
	await deleteTopics({ topicNames: ["a"], timeoutMs: 1_000 }, { ...ctx, version: 5 });
	assert.deepEqual(await names(), ["b"]);
	assert.equal(calls.filter((c) => c === "list").length, 4);
});

test("Metadata naming a topic the gateway's listing does not hold yet looks it up: a topic created elsewhere is found at once", async () => {
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

test("a topic Metadata found by name but the listing lacked is found by its id at once: that listing is dropped, not reused by any connection", async () => {
	const { tributary, calls } = standIn(["a"]);
	const lists = new TopicList(() => 1_000_000);
	await metadata(ALL_TOPICS, context(tributary, lists));
	await tributary.createTopic({ name: "made-over-http" });
	const named = /** @type {any} */ (
		await metadata({ topics: [{ name: "made-over-http" }], allowAutoTopicCreation: false }, { ...context(tributary, lists), version: 12 })
	);
	const topicId = named.topics[0].topicId;
	assert.equal(topicId, wireIdOf("made-over-http"));
	// Another connection with the same credentials, asking by the id Metadata gave, on the same (still) clock.
	const byId = /** @type {any} */ (
		await metadata({ topics: [{ name: null, topicId }], allowAutoTopicCreation: false }, { ...context(tributary, lists), version: 12 })
	);
	assert.deepEqual(
		byId.topics.map((/** @type {any} */ t) => [t.name, t.errorCode]),
		[["made-over-http", KAFKA.NONE]],
	);
	assert.equal(calls.filter((c) => c === "list").length, 2);
});

test("Metadata checks topic names as Kafka's Topic.validate does without looking them up", async () => {
	const { tributary, calls } = standIn(["a"]);
	const ctx = context(tributary);
	const named = (/** @type {string[]} */ names) => ({ topics: names.map((name) => ({ name })), allowAutoTopicCreation: false });
	const answer = /** @type {any} */ (await metadata(named(["", "..", "x".repeat(250), "a b", "x".repeat(249), "a"]), ctx));
	assert.deepEqual(
		answer.topics.map((/** @type {any} */ t) => t.errorCode),
		[
			KAFKA.INVALID_TOPIC_EXCEPTION,
			KAFKA.INVALID_TOPIC_EXCEPTION,
			KAFKA.INVALID_TOPIC_EXCEPTION,
			KAFKA.INVALID_TOPIC_EXCEPTION,
			KAFKA.UNKNOWN_TOPIC_OR_PARTITION,
			KAFKA.NONE,
		],
	);
	const invalid = new Set(["", "..", "x".repeat(250), "a b"].map((name) => `describe ${name}`));
	assert.deepEqual(
		calls.filter((c) => invalid.has(c)),
		[],
		"no invalid name is looked up",
	);
});

const ZERO_ID = "0".repeat(32);
const SOME_ID = "5f1b0c3a9d2e4f6a8b7c6d5e4f3a2b1c";
/** The stand-in's topic id of `name` as Tributary writes it (a UUID), and as Kafka's wire carries it (32 hex digits). */
const uuidOf = (/** @type {string} */ name) => `${name.padEnd(8, "0")}-0000-4000-8000-000000000000`.replace(/[^0-9a-f-]/g, "e");
const wireIdOf = (/** @type {string} */ name) => uuidOf(name).replaceAll("-", "");

test("Metadata v12 gives each topic Tributary's topic id; asked by id it answers the topic for an id it knows, UNKNOWN_TOPIC_ID (null name, the id echoed) for one it does not", async () => {
	const { tributary, calls } = standIn(["a", "b"]);
	const ctx = { ...context(tributary), version: 12 };
	const listed = /** @type {any} */ (await metadata(ALL_TOPICS, ctx));
	assert.deepEqual(
		listed.topics.map((/** @type {any} */ t) => [t.name, t.topicId]),
		[
			["a", wireIdOf("a")],
			["b", wireIdOf("b")],
		],
	);
	// As KafkaApis: once any topic is named by a non-zero id, the ids alone are answered (names in the request are not).
	const request = {
		topics: [
			{ name: null, topicId: SOME_ID },
			{ name: "a", topicId: ZERO_ID },
			{ name: null, topicId: wireIdOf("b") },
		],
		allowAutoTopicCreation: false,
	};
	const answer = /** @type {any} */ (await metadata(request, ctx));
	assert.deepEqual(
		answer.topics.map((/** @type {any} */ t) => [t.name, t.topicId, t.errorCode, t.partitions.length]),
		[
			[null, SOME_ID, KAFKA.UNKNOWN_TOPIC_ID, 0],
			["b", wireIdOf("b"), KAFKA.NONE, 1],
		],
	);
	// v12's response takes the null name (nullable from v12): the answer goes on the wire as it is.
	const metadataApi = /** @type {any} */ ([...APIS.values()].find((api) => api.name === "Metadata"));
	assert.ok(encodeResponse(metadataApi, 12, 1, answer).length > 0);
	assert.deepEqual(
		calls.filter((c) => c.startsWith("describe")),
		[],
		"no id is looked up as a name",
	);
});

test("Metadata v12 by the id of a topic created since the gateway's listing lists again (once it is TOPIC_ID_RELIST_MS old) and finds it", async () => {
	const { tributary, calls } = standIn(["a"]);
	const clock = { ms: 1_000_000 };
	const ctx = { ...context(tributary, new TopicList(() => clock.ms)), version: 12 };
	await metadata(ALL_TOPICS, ctx);
	await tributary.createTopic({ name: "c" });
	clock.ms += TOPIC_ID_RELIST_MS;
	const answer = /** @type {any} */ (
		await metadata({ topics: [{ name: null, topicId: wireIdOf("c") }], allowAutoTopicCreation: false }, ctx)
	);
	assert.deepEqual(
		answer.topics.map((/** @type {any} */ t) => [t.name, t.errorCode]),
		[["c", KAFKA.NONE]],
	);
	assert.equal(calls.filter((c) => c === "list").length, 2);
});

test("Metadata v12 asked again and again for an id no topic has lists at most once per TOPIC_ID_RELIST_MS; a topic created meanwhile is found within it", async () => {
	const { tributary, calls } = standIn(["a"]);
	const clock = { ms: 1_000_000 };
	const ctx = { ...context(tributary, new TopicList(() => clock.ms)), version: 12 };
	const lists = () => calls.filter((c) => c === "list").length;
	const byId = async (/** @type {string} */ topicId) =>
		/** @type {any} */ (await metadata({ topics: [{ name: null, topicId }], allowAutoTopicCreation: false }, ctx)).topics.map(
			(/** @type {any} */ t) => [t.name, t.errorCode],
		);
	for (let i = 0; i < 10; i += 1) assert.deepEqual(await byId(SOME_ID), [[null, KAFKA.UNKNOWN_TOPIC_ID]]);
	assert.equal(lists(), 1, "ten asks within TOPIC_ID_RELIST_MS list once");
	await tributary.createTopic({ name: "late" });
	clock.ms += TOPIC_ID_RELIST_MS - 1;
	assert.deepEqual(await byId(wireIdOf("late")), [[null, KAFKA.UNKNOWN_TOPIC_ID]], "a list younger than TOPIC_ID_RELIST_MS answers");
	assert.equal(lists(), 1);
	clock.ms += 1;
	assert.deepEqual(await byId(wireIdOf("late")), [["late", KAFKA.NONE]]);
	assert.equal(lists(), 2, "past TOPIC_ID_RELIST_MS an unknown id lists again");
	assert.ok(TOPIC_ID_RELIST_MS < METADATA_CACHE_MS, "a new topic's id is unknown for less than a listing is reused");
});

test("Metadata v10 and v11 naming a topic by id (a null name or a non-zero id) is INVALID_REQUEST for every topic asked, as a broker refuses it", async () => {
	const { tributary, calls } = standIn(["a"]);
	for (const version of [10, 11]) {
		const ctx = { ...context(tributary), version };
		for (const byId of [
			{ name: null, topicId: ZERO_ID },
			{ name: "a", topicId: SOME_ID },
		]) {
			const request = { topics: [{ name: "a", topicId: ZERO_ID }, byId], allowAutoTopicCreation: false };
			const answer = /** @type {any} */ (await metadata(request, ctx));
			assert.deepEqual(
				answer.topics.map((/** @type {any} */ t) => [t.name, t.topicId, t.errorCode, t.partitions.length]),
				[
					["a", ZERO_ID, KAFKA.INVALID_REQUEST, 0],
					[byId.name ?? "", byId.topicId, KAFKA.INVALID_REQUEST, 0],
				],
				`v${version} ${JSON.stringify(byId)}`,
			);
		}
	}
	assert.deepEqual(
		calls.filter((c) => c.startsWith("describe")),
		[],
	);
});

test("CreateTopics v7 answers a created topic's id, the one Metadata gives; a refused one's is the zero id", async () => {
	const { tributary } = standIn([]);
	const ctx = { ...context(tributary), version: 7 };
	const request = { topics: [creatable("dup"), creatable("made"), creatable("dup")], timeoutMs: 1_000, validateOnly: false };
	const answer = /** @type {any} */ (await createTopics(request, ctx));
	assert.deepEqual(answer.topics.map((/** @type {any} */ t) => [t.name, t.errorCode, t.topicId]).sort(), [
		["dup", KAFKA.INVALID_REQUEST, ZERO_ID],
		["made", KAFKA.NONE, wireIdOf("made")],
	]);
	const described = /** @type {any} */ (
		await metadata({ topics: [{ name: "made", topicId: ZERO_ID }], allowAutoTopicCreation: false }, ctx)
	);
	assert.equal(described.topics[0].topicId, wireIdOf("made"));
	const createApi = /** @type {any} */ ([...APIS.values()].find((api) => api.name === "CreateTopics"));
	assert.equal(createApi.maxVersion, 7, "CreateTopics v7, which carries the id, is served");
	assert.ok(encodeResponse(createApi, 7, 1, answer).length > 0);
});

test("CreateTopics validateOnly answers each config as the topic would hold it: Kafka's Long.MAX_VALUE as the largest a config holds, digits as a number", async () => {
	const { tributary, calls } = standIn([]);
	const LONG_MAX = "9223372036854775807";
	const configs = [
		{ name: "message.timestamp.before.max.ms", value: LONG_MAX },
		{ name: "retention.ms", value: "0100" },
		{ name: "cleanup.policy", value: "compact" },
	];
	const request = { topics: [{ ...creatable("dry"), configs }], timeoutMs: 1_000, validateOnly: true };
	const answer = /** @type {any} */ (await createTopics(request, { ...context(tributary), version: 5 }));
	assert.deepEqual(calls, ["POST …/topics validate_only"]);
	const held = Object.fromEntries(answer.topics[0].configs.map((/** @type {any} */ c) => [c.name, [c.value, c.configSource]]));
	assert.deepEqual(held["message.timestamp.before.max.ms"], [String(Number.MAX_SAFE_INTEGER), 1]);
	assert.deepEqual(held["retention.ms"], ["100", 1]);
	assert.deepEqual(held["cleanup.policy"], ["compact", 1]);
	assert.deepEqual(held["message.timestamp.after.max.ms"], [String(Number.MAX_SAFE_INTEGER), 5]);
});

test("CreateTopics with a manual replica assignment on this one broker (node 0) creates that many partitions, as a one-broker cluster does", async () => {
	const { tributary, created } = standIn([]);
	const assignments = [0, 1, 2].map((partitionIndex) => ({ partitionIndex, brokerIds: [0] }));
	const topic = { name: "placed", numPartitions: -1, replicationFactor: -1, assignments, configs: [] };
	const answer = /** @type {any} */ (await createTopics({ topics: [topic], timeoutMs: 1_000, validateOnly: false }, context(tributary)));
	const [result] = answer.topics;
	assert.deepEqual([result.errorCode, result.numPartitions, result.replicationFactor], [KAFKA.NONE, 3, 1]);
	assert.deepEqual(
		created.map((body) => [body.name, body.partitions]),
		[["placed", 3]],
	);
	const dry = /** @type {any} */ (
		await createTopics({ topics: [{ ...topic, name: "dry" }], timeoutMs: 1_000, validateOnly: true }, context(tributary))
	);
	assert.deepEqual([dry.topics[0].errorCode, dry.topics[0].numPartitions], [KAFKA.NONE, 3]);
});

test("CreateTopics refuses a manual replica assignment as Kafka's controller does, creating nothing", async () => {
	const { tributary, calls } = standIn([]);
	/** @param {string} name @param {[number, number[]][]} pairs @param {number} [numPartitions] @param {number} [replicationFactor] */
	const topic = (name, pairs, numPartitions = -1, replicationFactor = -1) => ({
		name,
		numPartitions,
		replicationFactor,
		assignments: pairs.map(([partitionIndex, brokerIds]) => ({ partitionIndex, brokerIds })),
		configs: [],
	});
	const topics = [
		topic("counted", [[0, [0]]], 1),
		topic("replicated", [[0, [0]]], -1, 1),
		topic("twice", [
			[0, [0]],
			[0, [0]],
		]),
		topic("empty", [[0, []]]),
		topic("elsewhere", [[0, [0, 2]]]),
		topic("doubled", [[0, [0, 0]]]),
		topic("gap", [
			[0, [0]],
			[2, [0]],
		]),
		topic(
			"many",
			Array.from({ length: TOPIC_PARTITIONS_MAX + 1 }, (_, i) => /** @type {[number, number[]]} */ ([i, [0]])),
		),
	];
	const answer = /** @type {any} */ (await createTopics({ topics, timeoutMs: 1_000, validateOnly: false }, context(tributary)));
	assert.deepEqual(
		answer.topics.map((/** @type {any} */ t) => [t.name, t.errorCode, t.errorMessage]),
		[
			["counted", KAFKA.INVALID_REQUEST, "A manual partition assignment was specified, but numPartitions was not set to -1."],
			["replicated", KAFKA.INVALID_REQUEST, "A manual partition assignment was specified, but replication factor was not set to -1."],
			["twice", KAFKA.INVALID_REPLICA_ASSIGNMENT, "Found multiple manual partition assignments for partition 0"],
			["empty", KAFKA.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes an empty replica list."],
			[
				"elsewhere",
				KAFKA.INVALID_REPLICA_ASSIGNMENT,
				"The manual partition assignment includes broker 2, but no such broker is registered.",
			],
			["doubled", KAFKA.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes the broker 0 more than once."],
			["gap", KAFKA.INVALID_REPLICA_ASSIGNMENT, "partitions should be a consecutive 0-based integer sequence"],
			["many", KAFKA.INVALID_PARTITIONS, `A topic has at most ${TOPIC_PARTITIONS_MAX} partitions.`],
		],
	);
	assert.deepEqual(calls, []);
});
