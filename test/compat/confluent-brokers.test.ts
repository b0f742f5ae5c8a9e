/**
 * Confluent REST v3's brokers and replicas under /kafka/v3: the one broker (id 0) and each partition's one replica
 * on it, so the links other documents carry (`brokers`, `leader`, `replicas`, `coordinator`) answer. Shapes follow
 * confluentinc/kafka-rest `api/v3/openapi.yaml` (BrokerData, ReplicaData); an unknown broker or replica is its 404.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { type Doc, type DocList, expectV3Error, V3 } from "../support/confluent.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { BASE, call, createTopic, json } from "../support/worker.ts";

const BROKER = `${BASE}${V3}/brokers/0`;

describe("brokers", () => {
	it("lists the one broker, and the cluster's brokers link leads to it", async () => {
		const cluster = await json<Doc>("GET", V3, 200);
		const link = (cluster.brokers as { related: string }).related;
		expect(link).toBe(`${BASE}${V3}/brokers`);
		const list = await json<DocList>("GET", link.slice(BASE.length), 200);
		expect(list.kind).toBe("KafkaBrokerList");
		expect(list.metadata).toEqual({ self: link, next: null });
		expect(list.data).toEqual([
			{
				kind: "KafkaBroker",
				metadata: { self: BROKER, resource_name: "crn:///kafka=tributary/broker=0" },
				cluster_id: "tributary",
				broker_id: 0,
				host: null,
				port: null,
				rack: null,
				configs: { related: `${BROKER}/configs` },
				partition_replicas: { related: `${BROKER}/partition-replicas` },
			},
		]);
		expect(await json<Doc>("GET", `${V3}/brokers/0`, 200)).toEqual(list.data[0]);
	});

	it("answers another broker id with 404, a malformed one with 400, another cluster with 404", async () => {
		const missing = await expectV3Error(await call("GET", `${V3}/brokers/1`), 404, 404, "not_found");
		expect(missing.message).toBe("Broker 1 cannot be found.");
		await expectV3Error(await call("GET", `${V3}/brokers/1/configs`), 404, 404, "not_found");
		await expectV3Error(await call("GET", `${V3}/brokers/1/partition-replicas`), 404, 404, "not_found");
		await expectV3Error(await call("GET", `${V3}/brokers/one`), 400, 400, "invalid_request");
		await expectV3Error(await call("GET", "/kafka/v3/clusters/other/brokers"), 404, 404, "not_found");
	});

	it("has no broker configs, for the broker or the cluster", async () => {
		const own = await json<DocList>("GET", `${V3}/brokers/0/configs`, 200);
		expect(own).toEqual({ kind: "KafkaBrokerConfigList", metadata: { self: `${BROKER}/configs`, next: null }, data: [] });
		const all = await json<DocList>("GET", `${V3}/broker-configs`, 200);
		expect(all).toEqual({ kind: "KafkaBrokerConfigList", metadata: { self: `${BASE}${V3}/broker-configs`, next: null }, data: [] });
	});

	it("is read-only: other methods are 405", async () => {
		for (const path of [`${V3}/brokers`, `${V3}/brokers/0`, `${V3}/brokers/0/configs`, `${V3}/broker-configs`]) {
			const response = await call("DELETE", path);
			expect(response.headers.get("Allow"), path).toContain("GET");
			await expectV3Error(response, 405, 405, "method_not_allowed");
		}
	});

	it("is seen by any key holding some right, and by no key without one", async () => {
		const reader = await createKey([{ resource: "topic:someone-else", operations: ["describe"] }]);
		expect((await json<DocList>("GET", `${V3}/brokers`, 200, { token: reader.secret })).data).toHaveLength(1);
		const nobody = await createKey([]);
		await expectV3Error(await call("GET", `${V3}/brokers`, { token: nobody.secret }), 403, 40301, "forbidden");
		await expectV3Error(await call("GET", `${V3}/brokers/0`, { token: nobody.secret }), 403, 40301, "forbidden");
	});
});

describe("replicas", () => {
	const topic = uniqueTopic("v3-replicas");
	const partitionSelf = (p: number) => `${BASE}${V3}/topics/${topic}/partitions/${p}`;
	beforeAll(async () => {
		await createTopic(topic, 2);
	});

	it("follows a partition's leader and replicas links to its one replica, the leader, in sync", async () => {
		const partition = await json<Doc>("GET", `${V3}/topics/${topic}/partitions/1`, 200);
		const leader = (partition.leader as { related: string }).related;
		const replica = await json<Doc>("GET", leader.slice(BASE.length), 200);
		expect(replica).toEqual({
			kind: "KafkaReplica",
			metadata: { self: `${partitionSelf(1)}/replicas/0`, resource_name: `crn:///kafka=tributary/topic=${topic}/partition=1/replica=0` },
			cluster_id: "tributary",
			topic_name: topic,
			partition_id: 1,
			broker_id: 0,
			is_leader: true,
			is_in_sync: true,
			broker: { related: BROKER },
		});
		const list = await json<DocList>("GET", (partition.replicas as { related: string }).related.slice(BASE.length), 200);
		expect(list).toEqual({ kind: "KafkaReplicaList", metadata: { self: `${partitionSelf(1)}/replicas`, next: null }, data: [replica] });
	});

	it("answers what does not exist with its 404, and a malformed id with 400", async () => {
		await expectV3Error(await call("GET", `${V3}/topics/${topic}/partitions/0/replicas/1`), 404, 404, "not_found");
		await expectV3Error(await call("GET", `${V3}/topics/${topic}/partitions/2/replicas`), 404, 40403, "partition_not_found");
		await expectV3Error(await call("GET", `${V3}/topics/nope-${topic}/partitions/0/replicas/0`), 404, 40403, "topic_not_found");
		await expectV3Error(await call("GET", `${V3}/topics/${topic}/partitions/x/replicas`), 400, 400, "invalid_request");
	});

	it("lists the broker's replicas: one per partition of each topic the key may describe", async () => {
		const all = await json<DocList>("GET", `${V3}/brokers/0/partition-replicas`, 200);
		expect(all.kind).toBe("KafkaReplicaList");
		const ours = all.data.filter((r) => r.topic_name === topic).map((r) => r.partition_id);
		expect(ours).toEqual([0, 1]);
		const reader = await createKey([{ resource: `topic:${topic}`, operations: ["describe"] }]);
		const seen = await json<DocList>("GET", `${V3}/brokers/0/partition-replicas`, 200, { token: reader.secret });
		expect(seen.data.map((r) => `${r.topic_name}/${r.partition_id}`)).toEqual([`${topic}/0`, `${topic}/1`]);
	});

	it("needs describe on the topic", async () => {
		const other = await createKey([{ resource: "topic:someone-else", operations: ["describe"] }]);
		const path = `${V3}/topics/${topic}/partitions/0/replicas`;
		await expectV3Error(await call("GET", path, { token: other.secret }), 403, 40301, "forbidden");
	});
});

describe("reassignments", () => {
	let topic: string;
	beforeAll(async () => {
		topic = uniqueTopic("v3-reassign");
		await createTopic(topic, 2);
	});

	it("are never under way: the cluster's, topic's and partition's links answer empty lists or a 404", async () => {
		const cluster = await json<Doc>("GET", V3, 200);
		const all = (cluster.partition_reassignments as { related: string }).related;
		expect(await json<DocList>("GET", all.slice(BASE.length), 200)).toEqual({
			kind: "KafkaReassignmentList",
			metadata: { self: all, next: null },
			data: [],
		});
		const described = await json<Doc>("GET", `${V3}/topics/${topic}`, 200);
		const ofTopic = (described.partition_reassignments as { related: string }).related;
		expect(await json<DocList>("GET", ofTopic.slice(BASE.length), 200)).toEqual({
			kind: "KafkaReassignmentList",
			metadata: { self: ofTopic, next: null },
			data: [],
		});
		const partition = await json<Doc>("GET", `${V3}/topics/${topic}/partitions/1`, 200);
		const ofPartition = (partition.reassignment as { related: string }).related;
		const none = await expectV3Error(await call("GET", ofPartition.slice(BASE.length)), 404, 404, "not_found");
		expect(none.message).toBe(`There is no ongoing reassignment of partition 1 of topic ${topic}.`);
	});

	it("answers an unknown topic or partition with its 404, and checks the topic's right first", async () => {
		await expectV3Error(await call("GET", `${V3}/topics/${topic}-absent/partitions/-/reassignment`), 404, 40403, "topic_not_found");
		await expectV3Error(await call("GET", `${V3}/topics/${topic}/partitions/7/reassignment`), 404, 40403, "partition_not_found");
		const other = await createKey([{ resource: "topic:someone-else", operations: ["describe"] }]);
		const refused = await call("GET", `${V3}/topics/${topic}-absent/partitions/-/reassignment`, { token: other.secret });
		await expectV3Error(refused, 403, 40301, "forbidden");
		expect((await json<DocList>("GET", `${V3}/topics/-/partitions/-/reassignment`, 200, { token: other.secret })).data).toEqual([]);
		const nobody = await createKey([]);
		await expectV3Error(await call("GET", `${V3}/topics/-/partitions/-/reassignment`, { token: nobody.secret }), 403, 40301, "forbidden");
	});
});
