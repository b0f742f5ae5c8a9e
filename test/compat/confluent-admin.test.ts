/**
 * Confluent REST v3's admin surface under /kafka/v3, driven through the Worker's fetch handler: topics created
 * and deleted, partitions, topic configs, and consumer groups read-only. Shapes and errors follow confluentinc/
 * kafka-rest `api/v3/openapi.yaml` (CreateTopicRequest, TopicConfigData, AlterConfigBatchRequestData,
 * PartitionData, ConsumerGroupData, ConsumerLagData) and rest-utils' KafkaExceptionMapper (40002 for a request
 * Kafka refuses: an existing topic, a bad config; 40403 unknown topic or partition; 404 for a config the topic
 * does not have, as kafka-rest's "Config … cannot be found for topic …").
 */

import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TOPIC_CONFIG } from "../../src/shared/topic-config.ts";
import { type Doc, type DocList, expectV3Error, V3 } from "../support/confluent.ts";
import { commit, join } from "../support/group.ts";
import { createKey } from "../support/keys.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { BASE, call, createTopic, highWatermarks, json, produce } from "../support/worker.ts";

interface ConfigDoc extends Doc {
	name: string;
	value: string;
	is_default: boolean;
	is_read_only: boolean;
	source: string;
	synonyms: { name: string; value: string; source: string }[];
}

async function config(topic: string, name: string): Promise<ConfigDoc> {
	return json<ConfigDoc>("GET", `${V3}/topics/${topic}/configs/${name}`, 200);
}

async function v1Config(topic: string): Promise<Record<string, unknown>> {
	return (await json<{ config: Record<string, unknown> }>("GET", `/v1/topics/${topic}`, 200)).config;
}

