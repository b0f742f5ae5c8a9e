// @ts-nocheck — kafkajs' admin shapes and errors would make strict checking here mostly casts; the gateway is checked on its own.
/**
 * kafkajs' admin against the gateway for the admin calls beyond topic create and delete: `createPartitions`
 * (CreatePartitions) grows a topic as a broker does, and refuses a count that does not grow, a topic it does not
 * know and, with validateOnly, changes nothing; a manual replica assignment on node 0 (`replicaAssignment`,
 * `assignments`) creates or grows a topic as on a one-broker cluster, and one naming another broker is refused; `deleteGroups` (DeleteGroups) deletes an empty group and refuses
 * one with members and one that does not exist, with Kafka's errors.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { CREATE_TOPICS_TIMEOUT_MS, kafkaE2eSetup } from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-admin");
const { track } = setup;

function admin() {
	const kafka = new Kafka({
		clientId: "e2e-admin",
		brokers: [setup.gateways[0].bootstrap],
		logLevel: logLevel.NOTHING,
		retry: { retries: 0 },
	});
	return track(kafka.admin());
}

const partitionCount = async (/** @type {string} */ topic) => (await setup.api.describeTopic(topic)).partitions.length;

test("createPartitions grows a topic, and the next Metadata shows it; a count that does not grow, or an unknown topic, is refused", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("grows", 1);
	const client = admin();
	await client.connect();
	// Listed before the change: the change must not wait out the gateway's Metadata cache.
	assert.equal((await client.fetchTopicMetadata({ topics: ["grows"] })).topics[0].partitions.length, 1);
	await client.createPartitions({ topicPartitions: [{ topic: "grows", count: 3 }] });
	assert.equal(await partitionCount("grows"), 3);
	const listed = await client.listTopics();
	assert.ok(listed.includes("grows"));
	assert.equal((await client.fetchTopicMetadata({ topics: ["grows"] })).topics[0].partitions.length, 3);

	for (const [topicPartitions, type] of [
		[[{ topic: "grows", count: 3 }], "INVALID_PARTITIONS"],
		[[{ topic: "grows", count: 2 }], "INVALID_PARTITIONS"],
		[[{ topic: "no-such-topic", count: 2 }], "UNKNOWN_TOPIC_OR_PARTITION"],
	]) {
		await assert.rejects(client.createPartitions({ topicPartitions }), (error) => {
			assert.equal(error.type, type, `${JSON.stringify(topicPartitions)}: ${error}`);
			return true;
		});
	}
	assert.equal(await partitionCount("grows"), 3);
	await client.disconnect();
});

test("kafkajs replicaAssignment (createTopics) and assignments (createPartitions) on node 0 create and grow the topic, as on a one-broker cluster; another broker is INVALID_REPLICA_ASSIGNMENT", {
	timeout: 60_000,
}, async () => {
	const client = admin();
	await client.connect();
	const onNode0 = (/** @type {number} */ partition) => ({ partition, replicas: [0] });
	const placed = { topic: "placed", replicaAssignment: [onNode0(0), onNode0(1)] };
	assert.equal(await client.createTopics({ timeout: CREATE_TOPICS_TIMEOUT_MS, topics: [placed] }), true);
	assert.equal(await partitionCount("placed"), 2);
	await client.createPartitions({ topicPartitions: [{ topic: "placed", count: 4, assignments: [[0], [0]] }] });
	assert.equal(await partitionCount("placed"), 4);
	await assert.rejects(
		client.createTopics({ topics: [{ topic: "placed-elsewhere", replicaAssignment: [{ partition: 0, replicas: [1] }] }] }),
		(error) => {
			assert.deepEqual(
				error.errors.map((/** @type {any} */ e) => e.type),
				["INVALID_REPLICA_ASSIGNMENT"],
			);
			return true;
		},
	);
	await assert.rejects(client.createPartitions({ topicPartitions: [{ topic: "placed", count: 6, assignments: [[0]] }] }), (error) => {
		assert.equal(error.type, "INVALID_REPLICA_ASSIGNMENT", String(error));
		return true;
	});
	assert.equal(await partitionCount("placed"), 4);
	assert.equal((await setup.api.request("GET", "/v1/topics/placed-elsewhere")).status, 404);
	await client.disconnect();
});

