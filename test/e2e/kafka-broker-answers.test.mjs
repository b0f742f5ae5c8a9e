// @ts-nocheck — kafkajs' admin shapes and the loosely typed JSON of the HTTP client would make strict checking here mostly casts.
/**
 * Answers the Kafka gateway gives as a Kafka broker gives them, against a real `wrangler dev`: Metadata for a name
 * Kafka's Topic.validate refuses, calls naming the empty group id, CreateTopics validateOnly's counts, and topic
 * config changes through AlterConfigs (kafkajs `alterConfigs`) and IncrementalAlterConfigs (raw frames built with the
 * gateway's codec: kafkajs has no incremental call).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { exchange as exchangeWith, fetchRequest, kafkaE2eSetup } from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-broker-answers");
const { track } = setup;

const NONE = 0;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const INVALID_TOPIC_EXCEPTION = 17;
const INVALID_GROUP_ID = 24;
const INVALID_CONFIG = 40;
const INVALID_REQUEST = 42;
const GROUP_ID_NOT_FOUND = 69;
const UNKNOWN_TOPIC_ID = 100;
const ZERO_ID = "0".repeat(32);
const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

/** One request through the first gateway, encoded and decoded with Kafka's definitions. */
const exchange = (name, version, body) => exchangeWith(setup.gateways[0].port, name, version, body);

/** @param {{ brokers?: string[], sasl?: object }} [options] */
function admin(options = {}) {
	const kafka = new Kafka({
		clientId: "e2e-broker-answers",
		brokers: [setup.gateways[0].bootstrap],
		logLevel: logLevel.NOTHING,
		retry: { retries: 0 },
		...options,
	});
	return track(kafka.admin());
}

/** A topic's own configs (those not at their default), from Tributary. */
async function ownConfigs(topic) {
	const listed = await setup.api.expect(200, "GET", `/kafka/v3/clusters/tributary/topics/${topic}/configs`);
	return Object.fromEntries(listed.data.filter((c) => c.source !== "DEFAULT_CONFIG").map((c) => [c.name, c.value]));
}

test("Metadata for a name Kafka's Topic.validate refuses (empty, '.', '..', longer than 249, other characters) is INVALID_TOPIC_EXCEPTION", {
	timeout: 60_000,
}, async () => {
	const invalid = ["", ".", "..", "x".repeat(250), "has space", "ümlaut", "a/b"];
	const missing = ["x".repeat(249), "valid-but-missing"];
	const answer = await exchange("Metadata", 9, {
		topics: [...invalid, ...missing].map((name) => ({ name })),
		allowAutoTopicCreation: false,
		includeClusterAuthorizedOperations: false,
		includeTopicAuthorizedOperations: false,
	});
	assert.deepEqual(
		answer.topics.map((t) => [t.name, t.errorCode]),
		[...invalid.map((name) => [name, INVALID_TOPIC_EXCEPTION]), ...missing.map((name) => [name, UNKNOWN_TOPIC_OR_PARTITION])],
	);
});