describe("topics: create and delete", () => {
	it("creates a topic from Confluent's CreateTopicRequest: 201 and its KafkaTopic", async () => {
		const topic = uniqueTopic("v3-create");
		const res = await call("POST", `${V3}/topics`, {
			body: {
				topic_name: topic,
				partitions_count: 3,
				replication_factor: 3,
				configs: [
					{ name: "cleanup.policy", value: "compact" },
					{ name: "retention.ms", value: "86400000" },
				],
			},
		});
		const created = (await res.json()) as Doc;
		expect(res.status, JSON.stringify(created)).toBe(201);
		// kafka-rest points Location at the new topic, as a 201 should.
		expect(res.headers.get("Location")).toBe(`${BASE}${V3}/topics/${topic}`);
		expect(created).toMatchObject({
			kind: "KafkaTopic",
			metadata: { self: `${BASE}${V3}/topics/${topic}`, resource_name: `crn:///kafka=tributary/topic=${topic}` },
			cluster_id: "tributary",
			topic_name: topic,
			is_internal: false,
			replication_factor: 1,
			partitions_count: 3,
			configs: { related: `${BASE}${V3}/topics/${topic}/configs` },
		});
		// The same topic as /v1 sees it: the configs were applied.
		expect(await v1Config(topic)).toMatchObject({ "cleanup.policy": "compact", "retention.ms": 86_400_000 });
		const listed = await json<DocList>("GET", `${V3}/topics`, 200);
		expect(listed.data.map((t) => t.topic_name)).toContain(topic);
	});

	it("defaults to one partition and Kafka's default configs", async () => {
		const topic = uniqueTopic("v3-default");
		const created = await json<Doc>("POST", `${V3}/topics`, 201, { body: { topic_name: topic } });
		expect(created.partitions_count).toBe(1);
		expect(await v1Config(topic)).toEqual(DEFAULT_TOPIC_CONFIG);
	});

	it("refuses an existing topic with Kafka REST's 400 / 40002, and leaves it as it was", async () => {
		const topic = uniqueTopic("v3-exists");
		await createTopic(topic, 2);
		const body = { topic_name: topic, partitions_count: 5 };
		const error = await expectV3Error(await call("POST", `${V3}/topics`, { body }), 400, 40002, "topic_exists");
		expect(error.message).toContain(topic);
		expect((await json<Doc>("GET", `${V3}/topics/${topic}`, 200)).partitions_count).toBe(2);
	});

	it("refuses bad bodies and bad configs with 400 and creates nothing", async () => {
		const topic = uniqueTopic("v3-bad");
		const bad: [unknown, number, string][] = [
			[{ topic_name: topic, partitions_count: 0 }, 400, "invalid_request"],
			[{ topic_name: "bad name" }, 400, "invalid_request"],
			[{ topic_name: topic, replicas_assignments: { "0": [1] } }, 400, "invalid_request"],
			// Kafka's InvalidReplicationFactorException: a factor is -1 (the default) or at least 1.
			[{ topic_name: topic, replication_factor: 0 }, 40002, "invalid_replication_factor"],
			[{ topic_name: topic, configs: [{ name: "retention.ms", value: "soon" }] }, 40002, "invalid_config"],
			[{ topic_name: topic, configs: [{ name: "segment.bytes", value: "1024" }] }, 40002, "invalid_config"],
		];
		for (const [body, errorCode, code] of bad) {
			await expectV3Error(await call("POST", `${V3}/topics`, { body }), 400, errorCode, code);
		}
		await expectV3Error(
			await call("POST", `${V3}/topics`, { raw: "{", headers: { "Content-Type": "application/json" } }),
			400,
			400,
			"invalid_json",
		);
		const form = { raw: `{"topic_name":"${topic}"}`, headers: { "Content-Type": "text/plain" } };
		await expectV3Error(await call("POST", `${V3}/topics`, form), 415, 415, "unsupported_media_type");
		await expectV3Error(await call("GET", `${V3}/topics/${topic}`), 404, 40403, "topic_not_found");
	});

	it("deletes a topic: 204, then it is gone (40403) and so are its records", async () => {
		const topic = uniqueTopic("v3-delete");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "doomed" }]);
		const response = await call("DELETE", `${V3}/topics/${topic}`);
		expect(response.status, await response.text()).toBe(204);
		await expectV3Error(await call("GET", `${V3}/topics/${topic}`), 404, 40403, "topic_not_found");
		await expectV3Error(await call("DELETE", `${V3}/topics/${topic}`), 404, 40403, "topic_not_found");
		await createTopic(topic, 1);
		expect(await highWatermarks(topic)).toEqual([0]);
	});

	it("answers another cluster id with 404 before touching anything", async () => {
		const topic = uniqueTopic("v3-elsewhere");
		const body = { topic_name: topic };
		const error = await expectV3Error(await call("POST", "/kafka/v3/clusters/lkc-123/topics", { body }), 404, 404, "not_found");
		expect(error.message).toBe("Cluster lkc-123 cannot be found.");
		await expectV3Error(await call("GET", `${V3}/topics/${topic}`), 404, 40403, "topic_not_found");
	});

	it("lets only a key with admin on the topic create or delete it (40301)", async () => {
		const topic = uniqueTopic("v3-acl");
		const describer = await createKey([{ resource: `topic:${topic}`, operations: ["describe", "produce"] }]);
		const owner = await createKey([{ resource: `topic:${topic}`, operations: ["admin", "describe"] }]);
		const body = { topic_name: topic };
		await expectV3Error(await call("POST", `${V3}/topics`, { token: describer.secret, body }), 403, 40301, "forbidden");
		await json("POST", `${V3}/topics`, 201, { token: owner.secret, body });
		await expectV3Error(await call("DELETE", `${V3}/topics/${topic}`, { token: describer.secret }), 403, 40301, "forbidden");
		expect((await call("DELETE", `${V3}/topics/${topic}`, { token: owner.secret })).status).toBe(204);
	});
});