test("createPartitions validateOnly answers what growing would and changes nothing", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("dry-grow", 2);
	const client = admin();
	await client.connect();
	await client.createPartitions({ validateOnly: true, topicPartitions: [{ topic: "dry-grow", count: 5 }] });
	assert.equal(await partitionCount("dry-grow"), 2);
	await assert.rejects(client.createPartitions({ validateOnly: true, topicPartitions: [{ topic: "dry-grow", count: 2 }] }), (error) => {
		assert.equal(error.type, "INVALID_PARTITIONS", String(error));
		return true;
	});
	await assert.rejects(client.createPartitions({ validateOnly: true, topicPartitions: [{ topic: "dry-missing", count: 2 }] }), (error) => {
		assert.equal(error.type, "UNKNOWN_TOPIC_OR_PARTITION", String(error));
		return true;
	});
	assert.equal(await partitionCount("dry-grow"), 2);
	assert.equal((await setup.api.request("GET", "/v1/topics/dry-missing")).status, 404);
	await client.disconnect();
});

test("deleteGroups deletes an empty group; one with a member is NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("group-admin", 1);
	// A group with committed offsets and no member, and one with a member (over HTTP).
	await setup.api.expect(200, "POST", "/v1/groups/idle-group/offsets", {
		body: { offsets: [{ topic: "group-admin", partition: 0, offset: 0 }] },
	});
	await setup.api.expect(200, "POST", "/v1/groups/busy-group/members", { body: { topics: ["group-admin"] } });
	const client = admin();
	await client.connect();
	assert.deepEqual(await client.deleteGroups(["idle-group"]), [{ groupId: "idle-group", errorCode: 0 }]);
	assert.equal((await setup.api.request("GET", "/v1/groups/idle-group")).status, 404);
	await assert.rejects(client.deleteGroups(["busy-group", "never-group"]), (error) => {
		const types = Object.fromEntries(error.groups.map((/** @type {any} */ g) => [g.groupId, g.error.type]));
		assert.deepEqual(types, { "busy-group": "NON_EMPTY_GROUP", "never-group": "GROUP_ID_NOT_FOUND" }, String(error));
		return true;
	});
	assert.equal((await setup.api.request("GET", "/v1/groups/busy-group")).status, 200);
	await client.disconnect();
});

test("without the right: createPartitions (validateOnly too) is TOPIC_AUTHORIZATION_FAILED, deleteGroups GROUP_AUTHORIZATION_FAILED", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("not-theirs", 1);
	await setup.api.expect(200, "POST", "/v1/groups/their-group/offsets", {
		body: { offsets: [{ topic: "not-theirs", partition: 0, offset: 0 }] },
	});
	// A key that may read and write topics but administer nothing.
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: { name: "no-admin", acl: [{ resource: "topic:*", operations: ["produce", "consume", "describe"] }] },
	});
	const open = await setup.startGateway({ token: null });
	const sasl = { mechanism: "plain", username: key.id, password: key.secret };
	const limited = track(
		new Kafka({ clientId: "limited", brokers: [open.bootstrap], sasl, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin(),
	);
	await limited.connect();
	for (const validateOnly of [true, false]) {
		await assert.rejects(limited.createPartitions({ validateOnly, topicPartitions: [{ topic: "not-theirs", count: 2 }] }), (error) => {
			assert.equal(error.type, "TOPIC_AUTHORIZATION_FAILED", `validateOnly=${validateOnly}: ${error}`);
			return true;
		});
	}
	await assert.rejects(limited.deleteGroups(["their-group"]), (error) => {
		assert.equal(error.groups?.[0]?.error?.type, "GROUP_AUTHORIZATION_FAILED", String(error));
		return true;
	});
	await limited.disconnect();
	assert.equal(await partitionCount("not-theirs"), 1);
	assert.equal((await setup.api.request("GET", "/v1/groups/their-group")).status, 200);
});
