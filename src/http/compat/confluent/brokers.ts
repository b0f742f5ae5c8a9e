/**
 * @module
 * Confluent REST v3's brokers and replicas, read-only: Tributary is one logical broker (id 0) holding the one
 * replica of every partition (a partition is one Durable Object, made durable by the platform rather than by
 * copies), so the links the cluster, partition and group documents carry (`brokers`, `leader`, `replicas`,
 * `coordinator`) lead somewhere. Broker configs are an empty list: Tributary's settings are per topic. Nor is a
 * replica ever moved, so reassignment lists are empty and one partition's reassignment is a 404.
 */

import * as z from "zod/mini";
import { topicResource } from "../../../auth/acl.ts";
import { ApiError, unwrap } from "../../../shared/errors.ts";
import { topicRegistry } from "../../../shared/stubs.ts";
import { checkPartition, describeTopic } from "../../../topic/topic-cache.ts";
import { may, requireAccess } from "../../access.ts";
import { validate } from "../../body.ts";
import { digits } from "../../schemas.ts";
import { type C, checkCluster, origin, PartitionIdPath, requireSomeRight, topicPath } from "./paths.ts";
import { BROKER_ID, brokerData, replicaData, resourceList, topicSelf, v3Base } from "./resources.ts";

const BrokerIdPath = z.object({ broker_id: digits(Number.MAX_SAFE_INTEGER) });

/** The broker the path names, or Confluent's 404: there is only broker 0. */
function checkBroker(c: C): void {
	const { broker_id } = validate(BrokerIdPath, c.req.param(), "path");
	if (broker_id !== BROKER_ID) throw new ApiError("not_found", `Broker ${broker_id} cannot be found.`, { broker_id });
}

/** The cluster's brokers: the one. Seen, like the cluster itself, by any key holding some right. */
export function listBrokers(c: C): Response {
	requireSomeRight(c);
	checkCluster(c);
	return c.json(resourceList("KafkaBroker", `${v3Base(origin(c))}/brokers`, [brokerData(origin(c))]));
}

export function getBroker(c: C): Response {
	requireSomeRight(c);
	checkCluster(c);
	checkBroker(c);
	return c.json(brokerData(origin(c)));
}

/** The broker's configs (`/brokers/0/configs`) or every broker's (`/broker-configs`): none. */
export function listBrokerConfigs(c: C): Response {
	requireSomeRight(c);
	checkCluster(c);
	const ofOne = c.req.param("broker_id") !== undefined;
	if (ofOne) checkBroker(c);
	const self = `${v3Base(origin(c))}/${ofOne ? `brokers/${BROKER_ID}/configs` : "broker-configs"}`;
	return c.json(resourceList("KafkaBrokerConfig", self, []));
}

/** Every replica on the broker: one per partition of each topic the key may describe. */
export async function replicasOfBroker(c: C): Promise<Response> {
	checkCluster(c);
	checkBroker(c);
	const topics = unwrap(await topicRegistry(c.env).listTopics());
	const data = topics
		.filter((t) => may(c, topicResource(t.name), "describe"))
		.flatMap((t) => Array.from({ length: t.partitions }, (_, p) => replicaData(origin(c), t.name, p)));
	return c.json(resourceList("KafkaReplica", `${v3Base(origin(c))}/brokers/${BROKER_ID}/partition-replicas`, data));
}

/** The partition the path names, checked against the topic (404 for a topic or partition that does not exist). */
async function partitionPath(c: C): Promise<{ topic: string; partition: number }> {
	const topic = topicPath(c);
	const meta = unwrap(await describeTopic(c.env, topic));
	const { partition_id } = validate(PartitionIdPath, c.req.param(), "path");
	return { topic, partition: unwrap(checkPartition(meta, partition_id)) };
}

export async function listReplicas(c: C): Promise<Response> {
	const { topic, partition } = await partitionPath(c);
	const self = `${topicSelf(origin(c), topic)}/partitions/${partition}/replicas`;
	return c.json(resourceList("KafkaReplica", self, [replicaData(origin(c), topic, partition)]));
}

/** Confluent's "every topic" or "every partition" in a reassignment path. */
const ALL = "-";

/**
 * `…/topics/{t}/partitions/{p}/reassignment`, with `-` for every topic or partition: there is never one (a
 * partition's one replica stays where it is). Every topic's list is seen as the cluster is; a topic's as the topic.
 */
export async function reassignments(c: C): Promise<Response> {
	const self = new URL(c.req.url).href;
	if (c.req.param("topic_name") === ALL && c.req.param("partition_id") === ALL) {
		requireSomeRight(c);
		checkCluster(c);
		return c.json(resourceList("KafkaReassignment", self, []));
	}
	const topic = topicPath(c);
	requireAccess(c, topicResource(topic), "describe");
	if (c.req.param("partition_id") === ALL) {
		unwrap(await describeTopic(c.env, topic));
		return c.json(resourceList("KafkaReassignment", self, []));
	}
	const { partition } = await partitionPath(c);
	throw new ApiError("not_found", `There is no ongoing reassignment of partition ${partition} of topic ${topic}.`, { topic, partition });
}

export async function getReplica(c: C): Promise<Response> {
	const { topic, partition } = await partitionPath(c);
	const { broker_id } = validate(BrokerIdPath, c.req.param(), "path");
	if (broker_id !== BROKER_ID) {
		throw new ApiError("not_found", `Replica ${broker_id} of partition ${partition} of topic ${topic} cannot be found.`, { broker_id });
	}
	return c.json(replicaData(origin(c), topic, partition));
}