describe("topics: dry run and growth", () => {
	it("validates a create without creating when validate_only is true (200)", async () => {
		const topic = uniqueTopic("v3-dry");
		const body = { topic_name: topic, partitions_count: 2, configs: [{ name: "retention.ms", value: "1000" }], validate_only: true };
		const dryRes = await call("POST", `${V3}/topics`, { body });
		const dry = (await dryRes.json()) as Doc;
		expect(dryRes.status, JSON.stringify(dry)).toBe(200);
		expect(dryRes.headers.get("Location")).toBe(`${BASE}${V3}/topics/${topic}`);
		expect(dry).toMatchObject({ kind: "KafkaTopic", topic_name: topic, partitions_count: 2 });
		await expectV3Error(await call("GET", `${V3}/topics/${topic}`), 404, 40403, "topic_not_found");
		const badConfig = { ...body, configs: [{ name: "retention.ms", value: "never" }] };
		await expectV3Error(await call("POST", `${V3}/topics`, { body: badConfig }), 400, 40002, "invalid_config");
		await createTopic(topic, 1);
		await expectV3Error(await call("POST", `${V3}/topics`, { body }), 400, 40002, "topic_exists");
		const reader = await createKey([{ resource: `topic:${topic}`, operations: ["describe"] }]);
		await expectV3Error(await call("POST", `${V3}/topics`, { token: reader.secret, body }), 403, 40301, "forbidden");
	});

	it("grows a topic's partitions with PATCH and refuses to shrink it (40002)", async () => {
		const topic = uniqueTopic("v3-grow");
		await createTopic(topic, 2);
		const grown = await json<Doc>("PATCH", `${V3}/topics/${topic}`, 200, { body: { partitions_count: 4 } });
		expect(grown.partitions_count).toBe(4);
		expect((await json<DocList>("GET", `${V3}/topics/${topic}/partitions`, 200)).data).toHaveLength(4);
		await expectV3Error(await call("PATCH", `${V3}/topics/${topic}`, { body: { partitions_count: 3 } }), 400, 40002, "invalid_partitions");
		// Kafka's CreatePartitions to the count the topic has is an InvalidPartitionsException, not a no-op.
		const same = await expectV3Error(
			await call("PATCH", `${V3}/topics/${topic}`, { body: { partitions_count: 4 } }),
			400,
			40002,
			"invalid_partitions",
		);
		expect(same.message).toContain("4");
		await expectV3Error(await call("PATCH", `${V3}/topics/${topic}`, { body: {} }), 400, 400, "invalid_request");
		await expectV3Error(
			await call("PATCH", `${V3}/topics/nope-${topic}`, { body: { partitions_count: 3 } }),
			404,
			40403,
			"topic_not_found",
		);
	});

	it("answers only one of two simultaneous PATCHes to the same new count: the other finds it already there", async () => {
		const topic = uniqueTopic("v3-grow-race");
		await createTopic(topic, 2);
		const answers = await Promise.all([1, 2].map(() => call("PATCH", `${V3}/topics/${topic}`, { body: { partitions_count: 3 } })));
		expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
		await expectV3Error(answers.find((r) => r.status === 400) as Response, 400, 40002, "invalid_partitions");
	});
});

describe("partitions", () => {
	const topic = uniqueTopic("v3-partitions");
	beforeAll(async () => {
		await createTopic(topic, 3);
	});

	it("lists a topic's partitions as a KafkaPartitionList, the one broker leading each", async () => {
		const list = await json<DocList>("GET", `${V3}/topics/${topic}/partitions`, 200);
		expect(list.kind).toBe("KafkaPartitionList");
		expect(list.metadata).toEqual({ self: `${BASE}${V3}/topics/${topic}/partitions`, next: null });
		expect(list.data.map((p) => p.partition_id)).toEqual([0, 1, 2]);
		const self = `${BASE}${V3}/topics/${topic}/partitions/2`;
		expect(list.data[2]).toEqual({
			kind: "KafkaPartition",
			metadata: { self, resource_name: `crn:///kafka=tributary/topic=${topic}/partition=2` },
			cluster_id: "tributary",
			topic_name: topic,
			partition_id: 2,
			leader: { related: `${self}/replicas/0` },
			replicas: { related: `${self}/replicas` },
			reassignment: { related: `${self}/reassignment` },
		});
	});

	it("gets one partition, and answers one past the last with 40403", async () => {
		const one = await json<Doc>("GET", `${V3}/topics/${topic}/partitions/1`, 200);
		expect(one).toMatchObject({ kind: "KafkaPartition", topic_name: topic, partition_id: 1 });
		await expectV3Error(await call("GET", `${V3}/topics/${topic}/partitions/3`), 404, 40403, "partition_not_found");
		await expectV3Error(await call("GET", `${V3}/topics/${topic}/partitions/one`), 400, 400, "invalid_request");
		await expectV3Error(await call("GET", `${V3}/topics/nope-${topic}/partitions`), 404, 40403, "topic_not_found");
		await expectV3Error(await call("GET", `${V3}/topics/nope-${topic}/partitions/0`), 404, 40403, "topic_not_found");
	});

	it("refuses other methods with 405 and Allow", async () => {
		const response = await call("POST", `${V3}/topics/${topic}/partitions`, { body: {} });
		expect(response.headers.get("Allow")).toContain("GET");
		await expectV3Error(response, 405, 405, "method_not_allowed");
	});

	it("needs describe on the topic", async () => {
		const other = await createKey([{ resource: "topic:someone-else", operations: ["describe"] }]);
		await expectV3Error(await call("GET", `${V3}/topics/${topic}/partitions`, { token: other.secret }), 403, 40301, "forbidden");
	});
});

