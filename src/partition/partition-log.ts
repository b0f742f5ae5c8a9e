/**
 * @module
 * `PartitionLog`: one Durable Object per topic partition, owning an ordered log in its SQLite storage.
 *
 * Appends run synchronously inside one `transactionSync`, so there is no await between reading the next offset
 * and writing it: concurrent producers can never interleave, offsets stay dense, and the output gate holds the
 * RPC reply until the rows are durable (a produce is acknowledged only after its write has committed).
 */

import { DurableObject } from "cloudflare:workers";
import { assert } from "../shared/assert.ts";
import { err, ok, type Result } from "../shared/errors.ts";
import { utf8ByteLength } from "../shared/json.ts";
import { STORED_BATCH_BYTES_TARGET } from "../shared/limits.ts";
import { encodeLine, lineOffset, lineTimestamp, RECORD_SEPARATOR } from "../shared/record-codec.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import type { TopicConfig } from "../shared/topic-config.ts";
import { PARTITION_DDL, PARTITION_SCHEMA_VERSION } from "./schema.ts";
import type { AppendRequest, AppendResult, NeedsConfig, PartitionAssignment, PartitionOffsets, ReadRequest, ReadResult } from "./types.ts";
import { Waiters } from "./waiters.ts";

type Status = "unconfigured" | "active" | "deleted";

interface StateRow extends Record<string, SqlStorageValue> {
	status: Status;
	topic: string | null;
	topic_id: string | null;
	partition: number | null;
	config_version: number;
	config: string | null;
	log_start_offset: number;
	next_offset_floor: number;
}

interface BatchRow extends Record<string, SqlStorageValue> {
	base_offset: number;
	last_offset: number;
	record_count: number;
	bytes: number;
	records: string;
}

