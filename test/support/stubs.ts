/**
 * Durable Object stubs for tests that look inside an object (`runInDurableObject`, `runDurableObjectAlarm`):
 * a topic's partition or webhook dispatcher by topic name, a group's coordinator by group name.
 */

import { env } from "cloudflare:workers";
import type { GroupCoordinator } from "../../src/group/group-coordinator.ts";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { partitionObjectName } from "../../src/topic/types.ts";
import type { WebhookDispatcher } from "../../src/webhook/webhook-dispatcher.ts";

/** The id the registry gave `topic` (a re-created topic gets a new one). */
export async function topicIdOf(topic: string): Promise<string> {
	const meta = await env.TOPIC_REGISTRY.getByName("global").getTopic(topic);
	if (!meta.ok) throw new Error(`topic ${topic} missing`);
	return meta.value.topicId;
}

/** The PartitionLog object of `topic`'s `partition`. */
export async function partitionStub(topic: string, partition = 0): Promise<DurableObjectStub<PartitionLog>> {
	return partitionStubById(await topicIdOf(topic), partition);
}

/** The PartitionLog object of a topic id's `partition` (also after the topic is deleted). */
export function partitionStubById(topicId: string, partition = 0): DurableObjectStub<PartitionLog> {
	return env.PARTITION_LOG.getByName(partitionObjectName(topicId, partition));
}

/** The WebhookDispatcher object of `topic` (one per topic id). */
export async function dispatcherStub(topic: string): Promise<DurableObjectStub<WebhookDispatcher>> {
	return env.WEBHOOK_DISPATCHER.getByName(await topicIdOf(topic));
}

/** The GroupCoordinator object of `group`. */
export function coordinatorStub(group: string): DurableObjectStub<GroupCoordinator> {
	return env.GROUP_COORDINATOR.getByName(group);
}
