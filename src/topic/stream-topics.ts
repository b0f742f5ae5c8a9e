/**
 * @module
 * Durable Streams streams' topics, for the edge and for a stream's partition ending it: finding a stream's topic and
 * partition, creating the topic behind it, giving back a fork's reference on its source, and the retries a
 * partition asks for (configure it first; our cached topic metadata was stale). A stream's topic is created with
 * `retention.ms: -1`: a stream keeps its records until it is deleted or expires.
 */

import type { PartitionLog } from "../partition/partition-log.ts";
import type { StreamResult } from "../partition/stream-types.ts";
import type { NeedsConfig } from "../partition/types.ts";
import { ApiError, thrownUnless } from "../shared/errors.ts";
import { streamTopic } from "../shared/stream-names.ts";
import { partitionLog, topicRegistry as registry } from "../shared/stubs.ts";
import { describeTopic, invalidate, remember } from "./topic-cache.ts";
import type { TopicMeta } from "./types.ts";

export type Log = DurableObjectStub<PartitionLog>;

/** Configuration every stream topic starts with. */
export const STREAM_TOPIC_CONFIG = { "retention.ms": -1 } as const;

async function configure(log: Log, meta: TopicMeta): Promise<boolean> {
	const configured = await log.configure({
		topic: meta.name,
		topicId: meta.topicId,
		partition: 0,
		configVersion: meta.configVersion,
		config: meta.config,
	});
	// Its storage failing is thrown, as its rejection was, not taken for a stream that is not there.
	return thrownUnless(configured, "topic_not_found").ok;
}

function isStale<T>(result: StreamResult<T>): boolean {
	return !result.ok && result.failure.kind === "log" && result.failure.error.code === "topic_not_found";
}

/**
 * Runs `call` on the stream's partition: configured first when it asks, and once more with fresh metadata when
 * the cached topic turns out deleted (a stream deleted and created again elsewhere). No topic: `not_found`.
 */
export async function onStream<T>(
	env: Env,
	topic: string,
	call: (log: Log, meta: TopicMeta) => Promise<StreamResult<T> | NeedsConfig>,
): Promise<StreamResult<T> & { meta?: TopicMeta }> {
	for (let attempt = 0; attempt < 2; attempt++) {
		const described = await describeTopic(env, topic);
		if (!described.ok) return { ok: false, failure: { kind: "not_found" } };
		const meta = described.value;
		const log = partitionLog(env, meta.topicId, 0);
		let result = await call(log, meta);
		if ("needsConfig" in result) {
			if (!(await configure(log, meta))) return { ok: false, failure: { kind: "not_found" } };
			result = await call(log, meta);
			// The registry's config moved on meanwhile. A partition asking for config has staged nothing, so nothing was
			// written: `unavailable`, which a repeat of any request may follow (a plain append too).
			if ("needsConfig" in result) {
				return { ok: false, failure: { kind: "log", error: { code: "unavailable", message: "the stream's topic changed; retry" } } };
			}
		}
		if (!isStale(result)) return { ...result, meta };
		invalidate(topic);
	}
	return { ok: false, failure: { kind: "not_found" } };
}

/** The stream's topic, created (one partition, kept forever) when missing; configured either way. */
export async function ensureTopic(env: Env, topic: string): Promise<TopicMeta | null> {
	let meta: TopicMeta | null = null;
	const created = await registry(env).createTopic({ name: topic, partitions: 1, config: STREAM_TOPIC_CONFIG });
	if (created.ok) meta = created.value;
	else if (created.error.code === "topic_exists") {
		invalidate(topic);
		const described = await describeTopic(env, topic);
		if (described.ok) meta = described.value;
	}
	if (meta === null) return null;
	remember(meta);
	return (await configure(partitionLog(env, meta.topicId, 0), meta)) ? meta : null;
}

/**
 * Gives back a fork's reference `hold` on its source stream (at `path`): once, however often it is given. The source's
 * topic id when that ended it (deleted while forked, and this was its last fork: it is to be ended too); a source no
 * longer there holds none. Throws when the source's partition fails, for the caller to try again.
 */
export async function releaseReference(env: Env, path: string, hold: string | undefined): Promise<string | undefined> {
	const released = await onStream(env, streamTopic(path), async (log, meta) => log.streamReference(meta.topicId, -1, hold));
	if (released.ok) return released.value.softDeleted && released.value.refCount === 0 ? released.meta?.topicId : undefined;
	if (released.failure.kind === "log") throw ApiError.from(released.failure.error);
}
