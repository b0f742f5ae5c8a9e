// @ts-nocheck — kafkajs' admin shapes and the loosely typed JSON of the HTTP client would make strict checking here mostly casts.
/**
 * Answers the Kafka gateway gives as a Kafka broker gives them, against a real `wrangler dev`: Metadata for a name
 * Kafka's Topic.validate refuses, calls naming the empty group id, and CreateTopics validateOnly's counts (raw frames
 * built with the gateway's codec).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { exchange as exchangeWith, kafkaE2eSetup } from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-broker-answers");

const NONE = 0;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const INVALID_TOPIC_EXCEPTION = 17;
const INVALID_GROUP_ID = 24;
const GROUP_ID_NOT_FOUND = 69;

/** One request through the first gateway, encoded and decoded with Kafka's definitions. */
const exchange = (name, version, body) => exchangeWith(setup.gateways[0].port, name, version, body);

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
	const creatable = (name, numPartitions, replicationFactor) => ({ name, numPartitions, replicationFactor, assignments: [], configs: [] });
	const answer = await exchange("CreateTopics", 5, {
		topics: [creatable("dry-defaults", -1, -1), creatable("dry-three", 3, 1)],
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
});
