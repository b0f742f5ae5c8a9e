/**
 * @module
 * Produce, independent of the wire format: choose each record's partition, check sizes, and append every
 * partition's share in parallel. All validation happens before the first write, so bad input never leaves a
 * partial batch; each partition's share is appended atomically by its `PartitionLog`.
 *
 * Exactly-once options ride along to each partition, which checks them in the same transaction as the write:
 * an idempotent producer's sequence (KIP-98), an `Idempotency-Key`, or a conditional `expected_offset`.
 *
 * It lives beside the topic, not in `http/`, because a Durable Object produces too: the webhook dispatcher writes
 * dead letters through it.
 */

import type { AppendResult, IdempotencyClaim, ProducerClaim } from "../partition/types.ts";
import { appendOutcome } from "../shared/append-answer.ts";
import { utf8Encoder } from "../shared/bytes.ts";
import { err, type Failure, isBug, ok, partitionUnavailable, type Result, thrownUnless, unsettled } from "../shared/errors.ts";
import { utf8ByteLength } from "../shared/json.ts";
import { partitionForKey, utf8 } from "../shared/partitioner.ts";
import {
	compactionKeyId,
	type EncodedBatch,
	type EncodedRecord,
	encodeBatch,
	encodeTail,
	keyBytes,
	type ProducedRecord,
} from "../shared/record-codec.ts";
import { partitionLog } from "../shared/stubs.ts";
import { timestampWindow } from "../shared/topic-config.ts";
import { checkProducerEpoch } from "./producer-epochs.ts";
import { describeTopic, invalidate } from "./topic-cache.ts";
import type { TopicMeta } from "./types.ts";

export interface ProduceInput extends ProducedRecord {
	/** An explicit partition; otherwise the key's hash, otherwise a partition chosen for the whole request. */
	readonly partition: number | null;
	/**
	 * The record already encoded (`encodeTail`'s very string) from the body's own text, and its UTF-8 bytes when
	 * known without counting (null: count them); absent: encoded here.
	 */
	readonly encoded?: {
		readonly tail: string;
		readonly bytes: number | null;
		/** Whether the value is null, when the encoder knows: a value kept as text is then not parsed to find out. */
		readonly tombstone?: boolean;
	};
}

export interface ProduceOptions {
	/** Idempotent producer: id, epoch, and the first sequence of each partition's share (or one for all). */
	readonly producer?: { readonly producerId: number; readonly epoch: number; readonly sequences: ProducerSequences } | null;
	readonly idempotencyKey?: string | null;
	readonly expectedOffset?: number | null;
	/**
	 * Every string in the records is ASCII (the caller knows it from the body it parsed: see `parsesToAscii`), so
	 * an encoded record's UTF-8 size is its length and is not counted character by character.
	 */
	readonly asciiText?: boolean;
}

/** One base sequence when the request lands in a single partition, or one per partition. */
export type ProducerSequences = { readonly single: number } | { readonly perPartition: ReadonlyMap<number, number> };

export interface RecordPosition {
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
}

/**
 * A failure of a request spread over partitions may follow other partitions' written shares: `written` holds their
 * records' positions, in request order (none where a record's share failed), and the message says so
 * (`mayHaveWritten`).
 */
export type Produced = Result<ProduceOutcome> & { readonly written?: readonly (RecordPosition | undefined)[] };

/**
 * `message` ending, in place of "; retry", with a warning that some of its request may have been written: a plain repeat
 * may write those twice (one carrying a producer's sequences or an Idempotency-Key is deduplicated).
 */
export const mayHaveWritten = (message: string) => message.replace(/(; retry)?$/, "; some of this request's records may have been written");

export interface ProduceOutcome {
	readonly positions: RecordPosition[];
	/** Every share had been written before: this answer is a replay of the original. */
	readonly replayed: boolean;
}

/**
 * Kafka's order of precedence: explicit partition, then murmur2 of the key, then one sticky choice per request.
 * With an idempotency key the sticky choice derives from that key, so a retry lands where the original did.
 */
