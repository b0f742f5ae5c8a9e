/**
 * @module
 * Upstash's produce: one request may name several topics. Each topic's share is one Tributary produce
 * (atomic per partition, as Kafka's producer is), all in parallel, and the answer lists every message's position
 * in request order.
 */

import { ok, type Result } from "../../../shared/errors.ts";
import { checkProduce, mayHaveWritten, produce, reindexed } from "../../../topic/produce.ts";
import { describeTopic } from "../../../topic/topic-cache.ts";
import type { TopicMeta } from "../../../topic/types.ts";
import { statusOf, withRequestId } from "../../errors.ts";
import { toMetadata, toProduceInput, type UpstashMetadata, upstashErrorBody } from "./mapping.ts";
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
 * A message whose share failed while another share (of its topic or another) was written: Upstash's error shape, with
 * the topic, and the request's id in the message for a 5xx, as a whole answer has it. The answer holding it is a 207,
 * since the client sends any non-2xx again, whole, and would write the others twice.
 */
export interface UpstashMessageError {
	readonly topic: string;
	readonly error: string;
	readonly status: number;
}

/**
 * Produces `messages` and answers their positions in request order. Every topic's share is looked up and checked
 * (partitions, sizes, keys) before anything is written, so bad input anywhere in the batch writes nothing. Only a
 * failure of the platform after that (a partition unavailable or full, a topic deleted meanwhile) can leave other
 * topics' (or partitions') shares written, as with Kafka's producer across partitions: the request is then refused as
 * a whole only if no share is known written; otherwise each written message gets its metadata and each message of a
 * failed share its topic's error in its place.
 */
export async function produceMessages(
	env: Env,
	messages: readonly TopicMessage[],
	requestId: string,
): Promise<Result<(UpstashMetadata | UpstashMessageError)[]>> {
	const byTopic = indexesByTopic(messages);
	const inputsOf = (indexes: readonly number[]) => indexes.map((i) => toProduceInput((messages[i] as TopicMessage).message));
	const metas = await Promise.all([...byTopic.keys()].map((topic) => describeTopic(env, topic)));
	// A refusal names a record by its index in its topic's share: named here by its index in the request.
	const inRequest = (indexes: readonly number[]) => (k: number) => indexes[k] as number;
	for (const [k, [, indexes]] of [...byTopic].entries()) {
		const meta = metas[k] as Result<TopicMeta>;
		if (!meta.ok) return meta;
		if (byTopic.size > 1) {
			const checked = checkProduce(meta.value, inputsOf(indexes));
			if (!checked.ok) return reindexed(checked, inRequest(indexes));
		}
	}
	const shares = await Promise.all(
		[...byTopic].map(async ([topic, indexes]) => ({ topic, indexes, outcome: await produce(env, topic, inputsOf(indexes)) })),
	);
	const answers: (UpstashMetadata | UpstashMessageError)[] = new Array(messages.length);
	// Nothing known written (no share, of any topic, on any partition): refused as a whole, as a request of one share is.
	const written = shares.some(({ outcome }) => outcome.ok || outcome.written);
	for (const { topic, indexes, outcome } of shares) {
		let failed: UpstashMessageError | undefined;
		if (!outcome.ok) {
			const { error } = reindexed(outcome, inRequest(indexes));
			if (!written) return { ok: false, error };
			// Only `unavailable` says none of the topic's messages was written: another failure's "retry" would not be safe.
			// A topic with a share written says so already (`produce`).
			const message = error.code === "unavailable" || outcome.written ? error.message : mayHaveWritten(error.message);
			failed = { topic, ...upstashErrorBody(withRequestId({ ...error, message }, requestId), statusOf(error.code)) };
		}
		const positions = outcome.ok ? outcome.value.positions : outcome.written;
		indexes.forEach((i, k) => {
			const position = positions?.[k];
			answers[i] = position ? toMetadata(topic, position) : (failed as UpstashMessageError);
		});
	}
	return ok(answers);
}
