/**
 * @module
 * The one place a Durable Object stub is obtained: each helper names the object its binding reaches, so the naming
 * scheme (one registry, one partition log per topic id and partition, one coordinator per group, …) lives here.
 * Classes are imported as types only, so any module may import this one without pulling a Durable Object in.
 *
 * @example
 * const meta = await topicRegistry(env).getTopic("orders");
 */

import type { KeyStore } from "../auth/key-store.ts";
import type { GroupCoordinator } from "../group/group-coordinator.ts";
import type { GroupDirectory } from "../group/group-directory.ts";
import type { MetricsHub } from "../metrics/metrics-hub.ts";
import type { PartitionLog } from "../partition/partition-log.ts";
import type { TopicRegistry } from "../topic/topic-registry.ts";
import { partitionObjectName } from "../topic/types.ts";
import type { WebhookDispatcher } from "../webhook/webhook-dispatcher.ts";

/** The single `TopicRegistry` object's name. */
export const REGISTRY_NAME = "global";

/** The single `GroupDirectory` object's name. */
export const DIRECTORY_NAME = "global";

/** The `KeyStore` directory's name (every key, for listing, create and delete). */
export const KEY_STORE_NAME = "global";

/** Every topic's metadata. */
export function topicRegistry(env: Env): DurableObjectStub<TopicRegistry> {
	return env.TOPIC_REGISTRY.getByName(REGISTRY_NAME);
}

/**
 * One partition's log, named by topic id (not name), so a re-created topic starts empty. `locationHint` (the
 * topic's) counts only when this call creates the object: the registry passes it when the topic is created.
 */
export function partitionLog(
	env: Env,
	topicId: string,
	partition: number,
	locationHint?: DurableObjectLocationHint | null,
): DurableObjectStub<PartitionLog> {
	const name = partitionObjectName(topicId, partition);
	return locationHint ? env.PARTITION_LOG.getByName(name, { locationHint }) : env.PARTITION_LOG.getByName(name);
}

/** One consumer group's coordinator. */
export function groupCoordinator(env: Env, groupId: string): DurableObjectStub<GroupCoordinator> {
	return env.GROUP_COORDINATOR.getByName(groupId);
}

/** The directory listing every group. */
export function groupDirectory(env: Env): DurableObjectStub<GroupDirectory> {
	return env.GROUP_DIRECTORY.getByName(DIRECTORY_NAME);
}

/** A topic's webhook dispatcher: one per topic id, so a deleted and re-created topic starts with no subscriptions. */
export function webhookDispatcher(env: Env, topicId: string): DurableObjectStub<WebhookDispatcher> {
	return env.WEBHOOK_DISPATCHER.getByName(topicId);
}

/** The key directory: create, list, delete. */
export function keyStore(env: Env): DurableObjectStub<KeyStore> {
	return env.KEY_STORE.getByName(KEY_STORE_NAME);
}

/** The object that authenticates key `id` (and holds its quota buckets and watched partitions), named `key:<id>`. */
export function keyAuthority(env: Env, id: string): DurableObjectStub<KeyStore> {
	return env.KEY_STORE.getByName(`key:${id}`);
}

/** The single `MetricsHub` object's name. */
export const METRICS_HUB_NAME = "global";

/** Where every object and isolate sends its figures, and `/metrics` reads them (one RPC per scrape). */
export function metricsHub(env: Env): DurableObjectStub<MetricsHub> {
	return env.METRICS_HUB.getByName(METRICS_HUB_NAME);
}