test("Metadata by topic id (v12): the id Metadata gave is the topic's incarnation; after the topic is deleted and created again it is UNKNOWN_TOPIC_ID", {
	timeout: 60_000,
}, async () => {
	const metadataOf = (topics, version = 12) =>
		exchange("Metadata", version, { topics, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
	const idOf = async (name) => {
		const [topic] = (await metadataOf([{ name, topicId: ZERO_ID }])).topics;
		assert.equal(topic.errorCode, NONE, name);
		return topic.topicId;
	};
	await setup.api.createTopic("by-id", 2);
	const first = await idOf("by-id");
	assert.notEqual(first, ZERO_ID);
	const byFirst = await metadataOf([{ name: null, topicId: first }]);
	assert.deepEqual(
		byFirst.topics.map((t) => [t.name, t.topicId, t.errorCode, t.partitions.length]),
		[["by-id", first, NONE, 2]],
	);
	await setup.api.expect(204, "DELETE", "/v1/topics/by-id");
	// Created again through CreateTopics v7, which answers the new incarnation's id.
	const created = await exchange("CreateTopics", 7, {
		topics: [{ name: "by-id", numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }],
		timeoutMs: 10_000,
		validateOnly: false,
	});
	assert.equal(created.topics[0].errorCode, NONE);
	const second = await idOf("by-id");
	assert.equal(created.topics[0].topicId, second);
	assert.notEqual(second, first);
	const answer = await metadataOf([
		{ name: null, topicId: first },
		{ name: null, topicId: second },
	]);
	assert.deepEqual(
		answer.topics.map((t) => [t.name, t.topicId, t.errorCode, t.partitions.length]),
		[
			[null, first, UNKNOWN_TOPIC_ID, 0],
			["by-id", second, NONE, 1],
		],
	);
	// Before v12 a broker takes no ids: a null name is INVALID_REQUEST for every topic asked.
	const early = await metadataOf([{ name: null, topicId: second }], 11);
	assert.deepEqual(
		early.topics.map((t) => [t.name, t.errorCode]),
		[["", INVALID_REQUEST]],
	);
});

test("Fetch v16 by topic id reads the records of the topic Metadata named; an id without a topic is UNKNOWN_TOPIC_ID; DeleteTopics v6 deletes by id", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("fetch-by-id", 1);
	await setup.api.produce("fetch-by-id", [{ value: "first" }, { value: "second" }]);
	const [described] = (
		await exchange("Metadata", 12, { topics: [{ name: "fetch-by-id", topicId: ZERO_ID }], allowAutoTopicCreation: false })
	).topics;
	const unknownId = "5f1b0c3a9d2e4f6a8b7c6d5e4f3a2b1c";
	const fetched = await exchange(
		"Fetch",
		16,
		fetchRequest(
			[described.topicId, unknownId].map((topicId) => ({
				topicId,
				partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1_048_576 }],
			})),
		),
	);
	assert.deepEqual(
		fetched.responses.map((t) => [t.topicId, t.partitions[0].errorCode, t.partitions[0].highWatermark]),
		[
			[described.topicId, NONE, 2],
			[unknownId, UNKNOWN_TOPIC_ID, -1],
		],
	);
	// By URL, so that the tools' typecheck does not take gateway/ in through this file (it is checked on its own).
	const { decodeBatches } = await import(new URL("../../gateway/protocol/record-batch.js", import.meta.url).href);
	const [batch] = await decodeBatches(fetched.responses[0].partitions[0].records);
	assert.deepEqual(
		batch.records.map((r) => r.value.toString()),
		["first", "second"],
	);
	const deleted = await exchange("DeleteTopics", 6, { topics: [{ name: null, topicId: described.topicId }], timeoutMs: 10_000 });
	assert.deepEqual(
		deleted.responses.map((r) => [r.name, r.topicId, r.errorCode]),
		[["fetch-by-id", described.topicId, NONE]],
	);
	await setup.api.expect(404, "GET", "/v1/topics/fetch-by-id");
});

test("the empty group id is INVALID_GROUP_ID in Heartbeat, SyncGroup, LeaveGroup (as Kafka's coordinator answers) and OffsetCommit (Tributary cannot hold it)", {
	timeout: 60_000,
}, async () => {
	const topic = "empty-group-id";
	await setup.api.createTopic(topic, 1);
	const member = { groupId: "", generationId: 1, memberId: "m-1", groupInstanceId: null };
	const heartbeat = await exchange("Heartbeat", 4, member);
	const synced = await exchange("SyncGroup", 5, { ...member, protocolType: "consumer", protocolName: "range", assignments: [] });
	const left = await exchange("LeaveGroup", 4, { groupId: "", members: [{ memberId: "m-1", groupInstanceId: null }] });
	const commit = (generationIdOrMemberEpoch, memberId) =>
		exchange("OffsetCommit", 8, {
			groupId: "",
			generationIdOrMemberEpoch,
			memberId,
			groupInstanceId: null,
			topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: "" }] }],
		});
	// Kafka takes commits to the empty group (kept for old clients); Tributary's group ids need a character, so it is
	// the group id Tributary refuses, as for every id it cannot hold.
	const standalone = await commit(-1, "");
	const fenced = await commit(1, "m-1");
	assert.deepEqual(
		[
			heartbeat.errorCode,
			synced.errorCode,
			left.errorCode,
			standalone.topics[0].partitions[0].errorCode,
			fenced.topics[0].partitions[0].errorCode,
		],
		[INVALID_GROUP_ID, INVALID_GROUP_ID, INVALID_GROUP_ID, INVALID_GROUP_ID, INVALID_GROUP_ID],
	);
});

