// @ts-nocheck — kafkajs' shapes would make strict checking here mostly casts; the gateway is checked on its own.
/**
 * What a team with existing Kafka clients expects of a broker on day one, through the gateway against a real
 * `wrangler dev`: a producer to a missing topic on a gateway with `--auto-create-topics-enable` (Kafka's
 * `auto.create.topics.enable`) creates it and delivers, and without the option creates nothing; a topic a key may not
 * describe is TOPIC_AUTHORIZATION_FAILED wherever it is named (Metadata, ListOffsets, OffsetFetch, OffsetCommit), never
 * "unknown" or "nothing committed", and a commit naming it commits the rest; a config change of Kafka's replica
 * configs alone is a dry run that changes nothing, refused TOPIC_AUTHORIZATION_FAILED to a key that may not change it.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import kafkajs from "kafkajs";
import { CREATE_TOPICS_TIMEOUT_MS, exchange, kafkaE2eSetup, kcat, kcatReadAll } from "./lib/kafka.mjs";

const { Kafka, logLevel } = kafkajs;
const setup = kafkaE2eSetup("kafka-broker-parity");

/** A kafkajs client of the first gateway (no login: the gateway's token) that gives up at the first error. */
function firstGatewayKafka() {
	return new Kafka({ clientId: "e2e-parity", brokers: [setup.gateways[0].bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
}

/** Kafka's code for a topic the caller may not see (kafkajs' TOPIC_AUTHORIZATION_FAILED). */
const KAFKA_TOPIC_AUTHORIZATION_FAILED = 29;

test("--auto-create-topics-enable: kcat and kafkajs produce to missing topics, created with the Worker's default partitions", {
	timeout: 90_000,
}, async () => {
	const auto = await setup.startGateway({ args: ["--auto-create-topics-enable"] });
	const produced = await kcat(["-b", auto.bootstrap, "-P", "-t", "made-by-kcat", "-X", "topic.message.timeout.ms=10000"], "first\n");
	assert.equal(produced.status, 0, produced.stderr);
	assert.deepEqual(
		(await kcatReadAll(auto.bootstrap, "made-by-kcat")).map((m) => m.payload),
		["first"],
	);
	const kafka = new Kafka({ clientId: "e2e-parity", brokers: [auto.bootstrap], logLevel: logLevel.NOTHING });
	const producer = setup.track(kafka.producer());
	await producer.connect();
	const [sent] = await producer.send({ topic: "made-by-kafkajs", messages: [{ value: "one" }] });
	assert.equal(sent.errorCode, 0);
	const described = await setup.api.describeTopic("made-by-kafkajs");
	assert.equal(described.partitions.length, (await setup.api.describeTopic("made-by-kcat")).partitions.length);
	await producer.disconnect();
});

test("without the option a producer to a missing topic is not delivered (librdkafka waits out its timeout), and nothing is created", {
	timeout: 60_000,
}, async () => {
	const produced = await kcat(
		["-b", setup.gateways[0].bootstrap, "-P", "-t", "never-made", "-X", "topic.message.timeout.ms=3000"],
		"lost\n",
	);
	assert.notEqual(produced.status, 0);
	assert.match(produced.stderr, /Delivery failed/);
	await setup.api.expect(404, "GET", "/v1/topics/never-made");
});

test("a topic the key may not describe is TOPIC_AUTHORIZATION_FAILED in every call that names it, committed offsets too", {
	timeout: 90_000,
}, async () => {
	await setup.api.createTopic("parity-visible", 1);
	await setup.api.createTopic("parity-hidden", 1);
	await setup.api.expect(200, "POST", "/v1/groups/parity-app/offsets", {
		body: { offsets: [{ topic: "parity-hidden", partition: 0, offset: 0 }] },
	});
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: {
			name: "parity-limited",
			acl: [
				{ resource: "topic:parity-visible", operations: ["produce", "consume"] },
				{ resource: "group:parity-app", operations: ["consume"] },
			],
		},
	});
	const open = await setup.startGateway({ token: null });
	const sasl = { mechanism: "plain", username: key.id, password: key.secret };
	const kafka = new Kafka({ clientId: "e2e-parity", brokers: [open.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl });
	const admin = setup.track(kafka.admin());
	await admin.connect();
	await assert.rejects(admin.fetchTopicMetadata({ topics: ["parity-hidden"] }), (error) => {
		assert.equal(error.type, "TOPIC_AUTHORIZATION_FAILED", String(error));
		return true;
	});
	await admin.disconnect();
	// kafkajs asks Metadata before OffsetFetch and OffsetCommit, and stops there: these are asked as frames, by a
	// gateway whose token is the key's (a client that does not log in acts with it).
	const asKey = await setup.startGateway({ token: key.secret });
	const partitionOf = (answer) => answer.topics.map((t) => [t.name, t.partitions.map((p) => p.errorCode)]);
	const listed = await exchange(asKey.port, "ListOffsets", 5, {
		replicaId: -1,
		isolationLevel: 0,
		topics: [{ name: "parity-hidden", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }],
	});
	assert.deepEqual(partitionOf(listed), [["parity-hidden", [KAFKA_TOPIC_AUTHORIZATION_FAILED]]]);
	const fetched = await exchange(asKey.port, "OffsetFetch", 7, {
		groupId: "parity-app",
		topics: [
			{ name: "parity-visible", partitionIndexes: [0] },
			{ name: "parity-hidden", partitionIndexes: [0] },
		],
		requireStable: false,
	});
	assert.deepEqual(
		fetched.topics.map((t) => [t.name, t.partitions.map((p) => [p.committedOffset, p.errorCode])]),
		[
			["parity-visible", [[-1, 0]]],
			["parity-hidden", [[-1, KAFKA_TOPIC_AUTHORIZATION_FAILED]]],
		],
	);
	const entry = (name) => ({
		name,
		partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: "" }],
	});
	const committed = await exchange(asKey.port, "OffsetCommit", 7, {
		groupId: "parity-app",
		generationIdOrMemberEpoch: -1,
		memberId: "",
		groupInstanceId: null,
		topics: [entry("parity-visible"), entry("parity-hidden")],
	});
	assert.deepEqual(partitionOf(committed), [
		["parity-visible", [0]],
		["parity-hidden", [KAFKA_TOPIC_AUTHORIZATION_FAILED]],
	]);
	const group = await setup.api.expect(200, "GET", "/v1/groups/parity-app");
	assert.deepEqual(
		group.offsets.filter((o) => o.committed !== null).map((o) => [o.topic, o.committed]),
		[
			["parity-hidden", 0],
			["parity-visible", 0],
		],
	);
});

