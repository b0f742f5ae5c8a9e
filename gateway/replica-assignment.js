// @ts-check
/**
 * @module
 * Manual replica assignments (CreateTopics' and CreatePartitions' `assignments`), checked as Kafka's controller checks
 * them (ReplicationControlManager: `createTopic`, `createPartitions`, `validateManualPartitionAssignment`), against the one broker the gateway
 * presents. Tributary places partitions itself, so an assignment that puts every partition on that broker, once, is
 * just a partition count: kafkajs' `replicaAssignment` or `kafka-topics --replica-assignment 0,0,0` creates the
 * topic as on a one-broker cluster, and any other assignment is refused with the controller's error and message.
 */

import { KAFKA } from "./errors.js";
import { TOPIC_PARTITIONS_MAX } from "./limits.js";

/** CreateTopics' "the broker's default" for a partition count or replication factor. */
export const USE_DEFAULT = -1;

/** @typedef {{ errorCode: number, errorMessage: string }} Refusal */

/** @param {string} errorMessage @returns {Refusal} */
const invalidAssignment = (errorMessage) => ({ errorCode: KAFKA.INVALID_REPLICA_ASSIGNMENT, errorMessage });

/**
 * One partition's replica list: not empty, every broker registered (here only `nodeId`), none twice. Kafka also
 * requires every partition to have as many replicas as the first; with one broker every list that passes is
 * `[nodeId]`, so that holds already.
 * @param {number[]} brokerIds @param {number} nodeId @returns {Refusal | null}
 */
function replicaListRefusal(brokerIds, nodeId) {
	if (brokerIds.length === 0) return invalidAssignment("The manual partition assignment includes an empty replica list.");
	const sorted = [...brokerIds].sort((a, b) => a - b);
	for (let i = 0; i < sorted.length; i++) {
		if (sorted[i] !== nodeId)
			return invalidAssignment(`The manual partition assignment includes broker ${sorted[i]}, but no such broker is registered.`);
		if (i > 0 && sorted[i] === sorted[i - 1])
			return invalidAssignment(`The manual partition assignment includes the broker ${sorted[i]} more than once.`);
	}
	return null;
}

/**
 * The partition count a CreatableTopic's manual assignment asks for, or Kafka's refusal of it: the count and the
 * replication factor must be left to it (-1), each partition assigned once, partitions numbered 0 to n - 1, and every
 * replica list valid on this cluster; more partitions than Tributary holds is INVALID_PARTITIONS, as for a count.
 * @param {{ numPartitions: number, replicationFactor: number, assignments: { partitionIndex: number, brokerIds: number[] }[] }} topic
 * @param {number} nodeId the one broker
 * @returns {{ partitions: number } | Refusal}
 */
export function assignedPartitions(topic, nodeId) {
	const refuse = (/** @type {string} */ errorMessage) => ({ errorCode: KAFKA.INVALID_REQUEST, errorMessage });
	if (topic.replicationFactor !== USE_DEFAULT)
		return refuse("A manual partition assignment was specified, but replication factor was not set to -1.");
	if (topic.numPartitions !== USE_DEFAULT)
		return refuse("A manual partition assignment was specified, but numPartitions was not set to -1.");
	const assigned = new Set();
	for (const { partitionIndex, brokerIds } of topic.assignments) {
		if (assigned.has(partitionIndex))
			return invalidAssignment(`Found multiple manual partition assignments for partition ${partitionIndex}`);
		const refusal = replicaListRefusal(brokerIds, nodeId);
		if (refusal !== null) return refusal;
		assigned.add(partitionIndex);
	}
	for (let i = 0; i < assigned.size; i++)
		if (!assigned.has(i)) return invalidAssignment("partitions should be a consecutive 0-based integer sequence");
	if (assigned.size > TOPIC_PARTITIONS_MAX)
		return { errorCode: KAFKA.INVALID_PARTITIONS, errorMessage: `A topic has at most ${TOPIC_PARTITIONS_MAX} partitions.` };
	return { partitions: assigned.size };
}

/**
 * Kafka's refusal of a CreatePartitionsTopic's assignments when the topic grows by `added` partitions, or null: one
 * replica list per new partition, each valid on this cluster.
 * @param {{ brokerIds: number[] }[]} assignments @param {number} added @param {number} nodeId the one broker
 * @returns {Refusal | null}
 */
export function addedAssignmentRefusal(assignments, added, nodeId) {
	if (assignments.length !== added)
		return invalidAssignment(
			`Attempted to add ${added} additional partition(s), but only ${assignments.length} assignment(s) were specified.`,
		);
	for (const { brokerIds } of assignments) {
		const refusal = replicaListRefusal(brokerIds, nodeId);
		if (refusal !== null) return refusal;
	}
	return null;
}
