// @ts-nocheck — kafkajs' result and error shapes would make strict checking here mostly casts.
/**
 * A topic with `message.timestamp.before.max.ms` (KIP-937) through the gateway against a real `wrangler dev`, by a
 * client nobody here wrote: kafkajs sees the config as a broker's (DescribeConfigs), and a send with a timestamp
 * older than the topic allows fails with INVALID_TIMESTAMP, nothing written, while a current one is taken. And
 * Kafka's Long.MAX_VALUE for the limits, which Kafka tools show and send back for "no limit", is taken as the default.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { CREATE_TOPICS_TIMEOUT_MS, kafkaE2eSetup } from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-timestamp-limits");

const HOUR_MS = 60 * 60 * 1000;
/** kafkajs' ConfigResourceTypes.TOPIC (Kafka's resource type 2). */
const TOPIC_RESOURCE = 2;

test("kafkajs: describeConfigs shows the limit, an older timestamp is INVALID_TIMESTAMP and unwritten, a current one is taken", {
	timeout: 60_000,
}, async () => {
	const topic = "dated";
	await setup.api.expect(201, "POST", "/v1/topics", {
		body: { name: topic, partitions: 1, config: { "message.timestamp.before.max.ms": HOUR_MS } },
	});
	const kafka = new Kafka({ clientId: "e2e-timestamp-limits", brokers: [setup.gateways[0].bootstrap], logLevel: logLevel.NOTHING });
	const admin = setup.track(kafka.admin());
	await admin.connect();
	const described = await admin.describeConfigs({
		resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ["message.timestamp.before.max.ms"] }],
		includeSynonyms: false,
	});
	assert.deepEqual(
		described.resources[0].configEntries.map((e) => [e.configName, e.configValue, e.isDefault]),
		[["message.timestamp.before.max.ms", String(HOUR_MS), false]],
	);
	const producer = setup.track(kafka.producer({ retry: { retries: 0 } }));
	await producer.connect();
	await assert.rejects(
		producer.send({ topic, messages: [{ value: "stale", timestamp: String(Date.now() - 2 * HOUR_MS) }] }),
		(error) => error.type === "INVALID_TIMESTAMP" || error.cause?.type === "INVALID_TIMESTAMP",
	);
	const [taken] = await producer.send({ topic, messages: [{ value: "current", timestamp: String(Date.now()) }] });
	assert.equal(taken.baseOffset, "0");
	await producer.disconnect();
	await admin.disconnect();
});

test("kafkajs: Kafka's Long.MAX_VALUE for the limits (its describe's 'no limit') is taken by CreateTopics and AlterConfigs as the default", {
	timeout: 60_000,
}, async () => {
	const LONG_MAX = "9223372036854775807";
	const names = ["message.timestamp.before.max.ms", "message.timestamp.after.max.ms"];
	const kafka = new Kafka({ clientId: "e2e-timestamp-long-max", brokers: [setup.gateways[0].bootstrap], logLevel: logLevel.NOTHING });
	const admin = setup.track(kafka.admin());
	await admin.connect();
	const topic = "long-max";
	const created = await admin.createTopics({
		timeout: CREATE_TOPICS_TIMEOUT_MS,
		topics: [{ topic, numPartitions: 1, configEntries: names.map((name) => ({ name, value: LONG_MAX })) }],
	});
	assert.equal(created, true);
	await admin.alterConfigs({
		validateOnly: false,
		resources: [{ type: TOPIC_RESOURCE, name: topic, configEntries: [{ name: names[0], value: String(HOUR_MS) }] }],
	});
	await admin.alterConfigs({
		validateOnly: false,
		resources: [{ type: TOPIC_RESOURCE, name: topic, configEntries: [{ name: names[0], value: LONG_MAX }] }],
	});
	const described = await admin.describeConfigs({
		resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: names }],
		includeSynonyms: false,
	});
	assert.deepEqual(
		described.resources[0].configEntries.map((e) => [e.configName, e.configValue, e.isDefault]).sort(),
		names.map((name) => [name, "9007199254740991", true]).sort(),
	);
	const producer = setup.track(kafka.producer({ retry: { retries: 0 } }));
	await producer.connect();
	const [taken] = await producer.send({ topic, messages: [{ value: "old", timestamp: String(Date.now() - 2 * HOUR_MS) }] });
	assert.equal(taken.baseOffset, "0");
	await producer.disconnect();
	await admin.disconnect();
});