test("DescribeGroups shows a kafkajs member's client id, carried in the member id the gateway issued", { timeout: 90_000 }, async () => {
	await setup.api.createTopic("parity-members", 1);
	const kafka = new Kafka({ clientId: "parity-consumer", brokers: [setup.gateways[0].bootstrap], logLevel: logLevel.NOTHING });
	const consumer = setup.track(kafka.consumer({ groupId: "parity-members-app", sessionTimeout: 10_000, heartbeatInterval: 1_000 }));
	await consumer.connect();
	await consumer.subscribe({ topics: ["parity-members"], fromBeginning: true });
	const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
	await consumer.run({ eachMessage: async () => {} });
	const { payload } = await joined;
	const admin = setup.track(kafka.admin());
	await admin.connect();
	const { groups } = await admin.describeGroups(["parity-members-app"]);
	assert.deepEqual(
		groups[0].members.map((m) => [m.memberId, m.clientId]),
		[[payload.memberId, "parity-consumer"]],
	);
	assert.match(payload.memberId, /^parity-consumer-/);
	await consumer.disconnect();
	await admin.disconnect();
});

test("kafkajs setOffsets past a partition's end commits the high watermark there (it never settles on a refused commit)", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("parity-end", 2);
	await setup.api.produce("parity-end", [{ value: "a", partition: 1 }]);
	const admin = setup.track(firstGatewayKafka().admin());
	await admin.connect();
	const partitions = [
		{ partition: 0, offset: "5" },
		{ partition: 1, offset: "1" },
	];
	await admin.setOffsets({ groupId: "parity-end-app", topic: "parity-end", partitions });
	const [offsets] = await admin.fetchOffsets({ groupId: "parity-end-app", topics: ["parity-end"] });
	assert.deepEqual(offsets.partitions.map((p) => [p.partition, p.offset]).sort(), [
		[0, "0"],
		[1, "1"],
	]);
	await admin.disconnect();
});