test("the empty group id in OffsetFetch, DescribeGroups and DeleteGroups is answered as Kafka answers a group with nothing in it", {
	timeout: 60_000,
}, async () => {
	const topic = "empty-group-id";
	const fetched = await exchange("OffsetFetch", 7, { groupId: "", topics: [{ name: topic, partitionIndexes: [0] }], requireStable: false });
	assert.deepEqual(
		[fetched.errorCode, fetched.topics.map((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset, p.errorCode]))],
		[NONE, [[[topic, 0, -1, NONE]]]],
	);
	const everything = await exchange("OffsetFetch", 7, { groupId: "", topics: null, requireStable: false });
	assert.deepEqual([everything.errorCode, everything.topics], [NONE, []]);
	const described = await exchange("DescribeGroups", 5, { groups: [""], includeAuthorizedOperations: false });
	assert.deepEqual(
		described.groups.map((g) => [g.groupId, g.errorCode, g.groupState, g.members.length]),
		[["", NONE, "Dead", 0]],
	);
	const deleted = await exchange("DeleteGroups", 2, { groupsNames: [""] });
	assert.deepEqual(
		deleted.results.map((r) => [r.groupId, r.errorCode]),
		[["", GROUP_ID_NOT_FOUND]],
	);
});

test("CreateTopics validateOnly answers the partition count and replication factor the topic would get (the defaults for -1)", {
	timeout: 60_000,
}, async () => {
	const creatable = (name, numPartitions, replicationFactor, configs = []) => ({
		name,
		numPartitions,
		replicationFactor,
		assignments: [],
		configs,
	});
	const answer = await exchange("CreateTopics", 5, {
		topics: [creatable("dry-defaults", -1, -1), creatable("dry-three", 3, 1, [{ name: "retention.ms", value: "60000" }])],
		timeoutMs: 10_000,
		validateOnly: true,
	});
	assert.deepEqual(
		answer.topics.map((t) => [t.name, t.errorCode, t.numPartitions, t.replicationFactor]),
		[
			["dry-defaults", NONE, 1, 1],
			["dry-three", NONE, 3, 1],
		],
	);
	for (const name of ["dry-defaults", "dry-three"]) assert.equal((await setup.api.request("GET", `/v1/topics/${name}`)).status, 404, name);
	// As a broker lists a dry run's configs: every config the topic would get, the ones the request set as its own
	// (DYNAMIC_TOPIC_CONFIG) and the rest defaults, the same list as creating it answers.
	const created = await exchange("CreateTopics", 5, {
		topics: answer.topics.map((t, i) => ({
			...creatable(t.name, -1, -1),
			configs: i === 0 ? [] : [{ name: "retention.ms", value: "60000" }],
		})),
		timeoutMs: 10_000,
		validateOnly: false,
	});
	const configsOf = (topics) => topics.map((t) => t.configs?.map((c) => [c.name, c.value, c.configSource]));
	assert.deepEqual(
		created.topics.map((t) => [t.name, t.errorCode]),
		[
			["dry-defaults", NONE],
			["dry-three", NONE],
		],
	);
	assert.ok(created.topics[0].configs.length > 1, "a created topic lists its defaults");
	assert.deepEqual(configsOf(answer.topics), configsOf(created.topics));
});

