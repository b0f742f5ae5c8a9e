/**
 * @module
 * Produce, independent of the wire format: choose each record's partition, check sizes, and append every
 * partition's share in parallel. All validation happens before the first write, so bad input never leaves a
 * partial batch; each partition's share is appended atomically by its `PartitionLog`.
 */

import type { AppendResult } from "../partition/types.ts";
import { err, ok, type Result } from "../shared/errors.ts";
import { utf8ByteLength } from "../shared/json.ts";
import { partitionForKey } from "../shared/partitioner.ts";
import { type EncodedRecord, encodeTail, keyBytes, type ProducedRecord } from "../shared/record-codec.ts";
import type { TopicMeta } from "../topic/types.ts";
import { describeTopic, invalidate, partitionLog } from "./topic-directory.ts";

export interface ProduceInput extends ProducedRecord {
	/** An explicit partition; otherwise the key's hash, otherwise a partition chosen for the whole request. */
	readonly partition: number | null;
}

export interface RecordPosition {
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
}

/** Kafka's order of precedence: explicit partition, then murmur2 of the key, then one sticky choice per request. */
function choosePartitions(meta: TopicMeta, records: readonly ProduceInput[]): Result<number[]> {
	const sticky = Math.floor(Math.random() * meta.partitions);
	const chosen: number[] = [];
	for (let i = 0; i < records.length; i++) {
		const record = records[i] as ProduceInput;
		if (record.partition !== null) {
			if (record.partition >= meta.partitions) {
				return err("partition_not_found", `records[${i}]: topic "${meta.name}" has partitions 0 to ${meta.partitions - 1}`, {
					topic: meta.name,
					partition: record.partition,
					partitions: meta.partitions,
				});
			}
			chosen.push(record.partition);
			continue;
		}
		const bytes = keyBytes(record.key, record.keyEncoding);
		chosen.push(bytes === null ? sticky : partitionForKey(bytes, meta.partitions));
	}
	return ok(chosen);
}

/** Encodes every record and groups them by partition, rejecting any record over `max.message.bytes`. */
interface EncodedShares {
	/** Record indexes per partition, in request order. */
	readonly groups: Map<number, number[]>;
	readonly encoded: EncodedRecord[];
}

function encodeByPartition(meta: TopicMeta, records: readonly ProduceInput[], partitions: readonly number[]): Result<EncodedShares> {
	const groups = new Map<number, number[]>();
	const limit = meta.config["max.message.bytes"];
	const encoded: EncodedRecord[] = [];
	for (let i = 0; i < records.length; i++) {
		const record = records[i] as ProduceInput;
		const tail = encodeTail(record);
		const bytes = utf8ByteLength(tail);
		if (bytes > limit) {
			return err("record_too_large", `records[${i}] is ${bytes} bytes; the topic's max.message.bytes is ${limit}`, {
				index: i,
				record_bytes: bytes,
				max_message_bytes: limit,
			});
		}
		encoded.push({ timestampMs: record.timestampMs, tail });
		const partition = partitions[i] as number;
		const group = groups.get(partition);
		if (group === undefined) groups.set(partition, [i]);
		else group.push(i);
	}
	return ok({ groups, encoded });
}

/** Appends one partition's share, configuring the partition from `meta` first if it asks. */
async function appendShare(env: Env, meta: TopicMeta, partition: number, records: EncodedRecord[]): Promise<Result<AppendResult>> {
	const stub = partitionLog(env, meta.topicId, partition);
	const request = { topicId: meta.topicId, configVersion: meta.configVersion, records };
	const first = await stub.append(request);
	if (!("needsConfig" in first)) return first;
	const configured = await stub.configure({
		topic: meta.name,
		topicId: meta.topicId,
		partition,
		configVersion: meta.configVersion,
		config: meta.config,
	});
	if (!configured.ok) return { ok: false, error: configured.error };
	const second = await stub.append(request);
	if ("needsConfig" in second) {
		// The registry's config moved on while we retried; our metadata is stale. Ask the client to retry.
		return err("partition_unavailable", "topic configuration changed during the request; retry", { retriable: true });
	}
	return second;
}

/**
 * Produces `records` to topic `name` and returns each record's position, in request order.
 * A partition that reports the topic deleted invalidates the cached metadata; if nothing was written yet the
 * request is tried once more with fresh metadata (the topic may have been re-created).
 */
export async function produce(env: Env, name: string, records: readonly ProduceInput[]): Promise<Result<RecordPosition[]>> {
	for (let attempt = 0; ; attempt++) {
		const described = await describeTopic(env, name);
		if (!described.ok) return described;
		const meta = described.value;
		const partitions = choosePartitions(meta, records);
		if (!partitions.ok) {
			if (attempt === 0) {
				invalidate(name); // the partition may exist on fresher metadata
				continue;
			}
			return partitions;
		}
		const grouped = encodeByPartition(meta, records, partitions.value);
		if (!grouped.ok) return grouped;
		const { encoded, groups } = grouped.value;
		const shares = [...groups.entries()];
		const results = await Promise.all(
			shares.map(([partition, indexes]) =>
				appendShare(
					env,
					meta,
					partition,
					indexes.map((i) => encoded[i] as EncodedRecord),
				).catch((cause: unknown): Result<AppendResult> => {
					console.error(`produce: partition ${partition} of "${name}" failed: ${String(cause)}`);
					return err("partition_unavailable", `partition ${partition} is unavailable; retry`, { partition });
				}),
			),
		);
		const failed = results.find((r) => !r.ok);
		if (failed !== undefined && !failed.ok) {
			if (failed.error.code === "topic_not_found") {
				invalidate(name);
				if (attempt === 0 && results.every((r) => !r.ok)) continue;
			}
			return failed;
		}
		const positions: RecordPosition[] = new Array(records.length);
		shares.forEach(([partition, indexes], s) => {
			const appended = (results[s] as { ok: true; value: AppendResult }).value;
			indexes.forEach((recordIndex, k) => {
				positions[recordIndex] = {
					partition,
					offset: appended.baseOffset + k,
					timestamp: (records[recordIndex] as ProduceInput).timestampMs ?? appended.appendTimeMs,
				};
			});
		});
		return ok(positions);
	}
}