function choosePartitions(meta: TopicMeta, records: readonly ProduceInput[], idempotencyKey: string | null): Result<number[]> {
	const sticky =
		idempotencyKey === null ? Math.floor(Math.random() * meta.partitions) : partitionForKey(utf8(idempotencyKey), meta.partitions);
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

interface EncodedShares {
	/** Record indexes per partition, in request order. */
	readonly groups: Map<number, number[]>;
	readonly encoded: EncodedRecord[];
}

/**
 * Encodes every record and groups them by partition, rejecting any record over `max.message.bytes` or with a
 * timestamp outside the topic's window (`timestampWindow`). The window is checked here, on the edge's clock and
 * cached config, and not again in the partition: the clocks agree to within the request's own latency, and a
 * config altered elsewhere reaches this check within `TOPIC_CACHE_TTL_MS`, as `max.message.bytes` does. An
 * idempotent producer's retry is checked like any produce, before its partition could answer it as a duplicate: so
 * is it on a broker, whose `UnifiedLog.append` runs LogValidator before it looks the batch up in the producer state,
 * so a retry whose timestamp has since left the window is INVALID_TIMESTAMP there too.
 */
function encodeByPartition(
	meta: TopicMeta,
	records: readonly ProduceInput[],
	partitions: readonly number[],
	asciiText: boolean,
): Result<EncodedShares> {
	const groups = new Map<number, number[]>();
	const limit = meta.config["max.message.bytes"];
	const compacted = meta.config["cleanup.policy"] !== "delete";
	const allowed = timestampWindow(meta.config, Date.now());
	const encoded: EncodedRecord[] = [];
	for (let i = 0; i < records.length; i++) {
		const record = records[i] as ProduceInput;
		const timestamp = record.timestampMs;
		if (allowed !== null && timestamp !== null && (timestamp < allowed[0] || timestamp > allowed[1])) {
			const window = `${allowed[0]} to ${allowed[1]} (now minus the topic's message.timestamp.before.max.ms, now plus its after.max.ms)`;
			return err("invalid_timestamp", `records[${i}]: timestamp ${timestamp} is outside ${window}`, { index: i, timestamp });
		}
		const keyId = compactionKeyId(record.key, record.keyEncoding);
		if (compacted && keyId === null) {
			return err("invalid_record", `records[${i}] has no key; records on a compacted topic must have one`, { index: i });
		}
		// A lone surrogate has no UTF-8 form: the partitioner hashes a key's UTF-8 and a Kafka client reads keys and
		// headers as bytes, so each would see U+FFFD where this API answers the surrogate. Native, and a one-byte
		// string (most keys) holds none: a few ns a record.
		const { key, headers } = record;
		if (
			(typeof key === "string" && !key.isWellFormed()) ||
			headers.some((h) => !h.key.isWellFormed() || h.value?.isWellFormed() === false)
		) {
			return err("invalid_record", `records[${i}]: a lone surrogate in a key or header`, { index: i });
		}
		const tail = record.encoded?.tail ?? encodeTail(record);
		const bytes = record.encoded?.bytes ?? (asciiText ? tail.length : utf8ByteLength(tail));
		if (bytes > limit) {
			return err("record_too_large", `records[${i}] is ${bytes} bytes; the topic's max.message.bytes is ${limit}`, {
				index: i,
				record_bytes: bytes,
				max_message_bytes: limit,
			});
		}
		const tombstone = record.encoded?.tombstone ?? record.value === null;
		encoded.push({ timestampMs: record.timestampMs, tail, bytes, keyId, tombstone });
		const partition = partitions[i] as number;
		const group = groups.get(partition);
		if (group === undefined) groups.set(partition, [i]);
		else group.push(i);
	}
	return ok({ groups, encoded });
}

/** Per-partition claims for the exactly-once options, validated against where the records actually landed. */
function claimsFor(
	shares: ReadonlyMap<number, number[]>,
	options: ProduceOptions,
): Result<{ producer: Map<number, ProducerClaim> | null; expectedOffset: number | null }> {
	const expectedOffset = options.expectedOffset ?? null;
	if (expectedOffset !== null && shares.size !== 1) {
		return err("invalid_request", "expected_offset needs every record in one partition; give an explicit partition or one key");
	}
	const producer = options.producer ?? null;
	if (producer === null) return ok({ producer: null, expectedOffset });
	const used = [...shares.keys()].sort((a, b) => a - b);
	const sequences = producer.sequences;
	let given: ReadonlyMap<number, number>;
	if ("single" in sequences) {
		if (shares.size !== 1) {
			return err("invalid_request", `"sequence" needs every record in one partition; these go to ${shares.size}. Use "sequences"`, {
				partitions: [...shares.keys()],
			});
		}
		given = new Map([[used[0] as number, sequences.single]]);
	} else {
		given = sequences.perPartition;
		if (given.size !== used.length || used.some((p) => !given.has(p))) {
			return err("invalid_request", `"sequences" must name exactly the partitions the records go to: ${used.join(", ")}`, {
				partitions: used,
			});
		}
	}
	const claims = new Map<number, ProducerClaim>();
	for (const partition of used) {
		claims.set(partition, { producerId: producer.producerId, epoch: producer.epoch, baseSequence: given.get(partition) as number });
	}
	return ok({ producer: claims, expectedOffset });
}

/**
 * A digest of one partition's share, so a reused `Idempotency-Key` with a different body is caught: SHA-256 of the
 * records' timestamps and their tails joined by newlines (a tail never holds one), hashed as they stand rather than
 * serialised again. The text is what partitions have stored digests of: keep it byte for byte (share-digest.test.ts
 * pins it). Most of its cost is SHA-256 itself (measured in workerd on 100 x 1 KiB: 85 of 187 µs); encoding the parts
 * into one buffer of the measured size instead of concatenating them saved about 20 µs, not the bundle bytes it took.
 * Nor did hashing the parts as they stand (`node:crypto`'s `createHash`, no joined text, no await): bench:ab
 * idem-key-1c-1p +0.08 µs/record (−3.85 to +1.10, lower in 3 of 8 rounds) of ~31.
 */
export async function shareDigest(batch: EncodedBatch): Promise<string> {
	const tails = typeof batch.tails === "string" ? batch.tails : batch.tails.join("\n");
	return base64Digest(`${JSON.stringify(batch.timestamps)}\n${tails}`);
}

/** SHA-256 of `text`'s UTF-8, in base64. */
async function base64Digest(text: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", utf8Encoder.encode(text));
	return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

interface Share {
	readonly partition: number;
	/** Where this share's records stand in the request. */
	readonly indexes: readonly number[];
	readonly batch: EncodedBatch;
	readonly producer: ProducerClaim | null;
	readonly idempotency: IdempotencyClaim | null;
	readonly expectedOffset: number | null;
}

/**
 * Appends one partition's share, configuring the partition from `meta` first if it asks; `lone`: the request's only share.
 *
 * Tried and dropped: small produces to one partition batched at the edge, plain ones waiting in the isolate while a
 * call to their partition is in flight and going together in the next (a `PartitionLog.appendMany` submitting each to
 * the commit queue). workerd decides its shape: a request woken by a promise another request resolves runs on in the
 * resolver's context, where its own stub and its own Response both fail ("Cannot perform I/O on behalf of a different
 * request", I/O types OutgoingFactory, SpanParent, RefcountedFulfiller, measured through `exports.default.fetch`). So
 * the request whose call was in flight sent the next batches with its own stub (kept by `waitUntil`), and each waiter
 * read its answer on a timer of its own (first at the last call's duration, then every ms). Correct (32 concurrent
 * one-record produces: one lone call, then one of 31), but bench:ab produce-32c-1r showed nothing beyond the noise:
 * −9.3 µs (−35.4 to +6.6, lower in 3 of 4 rounds) and −7.0 (−52.0 to +5.6, 3 of 6) of ~650-720 a request at load 7-11,
 * against an A/A of +2.5 (−2.8 to +9.7; load 4-5); produce-1c-1p −0.13 µs/record of ~21.
 */
async function appendShare(env: Env, meta: TopicMeta, share: Share, lone: boolean): Promise<Result<AppendResult>> {
	const stub = partitionLog(env, meta.topicId, share.partition);
	const request = {
		topicId: meta.topicId,
		configVersion: meta.configVersion,
		batch: share.batch,
		producer: share.producer,
		idempotency: share.idempotency,
		expectedOffset: share.expectedOffset,
		textAnswer: true,
	};
	const first = appendOutcome(await stub.append(request));
	if (!("needsConfig" in first)) return first;
	// Its storage failing is thrown, as its rejection was: the share's catch answers the partition unavailable.
	const configured = thrownUnless(
		await stub.configure({
			topic: meta.name,
			topicId: meta.topicId,
			partition: share.partition,
			configVersion: meta.configVersion,
			config: meta.config,
		}),
		"topic_not_found",
	);
	if (!configured.ok) return configured;
	const second = appendOutcome(await stub.append(request));
	if ("needsConfig" in second) {
		// The registry's config moved on while we retried; our metadata is stale. Ask the client to retry: neither append
		// wrote (a partition asking for config stages nothing), so a request of this share alone wrote nothing, which
		// `unavailable` tells it; in one spread over partitions, others may have written their shares.
		return err(lone ? "unavailable" : "partition_unavailable", "topic configuration changed during the request; retry");
	}
	return second;
}

/** Everything that can be checked before a write: partitions, sizes, exactly-once claims. */
async function prepare(meta: TopicMeta, records: readonly ProduceInput[], options: ProduceOptions): Promise<Result<Share[]>> {
	const partitions = choosePartitions(meta, records, options.idempotencyKey ?? null);
	if (!partitions.ok) return partitions;
	const grouped = encodeByPartition(meta, records, partitions.value, options.asciiText === true);
	if (!grouped.ok) return grouped;
	const { encoded, groups } = grouped.value;
	const claims = claimsFor(groups, options);
	if (!claims.ok) return claims;
	const shares: Share[] = [];
	for (const [partition, indexes] of groups) {
		shares.push({
			partition,
			indexes,
			batch: encodeBatch(groups.size === 1 ? encoded : indexes.map((i) => encoded[i] as EncodedRecord)),
			producer: claims.value.producer?.get(partition) ?? null,
			idempotency: null,
			expectedOffset: claims.value.expectedOffset,
		});
	}
	const key = options.idempotencyKey ?? null;
	if (key === null) return ok(shares);
	const requestHash = await requestDigest(shares);
	return ok(shares.map((share) => ({ ...share, idempotency: { key, requestHash } })));
}

/**
 * The digest an `Idempotency-Key` is kept with in each partition its request writes: its one share's
 * (`shareDigest`), or, for a request spread over several partitions, SHA-256 of every share's partition and digest,
 * in partition order. Each partition then holds the key for the whole request, so the same key on a request that
 * differs anywhere (another share, a partition more or less) is refused by every partition that holds it, not
 * replayed by one and written by another. (A request whose partitions share none with the first is not seen.) Keys
 * that a request over several partitions left before this digest, retried within their window, are refused (409)
 * rather than written again.
 */
async function requestDigest(shares: readonly Share[]): Promise<string> {
	const digests = await Promise.all(shares.map((share) => shareDigest(share.batch)));
	if (shares.length === 1) return digests[0] as string;
	const named = shares.map((share, i) => `${share.partition} ${digests[i]}`).sort(byPartition);
	return base64Digest(named.join("\n"));
}

/** Orders `"<partition> <digest>"` lines by partition number. */
function byPartition(a: string, b: string): number {
	return Number.parseInt(a, 10) - Number.parseInt(b, 10);
}

/**
 * Whether `records` would pass every check `produce` makes before writing (partitions, sizes, keys on compacted
 * topics, exactly-once claims), against `meta`. For callers that write to several topics in one request and must
 * refuse bad input before any topic's share is written.
 */
export function checkProduce(meta: TopicMeta, records: readonly ProduceInput[], options: ProduceOptions = {}): Result<void> {
	const partitions = choosePartitions(meta, records, options.idempotencyKey ?? null);
	if (!partitions.ok) return partitions;
	const grouped = encodeByPartition(meta, records, partitions.value, options.asciiText === true);
	if (!grouped.ok) return grouped;
	const claims = claimsFor(grouped.value.groups, options);
	return claims.ok ? ok(undefined) : claims;
}

/**
 * `failure` naming the record it refuses (`records[k]`, `details.index`) by `to(k)`: its place in the caller's request,
 * for a caller that produced a share of that request (a topic's, or one record retried alone).
 */
export function reindexed(failure: Failure, to: (k: number) => number): Failure {
	const { message, details } = failure.error;
	const k = /^records\[(\d+)\]/.exec(message)?.[1];
	if (k === undefined) return failure;
	const index = to(+k);
	const error = { ...failure.error, message: message.replace(k, `${index}`) };
	return { ok: false, error: details?.index === undefined ? error : { ...error, details: { ...details, index } } };
}

/**
 * Produces `records` to topic `name` and returns each record's position, in request order.
 * A partition that reports the topic deleted invalidates the cached metadata; if nothing was written yet the
 * request is tried once more with fresh metadata (the topic may have been re-created, or grown).
 */
export async function produce(env: Env, name: string, records: readonly ProduceInput[], options: ProduceOptions = {}): Promise<Produced> {
	if (options.producer) {
		const epoch = await checkProducerEpoch(env, options.producer.producerId, options.producer.epoch);
		if (!epoch.ok) return epoch;
	}
	for (let attempt = 0; ; attempt++) {
		const described = await describeTopic(env, name);
		if (!described.ok) return described;
		const meta = described.value;
		const shares = await prepare(meta, records, options);
		if (!shares.ok) {
			if (attempt === 0 && shares.error.code === "partition_not_found") {
				invalidate(name); // the partition may exist on fresher metadata
				continue;
			}
			return shares;
		}
		const refused = await refusedClaim(env, meta, shares.value);
		if (refused !== null) {
			if (refused.error.code === "topic_not_found") {
				invalidate(name);
				if (attempt === 0) continue; // nothing was written
			}
			return refused;
		}
		// One share (a one-record request) takes the same path: timed in workerd, these steps around the call (awaits,
		// Promise.all, the share's request, positions) cost ~6 µs of a ~500 µs request in all, not a second path.
		const results = await Promise.all(
			shares.value.map((share) =>
				appendShare(env, meta, share, shares.value.length === 1).catch((cause: unknown) => unavailable(meta, share, cause)),
			),
		);
		const failed = results.find((r) => !r.ok);
		if (failed !== undefined && !failed.ok) {
			if (failed.error.code === "topic_not_found") {
				invalidate(name);
				if (attempt === 0 && results.every((r) => !r.ok)) continue;
			}
			if (!results.some((r) => r.ok)) return failed;
			const error = { ...failed.error, message: mayHaveWritten(failed.error.message) };
			return { ok: false, error, written: positionsOf(records, shares.value, results) };
		}
		return ok({
			positions: positionsOf(records, shares.value, results),
			replayed: results.every((r) => (r as { value: AppendResult }).value.duplicate),
		});
	}
}

/**
 * For a request spread over several partitions with exactly-once claims (an idempotent producer's `sequences`, an
 * `Idempotency-Key`): the refusal one of its partitions would give its share, asked of every partition before any
 * share is written (`PartitionLog.checkClaims`), so a refused request writes nothing; null when none would refuse.
 * One share needs no question: its append decides and writes in one transaction. A plain request has no such
 * claim; a partition that fails or is full can still refuse its share after another wrote (a retry then writes
 * that one again: at-least-once, as for any produce without exactly-once claims).
 */
async function refusedClaim(env: Env, meta: TopicMeta, shares: readonly Share[]): Promise<Failure | null> {
	if (shares.length < 2 || shares.every((share) => share.producer === null && share.idempotency === null)) return null;
	const answers = await Promise.all(
		shares.map((share) =>
			partitionLog(env, meta.topicId, share.partition)
				.checkClaims({
					topicId: meta.topicId,
					recordCount: share.indexes.length,
					producer: share.producer,
					idempotency: share.idempotency,
				})
				.then(unsettled)
				.catch((cause: unknown) => unavailable(meta, share, cause)),
		),
	);
	for (const answer of answers) if (!answer.ok) return answer;
	return null;
}

/**
 * A partition's call that threw (its object reset, storage failed): logged, and answered as retriable. A bug (`isBug`:
 * ours, or the partition's `internal` thrown on) is answered 500 `internal`, as it fails again the same way: answered,
 * not thrown, so a request of several shares waits for the others and says theirs may have been written.
 */
function unavailable(meta: TopicMeta, share: Share, cause: unknown): Failure {
	console.error(`produce: partition ${share.partition} of "${meta.name}" failed: ${String(cause)}`);
	return isBug(cause) ? err("internal", "internal error") : partitionUnavailable(share.partition);
}

/**
 * Each written record's position and timestamp: its own, or the append time where it had none or the partition stamped
 * every record with it (`AppendResult.stamped`: the partition's config decides, not the edge's cached one, which may
 * be `TOPIC_CACHE_TTL_MS` behind an alter). None for the records of a share that failed.
 */
function positionsOf(
	records: readonly ProduceInput[],
	shares: readonly Share[],
	results: readonly Result<AppendResult>[],
): RecordPosition[] {
	const positions: RecordPosition[] = new Array(records.length);
	shares.forEach((share, s) => {
		const result = results[s] as Result<AppendResult>;
		if (!result.ok) return;
		const appended = result.value;
		share.indexes.forEach((recordIndex, k) => {
			const own = appended.stamped ? null : (records[recordIndex] as ProduceInput).timestampMs;
			positions[recordIndex] = { partition: share.partition, offset: appended.baseOffset + k, timestamp: own ?? appended.appendTimeMs };
		});
	});
	return positions;
}