test("ApiVersions advertises AlterConfigs v0-2 and IncrementalAlterConfigs v0-1", { timeout: 60_000 }, async () => {
	const versions = await exchange("ApiVersions", 3, { clientSoftwareName: "broker-answers", clientSoftwareVersion: "1" });
	const range = (apiKey) => versions.apiKeys.filter((k) => k.apiKey === apiKey).map((k) => [k.minVersion, k.maxVersion]);
	assert.deepEqual([range(33), range(44)], [[[0, 2]], [[0, 1]]]);
});

test("kafkajs alterConfigs (AlterConfigs) sets a topic's whole config, the configs it does not name back to their defaults; validateOnly changes nothing", {
	timeout: 60_000,
}, async () => {
	await setup.api.expect(201, "POST", "/v1/topics", { body: { name: "altered", partitions: 1, config: { "max.message.bytes": 500000 } } });
	const client = admin();
	await client.connect();
	const alter = (configEntries, validateOnly = false, name = "altered") =>
		client.alterConfigs({ validateOnly, resources: [{ type: TOPIC, name, configEntries }] });

	await alter([{ name: "retention.ms", value: "60000" }], true);
	assert.deepEqual(await ownConfigs("altered"), { "max.message.bytes": "500000" }, "validateOnly changed nothing");
	await alter([{ name: "retention.ms", value: "60000" }]);
	assert.deepEqual(await ownConfigs("altered"), { "retention.ms": "60000" });

	for (const [configEntries, name, type] of [
		[[{ name: "retention.ms", value: "soon" }], "altered", "INVALID_CONFIG"],
		[[{ name: "no.such.config", value: "1" }], "altered", "INVALID_CONFIG"],
		[[{ name: "retention.ms", value: "1" }], "never-made", "UNKNOWN_TOPIC_OR_PARTITION"],
	]) {
		for (const validateOnly of [true, false]) {
			await assert.rejects(alter(configEntries, validateOnly, name), (error) => {
				assert.equal(error.type, type, `${name} ${JSON.stringify(configEntries)} validateOnly=${validateOnly}: ${error}`);
				return true;
			});
		}
	}
	assert.deepEqual(await ownConfigs("altered"), { "retention.ms": "60000" }, "refused changes changed nothing");
	await client.disconnect();

	// A key that may produce and consume but not administer the topic.
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: { name: "no-alter", acl: [{ resource: "topic:*", operations: ["produce", "consume", "describe"] }] },
	});
	const open = await setup.startGateway({ token: null });
	const limited = admin({ brokers: [open.bootstrap], sasl: { mechanism: "plain", username: key.id, password: key.secret } });
	await limited.connect();
	await assert.rejects(
		limited.alterConfigs({
			validateOnly: false,
			resources: [{ type: TOPIC, name: "altered", configEntries: [{ name: "retention.ms", value: "1000" }] }],
		}),
		(error) => {
			assert.equal(error.type, "TOPIC_AUTHORIZATION_FAILED", String(error));
			return true;
		},
	);
	await limited.disconnect();
	assert.deepEqual(await ownConfigs("altered"), { "retention.ms": "60000" });
});

