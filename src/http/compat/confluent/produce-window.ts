/**
 * @module
 * Produces a window of v3 records, each succeeding or failing on its own: Confluent answers every
 * record of a stream or batch separately, while `produce()` is all-or-nothing per call. So the edge picks each
 * record's partition itself (explicit `partition_id`, else Kafka's murmur2 of the key's serialized bytes, else
 * one sticky partition per request) and calls `produce()` once per partition. A single-partition append is
 * atomic, so a failed call wrote nothing and every record in it can be reported failed without a partial write.
 * Windows run one after another, so each partition receives its records in request order.
 */

import { assert } from "../../../shared/assert.ts";
import type { DomainError } from "../../../shared/errors.ts";
import { partitionForKey } from "../../../shared/partitioner.ts";
import { produce, reindexed } from "../../../topic/produce.ts";
import { checkPartition, describeTopic } from "../../../topic/topic-cache.ts";
import type { Landed, V3Record } from "./records.ts";

export type Prepared = { readonly ok: true; readonly record: V3Record } | { readonly ok: false; readonly error: DomainError };
export type Outcome = { readonly ok: true; readonly landed: Landed } | { readonly ok: false; readonly error: DomainError };

/** Failures `produce()` finds before writing anything: worth retrying record by record to find the culprit. */
const PRE_WRITE_FAILURES: ReadonlySet<string> = new Set(["record_too_large", "invalid_record", "invalid_timestamp"]);

/**
 * `stickyRatio` in [0, 1) picks the partition of keyless records without `partition_id`, fixed per request
 * (Kafka's sticky partitioner, as /v1 does) and valid whatever the partition count. `first` is the first item's index
 * in the request (a stream's window), which a refusal names (`records[i]`): a refused record is produced alone, where
 * `produce()` would name it `records[0]`.
 */
export async function produceWindow(
	env: Env,
	topic: string,
	items: readonly Prepared[],
	stickyRatio: number,
	first = 0,
): Promise<Outcome[]> {
	assert(stickyRatio >= 0 && stickyRatio < 1, "ratio in [0, 1)");
	const outcomes: (Outcome | undefined)[] = items.map((item) => (item.ok ? undefined : item));
	const described = await describeTopic(env, topic);
	if (!described.ok) return items.map((item) => (item.ok ? described : item));
	const partitions = described.value.partitions;
	const shares = new Map<number, number[]>();
	items.forEach((item, i) => {
		if (!item.ok) return;
		const { partition, keyBytes } = item.record;
		// Checked here, not by `produce()`: it would name the record's index in a one-record call, always 0, where
		// Confluent names an entry by its id alone.
		const known = partition === null ? null : checkPartition(described.value, partition);
		if (known?.ok === false) {
			outcomes[i] = known;
			return;
		}
		const chosen = partition ?? (keyBytes === null ? Math.floor(stickyRatio * partitions) : partitionForKey(keyBytes, partitions));
		const share = shares.get(chosen);
		if (share === undefined) shares.set(chosen, [i]);
		else share.push(i);
	});
	await Promise.all(
		[...shares].map(async ([partition, indexes]) => {
			const records = indexes.map((i) => (items[i] as { record: V3Record }).record);
			const results = await produceShare(env, topic, partition, records);
			indexes.forEach((recordIndex, k) => {
				const outcome = results[k] as Outcome;
				// The index a failure names in its call (`records[k]`) is not needed: it names the record this outcome is for.
				// Only a pre-write failure names one record, and a share of many that fails so is retried record by record
				// (produceShare), each call naming its one record `records[0]`; a partition that does not exist (checked above,
				// or gone since) is every record's of the share, which all go to it, so each names itself.
				outcomes[recordIndex] = outcome.ok ? outcome : reindexed(outcome, () => first + recordIndex);
			});
		}),
	);
	assert(
		outcomes.every((o) => o !== undefined),
		"record outcomes",
	);
	return outcomes as Outcome[];
}

/** One partition's records in one atomic append; after a pre-write refusal, record by record, in order. */
async function produceShare(env: Env, topic: string, partition: number, records: readonly V3Record[]): Promise<Outcome[]> {
	const inputs = records.map((r) => ({ ...r.record, partition }));
	const result = await produce(env, topic, inputs);
	if (result.ok) {
		const positions = result.value.positions;
		assert(positions.length === records.length, "position per record");
		positions.forEach((p, k) => {
			assert(p.partition === partition, "share partition");
			assert(k === 0 || p.offset === (positions[k - 1] as Landed).offset + 1, "share dense");
		});
		return positions.map((landed) => ({ ok: true, landed }));
	}
	if (records.length === 1 || !PRE_WRITE_FAILURES.has(result.error.code)) return records.map(() => result);
	const outcomes: Outcome[] = [];
	for (const record of records) {
		const single = await produceShare(env, topic, partition, [record]);
		outcomes.push(single[0] as Outcome);
	}
	return outcomes;
}
