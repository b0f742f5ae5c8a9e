/**
 * @module
 * Upstash's fetch and offset lookups. Fetch reads several `<topic, partition, offset>` at once, without
 * a consumer group: each partition in parallel; when all are empty the call long-polls them together for up to
 * `timeout` and answers as soon as one has records (the other waits are ended then, as all are when the client has
 * gone: a read changes nothing, and a wait kept to its end would count as a reader following its partition's log).
 */

import type { ReadResult } from "../../../partition/types.ts";
import { ok, type Result } from "../../../shared/errors.ts";
import { FETCH_BYTES_DEFAULT, FETCH_RECORDS_DEFAULT } from "../../../shared/limits.ts";
import { firstAnswer, offsetForTimestamp, readRecords, type WaitEnd } from "../../../shared/log-reader.ts";
import { partitionLog } from "../../../shared/stubs.ts";
import { checkPartition, describeTopic, invalidate } from "../../../topic/topic-cache.ts";
import type { TopicMeta } from "../../../topic/types.ts";

export interface PartitionAsk {
	readonly topic: string;
	readonly partition: number;
	/** Null: from the log start. */
	readonly offset: number | null;
}

export interface PartitionRecords {
	readonly topic: string;
	/** The records as the partition returns them: JSON objects joined by `RECORD_SEPARATOR`. */
	readonly records: string;
	readonly recordCount: number;
}

interface Planned {
	readonly ask: PartitionAsk;
	readonly meta: TopicMeta;
}

/** Each asked partition's topic metadata, checked: an unknown topic or partition fails the whole call. */
async function plan(env: Env, asked: readonly PartitionAsk[]): Promise<Result<Planned[]>> {
	const topics = [...new Set(asked.map((a) => a.topic))];
	const metas = await Promise.all(topics.map((t) => describeTopic(env, t)));
	const byName = new Map<string, TopicMeta>();
	for (const meta of metas) {
		if (!meta.ok) return meta;
		byName.set(meta.value.name, meta.value);
	}
	const planned: Planned[] = [];
	for (const ask of asked) {
		const meta = byName.get(ask.topic) as TopicMeta;
		const checked = checkPartition(meta, ask.partition);
		if (!checked.ok) return checked;
		planned.push({ ask, meta });
	}
	return ok(planned);
}

function readOne(env: Env, p: Planned, waitMs: number, share: number, end?: WaitEnd): Promise<Result<ReadResult>> {
	return readRecords(
		env,
		p.meta.topicId,
		p.ask.partition,
		{
			topicId: p.meta.topicId,
			offset: p.ask.offset,
			maxRecords: FETCH_RECORDS_DEFAULT,
			// The response as a whole stays within one default fetch; each partition still returns at least one record.
			maxBytes: Math.max(1, Math.floor(FETCH_BYTES_DEFAULT / share)),
			waitMs,
		},
		end,
	);
}

function unwrapAll(planned: readonly Planned[], results: readonly Result<ReadResult>[]): Result<PartitionRecords[]> {
	const out: PartitionRecords[] = [];
	for (const [i, result] of results.entries()) {
		const topic = (planned[i] as Planned).ask.topic;
		if (!result.ok) {
			if (result.error.code === "topic_not_found") invalidate(topic);
			return result;
		}
		out.push({ topic, records: result.value.records, recordCount: result.value.recordCount });
	}
	return ok(out);
}

/**
 * Waits on every partition at once and settles on the first that returns records (answered alone) or fails, or on all
 * being empty (`firstAnswer`: the waits still running are ended then). A failed wait is an empty answer.
 */
function firstRecords(env: Env, planned: readonly Planned[], waitMs: number, end: WaitEnd): Promise<Result<PartitionRecords[]>> {
	return firstAnswer(
		planned,
		end,
		(p, race) => readOne(env, p, waitMs, planned.length, race),
		(result, i) => {
			const one = unwrapAll([planned[i] as Planned], [result]);
			return !one.ok || (one.value[0]?.recordCount ?? 0) > 0 ? one : undefined;
		},
		() => ok(planned.map((p) => ({ topic: p.ask.topic, records: "", recordCount: 0 }))),
	);
}

/** Reads every asked partition; if all are empty, waits up to `timeoutMs` for the first records, or until `end`. */
export async function readPartitions(
	env: Env,
	asked: readonly PartitionAsk[],
	timeoutMs: number,
	end: WaitEnd,
): Promise<Result<PartitionRecords[]>> {
	const planned = await plan(env, asked);
	if (!planned.ok) return planned;
	const first = unwrapAll(planned.value, await Promise.all(planned.value.map((p) => readOne(env, p, 0, planned.value.length))));
	if (!first.ok || timeoutMs === 0 || first.value.some((r) => r.recordCount > 0)) return first;
	return firstRecords(env, planned.value, timeoutMs, end);
}

/**
 * The offset of `topic`/`partition` at `at`: the log start, the high watermark, or the first record at or after a
 * time (the high watermark when there is none: where a reader would start).
 */
export async function offsetAt(env: Env, topic: string, partition: number, at: "earliest" | "latest" | number): Promise<Result<number>> {
	const described = await describeTopic(env, topic);
	if (!described.ok) return described;
	const checked = checkPartition(described.value, partition);
	if (!checked.ok) return checked;
	const stub = partitionLog(env, described.value.topicId, partition);
	if (typeof at === "number") {
		const found = await offsetForTimestamp(env, described.value.topicId, partition, at);
		if (!found.ok && found.error.code === "topic_not_found") invalidate(topic);
		return found.ok ? ok(found.value.offset) : found;
	}
	const offsets = await stub.offsets();
	return ok(at === "earliest" ? offsets.logStartOffset : offsets.highWatermark);
}
