/**
 * @module
 * Confluent REST v3 resource documents: `ClusterData`, `TopicData`, `PartitionData`, `TopicConfigData`,
 * `ConsumerGroupData`, `ConsumerAssignmentData`, `ConsumerLagData`, `BrokerData`, `ReplicaData` and their lists,
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
	return resourceList("KafkaCluster", `${origin}/kafka/v3/clusters`, [clusterData(origin)]);
}

export interface TopicSummary {
	readonly name: string;
	readonly partitions: number;
	readonly internal: boolean;
}

export function topicData(origin: string, topic: TopicSummary) {
	const self = topicSelf(origin, topic.name);
	return resource("KafkaTopic", self, `topic=${topic.name}`, {
		topic_name: topic.name,
		is_internal: topic.internal,
		replication_factor: 1,
		partitions_count: topic.partitions,
		partitions: related(`${self}/partitions`),
		configs: related(`${self}/configs`),
		partition_reassignments: related(`${self}/partitions/-/reassignment`),
	});
}

export function topicList(origin: string, topics: readonly TopicSummary[]) {
	return resourceList(
		"KafkaTopic",
		`${v3Base(origin)}/topics`,
		topics.map((t) => topicData(origin, t)),
	);
}

/**
 * A resource document: `kind`, `metadata` (`self`, and the CRN `resource_name` Confluent gives it, e.g.
 * `crn:///kafka=tributary/topic=orders/partition=0`) and `cluster_id`, then its own fields.
 */
function resource<T extends object>(kind: string, self: string, crn: string, fields: T) {
	return { kind, metadata: { self, resource_name: `crn:///kafka=${CLUSTER_ID}/${crn}` }, cluster_id: CLUSTER_ID, ...fields };
}

/** A `…List` document: Tributary answers every list whole, so `next` is always null. */
export function resourceList(kind: string, self: string, data: readonly unknown[]) {
	return { kind: `${kind}List`, metadata: { self, next: null }, data };
}

export const topicSelf = (origin: string, topic: string) => `${v3Base(origin)}/topics/${topic}`;

/**
 * The one broker (node 0, as the Kafka gateway presents it) leads every partition and holds its only replica
 * (Confluent's CLI reads the leader's broker id from the `leader` link).
 */
export const BROKER_ID = 0;

const brokerSelf = (origin: string) => `${v3Base(origin)}/brokers/${BROKER_ID}`;

/**
 * The one broker. `host` and `port` are a Kafka listener's in Confluent's answer; the Worker has none (the Kafka
 * gateway runs apart, wherever its operator starts it), so both are null, as kafka-rest answers for a broker whose
 * endpoint it does not know. No rack, no broker-level configs.
 */
export function brokerData(origin: string) {
	const self = brokerSelf(origin);
	return resource("KafkaBroker", self, `broker=${BROKER_ID}`, {
		broker_id: BROKER_ID,
		host: null,
		port: null,
		rack: null,
		configs: related(`${self}/configs`),
		partition_replicas: related(`${self}/partition-replicas`),
	});
}

/** A partition's only replica: on the one broker, its leader, in sync by construction (there is no other copy to lag). */
export function replicaData(origin: string, topic: string, partition: number) {
	const self = `${topicSelf(origin, topic)}/partitions/${partition}/replicas/${BROKER_ID}`;
	return resource("KafkaReplica", self, `topic=${topic}/partition=${partition}/replica=${BROKER_ID}`, {
		topic_name: topic,
		partition_id: partition,
		broker_id: BROKER_ID,
		is_leader: true,
		is_in_sync: true,
		broker: related(brokerSelf(origin)),
	});
}

export function partitionData(origin: string, topic: string, partition: number) {
	const self = `${topicSelf(origin, topic)}/partitions/${partition}`;
	return resource("KafkaPartition", self, `topic=${topic}/partition=${partition}`, {
		topic_name: topic,
		partition_id: partition,
		leader: related(`${self}/replicas/${BROKER_ID}`),
		replicas: related(`${self}/replicas`),
		reassignment: related(`${self}/reassignment`),
	});
}

/**
 * A topic config as Kafka's DescribeConfigs reports it: a value other than the default is the topic's own
 * (`DYNAMIC_TOPIC_CONFIG`), else `DEFAULT_CONFIG`. Tributary keeps no flag for "set to the default", so a value
 * equal to the default reads as the default. `synonyms` holds only the entry itself (Kafka adds the broker's
 * default; Tributary has no broker-level configs).
 */
