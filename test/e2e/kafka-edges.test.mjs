// @ts-nocheck — kafkajs' message shapes and the loosely typed JSON of the HTTP client would make strict checking here
// mostly casts; the gateway itself (gateway/tsconfig.json) and the helpers (test/e2e/lib/kafka.mjs) are checked.
/**
 * The Kafka gateway's edges against a real `wrangler dev`, through kcat (librdkafka), kafkajs, and raw frames
 * built and read with the gateway's codec from Kafka's own message definitions.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { waitUntil } from "../../scripts/lib/index.mjs";
import { exchange as exchangeWith, fetchRequest, kafkaE2eSetup, kcat, kcatReadAll } from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-edges");
const { track } = setup;

/** @param {Partial<import("kafkajs").KafkaConfig>} [options] */
function kafka(options = {}) {
	return new Kafka({
		clientId: "e2e-edges",
		brokers: [setup.gateways[0].bootstrap],
		logLevel: logLevel.NOTHING,
		retry: { retries: 2 },
		...options,
	});
}

/** One request through the first gateway, encoded and decoded with Kafka's definitions. */
const exchange = (name, version, body) => exchangeWith(setup.gateways[0].port, name, version, body);

test("Metadata: a topic whose name starts with '_' is not internal (only Kafka's own __consumer_offsets-style topics are)", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("_schemas", 1);
	await setup.api.createTopic("_app.events", 1);
	const answer = await exchange("Metadata", 9, {
		topics: [{ name: "_schemas" }, { name: "_app.events" }],
		allowAutoTopicCreation: false,
		includeClusterAuthorizedOperations: false,
		includeTopicAuthorizedOperations: false,
	});
	assert.deepEqual(
		answer.topics.map((t) => [t.name, t.errorCode, t.isInternal]),
		[
			["_schemas", 0, false],
			["_app.events", 0, false],
		],
	);
});

test("CreateTopics refuses a partition count or replication factor as Kafka does: not positive, or too many partitions", {
	timeout: 60_000,
}, async () => {
	const admin = track(kafka().admin());
	await admin.connect();
	await assert.rejects(admin.createTopics({ topics: [{ topic: "zero-parts", numPartitions: 0 }] }), (error) => {
		assert.equal(error.errors?.[0]?.type, "INVALID_PARTITIONS", String(error));
		return true;
	});
	await assert.rejects(admin.createTopics({ topics: [{ topic: "zero-rf", replicationFactor: 0 }] }), (error) => {
		assert.equal(error.errors?.[0]?.type, "INVALID_REPLICATION_FACTOR", String(error));
		return true;
	});
	// More partitions than a Tributary topic may have (PARTITIONS_MAX, 256): a partition count refused, not a topic
	// name (the Worker's 400 alone would read as INVALID_TOPIC_EXCEPTION).
	await assert.rejects(admin.createTopics({ topics: [{ topic: "too-many-parts", numPartitions: 257 }] }), (error) => {
		assert.equal(error.errors?.[0]?.type, "INVALID_PARTITIONS", String(error));
		return true;
	});
	for (const name of ["zero-parts", "zero-rf", "too-many-parts"]) {
		assert.equal((await setup.api.request("GET", `/v1/topics/${name}`)).status, 404, name);
	}
	await admin.disconnect();
});

test("CreateTopics validateOnly checks as a create would: an existing topic, an invalid name", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("already-here", 1);
	const admin = track(kafka().admin());
	await admin.connect();
	// TOPIC_ALREADY_EXISTS: kafkajs answers false rather than throwing. No leaders to wait for: nothing is created.
	assert.equal(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: "already-here" }] }), false);
	await assert.rejects(admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: "bad name!" }] }), (error) => {
		assert.equal(error.errors?.[0]?.type, "INVALID_TOPIC_EXCEPTION", String(error));
		return true;
	});
	assert.equal(
		await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: "would-be-new", numPartitions: 2 }] }),
		true,
	);
	assert.equal((await setup.api.request("GET", "/v1/topics/would-be-new")).status, 404);
	await admin.disconnect();
});

test("CreateTopics validateOnly checks the configs and the caller's right, as a create would: INVALID_CONFIG, TOPIC_AUTHORIZATION_FAILED", {
	timeout: 60_000,
}, async () => {
	const validate = (client, topic, configEntries) =>
		client.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic, configEntries }] });
	const admin = track(kafka().admin());
	await admin.connect();
	for (const config of [
		{ name: "no.such.config", value: "1" },
		{ name: "retention.ms", value: "soon" },
	]) {
		await assert.rejects(validate(admin, "dry-config", [config]), (error) => {
			assert.equal(error.errors?.[0]?.type, "INVALID_CONFIG", `${config.name}=${config.value}: ${error}`);
			return true;
		});
	}
	assert.equal(await validate(admin, "dry-config", [{ name: "retention.ms", value: "60000" }]), true);
	await admin.disconnect();

	// A key that may produce and consume but not create: the dry run is refused as the create is.
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: { name: "no-create", acl: [{ resource: "topic:*", operations: ["produce", "consume"] }] },
	});
	const open = await setup.startGateway({ token: null });
	const sasl = { mechanism: "plain", username: key.id, password: key.secret };
	const limited = track(
		new Kafka({ clientId: "dry", brokers: [open.bootstrap], sasl, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin(),
	);
	await limited.connect();
	for (const validateOnly of [true, false]) {
		await assert.rejects(limited.createTopics({ validateOnly, waitForLeaders: false, topics: [{ topic: "not-mine" }] }), (error) => {
			assert.equal(error.errors?.[0]?.type, "TOPIC_AUTHORIZATION_FAILED", `validateOnly=${validateOnly}: ${error}`);
			return true;
		});
	}
	await limited.disconnect();
	for (const name of ["dry-config", "not-mine"]) assert.equal((await setup.api.request("GET", `/v1/topics/${name}`)).status, 404, name);
});

