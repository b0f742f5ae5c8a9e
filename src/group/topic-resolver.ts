/**
 * @module
 * Resolves subscriptions to the topics that exist now, with their partition counts and incarnation ids. Topic
 * lists go through the isolate's metadata cache; a pattern needs the full topic list from the registry.
 */

import { unwrap } from "../shared/errors.ts";
import { topicRegistry } from "../shared/stubs.ts";
import { describeTopic } from "../topic/topic-cache.ts";
import type { TopicMeta } from "../topic/types.ts";
import { compilePattern, subscribedTopics } from "./subscription.ts";
import type { SubscribedTopic, Subscription } from "./types.ts";

function toSubscribed(meta: TopicMeta): SubscribedTopic {
	return { topic: meta.name, topicId: meta.topicId, partitions: meta.partitions };
}

/** Every existing topic any of `subscriptions` covers. Topics that do not exist are simply absent. */
export async function resolveTopics(env: Env, subscriptions: readonly Subscription[]): Promise<Map<string, SubscribedTopic>> {
	const names = new Set<string>();
	const patterns: RegExp[] = [];
	for (const s of subscriptions) {
		if (s.topics !== null) for (const t of s.topics) names.add(t);
		else patterns.push(compilePattern(s.pattern));
	}
	const resolved = new Map<string, SubscribedTopic>();
	if (patterns.length > 0) {
		for (const meta of unwrap(await topicRegistry(env).listTopics())) {
			if (names.has(meta.name) || patterns.some((p) => p.test(meta.name))) resolved.set(meta.name, toSubscribed(meta));
		}
		return resolved;
	}
	const results = await Promise.all([...names].map((name) => describeTopic(env, name)));
	for (const result of results) if (result.ok) resolved.set(result.value.name, toSubscribed(result.value));
	return resolved;
}

/** Whether two snapshots would give the same assignment input (same topics, ids and partition counts). */
export function sameTopics(a: ReadonlyMap<string, SubscribedTopic>, b: ReadonlyMap<string, SubscribedTopic>): boolean {
	if (a.size !== b.size) return false;
	for (const [name, topic] of a) {
		const other = b.get(name);
		if (other === undefined || other.topicId !== topic.topicId || other.partitions !== topic.partitions) return false;
	}
	return true;
}

/** The topics of `topics` that at least one of `subscriptions` covers. */
export function pruneTopics(
	topics: ReadonlyMap<string, SubscribedTopic>,
	subscriptions: readonly Subscription[],
): Map<string, SubscribedTopic> {
	const covered = new Set<string>();
	for (const s of subscriptions) for (const t of subscribedTopics(s, topics.keys())) covered.add(t);
	return new Map([...topics].filter(([name]) => covered.has(name)));
}

export function partitionTotal(topics: ReadonlyMap<string, SubscribedTopic>): number {
	let total = 0;
	for (const t of topics.values()) total += t.partitions;
	return total;
}

/**
 * The partitions of `next` that none of `known` holds (same topic id, lower partition number): created since the group
 * last looked. A topic the cap left out was looked at, so it is no news when it fits later.
 */
export function newPartitions(
	next: ReadonlyMap<string, SubscribedTopic>,
	...known: ReadonlyMap<string, SubscribedTopic>[]
): (SubscribedTopic & { readonly partition: number })[] {
	const found: (SubscribedTopic & { readonly partition: number })[] = [];
	for (const topic of next.values()) {
		const from = Math.max(
			0,
			...known.map((k) => (k.get(topic.topic)?.topicId === topic.topicId ? (k.get(topic.topic)?.partitions ?? 0) : 0)),
		);
		for (let partition = from; partition < topic.partitions; partition++) found.push({ ...topic, partition });
	}
	return found;
}

/** Keeps topics in name order while their partitions fit in `max`: a pattern that grows past the limit is cut. */
export function capTopics(topics: ReadonlyMap<string, SubscribedTopic>, max: number): Map<string, SubscribedTopic> {
	const kept = new Map<string, SubscribedTopic>();
	let total = 0;
	for (const name of [...topics.keys()].sort()) {
		const topic = topics.get(name) as SubscribedTopic;
		if (total + topic.partitions > max) continue;
		kept.set(name, topic);
		total += topic.partitions;
	}
	return kept;
}

/**
 * `topics` with each topic cut below its first partition in `later` (dropped if that is partition 0): partitions whose
 * log start is asked by a later refresh, so that nothing reads them from a start not yet known. `later` comes from
 * `newPartitions` (every topic in `topics`, partitions rising), so walked backwards the last cut is the lowest.
 */
export function cutBefore(
	topics: ReadonlyMap<string, SubscribedTopic>,
	later: readonly (SubscribedTopic & { readonly partition: number })[],
): Map<string, SubscribedTopic> {
	const cut = new Map(topics);
	for (const { partition, ...topic } of [...later].reverse()) {
		if (partition === 0) cut.delete(topic.topic);
		else cut.set(topic.topic, { ...topic, partitions: partition });
	}
	return cut;
}
