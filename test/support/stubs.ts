/**
 * Durable Object stubs by the names tests know (a topic's name, a group's name), for tests that look inside an
 * object (`runInDurableObject`, `runDurableObjectAlarm`). The stubs themselves come from src/shared/stubs.ts,
 * the one place that names every object.
 */

import { env } from "cloudflare:workers";
import { groupCoordinator, partitionLog, topicRegistry, webhookDispatcher } from "../../src/shared/stubs.ts";
import { uniqueTopic } from "./names.ts";
import { createTopic, produce } from "./worker.ts";

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

/** A new one-partition topic holding one record ("a" at offset 0): its name, id and partition's stub. */
export async function partitionWithOneRecord(prefix?: string) {
	const topic = uniqueTopic(prefix);
	await createTopic(topic, 1);
	await produce(topic, [{ value: "a" }]);
	const topicId = await topicIdOf(topic);
	return { topic, topicId, stub: partitionStubById(topicId) };
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

/**
 * `env` with coordinators of the version before `resetOffsets` took the edge's bounds refusal, as during a deploy:
 * their `resetOffsets` reads its first three arguments only, and a method added since is refused, as workerd refuses
 * one its receiver lacks. `calls`: each method called, in order.
 */
export function withEarlierCoordinator(calls: string[]): Env {
	const earlier = (name: string) => {
		const current = groupCoordinator(env, name);
		return new Proxy(current, {
			get(_, method) {
				calls.push(String(method));
				if (method === "resetOffsets")
					return (...[groupId, offsets, instanceId]: Parameters<typeof current.resetOffsets>) =>
						current.resetOffsets(groupId, offsets, instanceId);
				return () => Promise.reject(new TypeError(`The RPC receiver does not implement the method "${String(method)}".`));
			},
		});
	};
	// Defined, not assigned: an assignment would reach `env`'s own setter and replace the binding for every test.
	return Object.create(env, { GROUP_COORDINATOR: { value: { getByName: earlier } } });
}
