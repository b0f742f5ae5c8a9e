/**
 * @module
 * The edge's view of topic metadata: the registry's answers, cached per isolate for `TOPIC_CACHE_TTL_MS` so
 * produce and fetch do not queue behind one registry object. Staleness is safe: a partition of a deleted topic
 * refuses work (the caller then calls `invalidate` and asks again), and a partition whose config is behind asks
 * to be reconfigured.
 */

import { err, ok, type Result, thrownUnless } from "../shared/errors.ts";
import { TOPIC_CACHE_TTL_MS } from "../shared/limits.ts";
import { topicRegistry } from "../shared/stubs.ts";
import type { TopicMeta } from "./types.ts";

interface CacheEntry {
	readonly meta: TopicMeta;
	readonly expiresAtMs: number;
}

const cache = new Map<string, CacheEntry>();

/** A topic's metadata, from the isolate cache when fresh. */
export async function describeTopic(env: Env, name: string): Promise<Result<TopicMeta>> {
	const cached = cachedTopic(name);
	if (cached !== null) return ok(cached);
	const result = thrownUnless(await topicRegistry(env).getTopic(name), "topic_not_found");
	if (result.ok) remember(result.value);
	else cache.delete(name);
	return result;
}

/** A topic's metadata when the isolate cache holds it fresh, without waiting; null: ask `describeTopic`. */
export function cachedTopic(name: string): TopicMeta | null {
	const hit = cache.get(name);
	return hit !== undefined && hit.expiresAtMs > Date.now() ? hit.meta : null;
}

export function remember(meta: TopicMeta): void {
	cache.set(meta.name, { meta, expiresAtMs: Date.now() + TOPIC_CACHE_TTL_MS });
}

export function invalidate(name: string): void {
	cache.delete(name);
}

/** Resolves a partition number of a topic, or the 404 a client expects for one that does not exist. */
export function checkPartition(meta: TopicMeta, partition: number): Result<number> {
	if (partition < meta.partitions) return ok(partition);
	return err("partition_not_found", `topic "${meta.name}" has partitions 0 to ${meta.partitions - 1}`, {
		topic: meta.name,
		partition,
		partitions: meta.partitions,
	});
}
