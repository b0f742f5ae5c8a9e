/**
 * @module
 * Confluent REST v3 resource documents for discovery: `ClusterData`, `TopicData` and their lists,
 * `{"kind","metadata":{"self",…},"data":[…]}` as in confluentinc/kafka-rest `api/v3/openapi.yaml`. Tributary is
 * one logical cluster with one "replica" per partition (a Durable Object), hence replication factor 1.
 */

import { CLUSTER_ID } from "./limits.ts";

/** The base of every `self` and `related` link: the request's origin plus the mount. */
export function v3Base(origin: string): string {
	return `${origin}/kafka/v3/clusters/${CLUSTER_ID}`;
}

const related = (href: string) => ({ related: href });

export function clusterData(origin: string) {
	const self = v3Base(origin);
	return {
		kind: "KafkaCluster",
		metadata: { self, resource_name: `crn:///kafka=${CLUSTER_ID}` },
		cluster_id: CLUSTER_ID,
		acls: related(`${self}/acls`),
		brokers: related(`${self}/brokers`),
		broker_configs: related(`${self}/broker-configs`),
		consumer_groups: related(`${self}/consumer-groups`),
		topics: related(`${self}/topics`),
		partition_reassignments: related(`${self}/topics/-/partitions/-/reassignment`),
	};
}

export function clusterList(origin: string) {
	return { kind: "KafkaClusterList", metadata: { self: `${origin}/kafka/v3/clusters`, next: null }, data: [clusterData(origin)] };
}

export interface TopicSummary {
	readonly name: string;
	readonly partitions: number;
	readonly internal: boolean;
}

export function topicData(origin: string, topic: TopicSummary) {
	const self = `${v3Base(origin)}/topics/${encodeURIComponent(topic.name)}`;
	return {
		kind: "KafkaTopic",
		metadata: { self, resource_name: `crn:///kafka=${CLUSTER_ID}/topic=${topic.name}` },
		cluster_id: CLUSTER_ID,
		topic_name: topic.name,
		is_internal: topic.internal,
		replication_factor: 1,
		partitions_count: topic.partitions,
		partitions: related(`${self}/partitions`),
		configs: related(`${self}/configs`),
		partition_reassignments: related(`${self}/partitions/-/reassignment`),
	};
}

export function topicList(origin: string, topics: readonly TopicSummary[]) {
	return {
		kind: "KafkaTopicList",
		metadata: { self: `${v3Base(origin)}/topics`, next: null },
		data: topics.map((t) => topicData(origin, t)),
	};
}
