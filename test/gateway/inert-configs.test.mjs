/**
 * Kafka's replica configs, which Terraform modules, Strimzi's KafkaTopic and `kafka-topics --config` set on every
 * topic and Tributary has no counterpart for, against a stand-in for Tributary that records what it is sent:
 * `min.insync.replicas` 1–2 (Confluent Cloud's range) and `unclean.leader.election.enable` false are taken as set and
 * never sent; another value of theirs is POLICY_VIOLATION (Confluent Cloud's answer) or, malformed, INVALID_CONFIG
 * (Kafka's), nothing created or changed; any other config Tributary does not know stays INVALID_CONFIG, Tributary's.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { createTopics } from "../../gateway/handlers/cluster.js";
import { alterConfigs, incrementalAlterConfigs } from "../../gateway/handlers/configs.js";
import { TopicList } from "../../gateway/topic-list.js";

/** Tributary's own configs, as its create and config change take them. */
const KNOWN = new Set(["retention.ms", "cleanup.policy"]);

/** @param {{ mayChange?: boolean }} [options] mayChange: whether the key has the admin right on the topic (it may describe it) */
function standIn({ mayChange = true } = {}) {
	/** @type {any[]} */
	const sent = [];
	const unknown = (/** @type {string} */ name) => ({
		status: 400,
		body: { error: { code: "invalid_config", message: `unknown topic config "${name}"` } },
	});
	const tributary = {
		credentials: { authorization: null },
		/** @param {{ name: string, config: Record<string, string> }} body */
		async createTopic(body) {
			sent.push(["create", body]);
			const bad = Object.keys(body.config ?? {}).find((name) => !KNOWN.has(name));
			if (bad !== undefined) return unknown(bad);
			return {
				status: 201,
				body: { name: body.name, topic_id: "5af26a41-dbf3-4f14-b5ba-b7ed9b0ca171", partitions: 1, config: { "retention.ms": 1 } },
			};
		},
		/** The Confluent mount: a topic's configs, its dry-run create, its config change. */
		async call(/** @type {string} */ method, /** @type {string} */ path, /** @type {any} */ body) {
			sent.push([method, path, body]);
			if (method === "GET") return { status: 200, body: { data: [{ name: "retention.ms", value: "1", source: "DEFAULT_CONFIG" }] } };
			if (!mayChange) {
				const error = { code: "forbidden", message: 'key "k" may not admin topic "orders"', resource: "topic:orders" };
				return { status: 403, body: { error } };
			}
			const names = path.endsWith("configs:alter") ? body.data.map((c) => c.name) : body.configs.map((c) => c.name);
			const bad = names.find((name) => !KNOWN.has(name));
			if (bad !== undefined) return unknown(bad);
			return { status: 200, body: { partitions_count: 1, replication_factor: 1 } };
		},
	};
	const ctx = /** @type {any} */ ({ tributary, session: { topicList: new TopicList(() => 1) }, version: 5, log: () => {} });
	return { ctx, sent };
}

const creatable = (/** @type {string} */ name, /** @type {Record<string, string>} */ configs) => ({
	name,
	numPartitions: 1,
	replicationFactor: 3,
	assignments: [],
	configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
});

test("CreateTopics takes min.insync.replicas 1–2 and unclean.leader.election.enable false as set, and sends Tributary only its own configs", async () => {
	for (const validateOnly of [false, true]) {
		const { ctx, sent } = standIn();
		const configs = { "min.insync.replicas": "2", "unclean.leader.election.enable": "FALSE", "retention.ms": "1000" };
		const answer = await createTopics({ topics: [creatable("orders", configs)], timeoutMs: 1_000, validateOnly }, ctx);
		assert.deepEqual(
			answer.topics.map((t) => [t.name, t.errorCode]),
			[["orders", KAFKA.NONE]],
			`validateOnly ${validateOnly}`,
		);
		const body = sent[0].at(-1);
		assert.deepEqual(
			validateOnly ? body.configs : body.config,
			validateOnly ? [{ name: "retention.ms", value: "1000" }] : { "retention.ms": "1000" },
		);
	}
});

