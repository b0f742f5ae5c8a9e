/**
 * @module
 * Upstash's produce (issue 7): one request may name several topics. Each topic's share is one Tributary produce
 * (atomic per partition, as Kafka's producer is), all in parallel, and the answer lists every message's position
 * in request order.
 */

import { produce } from "../../broker/produce.ts";
import { describeTopic } from "../../broker/topic-directory.ts";
import { ok, type Result } from "../../shared/errors.ts";
import { toMetadata, toProduceInput, type UpstashMetadata } from "./mapping.ts";
import type { UpstashMessageInput } from "./schemas.ts";

export interface TopicMessage {
	readonly topic: string;
	readonly message: UpstashMessageInput;
}

/** Message indexes per topic, in request order. */
export function indexesByTopic(messages: readonly TopicMessage[]): Map<string, number[]> {
	const byTopic = new Map<string, number[]>();
	messages.forEach(({ topic }, i) => {
		const indexes = byTopic.get(topic);
		if (indexes === undefined) byTopic.set(topic, [i]);
		else indexes.push(i);
	});
	return byTopic;
}

/**
 * Produces `messages` and answers their positions in request order. Every topic is looked up before anything is
 * written, so a batch naming a topic that does not exist writes nothing; a failure after that (a record too
 * large, a partition unavailable) can leave other topics' shares written, as with Upstash.
 */
export async function produceMessages(env: Env, messages: readonly TopicMessage[]): Promise<Result<UpstashMetadata[]>> {
	const byTopic = indexesByTopic(messages);
	const metas = await Promise.all([...byTopic.keys()].map((topic) => describeTopic(env, topic)));
	const missing = metas.find((meta) => !meta.ok);
	if (missing !== undefined && !missing.ok) return missing;
	const shares = await Promise.all(
		[...byTopic].map(async ([topic, indexes]) => {
			const inputs = indexes.map((i) => toProduceInput((messages[i] as TopicMessage).message));
			return { topic, indexes, outcome: await produce(env, topic, inputs) };
		}),
	);
	const metadata: UpstashMetadata[] = new Array(messages.length);
	for (const { topic, indexes, outcome } of shares) {
		if (!outcome.ok) return outcome;
		indexes.forEach((i, k) => {
			const position = outcome.value.positions[k];
			if (position !== undefined) metadata[i] = toMetadata(topic, position);
		});
	}
	return ok(metadata);
}