describe("topic configs", () => {
	it("lists every config with Kafka's names, values as strings, and where each comes from", async () => {
		const topic = uniqueTopic("v3-configs");
		await createTopic(topic, 1, { "retention.ms": 60_000 });
		const list = await json<{ kind: string; metadata: { self: string }; data: ConfigDoc[] }>("GET", `${V3}/topics/${topic}/configs`, 200);
		expect(list.kind).toBe("KafkaTopicConfigList");
		expect(list.data.map((c) => c.name)).toEqual(Object.keys(DEFAULT_TOPIC_CONFIG));
		const retention = list.data.find((c) => c.name === "retention.ms");
		expect(retention).toEqual({
			kind: "KafkaTopicConfig",
			metadata: {
				self: `${BASE}${V3}/topics/${topic}/configs/retention.ms`,
				resource_name: `crn:///kafka=tributary/topic=${topic}/config=retention.ms`,
			},
			cluster_id: "tributary",
			topic_name: topic,
			name: "retention.ms",
			value: "60000",
			is_default: false,
			is_read_only: false,
			is_sensitive: false,
			source: "DYNAMIC_TOPIC_CONFIG",
			synonyms: [{ name: "retention.ms", value: "60000", source: "DYNAMIC_TOPIC_CONFIG" }],
		});
		const policy = list.data.find((c) => c.name === "cleanup.policy");
		expect(policy).toMatchObject({ value: "delete", is_default: true, source: "DEFAULT_CONFIG" });
		expect(list.data.find((c) => c.name === "remote.storage.enable")?.value).toBe("false");
	});

	it("gets, updates and resets one config", async () => {
		const topic = uniqueTopic("v3-config-one");
		await createTopic(topic, 1);
		expect(await config(topic, "max.message.bytes")).toMatchObject({
			value: String(DEFAULT_TOPIC_CONFIG["max.message.bytes"]),
			is_default: true,
		});
		const put = await call("PUT", `${V3}/topics/${topic}/configs/max.message.bytes`, { body: { value: "4096" } });
		expect(put.status, await put.text()).toBe(204);
		expect(await config(topic, "max.message.bytes")).toMatchObject({ value: "4096", is_default: false, source: "DYNAMIC_TOPIC_CONFIG" });
		expect((await v1Config(topic))["max.message.bytes"]).toBe(4096);
		const reset = await call("DELETE", `${V3}/topics/${topic}/configs/max.message.bytes`);
		expect(reset.status, await reset.text()).toBe(204);
		expect((await v1Config(topic))["max.message.bytes"]).toBe(DEFAULT_TOPIC_CONFIG["max.message.bytes"]);
	});

	it("answers a config the topic does not have with Confluent's 404, for every method", async () => {
		const topic = uniqueTopic("v3-config-unknown");
		await createTopic(topic, 1);
		const path = `${V3}/topics/${topic}/configs/segment.bytes`;
		const error = await expectV3Error(await call("GET", path), 404, 404, "not_found");
		expect(error.message).toBe(`Config segment.bytes cannot be found for topic ${topic}.`);
		await expectV3Error(await call("PUT", path, { body: { value: "1" } }), 404, 404, "not_found");
		await expectV3Error(await call("DELETE", path), 404, 404, "not_found");
		await expectV3Error(await call("GET", `${V3}/topics/nope-${topic}/configs/retention.ms`), 404, 40403, "topic_not_found");
		await expectV3Error(await call("GET", `${V3}/topics/nope-${topic}/configs`), 404, 40403, "topic_not_found");
	});

	it("refuses a bad value (40002) or a bad body (400), changing nothing", async () => {
		const topic = uniqueTopic("v3-config-bad");
		await createTopic(topic, 1);
		const path = `${V3}/topics/${topic}/configs/retention.bytes`;
		await expectV3Error(await call("PUT", path, { body: { value: "lots" } }), 400, 40002, "invalid_config");
		await expectV3Error(await call("PUT", path, { body: { value: 1000 } }), 400, 400, "invalid_request");
		await expectV3Error(await call("PUT", path, { body: { value: "1000", extra: true } }), 400, 400, "invalid_request");
		expect(await v1Config(topic)).toEqual(DEFAULT_TOPIC_CONFIG);
	});

	it("alters a batch (SET and DELETE) together, and refuses the whole batch for one bad entry", async () => {
		const topic = uniqueTopic("v3-alter");
		await createTopic(topic, 1, { "retention.bytes": 1_000_000 });
		const alter = `${V3}/topics/${topic}/configs:alter`;
		const ok = await call("POST", alter, {
			body: {
				data: [
					{ name: "cleanup.policy", value: "compact" },
					{ name: "delete.retention.ms", value: "1000", operation: "SET" },
					{ name: "retention.bytes", operation: "DELETE" },
				],
			},
		});
		expect(ok.status, await ok.text()).toBe(204);
		const after = await v1Config(topic);
		expect(after).toMatchObject({ "cleanup.policy": "compact", "delete.retention.ms": 1000, "retention.bytes": -1 });
		const unknown = {
			data: [
				{ name: "retention.ms", value: "5" },
				{ name: "flush.ms", value: "5" },
			],
		};
		await expectV3Error(await call("POST", alter, { body: unknown }), 404, 404, "not_found");
		const bad = {
			data: [
				{ name: "retention.ms", value: "5" },
				{ name: "cleanup.policy", value: "sometimes" },
			],
		};
		await expectV3Error(await call("POST", alter, { body: bad }), 400, 40002, "invalid_config");
		const badOp = { data: [{ name: "retention.ms", value: "5", operation: "APPEND" }] };
		await expectV3Error(await call("POST", alter, { body: badOp }), 400, 400, "invalid_request");
		await expectV3Error(await call("POST", alter, { body: { data: [] } }), 400, 400, "invalid_request");
		expect(await v1Config(topic)).toEqual(after);
	});

	it("refuses a config named twice in an alter or a create (Kafka's duplicate config keys: 40002), applying none", async () => {
		const topic = uniqueTopic("v3-alter-twice");
		await createTopic(topic, 1);
		const alter = `${V3}/topics/${topic}/configs:alter`;
		const cases = [
			[
				{ name: "retention.ms", value: "soon" },
				{ name: "retention.ms", value: "1000" },
			],
			[
				{ name: "retention.ms", value: "5000" },
				{ name: "retention.ms", operation: "DELETE" },
			],
		];
		for (const data of cases) {
			const error = await expectV3Error(await call("POST", alter, { body: { data } }), 400, 40002, "invalid_config");
			expect(error.message).toContain("retention.ms");
		}
		expect(await v1Config(topic)).toEqual(DEFAULT_TOPIC_CONFIG);
		const fresh = uniqueTopic("v3-create-twice");
		const configs = [
			{ name: "retention.ms", value: "5000" },
			{ name: "retention.ms", value: "1000" },
		];
		await expectV3Error(await call("POST", `${V3}/topics`, { body: { topic_name: fresh, configs } }), 400, 40002, "invalid_config");
		await expectV3Error(await call("GET", `${V3}/topics/${fresh}`), 404, 40403, "topic_not_found");
	});

	it("refuses a SET without a value, by alter or PUT (Kafka takes null only for DELETE), changing nothing", async () => {
		const topic = uniqueTopic("v3-config-null");
		await createTopic(topic, 1, { "retention.ms": 1000 });
		const alter = `${V3}/topics/${topic}/configs:alter`;
		const put = `${V3}/topics/${topic}/configs/retention.ms`;
		const refused: [string, string, unknown][] = [
			["POST", alter, { data: [{ name: "retention.ms", operation: "SET" }] }],
			["POST", alter, { data: [{ name: "retention.ms", value: null }] }],
			["PUT", put, { value: null }],
			["PUT", put, {}],
		];
		for (const [method, path, body] of refused) await expectV3Error(await call(method, path, { body }), 400, 40002, "invalid_config");
		expect((await v1Config(topic))["retention.ms"]).toBe(1000);
	});

	it("validates a batch without applying it when validate_only is true", async () => {
		const topic = uniqueTopic("v3-alter-dry");
		await createTopic(topic, 1);
		const alter = `${V3}/topics/${topic}/configs:alter`;
		const dry = await call("POST", alter, { body: { data: [{ name: "retention.ms", value: "5000" }], validate_only: true } });
		expect(dry.status, await dry.text()).toBe(204);
		expect(await v1Config(topic)).toEqual(DEFAULT_TOPIC_CONFIG);
		const bad = { data: [{ name: "retention.ms", value: "-7" }], validate_only: true };
		await expectV3Error(await call("POST", alter, { body: bad }), 400, 40002, "invalid_config");
	});

	it("lets a describe key read configs and only an admin key change them", async () => {
		const topic = uniqueTopic("v3-config-acl");
		await createTopic(topic, 1);
		const reader = await createKey([{ resource: `topic:${topic}`, operations: ["describe"] }]);
		const owner = await createKey([{ resource: `topic:${topic}`, operations: ["admin"] }]);
		await json("GET", `${V3}/topics/${topic}/configs`, 200, { token: reader.secret });
		const path = `${V3}/topics/${topic}/configs/retention.ms`;
		await expectV3Error(await call("PUT", path, { token: reader.secret, body: { value: "1000" } }), 403, 40301, "forbidden");
		await expectV3Error(await call("DELETE", path, { token: reader.secret }), 403, 40301, "forbidden");
		const alter = { data: [{ name: "retention.ms", value: "1000" }] };
		await expectV3Error(
			await call("POST", `${V3}/topics/${topic}/configs:alter`, { token: reader.secret, body: alter }),
			403,
			40301,
			"forbidden",
		);
		expect(await v1Config(topic)).toEqual(DEFAULT_TOPIC_CONFIG);
		expect((await call("PUT", path, { token: owner.secret, body: { value: "1000" } })).status).toBe(204);
		expect((await v1Config(topic))["retention.ms"]).toBe(1000);
	});
});