test("CreateTopics refuses other values of them, POLICY_VIOLATION or INVALID_CONFIG, and creates nothing; an unknown config stays INVALID_CONFIG", async () => {
	const { ctx, sent } = standIn();
	const topics = [
		creatable("three", { "min.insync.replicas": "3" }),
		creatable("unclean", { "unclean.leader.election.enable": "true" }),
		creatable("zero", { "min.insync.replicas": "0" }),
		creatable("words", { "min.insync.replicas": "two" }),
		creatable("segments", { "segment.bytes": "1073741824" }),
	];
	const answer = await createTopics({ topics, timeoutMs: 1_000, validateOnly: false }, ctx);
	assert.deepEqual(
		answer.topics.map((t) => [t.name, t.errorCode]),
		[
			["three", KAFKA.POLICY_VIOLATION],
			["unclean", KAFKA.POLICY_VIOLATION],
			["zero", KAFKA.INVALID_CONFIG],
			["words", KAFKA.INVALID_CONFIG],
			["segments", KAFKA.INVALID_CONFIG],
		],
	);
	assert.match(answer.topics[0].errorMessage, /min\.insync\.replicas/);
	assert.deepEqual(
		sent.map((s) => s[1].name),
		["segments"],
	);
});

test("IncrementalAlterConfigs and AlterConfigs take them as set, change only Tributary's own configs, and refuse other values", async () => {
	const { ctx, sent } = standIn();
	const resource = (/** @type {any[]} */ configs) => ({ resourceType: 2, resourceName: "orders", configs });
	const answer = await incrementalAlterConfigs(
		{
			resources: [
				resource([
					{ name: "min.insync.replicas", configOperation: 0, value: "1" },
					{ name: "unclean.leader.election.enable", configOperation: 1, value: null },
					{ name: "retention.ms", configOperation: 0, value: "5" },
				]),
			],
			validateOnly: false,
		},
		ctx,
	);
	assert.deepEqual(
		answer.responses.map((r) => r.errorCode),
		[KAFKA.NONE],
	);
	const altered = sent.filter((s) => s[1].endsWith("configs:alter")).map((s) => s[2].data);
	assert.deepEqual(altered, [[{ name: "retention.ms", value: "5", operation: "SET" }]]);
	const refused = await incrementalAlterConfigs(
		{ resources: [resource([{ name: "min.insync.replicas", configOperation: 0, value: "3" }])], validateOnly: false },
		ctx,
	);
	assert.equal(refused.responses[0].errorCode, KAFKA.POLICY_VIOLATION);
	const legacy = await alterConfigs({ resources: [resource([{ name: "min.insync.replicas", value: "2" }])], validateOnly: false }, ctx);
	assert.equal(legacy.responses[0].errorCode, KAFKA.NONE);
	// Their change alone is a dry run (which checks the key's right to change the topic), never a change.
	assert.equal(sent.filter((s) => s[1].endsWith("configs:alter") && s[2].validate_only !== true).length, 1, "nothing more sent to change");
});

test("a change of them alone is refused TOPIC_AUTHORIZATION_FAILED to a key that may describe the topic but not change it, as a broker checks ALTER_CONFIGS first", async () => {
	for (const validateOnly of [false, true]) {
		const { ctx, sent } = standIn({ mayChange: false });
		const resource = {
			resourceType: 2,
			resourceName: "orders",
			configs: [{ name: "min.insync.replicas", configOperation: 0, value: "2" }],
		};
		const incremental = await incrementalAlterConfigs({ resources: [resource], validateOnly }, ctx);
		assert.equal(incremental.responses[0].errorCode, KAFKA.TOPIC_AUTHORIZATION_FAILED, `validateOnly ${validateOnly}`);
		const legacy = await alterConfigs(
			{ resources: [{ ...resource, configs: [{ name: "unclean.leader.election.enable", value: "false" }] }], validateOnly },
			ctx,
		);
		assert.equal(legacy.responses[0].errorCode, KAFKA.TOPIC_AUTHORIZATION_FAILED, `validateOnly ${validateOnly}`);
		// Only ever a dry run: nothing of the topic's may change.
		const changes = sent.filter((s) => s[1].endsWith("configs:alter"));
		assert.ok(changes.length > 0);
		assert.ok(changes.every((s) => s[2].validate_only === true));
	}
});

test("a value of them outside a 32-bit INT (3000000000) is INVALID_CONFIG, not of Kafka's type, rather than a policy's refusal", async () => {
	const { ctx, sent } = standIn();
	for (const value of ["3000000000", "2147483648", "-2147483649", "9999999999"]) {
		const answer = await createTopics(
			{ topics: [creatable("orders", { "min.insync.replicas": value })], timeoutMs: 1_000, validateOnly: false },
			ctx,
		);
		assert.equal(answer.topics[0].errorCode, KAFKA.INVALID_CONFIG, value);
		assert.match(answer.topics[0].errorMessage, /Not a number of type INT/, value);
	}
	const large = await createTopics(
		{ topics: [creatable("orders", { "min.insync.replicas": "2147483647" })], timeoutMs: 1_000, validateOnly: false },
		ctx,
	);
	assert.equal(large.topics[0].errorCode, KAFKA.POLICY_VIOLATION);
	assert.deepEqual(sent, []);
});