test("IncrementalAlterConfigs sets and deletes the configs it names and keeps the rest; each resource is answered on its own", {
	timeout: 60_000,
}, async () => {
	await setup.api.expect(201, "POST", "/v1/topics", {
		body: { name: "incremental", partitions: 1, config: { "max.message.bytes": 500000, "retention.ms": 60000 } },
	});
	const resource = (resourceName, configs, resourceType = TOPIC) => ({ resourceType, resourceName, configs });
	const op = (name, configOperation, value = null) => ({ name, configOperation, value });
	const alter = (resources, validateOnly = false, version = 1) => exchange("IncrementalAlterConfigs", version, { resources, validateOnly });
	const codes = (answer) => answer.responses.map((r) => [r.resourceType, r.resourceName, r.errorCode]);

	const dry = await alter([resource("incremental", [op("retention.bytes", SET, "1000000")])], true);
	assert.deepEqual(codes(dry), [[TOPIC, "incremental", NONE]]);
	assert.deepEqual(await ownConfigs("incremental"), { "max.message.bytes": "500000", "retention.ms": "60000" });

	const changed = await alter(
		[resource("incremental", [op("retention.bytes", SET, "1000000"), op("max.message.bytes", DELETE)])],
		false,
		0,
	);
	assert.deepEqual(codes(changed), [[TOPIC, "incremental", NONE]]);
	assert.deepEqual(await ownConfigs("incremental"), { "retention.ms": "60000", "retention.bytes": "1000000" });

	// Each on its own: Kafka refuses a resource named twice in one request (INVALID_REQUEST, below), whatever its changes.
	for (const [refused, code] of [
		[resource("incremental", [op("retention.ms", SET, "soon")]), INVALID_CONFIG],
		[resource("incremental", [op("no.such.config", SET, "1")]), INVALID_CONFIG],
		[resource("never-made", [op("retention.ms", SET, "1")]), UNKNOWN_TOPIC_OR_PARTITION],
		[resource("0", [op("log.retention.ms", SET, "1")], BROKER), INVALID_REQUEST],
		[resource("incremental", [op("retention.ms", DELETE), op("retention.ms", SET, "5")]), INVALID_REQUEST],
		[resource("incremental", [op("retention.ms", APPEND, "5")]), INVALID_CONFIG],
		[resource("incremental", [op("retention.ms", SUBTRACT, "5")]), INVALID_CONFIG],
		[resource("incremental", [op("retention.ms", 4, "5")]), INVALID_REQUEST],
		[resource("incremental", [op("retention.ms", SET, null)]), INVALID_REQUEST],
	]) {
		const answer = await alter([refused]);
		assert.deepEqual(codes(answer), [[refused.resourceType, refused.resourceName, code]], JSON.stringify(refused.configs));
		assert.ok(answer.responses[0].errorMessage?.length > 0, `${JSON.stringify(refused.configs)} says why`);
	}
	const twice = await alter([
		resource("incremental", [op("retention.ms", SET, "5")]),
		resource("incremental", [op("retention.bytes", DELETE)]),
	]);
	assert.deepEqual(codes(twice), [[TOPIC, "incremental", INVALID_REQUEST]]);
	assert.deepEqual(await ownConfigs("incremental"), { "retention.ms": "60000", "retention.bytes": "1000000" }, "nothing refused changed");
});

test("IncrementalAlterConfigs APPEND and SUBTRACT change a list config's values (cleanup.policy), and are INVALID_CONFIG on any other", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("listed-policy", 1);
	const alter = (configOperation, value, validateOnly = false) =>
		exchange("IncrementalAlterConfigs", 1, {
			resources: [{ resourceType: TOPIC, resourceName: "listed-policy", configs: [{ name: "cleanup.policy", configOperation, value }] }],
			validateOnly,
		});
	const policy = async () =>
		(await setup.api.expect(200, "GET", "/kafka/v3/clusters/tributary/topics/listed-policy/configs/cleanup.policy")).value;
	assert.equal((await alter(APPEND, "compact", true)).responses[0].errorCode, NONE);
	assert.equal(await policy(), "delete", "validateOnly changed nothing");
	assert.equal((await alter(APPEND, "compact")).responses[0].errorCode, NONE);
	assert.equal(await policy(), "compact,delete");
	// A value already there is not added twice.
	assert.equal((await alter(APPEND, "delete")).responses[0].errorCode, NONE);
	assert.equal(await policy(), "compact,delete");
	assert.equal((await alter(SUBTRACT, "delete")).responses[0].errorCode, NONE);
	assert.equal(await policy(), "compact");
	// Nothing left is a policy Tributary does not take.
	assert.equal((await alter(SUBTRACT, "compact")).responses[0].errorCode, INVALID_CONFIG);
	assert.equal(await policy(), "compact");
});