export function topicConfigData(origin: string, topic: string, name: string, value: unknown, fallback: unknown) {
	const text = String(value);
	const source = text === String(fallback) ? "DEFAULT_CONFIG" : "DYNAMIC_TOPIC_CONFIG";
	return resource("KafkaTopicConfig", `${topicSelf(origin, topic)}/configs/${name}`, `topic=${topic}/config=${name}`, {
		topic_name: topic,
		name,
		value: text,
		is_default: source === "DEFAULT_CONFIG",
		is_read_only: false,
		is_sensitive: false,
		source,
		synonyms: [{ name, value: text, source }],
	});
}

export const groupSelf = (origin: string, group: string) => `${v3Base(origin)}/consumer-groups/${group}`;

/** A consumer group: Tributary's are Kafka's classic groups; `partition_assignor` is the strategy, "" before one is chosen. */
export function consumerGroupData(origin: string, group: string, state: string, strategy: string | null) {
	const self = groupSelf(origin, group);
	return resource("KafkaConsumerGroup", self, `consumer-group=${group}`, {
		consumer_group_id: group,
		is_simple: false,
		partition_assignor: strategy ?? "",
		state: state.toUpperCase(),
		type: "CLASSIC",
		is_mixed_consumer_group: false,
		coordinator: related(brokerSelf(origin)),
		consumers: related(`${self}/consumers`),
		lag_summary: related(`${self}/lag-summary`),
	});
}

/** A member as Confluent names it; Tributary's members send no client id, so `client_id` is "". */
export interface ConsumerRef {
	readonly consumer_id: string;
	readonly instance_id: string | null;
	readonly client_id: string;
}

export function consumerData(origin: string, group: string, consumer: ConsumerRef) {
	const self = `${groupSelf(origin, group)}/consumers/${consumer.consumer_id}`;
	return resource("KafkaConsumer", self, `consumer-group=${group}/consumer=${consumer.consumer_id}`, {
		consumer_group_id: group,
		...consumer,
		assignments: related(`${self}/assignments`),
	});
}

/** A partition assigned to a member, with links to the partition and to the group's lag on it. */
export function consumerAssignmentData(origin: string, group: string, consumer: string, topic: string, partition: number) {
	const where = `${topic}/partitions/${partition}`;
	const self = `${groupSelf(origin, group)}/consumers/${consumer}/assignments/${where}`;
	return resource(
		"KafkaConsumerAssignment",
		self,
		`consumer-group=${group}/consumer=${consumer}/assignment=${topic}/partition=${partition}`,
		{
			consumer_group_id: group,
			consumer_id: consumer,
			topic_name: topic,
			partition_id: partition,
			partition: related(`${topicSelf(origin, topic)}/partitions/${partition}`),
			lag: related(`${groupSelf(origin, group)}/lags/${where}`),
		},
	);
}

export interface Lag extends ConsumerRef {
	readonly topic_name: string;
	readonly partition_id: number;
	readonly current_offset: number;
	readonly log_end_offset: number;
	readonly lag: number;
}

export function consumerLagData(origin: string, group: string, lag: Lag) {
	const where = `${lag.topic_name}/partitions/${lag.partition_id}`;
	return resource(
		"KafkaConsumerLag",
		`${groupSelf(origin, group)}/lags/${where}`,
		`consumer-group=${group}/lag=${lag.topic_name}/partition=${lag.partition_id}`,
		{
			consumer_group_id: group,
			...lag,
		},
	);
}

/** The largest and the total lag, of one committed partition or more. */
export function lagSummaryData(origin: string, group: string, lags: readonly Lag[]) {
	const max = lags.reduce((a, b) => (b.lag > a.lag ? b : a));
	const self = groupSelf(origin, group);
	return resource("KafkaConsumerGroupLagSummary", `${self}/lag-summary`, `consumer-group=${group}/lag-summary`, {
		consumer_group_id: group,
		max_lag_consumer_id: max.consumer_id,
		max_lag_instance_id: max.instance_id,
		max_lag_client_id: "",
		max_lag_topic_name: max.topic_name,
		max_lag_partition_id: max.partition_id,
		max_lag: max.lag,
		total_lag: lags.reduce((sum, l) => sum + l.lag, 0),
		max_lag_consumer: related(`${self}/consumers/${max.consumer_id}`),
		max_lag_partition: related(`${topicSelf(origin, max.topic_name)}/partitions/${max.partition_id}`),
	});
}
