/**
 * @module
 * A partition's background work, on one alarm multiplexed over whatever is due first (partywhen's model):
 * retention (time and size, remote segments first), compaction, forgetting idle producers and old idempotency
 * keys, tiered storage's offload and orphan sweep (tiering/, the alarm's asynchronous part), and a deleted Durable
 * Streams stream's topic drop (stream-side.ts, after the run). Each run does
 * bounded work — a few hundred rows at most — and, if more is left, sets the alarm for now again, so produce
 * is never blocked for long.
 */

import { assert } from "../shared/assert.ts";
import { utf8ByteLength } from "../shared/json.ts";
import {
	ALARM_AT_MS_MAX,
	COMPACTION_BATCHES_PER_STEP,
	COMPACTION_DELAY_MS,
	EXPIRY_ROWS_PER_STEP,
	IDEMPOTENCY_WINDOW_MS,
	RETENTION_BATCHES_PER_STEP,
} from "../shared/limits.ts";
import { lineTimestamp, RECORD_SEPARATOR } from "../shared/record-codec.ts";
import type { TopicConfig } from "../shared/topic-config.ts";
import type { BatchCache } from "./batch-cache.ts";
import { compactLines, compacts, type LatestRecord } from "./compaction.ts";
import { endsColumn, saveTotals } from "./log-store.ts";
import { type HeadBatch, planRetention, retentionDueMs } from "./retention.ts";
import type { StreamSide } from "./stream-side.ts";
import type { TieredStorage } from "./tiering/tiered-storage.ts";
import { remoteRetentionDueMs } from "./tiering/tiering-plan.ts";
import type { LogView } from "./types.ts";

interface HeadRow extends Record<string, SqlStorageValue> {
	base_offset: number;
	last_offset: number;
	max_timestamp: number;
	bytes: number;
}

function toHead(row: HeadRow): HeadBatch {
	return { baseOffset: row.base_offset, lastOffset: row.last_offset, maxTimestamp: row.max_timestamp, bytes: row.bytes };
}

export class Lifecycle {
	readonly #sql: SqlStorage;
	/** When the alarm is set for, as far as this object knows; null when none is set. */
	private alarmAtMs: number | null = null;
	/** A run stopped at its step limit with work left. */
	#moreWork = false;
	/**
	 * The oldest local batch as last read, and the local log start it was read at. Appends never change it: only
	 * retention and compaction (both in `run`, which forgets it) and offload (which moves the local log start).
	 */
	#cachedHead: { readonly head: HeadBatch; readonly localLogStartOffset: number } | null = null;

	readonly #view: LogView;
	readonly #tiering: TieredStorage;

	constructor(
		private readonly storage: DurableObjectStorage,
		view: LogView,
		tiering: TieredStorage,
		private readonly cache: BatchCache,
		/** The Durable Streams side, whose stream marked deleted has its drop checked (stream-side.ts). */
		private readonly streams: Pick<StreamSide, "dropDueMs">,
	) {
		this.#view = view;
		this.#tiering = tiering;
		this.#sql = storage.sql;
	}

	async loadAlarm(): Promise<void> {
		this.alarmAtMs = await this.storage.getAlarm();
	}

	forgetAlarm(): void {
		this.alarmAtMs = null;
		this.#cachedHead = null;
	}

	idempotencyExpired(createdAtMs: number, nowMs: number): boolean {
		return createdAtMs + IDEMPOTENCY_WINDOW_MS <= nowMs;
	}

	/**
	 * A new config took effect. A topic that starts compacting again forgets the keys it knew: appends made while it
	 * did not compact left no key rows, so a row from before may name an older offset than the key's newest record,
	 * which compaction would then delete. Every such row names an offset below the high watermark of now, and every
	 * row written from now on one at or above it (`record_keys_from`): compaction takes the rows below for unknown
	 * (their keys are kept until appended again), and each alarm run deletes a bounded step of them.
	 */
	configured(previous: TopicConfig | null, config: TopicConfig, nowMs: number): void {
		if (previous !== null && !compacts(previous) && compacts(config)) {
			this.#sql.exec("UPDATE partition_state SET compaction_cursor = 0, record_keys_from = ? WHERE id = 1", this.#view.nextOffset);
			this.#moreWork = true;
		}
		this.reschedule(config, nowMs);
	}