test("DescribeConfigs tells a topic's own setting (DYNAMIC_TOPIC_CONFIG) from a default (DEFAULT_CONFIG), as kafka-configs reads them", {
	timeout: 60_000,
}, async () => {
	await setup.api.expect(201, "POST", "/v1/topics", { body: { name: "configs-shown", partitions: 1, config: { "retention.ms": 60000 } } });
	const admin = track(kafka().admin());
	await admin.connect();
	const { resources } = await admin.describeConfigs({ resources: [{ type: 2, name: "configs-shown" }], includeSynonyms: false });
	const sources = Object.fromEntries(resources[0].configEntries.map((e) => [e.configName, [e.configValue, e.configSource]]));
	const TOPIC = 1;
	const DEFAULT = 5;
	assert.deepEqual(sources["retention.ms"], ["60000", TOPIC]);
	assert.deepEqual(sources["cleanup.policy"], ["delete", DEFAULT]);
	assert.deepEqual(sources["max.message.bytes"], ["1048576", DEFAULT]);
	await admin.disconnect();
});

test("CreateTopics v5 answers a created topic's configs, never null: Java's admin reads them (configs.stream()) once a topic is made", {
	timeout: 60_000,
}, async () => {
	const answer = await exchange("CreateTopics", 5, {
		topics: [
			{
				name: "configs-answered",
				numPartitions: 2,
				replicationFactor: -1,
				assignments: [],
				configs: [{ name: "retention.ms", value: "60000" }],
			},
		],
		timeoutMs: 10_000,
		validateOnly: false,
	});
	const [created] = answer.topics;
	assert.deepEqual([created.errorCode, created.numPartitions], [0, 2]);
	assert.ok(Array.isArray(created.configs), `configs: ${created.configs}`);
	const byName = Object.fromEntries(created.configs.map((c) => [c.name, [c.value, c.configSource]]));
	const TOPIC = 1;
	const DEFAULT = 5;
	assert.deepEqual(byName["retention.ms"], ["60000", TOPIC]);
	assert.deepEqual(byName["cleanup.policy"], ["delete", DEFAULT]);
});

test("ListOffsets by timestamp (kafkajs offsetsForTimes, kcat -Q): the first record at or after it, and the log end after the last", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("by-time", 1);
	const producer = track(kafka().producer());
	await producer.connect();
	// Recent times: retention deletes records by their timestamps, as Kafka's does.
	const t0 = Date.now() - 60_000;
	await producer.send({
		topic: "by-time",
		messages: [
			{ value: "a", timestamp: String(t0) },
			{ value: "b", timestamp: String(t0 + 1_000) },
			{ value: "c", timestamp: String(t0 + 2_000) },
		],
	});
	const admin = track(kafka().admin());
	await admin.connect();
	assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp("by-time", t0 + 500), [{ partition: 0, offset: "1" }]);
	assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp("by-time", t0 + 1_000), [{ partition: 0, offset: "1" }]);
	const q = await kcat(["-b", setup.gateways[0].bootstrap, "-Q", "-t", `by-time:0:${t0 + 1_500}`]);
	assert.equal(q.status, 0, q.stderr);
	assert.match(q.stdout, /by-time \[0\]\s+offset 2/);
	const earliest = await exchange("ListOffsets", 6, {
		replicaId: -1,
		isolationLevel: 0,
		topics: [{ name: "by-time", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2 }] }],
	});
	assert.equal(earliest.topics[0].partitions[0].offset, 0);
	const latest = await exchange("ListOffsets", 6, {
		replicaId: -1,
		isolationLevel: 0,
		topics: [{ name: "by-time", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }],
	});
	assert.equal(latest.topics[0].partitions[0].offset, 3);
	// Max timestamp (-3, ListOffsets v7+, KIP-734): the record with the largest timestamp; asked below v7, a broker
	// answers UNSUPPORTED_VERSION. The local log start (-4, v8+) of a topic never tiered is its log start, and the last
	// tiered offset (-5, v9+) -1.
	const versions = await exchange("ApiVersions", 3, { clientSoftwareName: "edges", clientSoftwareVersion: "1" });
	const LIST_OFFSETS_KEY = 2;
	assert.equal(versions.apiKeys.find((k) => k.apiKey === LIST_OFFSETS_KEY).maxVersion, 10);
	/** @param {number} version @param {number} timestamp */
	const listed = async (version, timestamp) => {
		const answer = await exchange("ListOffsets", version, {
			replicaId: -1,
			isolationLevel: 0,
			topics: [{ name: "by-time", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
			timeoutMs: 1_000,
		});
		const [p] = answer.topics[0].partitions;
		return [p.errorCode, p.offset, p.timestamp];
	};
	assert.deepEqual(await listed(6, -3), [35, -1, -1]);
	assert.deepEqual(await listed(9, -3), [0, 2, t0 + 2_000]);
	assert.deepEqual(await listed(9, -4), [0, 0, -1]);
	assert.deepEqual(await listed(9, -5), [0, -1, -1]);
	await producer.disconnect();
	await admin.disconnect();
});