export class PartitionLog extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	private status: Status = "unconfigured";
	private topicId: string | null = null;
	private partition = -1;
	private configVersion = 0;
	private config: TopicConfig | null = null;
	private logStartOffset = 0;
	/** The high watermark: the offset the next appended record gets. */
	private nextOffset = 0;
	/** Running maximum of record timestamps, so `timestamp_high` is monotonic and indexable. */
	private timestampHigh = 0;
	private readonly waiters = new Waiters();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.migrate();
		this.load();
	}

	private migrate(): void {
		migrateSchema(this.ctx.storage, PARTITION_SCHEMA_VERSION, PARTITION_DDL);
	}

	/** Rebuilds the in-memory view from SQLite: after a restart or an eviction this is all the state there is. */
	private load(): void {
		const row = this.sql.exec<StateRow>("SELECT * FROM partition_state WHERE id = 1").one();
		this.status = row.status;
		this.topicId = row.topic_id;
		this.partition = row.partition ?? -1;
		this.configVersion = row.config_version;
		this.config = row.config === null ? null : (JSON.parse(row.config) as TopicConfig);
		this.logStartOffset = row.log_start_offset;
		const tail = this.sql
			.exec<{ last_offset: number; timestamp_high: number }>(
				"SELECT last_offset, timestamp_high FROM batches ORDER BY base_offset DESC LIMIT 1",
			)
			.toArray()[0];
		this.nextOffset = Math.max(row.next_offset_floor, tail === undefined ? 0 : tail.last_offset + 1);
		this.timestampHigh = tail?.timestamp_high ?? 0;
		assert(this.logStartOffset <= this.nextOffset, "log start offset is at or below the high watermark");
	}

	/** Sets who this partition is and its config. Idempotent; an older config version never replaces a newer one. */
	configure(assignment: PartitionAssignment): Result<PartitionOffsets> {
		if (this.status === "deleted") return err("topic_not_found", `topic "${assignment.topic}" was deleted`);
		if (this.status === "active") {
			assert(this.topicId === assignment.topicId && this.partition === assignment.partition, "a partition keeps its identity");
			if (assignment.configVersion <= this.configVersion) return ok(this.offsets());
		}
		this.sql.exec(
			"UPDATE partition_state SET status = 'active', topic = ?, topic_id = ?, partition = ?, config_version = ?, config = ? WHERE id = 1",
			assignment.topic,
			assignment.topicId,
			assignment.partition,
			assignment.configVersion,
			JSON.stringify(assignment.config),
		);
		this.status = "active";
		this.topicId = assignment.topicId;
		this.partition = assignment.partition;
		this.configVersion = assignment.configVersion;
		this.config = assignment.config;
		return ok(this.offsets());
	}

	/**
	 * Appends records with consecutive offsets, all or nothing. Records without a timestamp get the append time.
	 * The edge has validated sizes against the same config; they are checked again here because this is the
	 * last line before storage.
	 */
	append(request: AppendRequest): Result<AppendResult> | NeedsConfig {
		const identity = this.checkIdentity(request.topicId);
		if (identity !== null) return identity;
		if (this.status !== "active" || this.configVersion < request.configVersion) return { needsConfig: true };
		const config = this.config;
		assert(config !== null, "an active partition has a config");
		const count = request.records.length;
		assert(count > 0, "an append carries at least one record");
		for (const record of request.records) {
			const bytes = utf8ByteLength(record.tail);
			if (bytes > config["max.message.bytes"]) {
				return err("record_too_large", `a record is ${bytes} bytes; max.message.bytes is ${config["max.message.bytes"]}`, {
					max_message_bytes: config["max.message.bytes"],
				});
			}
		}
		const appendTimeMs = Date.now();
		const baseOffset = this.nextOffset;
		let timestampHigh = this.timestampHigh;
		this.ctx.storage.transactionSync(() => {
			let lines: string[] = [];
			let bytes = 0;
			let maxTimestamp = -1;
			let chunkBase = baseOffset;
			const flush = (): void => {
				timestampHigh = Math.max(timestampHigh, maxTimestamp);
				const last = chunkBase + lines.length - 1;
				this.sql.exec(
					"INSERT INTO batches (base_offset, last_offset, record_count, max_timestamp, timestamp_high, bytes, records) VALUES (?, ?, ?, ?, ?, ?, ?)",
					chunkBase,
					last,
					lines.length,
					maxTimestamp,
					timestampHigh,
					bytes,
					lines.join(RECORD_SEPARATOR),
				);
				chunkBase = last + 1;
				lines = [];
				bytes = 0;
				maxTimestamp = -1;
			};
			for (let i = 0; i < count; i++) {
				const record = request.records[i] as (typeof request.records)[number];
				const timestampMs = record.timestampMs ?? appendTimeMs;
				const line = encodeLine(this.partition, baseOffset + i, timestampMs, record.tail);
				const lineBytes = utf8ByteLength(line) + RECORD_SEPARATOR.length;
				if (lines.length > 0 && bytes + lineBytes > STORED_BATCH_BYTES_TARGET) flush();
				lines.push(line);
				bytes += lineBytes;
				maxTimestamp = Math.max(maxTimestamp, timestampMs);
			}
			flush();
			assert(chunkBase === baseOffset + count, "every record was written at its offset");
		});
		this.nextOffset = baseOffset + count;
		this.timestampHigh = timestampHigh;
		this.waiters.wakeAll();
		return ok({ baseOffset, appendTimeMs });
	}

	/**
	 * Reads records from `offset`, up to `maxRecords` and about `maxBytes` (always at least one record if one
	 * exists). At the high watermark it waits up to `waitMs` for an append before answering empty.
	 */
	async read(request: ReadRequest): Promise<Result<ReadResult>> {
		const identity = this.checkIdentity(request.topicId);
		if (identity !== null) return identity;
		let offset = request.offset ?? this.logStartOffset;
		const range = this.checkRange(offset);
		if (range !== null) return range;
		if (offset === this.nextOffset && request.waitMs > 0) {
			await this.waiters.wait(request.waitMs);
			offset = request.offset ?? this.logStartOffset;
			const after = this.checkIdentity(request.topicId) ?? this.checkRange(offset);
			if (after !== null) return after;
		}
		return ok(this.readNow(offset, request.maxRecords, request.maxBytes));
	}

	private readNow(offset: number, maxRecords: number, maxBytes: number): ReadResult {
		const parts: string[] = [];
		let recordCount = 0;
		let bytes = 0;
		let nextOffset = offset;
		const rows = this.sql.exec<BatchRow>(
			"SELECT base_offset, last_offset, record_count, bytes, records FROM batches WHERE last_offset >= ? ORDER BY base_offset",
			offset,
		);
		for (const row of rows) {
			const whole = row.base_offset >= offset && recordCount + row.record_count <= maxRecords && bytes + row.bytes <= maxBytes;
			if (whole) {
				parts.push(row.records);
				recordCount += row.record_count;
				bytes += row.bytes;
				nextOffset = row.last_offset + 1;
			} else {
				// A batch that starts before `offset` or does not fit: take the records that do, one by one.
				let complete = true;
				for (const line of row.records.split(RECORD_SEPARATOR)) {
					const at = lineOffset(line);
					if (at < offset) continue;
					const lineBytes = utf8ByteLength(line) + RECORD_SEPARATOR.length;
					if (recordCount > 0 && (recordCount >= maxRecords || bytes + lineBytes > maxBytes)) {
						complete = false;
						break;
					}
					parts.push(line);
					recordCount++;
					bytes += lineBytes;
					nextOffset = at + 1;
				}
				if (!complete) break;
				nextOffset = row.last_offset + 1;
			}
			if (recordCount >= maxRecords || bytes >= maxBytes) break;
		}
		assert(nextOffset <= this.nextOffset && nextOffset >= offset, "a read ends inside the log");
		return {
			records: parts.join(RECORD_SEPARATOR),
			recordCount,
			nextOffset,
			highWatermark: this.nextOffset,
			logStartOffset: this.logStartOffset,
		};
	}

	/** The log start offset and high watermark. An unconfigured partition is an empty log. */
	offsets(): PartitionOffsets {
		return { logStartOffset: this.logStartOffset, highWatermark: this.nextOffset };
	}

	/**
	 * The first offset whose timestamp is at or after `timestampMs` (Kafka's ListOffsets by time: searched by the
	 * running maximum timestamp, so out-of-order producer timestamps cannot hide later records). If no record is
	 * that recent, the high watermark: the next record appended will be the first.
	 */
	offsetForTimestamp(topicId: string, timestampMs: number): Result<{ offset: number }> {
		const identity = this.checkIdentity(topicId);
		if (identity !== null) return identity;
		const row = this.sql
			.exec<{ records: string }>(
				"SELECT records FROM batches WHERE timestamp_high >= ? ORDER BY timestamp_high, base_offset LIMIT 1",
				timestampMs,
			)
			.toArray()[0];
		if (row === undefined) return ok({ offset: this.nextOffset });
		for (const line of row.records.split(RECORD_SEPARATOR)) {
			if (lineTimestamp(line) >= timestampMs) return ok({ offset: lineOffset(line) });
		}
		assert(false, "the first batch whose running max reaches a time holds a record at or after it");
	}

	/** Deletes every record and marks the partition deleted, so a stale producer cannot write into it again. */
	async destroy(topicId: string): Promise<void> {
		if (this.status === "active") assert(this.topicId === topicId, "destroy names this partition's topic");
		await this.ctx.storage.deleteAlarm();
		await this.ctx.storage.deleteAll();
		this.migrate();
		this.sql.exec("UPDATE partition_state SET status = 'deleted', topic_id = ? WHERE id = 1", topicId);
		this.status = "deleted";
		this.topicId = topicId;
		this.config = null;
		this.logStartOffset = 0;
		this.nextOffset = 0;
		this.timestampHigh = 0;
		this.waiters.wakeAll();
	}

	private checkIdentity(topicId: string): Result<never> | null {
		if (this.status === "deleted" || (this.topicId !== null && this.topicId !== topicId)) {
			return err("topic_not_found", "the topic was deleted");
		}
		return null;
	}

	private checkRange(offset: number): Result<never> | null {
		if (offset >= this.logStartOffset && offset <= this.nextOffset) return null;
		return err("offset_out_of_range", `offset ${offset} is outside [${this.logStartOffset}, ${this.nextOffset}]`, {
			log_start_offset: this.logStartOffset,
			high_watermark: this.nextOffset,
		});
	}
}