	/** After an append, makes sure the alarm comes no later than the work this append made due. */
	afterAppend(config: TopicConfig, nowMs: number, usedProducer: boolean, usedIdempotency: boolean): void {
		const head = this.#headSinceChange();
		this.ensureBy(this.#retentionDueMs(head, config, nowMs));
		this.ensureBy(this.#tiering.afterAppendDueMs(head, config, nowMs));
		if (compacts(config)) {
			const due = this.#sql.exec<{ due: number | null }>("SELECT compaction_due_ms AS due FROM partition_state WHERE id = 1").one().due;
			if (due === null) {
				this.#sql.exec("UPDATE partition_state SET compaction_due_ms = ? WHERE id = 1", nowMs + COMPACTION_DELAY_MS);
				this.ensureBy(nowMs + COMPACTION_DELAY_MS);
			}
		}
		if (usedProducer) this.ensureBy(nowMs + config["producer.id.expiration.ms"]);
		if (usedIdempotency) this.ensureBy(nowMs + IDEMPOTENCY_WINDOW_MS);
	}

	/**
	 * One alarm run's synchronous part: every kind of due work, each bounded. Call inside a transaction. Retention
	 * drops remote segments first; local batches only once none is left, so the log stays one contiguous range.
	 */
	run(config: TopicConfig, nowMs: number): void {
		this.alarmAtMs = null;
		this.#cachedHead = null;
		this.#moreWork = false;
		this.#tiering.applyRetention(config, nowMs);
		if (!this.#tiering.hasRemote()) this.#applyRetention(config, nowMs);
		const keysFrom = this.#sql.exec<{ k: number }>("SELECT record_keys_from AS k FROM partition_state WHERE id = 1").one().k;
		this.#compactStep(config, nowMs, keysFrom);
		// Key rows of an earlier compacting period, and those of records retention deleted: a batch may hold any number.
		this.#expire("record_keys", "key_id", "offset", Math.max(keysFrom, this.#view.logStartOffset) - 1);
		this.#expire("producer_state", "producer_id", "updated_at_ms", nowMs - config["producer.id.expiration.ms"]);
		this.#expire("idempotency_keys", "key", "created_at_ms", nowMs - IDEMPOTENCY_WINDOW_MS);
	}

	/** Sets the alarm for the earliest due work (now, if a run left work), or clears it when nothing is due. */
	reschedule(config: TopicConfig, nowMs: number): void {
		const head = this.#head();
		const candidates = [
			this.#moreWork ? nowMs : null,
			this.#retentionDueMs(head, config, nowMs),
			this.#tiering.dueMs(head, config, nowMs),
			this.#sql.exec<{ due: number | null }>("SELECT compaction_due_ms AS due FROM partition_state WHERE id = 1").one().due,
			this.#minPlus("producer_state", "updated_at_ms", config["producer.id.expiration.ms"]),
			this.#minPlus("idempotency_keys", "created_at_ms", IDEMPOTENCY_WINDOW_MS),
			this.streams.dropDueMs(nowMs),
		].filter((due): due is number => due !== null);
		const due = candidates.length === 0 ? null : Math.min(Math.max(nowMs, Math.min(...candidates)), ALARM_AT_MS_MAX);
		if (due !== this.alarmAtMs) this.#setAlarm(due);
	}

	/** Sets the alarm for `atMs` whatever it was set for: a failed run's retry (alarm-run.ts). */
	retryAt(atMs: number): void {
		this.#setAlarm(Math.min(atMs, ALARM_AT_MS_MAX));
	}

	/** When retention next has work: on the oldest remote segment while there is one, else on the local head. */
	#retentionDueMs(head: HeadBatch | null, config: TopicConfig, nowMs: number): number | null {
		const remote = this.#tiering.remoteHead();
		const totalBytes = this.#view.totalBytes + this.#view.remoteBytes;
		const start = this.#view.logStartOffset;
		return remote === null
			? retentionDueMs(head, totalBytes, config, nowMs, start)
			: remoteRetentionDueMs(remote, totalBytes, config, nowMs, start);
	}

	/** Makes sure the alarm comes by `dueMs` (null: no due work) at the latest. */
	ensureBy(dueMs: number | null): void {
		if (dueMs !== null && (this.alarmAtMs === null || this.alarmAtMs > dueMs)) this.#setAlarm(Math.min(dueMs, ALARM_AT_MS_MAX));
	}

	/**
	 * Sets (or, for null, deletes) the alarm without awaiting it: the output gate holds replies until it is stored.
	 * Should it still fail, the alarm is forgotten, so the next append or run sets it again: no unhandled rejection.
	 */
	#setAlarm(atMs: number | null): void {
		assert(atMs === null || atMs <= ALARM_AT_MS_MAX, "alarm time");
		this.alarmAtMs = atMs;
		(atMs === null ? this.storage.deleteAlarm() : this.storage.setAlarm(atMs)).catch(() => {
			this.alarmAtMs = null;
		});
	}

	/** `head()`, read again only when the head may have changed (see `cachedHead`): one query fewer per append. */
	#headSinceChange(): HeadBatch | null {
		const cached = this.#cachedHead;
		if (cached !== null && cached.localLogStartOffset === this.#view.localLogStartOffset) return cached.head;
		const head = this.#head();
		this.#cachedHead = head === null ? null : { head, localLogStartOffset: this.#view.localLogStartOffset };
		return head;
	}

	#head(): HeadBatch | null {
		const row = this.#sql
			.exec<HeadRow>("SELECT base_offset, last_offset, max_timestamp, bytes FROM batches ORDER BY base_offset LIMIT 1")
			.toArray()[0];
		return row === undefined ? null : toHead(row);
	}

