/**
 * @module
 * What an append checks and writes beside its records: the refusals decided before anything is written (keys on
 * compacted topics, `expected_offset`, sizes, space), the `Idempotency-Key` table, compacted topics' newest offset
 * per key, and the estimate of the database's size that the partition-full check reads. Called by the partition
 * inside a group's transaction (see commit-queue.ts), one request at a time in arrival order.
 */

import { assert } from "../shared/assert.ts";
import { err, ok, type Result } from "../shared/errors.ts";
import { DATABASE_SIZE_RECHECK_APPENDS, DATABASE_SIZE_RECHECK_MARGIN_BYTES } from "../shared/limits.ts";
import type { TopicConfig } from "../shared/topic-config.ts";
import { compacts } from "./compaction.ts";
import type { AppendRequest, AppendResult } from "./types.ts";

interface IdempotencyRow extends Record<string, SqlStorageValue> {
	request_hash: string;
	base_offset: number;
	record_count: number;
	append_time_ms: number;
	created_at_ms: number;
}

/** A compacted topic's newest offset per key among a group's records (one upsert per key at the group's end). */
export type GroupKeys = Map<string, { offset: number; tombstone: boolean }>;

/**
 * SQLite's database size, read afresh every `DATABASE_SIZE_RECHECK_APPENDS` stored batches and whenever the estimate
 * (last reading plus bytes appended since) is within `DATABASE_SIZE_RECHECK_MARGIN_BYTES` of the limit.
 */
export class SizeEstimate {
	private sample: { bytes: number; appendedBytes: number; appends: number } | null = null;

	constructor(private readonly sql: SqlStorage) {}

	bytes(incomingBytes: number, limitBytes: number): number {
		const sample = this.sample;
		if (
			sample === null ||
			sample.appends >= DATABASE_SIZE_RECHECK_APPENDS ||
			sample.bytes + sample.appendedBytes + incomingBytes > limitBytes - DATABASE_SIZE_RECHECK_MARGIN_BYTES
		) {
			this.sample = { bytes: this.sql.databaseSize, appendedBytes: 0, appends: 0 };
			return this.sample.bytes;
		}
		return sample.bytes + sample.appendedBytes;
	}

	/** A group wrote `bytes` in `rows` stored batches. */
	appended(bytes: number, rows: number): void {
		if (this.sample === null) return;
		this.sample.appendedBytes += bytes;
		this.sample.appends += rows;
	}
}

export interface RefuseContext {
	readonly config: TopicConfig;
	readonly nextOffset: number;
	readonly storedBytes: number;
	/** Bytes staged by the group's earlier requests and not yet in a row. */
	readonly pendingBytes: number;
	readonly partitionBytesMax: number;
	readonly size: SizeEstimate;
}

/** Checks that must pass before anything is written: keys on compacted topics, the condition, sizes, space. */
export function refuseAppend(request: AppendRequest, context: RefuseContext): Result<never> | null {
	const { config, nextOffset } = context;
	if (compacts(config) && request.records.some((r) => r.keyId === null)) {
		return err("invalid_record", "records on a compacted topic must have a key");
	}
	const expected = request.expectedOffset ?? null;
	if (expected !== null && expected !== nextOffset) {
		return err("offset_mismatch", `expected_offset is ${expected} but the high watermark is ${nextOffset}`, {
			high_watermark: nextOffset,
		});
	}
	let incomingBytes = 0;
	for (const record of request.records) {
		const bytes = record.bytes;
		assert(Number.isSafeInteger(bytes) && bytes >= record.tail.length / 3, "the edge measured the record");
		if (bytes > config["max.message.bytes"]) {
			return err("record_too_large", `a record is ${bytes} bytes; max.message.bytes is ${config["max.message.bytes"]}`, {
				max_message_bytes: config["max.message.bytes"],
			});
		}
		incomingBytes += bytes;
	}
	incomingBytes += context.pendingBytes;
	// With remote storage, only the bytes held here count (the offload keeps them down), whatever is in R2.
	const held = config["remote.storage.enable"]
		? context.storedBytes
		: Math.max(context.storedBytes, context.size.bytes(incomingBytes, context.partitionBytesMax));
	if (held + incomingBytes > context.partitionBytesMax) {
		return err("partition_full", "this partition is full; lower retention.ms or retention.bytes, or add partitions", {
			partition_bytes_max: context.partitionBytesMax,
		});
	}
	return null;
}

/**
 * The original answer for an `Idempotency-Key` seen within the window; an error if the key was reused. An expired
 * key's row goes now, so the request is written as new.
 */
export function rememberedIdempotency(
	sql: SqlStorage,
	request: AppendRequest,
	nowMs: number,
	expired: (createdAtMs: number, nowMs: number) => boolean,
): Result<AppendResult> | null {
	const claim = request.idempotency;
	if (!claim) return null;
	const row = sql.exec<IdempotencyRow>("SELECT * FROM idempotency_keys WHERE key = ?", claim.key).toArray()[0];
	if (row === undefined || expired(row.created_at_ms, nowMs)) {
		if (row !== undefined) sql.exec("DELETE FROM idempotency_keys WHERE key = ?", claim.key);
		return null;
	}
	if (row.request_hash !== claim.requestHash || row.record_count !== request.records.length) {
		return err("idempotency_key_reused", "this Idempotency-Key was used for a different request");
	}
	return ok({ baseOffset: row.base_offset, appendTimeMs: row.append_time_ms, duplicate: true });
}

export function saveIdempotencyKey(sql: SqlStorage, request: AppendRequest, baseOffset: number, nowMs: number): void {
	const claim = request.idempotency;
	if (!claim) return;
	sql.exec(
		"INSERT INTO idempotency_keys (key, request_hash, base_offset, record_count, append_time_ms, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
		claim.key,
		claim.requestHash,
		baseOffset,
		request.records.length,
		nowMs,
		nowMs,
	);
}

/** Compacted topics: each key's newest offset in the group (and whether it is a tombstone), one upsert per key. */
export function saveKeys(sql: SqlStorage, keys: GroupKeys, nowMs: number): void {
	for (const [keyId, { offset, tombstone }] of keys) {
		sql.exec(
			"INSERT INTO record_keys (key_id, offset, tombstone, appended_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET offset = excluded.offset, tombstone = excluded.tombstone, appended_at_ms = excluded.appended_at_ms",
			keyId,
			offset,
			tombstone ? 1 : 0,
			nowMs,
		);
	}
}
