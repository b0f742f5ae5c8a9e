/**
 * Durable Object stubs by the names tests know (a topic's name, a group's name), for tests that look inside an
 * object (`runInDurableObject`, `runDurableObjectAlarm`). The stubs themselves come from src/shared/stubs.ts,
 * the one place that names every object.
 */

import { env } from "cloudflare:workers";
import { groupCoordinator, partitionLog, topicRegistry, webhookDispatcher } from "../../src/shared/stubs.ts";

/** The id the registry gave `topic` (a re-created topic gets a new one). */
export async function topicIdOf(topic: string): Promise<string> {
	const meta = await topicRegistry(env).getTopic(topic);
	if (!meta.ok) throw new Error(`topic ${topic} missing`);
	return meta.value.topicId;
}

/** The PartitionLog object of `topic`'s `partition`. */
export async function partitionStub(topic: string, partition = 0): Promise<ReturnType<typeof partitionLog>> {
	return partitionLog(env, await topicIdOf(topic), partition);
}

/** The PartitionLog object of a topic id's `partition` (also after the topic is deleted). */
export function partitionStubById(topicId: string, partition = 0): ReturnType<typeof partitionLog> {
	return partitionLog(env, topicId, partition);
}

/** The WebhookDispatcher object of `topic` (one per topic id). */
export async function dispatcherStub(topic: string): Promise<ReturnType<typeof webhookDispatcher>> {
	return webhookDispatcher(env, await topicIdOf(topic));
}

/** The GroupCoordinator object of `group`. */
export function coordinatorStub(group: string): ReturnType<typeof groupCoordinator> {
	return groupCoordinator(env, group);
}