	#minPlus(table: string, column: string, plusMs: number): number | null {
		const min = this.#sql.exec<{ m: number | null }>(`SELECT MIN(${column}) AS m FROM ${table}`).one().m;
		return min === null ? null : min + plusMs;
	}

	/**
	 * Deletes whole batches from the head; the log start offset moves to the first batch left. The head is read
	 * lazily, so a pass reads the batches it deletes and one more, at most `RETENTION_BATCHES_PER_STEP`.
	 */
	#applyRetention(config: TopicConfig, nowMs: number): void {
		const cursor = this.#sql.exec<HeadRow & { record_count: number }>(
			"SELECT base_offset, last_offset, max_timestamp, bytes, record_count FROM batches ORDER BY base_offset LIMIT ?",
			RETENTION_BATCHES_PER_STEP,
		);
		const read: (HeadBatch & { recordCount: number })[] = [];
		const head = function* (): Generator<HeadBatch> {
			for (const row of cursor) {
				const batch = { ...toHead(row), recordCount: row.record_count };
				read.push(batch);
				yield batch;
			}
		};
		assert(this.#view.remoteBytes === 0, "remote first");
		const count = planRetention(head(), this.#view.totalBytes, config, nowMs, this.#view.logStartOffset);
		if (count === 0) return;
		if (count === RETENTION_BATCHES_PER_STEP) this.#moreWork = true;
		const deleted = read.slice(0, count);
		const last = deleted[count - 1] as HeadBatch;
		this.#sql.exec("DELETE FROM batches WHERE base_offset <= ?", last.baseOffset);
		this.cache.forgetThrough(last.baseOffset);
		const localLogStartOffset = last.lastOffset + 1;
		// A DeleteRecords may have moved the log start past the deleted batches, even into the first one left.
		const logStartOffset = Math.max(this.#view.logStartOffset, localLogStartOffset);
		assert(logStartOffset <= this.#view.nextOffset, "retention <= hw");
		this.#sql.exec(
			"UPDATE partition_state SET log_start_offset = ?, local_log_start_offset = ?, next_offset_floor = ? WHERE id = 1",
			logStartOffset,
			localLogStartOffset,
			this.#view.nextOffset,
		);
		this.#view.logStartOffset = logStartOffset;
		this.#view.localLogStartOffset = localLogStartOffset;
		this.#view.totalBytes -= deleted.reduce((n, b) => n + b.bytes, 0);
		this.#view.storedBatches -= count;
		this.#view.storedRecords -= deleted.reduce((n, b) => n + b.recordCount, 0);
		saveTotals(this.#sql, this.#view, this.#view.nextOffset);
	}

	/**
	 * One step of a compaction pass: rewrites up to `COMPACTION_BATCHES_PER_STEP` batches after the cursor,
	 * never the newest batch (the active tail). At the end of a pass, schedules the next one for when the oldest
	 * tombstone may go, or leaves it to the next append. Segments in R2 (left by remote storage before the topic
	 * became compacted) are immutable and may hold older records of any key: while there are any, tombstones stay.
	 */
	#compactStep(config: TopicConfig, nowMs: number, keysFrom: number): void {
		const state = this.#sql
			.exec<{ due: number | null; cursor: number }>(
				"SELECT compaction_due_ms AS due, compaction_cursor AS cursor FROM partition_state WHERE id = 1",
			)
			.one();
		if (!compacts(config) || state.due === null || state.due > nowMs) return;
		const tail = this.#sql.exec<{ b: number | null }>("SELECT MAX(base_offset) AS b FROM batches").one().b ?? 0;
		const rows = this.#sql
			.exec<{ base_offset: number; records: string; bytes: number; record_count: number }>(
				"SELECT base_offset, records, bytes, record_count FROM batches WHERE base_offset >= ? AND base_offset < ? ORDER BY base_offset LIMIT ?",
				state.cursor,
				tail,
				COMPACTION_BATCHES_PER_STEP,
			)
			.toArray();
		const latest = (keyId: string): LatestRecord | undefined => {
			const row = this.#sql
				.exec<{ offset: number; tombstone: number; appended_at_ms: number }>(
					"SELECT offset, tombstone, appended_at_ms FROM record_keys WHERE key_id = ? AND offset >= ?",
					keyId,
					keysFrom,
				)
				.toArray()[0];
			return row === undefined ? undefined : { offset: row.offset, tombstone: row.tombstone === 1, appendedAtMs: row.appended_at_ms };
		};
		const tombstonesMayGo = !this.#tiering.hasRemote();
		for (const row of rows) this.#compactBatch(row, latest, config, nowMs, tombstonesMayGo);
		saveTotals(this.#sql, this.#view, this.#view.nextOffset);
		if (rows.length === COMPACTION_BATCHES_PER_STEP) {
			this.#moreWork = true;
			this.#sql.exec("UPDATE partition_state SET compaction_cursor = ? WHERE id = 1", (rows.at(-1)?.base_offset ?? 0) + 1);
			return;
		}
		const oldestTombstone = this.#sql
			.exec<{ m: number | null }>("SELECT MIN(appended_at_ms) AS m FROM record_keys WHERE tombstone = 1 AND offset >= ?", keysFrom)
			.one().m;
		const nextDue =
			oldestTombstone === null || !tombstonesMayGo ? null : Math.max(nowMs + 1, oldestTombstone + config["delete.retention.ms"]);
		this.#sql.exec("UPDATE partition_state SET compaction_cursor = 0, compaction_due_ms = ? WHERE id = 1", nextDue);
	}

	#compactBatch(
		row: { base_offset: number; records: string; bytes: number; record_count: number },
		latest: (keyId: string) => LatestRecord | undefined,
		config: TopicConfig,
		nowMs: number,
		tombstonesMayGo: boolean,
	): void {
		const lines = row.records.split(RECORD_SEPARATOR);
		const { kept, expiredKeys } = compactLines(lines, latest, config, nowMs, tombstonesMayGo);
		for (const keyId of expiredKeys) this.#sql.exec("DELETE FROM record_keys WHERE key_id = ?", keyId);
		if (kept.length === lines.length) return;
		this.cache.forgetThrough(row.base_offset);
		if (kept.length === 0) {
			this.#sql.exec("DELETE FROM batches WHERE base_offset = ?", row.base_offset);
			this.#view.totalBytes -= row.bytes;
			this.#view.storedBatches--;
			this.#view.storedRecords -= row.record_count;
			return;
		}
		let bytes = 0;
		const ends = new Uint32Array(kept.length);
		for (const [k, line] of kept.entries()) {
			bytes += utf8ByteLength(line) + RECORD_SEPARATOR.length;
			ends[k] = bytes - RECORD_SEPARATOR.length;
		}
		const maxTimestamp = Math.max(...kept.map(lineTimestamp));
		this.#sql.exec(
			"UPDATE batches SET records = ?, record_count = ?, bytes = ?, max_timestamp = ?, record_ends = ? WHERE base_offset = ?",
			kept.join(RECORD_SEPARATOR),
			kept.length,
			bytes,
			maxTimestamp,
			endsColumn(ends),
			row.base_offset,
		);
		this.#view.totalBytes += bytes - row.bytes;
		this.#view.storedRecords += kept.length - row.record_count;
	}

	#expire(table: string, key: string, column: string, cutoffMs: number): void {
		const cursor = this.#sql.exec(
			`DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${column} <= ? LIMIT ?)`,
			cutoffMs,
			EXPIRY_ROWS_PER_STEP,
		);
		if (cursor.rowsWritten >= EXPIRY_ROWS_PER_STEP) this.#moreWork = true;
	}
}