test("Fetch past the log end: OFFSET_OUT_OF_RANGE, which kcat reports when told not to reset", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("short-log", 1);
	await setup.api.produce("short-log", [{ value: "one", partition: 0 }]);
	const read = await kcat([
		"-b",
		setup.gateways[0].bootstrap,
		"-C",
		"-t",
		"short-log",
		"-p",
		"0",
		"-o",
		"50",
		"-e",
		"-X",
		"auto.offset.reset=error",
	]);
	assert.match(read.stderr, /Offset out of range/i);
	const fetched = await exchange(
		"Fetch",
		11,
		fetchRequest([
			{
				topic: "short-log",
				partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 50, logStartOffset: -1, partitionMaxBytes: 1 << 20 }],
			},
		]),
	);
	const p = fetched.responses[0].partitions[0];
	assert.deepEqual([p.errorCode, p.highWatermark, p.logStartOffset], [1, 1, 0]);
});

test("a record larger than the Fetch's byte caps is still returned first (KIP-74): kcat reads past it", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("big-one", 1);
	const big = "x".repeat(5_000);
	await setup.api.produce("big-one", [
		{ value: big, partition: 0 },
		{ value: "small", partition: 0 },
	]);
	const read = await kcat([
		"-b",
		setup.gateways[0].bootstrap,
		"-C",
		"-t",
		"big-one",
		"-o",
		"beginning",
		"-e",
		"-X",
		"message.max.bytes=1000",
		"-X",
		"fetch.message.max.bytes=1000",
		"-X",
		"fetch.max.bytes=1000",
		"-X",
		"receive.message.max.bytes=100000",
	]);
	assert.equal(read.status, 0, read.stderr);
	assert.deepEqual(read.stdout.trim().split("\n"), [big, "small"]);
});

test("kafkajs: null key, null value (a tombstone), empty value and headers survive the round trip; acks=0 lands", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("odd-values", 1);
	const producer = track(kafka().producer());
	await producer.connect();
	await producer.send({
		topic: "odd-values",
		messages: [
			{ key: null, value: null, headers: { h: "1" } },
			{ key: "k", value: "" },
			{ key: "", value: "v", headers: { empty: "" } },
		],
	});
	await producer.send({ topic: "odd-values", acks: 0, messages: [{ value: "fire-and-forget" }] });
	const consumer = track(kafka().consumer({ groupId: "odd-values-g" }));
	await consumer.connect();
	await consumer.subscribe({ topic: "odd-values", fromBeginning: true });
	const seen = [];
	await consumer.run({
		eachMessage: async ({ message }) => {
			seen.push([
				message.key?.toString() ?? null,
				message.value?.toString() ?? null,
				Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, v?.toString() ?? null])),
			]);
		},
	});
	await waitUntil(() => seen.length >= 4, { timeoutMs: 30_000, message: "kafkajs to read the four records" });
	await consumer.disconnect();
	await producer.disconnect();
	assert.deepEqual(seen, [
		[null, null, { h: "1" }],
		["k", "", {}],
		["", "v", { empty: "" }],
		[null, "fire-and-forget", {}],
	]);
});

test("kcat -z gzip and -z snappy, with a header that has no value: the records land as sent and read back", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("kcat-codecs", 1);
	for (const codec of ["gzip", "snappy"]) {
		const produced = await kcat(
			[
				"-b",
				setup.gateways[0].bootstrap,
				"-P",
				"-t",
				"kcat-codecs",
				"-p",
				"0",
				"-z",
				codec,
				"-K:",
				"-H",
				"nullhdr",
				"-H",
				`codec=${codec}`,
			],
			`k-${codec}:${codec} value\n`,
		);
		assert.equal(produced.status, 0, produced.stderr);
	}
	const messages = await kcatReadAll(setup.gateways[0].bootstrap, "kcat-codecs");
	assert.deepEqual(
		messages.map((m) => [m.key, m.payload, m.headers]),
		[
			["k-gzip", "gzip value", ["nullhdr", null, "codec", "gzip"]],
			["k-snappy", "snappy value", ["nullhdr", null, "codec", "snappy"]],
		],
	);
});