describe("consumer groups (read-only)", () => {
	const topic = uniqueTopic("v3-groups");
	const hidden = uniqueTopic("v3-groups-hidden");
	const group = uniqueGroup("v3-group");
	let member = "";
	beforeAll(async () => {
		await createTopic(topic, 2);
		await createTopic(hidden, 1);
		await produce(topic, [
			{ value: 1, partition: 0 },
			{ value: 2, partition: 0 },
			{ value: 3, partition: 0 },
			{ value: 4, partition: 1 },
		]);
		await produce(hidden, [{ value: 5 }, { value: 6 }, { value: 7 }]);
		const joined = await join(group, { topics: [topic, hidden], strategy: "range" });
		member = joined.member_id;
		await commit(group, member, joined.generation, [
			{ topic, partition: 0, offset: 1 },
			{ topic: hidden, partition: 0, offset: 0 },
		]);
	});

	it("lists groups as KafkaConsumerGroupList", async () => {
		const list = await json<DocList>("GET", `${V3}/consumer-groups`, 200);
		expect(list.kind).toBe("KafkaConsumerGroupList");
		const mine = list.data.find((g) => g.consumer_group_id === group);
		expect(mine).toMatchObject({ kind: "KafkaConsumerGroup", state: "STABLE", type: "CLASSIC", is_simple: false });
	});

	it("gets a group with its assignor, coordinator and links", async () => {
		const self = `${BASE}${V3}/consumer-groups/${group}`;
		expect(await json<Doc>("GET", `${V3}/consumer-groups/${group}`, 200)).toEqual({
			kind: "KafkaConsumerGroup",
			metadata: { self, resource_name: `crn:///kafka=tributary/consumer-group=${group}` },
			cluster_id: "tributary",
			consumer_group_id: group,
			is_simple: false,
			partition_assignor: "range",
			state: "STABLE",
			type: "CLASSIC",
			is_mixed_consumer_group: false,
			coordinator: { related: `${BASE}${V3}/brokers/0` },
			consumers: { related: `${self}/consumers` },
			lag_summary: { related: `${self}/lag-summary` },
		});
		await expectV3Error(await call("GET", `${V3}/consumer-groups/nope-${group}`), 404, 404, "group_not_found");
		await expectV3Error(await call("GET", `${V3}/consumer-groups/bad%20id`), 400, 400, "invalid_request");
	});

	it("lists the lag of each committed partition with the member it is assigned to", async () => {
		const lags = await json<DocList>("GET", `${V3}/consumer-groups/${group}/lags`, 200);
		expect(lags.kind).toBe("KafkaConsumerLagList");
		const self = `${BASE}${V3}/consumer-groups/${group}/lags/${topic}/partitions/0`;
		expect(lags.data.find((l) => l.topic_name === topic)).toEqual({
			kind: "KafkaConsumerLag",
			metadata: { self, resource_name: `crn:///kafka=tributary/consumer-group=${group}/lag=${topic}/partition=0` },
			cluster_id: "tributary",
			consumer_group_id: group,
			consumer_id: member,
			instance_id: null,
			client_id: "",
			topic_name: topic,
			partition_id: 0,
			current_offset: 1,
			log_end_offset: 3,
			lag: 2,
		});
		// Partition 1 has no commit: Kafka's tools list no lag for it.
		expect(lags.data.map((l) => `${l.topic_name}/${l.partition_id}`).sort()).toEqual([`${hidden}/0`, `${topic}/0`].sort());
	});

	it("lists the group's members as KafkaConsumerList", async () => {
		const consumers = await json<DocList>("GET", `${V3}/consumer-groups/${group}/consumers`, 200);
		expect(consumers.kind).toBe("KafkaConsumerList");
		const self = `${BASE}${V3}/consumer-groups/${group}/consumers/${member}`;
		expect(consumers.data).toEqual([
			{
				kind: "KafkaConsumer",
				metadata: { self, resource_name: `crn:///kafka=tributary/consumer-group=${group}/consumer=${member}` },
				cluster_id: "tributary",
				consumer_group_id: group,
				consumer_id: member,
				instance_id: null,
				client_id: "",
				assignments: { related: `${self}/assignments` },
			},
		]);
	});

	it("follows a member's link to it and to its assignments, each linking the partition and its lag", async () => {
		const consumers = await json<DocList>("GET", `${V3}/consumer-groups/${group}/consumers`, 200);
		const self = (consumers.data[0] as Doc).metadata.self;
		expect(await json<Doc>("GET", self.slice(BASE.length), 200)).toEqual(consumers.data[0]);
		const assignments = await json<DocList>("GET", `${self.slice(BASE.length)}/assignments`, 200);
		expect(assignments.kind).toBe("KafkaConsumerAssignmentList");
		expect(assignments.data.map((a) => `${a.topic_name}/${a.partition_id}`).sort()).toEqual(
			[`${hidden}/0`, `${topic}/0`, `${topic}/1`].sort(),
		);
		const lagLink = `${BASE}${V3}/consumer-groups/${group}/lags/${topic}/partitions/0`;
		expect(assignments.data.find((a) => a.topic_name === topic && a.partition_id === 0)).toEqual({
			kind: "KafkaConsumerAssignment",
			metadata: {
				self: `${self}/assignments/${topic}/partitions/0`,
				resource_name: `crn:///kafka=tributary/consumer-group=${group}/consumer=${member}/assignment=${topic}/partition=0`,
			},
			cluster_id: "tributary",
			consumer_group_id: group,
			consumer_id: member,
			topic_name: topic,
			partition_id: 0,
			partition: { related: `${BASE}${V3}/topics/${topic}/partitions/0` },
			lag: { related: lagLink },
		});
		const one = assignments.data.find((a) => a.topic_name === topic && a.partition_id === 0) as Doc;
		expect(await json<Doc>("GET", one.metadata.self.slice(BASE.length), 200)).toEqual(one);
		const lag = await json<Doc>("GET", lagLink.slice(BASE.length), 200);
		expect(lag).toMatchObject({ kind: "KafkaConsumerLag", topic_name: topic, partition_id: 0, current_offset: 1, lag: 2 });
		const key = await createKey([
			{ resource: `group:${group}`, operations: ["describe"] },
			{ resource: `topic:${topic}`, operations: ["describe"] },
		]);
		const seen = await json<DocList>("GET", `${self.slice(BASE.length)}/assignments`, 200, { token: key.secret });
		expect(seen.data.map((a) => a.topic_name)).toEqual([topic, topic]);
	});

	it("answers an unknown member, or a partition without a commit, with Confluent's 404", async () => {
		const groupPath = `${V3}/consumer-groups/${group}`;
		await expectV3Error(await call("GET", `${groupPath}/consumers/nobody`), 404, 404, "not_found");
		await expectV3Error(await call("GET", `${groupPath}/consumers/nobody/assignments`), 404, 404, "not_found");
		const assignments = `${groupPath}/consumers/${member}/assignments`;
		await expectV3Error(await call("GET", `${assignments}/${topic}/partitions/2`), 404, 404, "not_found");
		await expectV3Error(await call("GET", `${groupPath}/lags/${topic}/partitions/1`), 404, 404, "not_found");
		await expectV3Error(await call("GET", `${groupPath}/lags/${topic}/partitions/x`), 400, 400, "invalid_request");
		const key = await createKey([{ resource: `group:${group}`, operations: ["describe"] }]);
		// A lag on a topic the key may not describe is not there for it, as in the list.
		await expectV3Error(await call("GET", `${groupPath}/lags/${topic}/partitions/0`, { token: key.secret }), 404, 404, "not_found");
	});

	it("sums the lag up: the largest, where it is, and the total", async () => {
		const summary = await json<Doc>("GET", `${V3}/consumer-groups/${group}/lag-summary`, 200);
		expect(summary).toMatchObject({
			kind: "KafkaConsumerGroupLagSummary",
			consumer_group_id: group,
			max_lag_consumer_id: member,
			max_lag_topic_name: hidden,
			max_lag_partition_id: 0,
			max_lag: 3,
			total_lag: 5,
			max_lag_partition: { related: `${BASE}${V3}/topics/${hidden}/partitions/0` },
		});
		const key = await createKey([
			{ resource: `group:${group}`, operations: ["describe"] },
			{ resource: `topic:${topic}`, operations: ["describe"] },
		]);
		const seen = await json<Doc>("GET", `${V3}/consumer-groups/${group}/lag-summary`, 200, { token: key.secret });
		expect(seen).toMatchObject({ max_lag_topic_name: topic, max_lag: 2, total_lag: 2 });
	});

	it("answers the lags and lag summary of a group with no commit it may see with kafka-rest's 404", async () => {
		const idle = uniqueGroup("v3-group-idle");
		await join(idle, { topics: [topic], strategy: "range" });
		const message = "Consumer group offsets could not be found.";
		for (const path of [`${V3}/consumer-groups/${idle}/lags`, `${V3}/consumer-groups/${idle}/lag-summary`]) {
			expect((await expectV3Error(await call("GET", path), 404, 404, "not_found")).message).toBe(message);
		}
		// Commits on topics the key may not describe are not there for it, as in the list.
		const key = await createKey([{ resource: `group:${group}`, operations: ["describe"] }]);
		const hiddenSummary = await call("GET", `${V3}/consumer-groups/${group}/lag-summary`, { token: key.secret });
		expect((await expectV3Error(hiddenSummary, 404, 404, "not_found")).message).toBe(message);
	});

	it("shows a key only the groups and the topics' lags it may describe", async () => {
		const key = await createKey([
			{ resource: `group:${group}`, operations: ["describe"] },
			{ resource: `topic:${topic}`, operations: ["describe"] },
		]);
		const list = await json<DocList>("GET", `${V3}/consumer-groups`, 200, { token: key.secret });
		expect(list.data.map((g) => g.consumer_group_id)).toEqual([group]);
		const lags = await json<DocList>("GET", `${V3}/consumer-groups/${group}/lags`, 200, { token: key.secret });
		expect(lags.data.map((l) => l.topic_name)).toEqual([topic]);
		const stranger = await createKey([{ resource: `topic:${topic}`, operations: ["describe"] }]);
		expect((await json<DocList>("GET", `${V3}/consumer-groups`, 200, { token: stranger.secret })).data).toEqual([]);
		await expectV3Error(await call("GET", `${V3}/consumer-groups/${group}`, { token: stranger.secret }), 403, 40301, "forbidden");
		await expectV3Error(await call("GET", `${V3}/consumer-groups/${group}/lags`, { token: stranger.secret }), 403, 40301, "forbidden");
	});

	it("is read-only: other methods are 405", async () => {
		await expectV3Error(await call("DELETE", `${V3}/consumer-groups/${group}`), 405, 405, "method_not_allowed");
		await expectV3Error(await call("POST", `${V3}/consumer-groups`, { body: {} }), 405, 405, "method_not_allowed");
	});
});