test("kafkajs setOffsets on a group with an active member settles: refused as a broker refuses it, nothing committed", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("parity-busy", 1);
	await setup.api.produce("parity-busy", [{ value: "a" }, { value: "b" }]);
	const kafka = firstGatewayKafka();
	const consumer = setup.track(kafka.consumer({ groupId: "parity-busy-app", heartbeatInterval: 500 }));
	await consumer.connect();
	await consumer.subscribe({ topic: "parity-busy", fromBeginning: true });
	const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
	// Commits nothing itself, so any committed offset would be setOffsets'.
	await consumer.run({ autoCommit: false, eachMessage: async () => {} });
	await joined;
	const admin = setup.track(kafka.admin());
	await admin.connect();
	const SETTLE_MS = 15_000;
	const outcome = await Promise.race([
		admin.setOffsets({ groupId: "parity-busy-app", topic: "parity-busy", partitions: [{ partition: 0, offset: "0" }] }).then(
			() => "resolved",
			(error) => `rejected: ${error.message}`,
		),
		new Promise((resolve) => setTimeout(() => resolve(`unsettled after ${SETTLE_MS} ms`), SETTLE_MS).unref()),
	]);
	assert.match(outcome, /^rejected: The consumer group must have no running instances, current state: Stable/);
	const group = await setup.api.expect(200, "GET", "/v1/groups/parity-busy-app");
	assert.deepEqual(
		group.offsets.map((o) => [o.partition, o.committed]),
		[[0, null]],
	);
	await admin.disconnect();
	await consumer.disconnect();
});

test("kafkajs createTopics with Kafka's replica configs: min.insync.replicas 2 is taken, 3 is POLICY_VIOLATION", {
	timeout: 60_000,
}, async () => {
	const admin = setup.track(firstGatewayKafka().admin());
	await admin.connect();
	const topic = (name, value) => ({
		topic: name,
		numPartitions: 1,
		replicationFactor: 3,
		configEntries: [
			{ name: "min.insync.replicas", value },
			{ name: "unclean.leader.election.enable", value: "false" },
			{ name: "retention.ms", value: "3600000" },
		],
	});
	const replicated = { topics: [topic("parity-replicated", "2")], waitForLeaders: false, timeout: CREATE_TOPICS_TIMEOUT_MS };
	assert.equal(await admin.createTopics(replicated), true);
	const described = await setup.api.describeTopic("parity-replicated");
	assert.equal(described.config["retention.ms"], 3_600_000);
	assert.equal(described.config["min.insync.replicas"], undefined, "taken as set, never stored");
	await assert.rejects(admin.createTopics({ topics: [topic("parity-three", "3")], waitForLeaders: false }), (error) => {
		assert.deepEqual(
			error.errors.map((e) => e.type),
			["POLICY_VIOLATION"],
			String(error),
		);
		return true;
	});
	await setup.api.expect(404, "GET", "/v1/topics/parity-three");
	await admin.disconnect();
});

test("an incremental change of Kafka's replica configs alone changes nothing; a key that may only describe the topic is TOPIC_AUTHORIZATION_FAILED", {
	timeout: 60_000,
}, async () => {
	await setup.api.expect(201, "POST", "/v1/topics", {
		body: { name: "parity-inert", partitions: 1, config: { "cleanup.policy": "compact" } },
	});
	const configs = [{ name: "min.insync.replicas", configOperation: 0, value: "2" }];
	const incremental = { resources: [{ resourceType: 2, resourceName: "parity-inert", configs }], validateOnly: false };
	const changed = await exchange(setup.gateways[0].port, "IncrementalAlterConfigs", 1, incremental);
	assert.deepEqual(
		changed.responses.map((r) => r.errorCode),
		[0],
	);
	// The gateway asks by a dry run (of resetting cleanup.policy): nothing of the topic's changed.
	assert.equal((await setup.api.describeTopic("parity-inert")).config["cleanup.policy"], "compact");
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: { name: "parity-describer", acl: [{ resource: "topic:parity-inert", operations: ["describe"] }] },
	});
	const asKey = await setup.startGateway({ token: key.secret });
	const refused = await exchange(asKey.port, "IncrementalAlterConfigs", 1, incremental);
	assert.deepEqual(
		refused.responses.map((r) => r.errorCode),
		[KAFKA_TOPIC_AUTHORIZATION_FAILED],
	);
	// kafkajs' alterConfigs (Kafka's legacy AlterConfigs) too.
	const sasl = { mechanism: "plain", username: key.id, password: key.secret };
	const options = { clientId: "e2e-parity", logLevel: logLevel.NOTHING, retry: { retries: 0 } };
	const open = await setup.startGateway({ token: null });
	const describer = setup.track(new Kafka({ ...options, brokers: [open.bootstrap], sasl }).admin());
	await describer.connect();
	const change = { type: 2, name: "parity-inert", configEntries: [{ name: "min.insync.replicas", value: "2" }] };
	await assert.rejects(describer.alterConfigs({ resources: [change], validateOnly: false }), (error) => {
		assert.equal(error.type, "TOPIC_AUTHORIZATION_FAILED", String(error));
		return true;
	});
	await describer.disconnect();
	assert.equal((await setup.api.describeTopic("parity-inert")).config["cleanup.policy"], "compact");
});
