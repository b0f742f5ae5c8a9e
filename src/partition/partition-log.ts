/**
 * @module
 * `PartitionLog`: one Durable Object per topic partition, owning an ordered log in its SQLite storage.
 *
 * Appends run synchronously inside one `transactionSync`, so there is no await between reading the next offset
 * and writing it: concurrent producers can never interleave, offsets stay dense, and the output gate holds the
 * RPC reply until the rows are durable (a produce is acknowledged only after its write has committed).
 * Background work — retention, compaction, forgetting idle producers and old idempotency keys — runs in one
 * alarm multiplexed over whatever is due first (see `lifecycle.ts`).
 */

import { DurableObject } from "cloudflare:workers";
import { MetricsReporter } from "../metrics/reporter.ts";
import { assert } from "../shared/assert.ts";
import { err, type Failure, ok, type Result } from "../shared/errors.ts";
import {
	DATABASE_SIZE_RECHECK_APPENDS,
	DATABASE_SIZE_RECHECK_MARGIN_BYTES,
	PARTITION_BYTES_MAX,
	STORED_BATCH_BYTES_TARGET,
} from "../shared/limits.ts";
import { readAcross } from "../shared/log-reader.ts";
import { decodeBatch, encodeLine, RECORD_SEPARATOR } from "../shared/record-codec.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import { keyAuthority, webhookDispatcher } from "../shared/stubs.ts";
import { storedConfig, type TopicConfig } from "../shared/topic-config.ts";
import { compacts } from "./compaction.ts";
import { Lifecycle } from "./lifecycle.ts";
import { findOffsetForTimestamp, readLog, saveTotals } from "./log-store.ts";
import { partitionFigures } from "./metrics.ts";
import { afterAppend, checkSequence } from "./producer-state.ts";
import { loadProducerState, saveProducerState } from "./producer-store.ts";
import { PARTITION_DDL, PARTITION_SCHEMA_VERSION, PARTITION_UPGRADES } from "./schema.ts";
import { StreamSide } from "./stream-side.ts";
import type { StreamAppendRequest, StreamCreateRequest, StreamReadRequest } from "./stream-types.ts";
import { acknowledge, keyTag, pushTail, TAIL_CLOSE, type TailLog, type TailState, tailCapacity } from "./tail.ts";
import { findRemoteTimestamp, remoteRead } from "./tiering/remote-lookup.ts";
import { TieredStorage } from "./tiering/tiered-storage.ts";
import type {
	AppendInput,
	AppendRequest,
	AppendResult,
	LogView,
	NeedsConfig,
	PartitionAssignment,
	PartitionOffsets,
	ReadAnswer,
	ReadRequest,
	ReadResult,
	TimestampAnswer,
} from "./types.ts";
import { Waiters } from "./waiters.ts";

type Status = "unconfigured" | "active" | "deleted";

interface StateRow extends Record<string, SqlStorageValue> {
	status: Status;
	topic_id: string | null;
	partition: number | null;
	config_version: number;
	config: string | null;
	log_start_offset: number;
	next_offset_floor: number;
	stored_bytes: number;
	stored_batches: number;
	stored_records: number;
	local_log_start_offset: number;
	remote_bytes: number;
}

interface IdempotencyRow extends Record<string, SqlStorageValue> {
	request_hash: string;
	base_offset: number;
	record_count: number;
	append_time_ms: number;
}

export class PartitionLog extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	private status: Status = "unconfigured";
	private topicId: string | null = null;
	private partition = -1;
	private configVersion = 0;
	private config: TopicConfig | null = null;
	private readonly view: LogView = {
		logStartOffset: 0,
		localLogStartOffset: 0,
		remoteBytes: 0,
		nextOffset: 0,
		timestampHigh: 0,
		totalBytes: 0,
		storedBatches: 0,
		storedRecords: 0,
	};
	private readonly waiters = new Waiters();
	private readonly lifecycle: Lifecycle;
	/** Offload to R2 and everything remote (tiering/). */
	private readonly tiering: TieredStorage;
	/** Appends stop here (507); a field rather than the constant so tests can lower it. */
	partitionBytesMax = PARTITION_BYTES_MAX;
	/** Where segments go: the `SEGMENTS` binding; a field so tests can wrap it to inject R2 failures. */
	segments: R2Bucket = this.env.SEGMENTS;
	/**
	 * Keys revoked while this object is in memory: a tail whose registration raced the revocation is refused by
	 * this check after it registered. An eviction forgets it, but also ends any registration in flight.
	 */
	private readonly revokedKeys = new Set<string>();
	/** `append_watchers`, in memory: watcher → the offset past which it wants a poke. */
	private readonly watchers = new Map<string, number>();
	/** Watchers with a poke in flight, so a burst of appends sends one. */
	private readonly poking = new Set<string>();
	/** The database size as last read, and what this object has appended since (see `databaseBytes`). */
	private sizeSample: { bytes: number; appendedBytes: number; appends: number } | null = null;
	/** A Durable Streams stream's protocol state, on this log (see stream-side.ts); idle for ordinary topics. */
	private readonly streams = new StreamSide({
		sql: this.ctx.storage.sql,
		offsets: () => this.view,
		identity: (topicId) => this.checkIdentity(topicId),
		append: (request) => this.append(request),
		read: (request) => readAcross(this.segments, (r) => this.read(r), request),
		wake: () => this.waiters.wakeAll(),
	});
	/** What the WebSocket tails (tail.ts) read: the view, local reads, and reads across R2 for old offsets. */
	private readonly tailLog: TailLog = {
		view: this.view,
		readNow: (offset, maxRecords, maxBytes) => this.readNow(offset, maxRecords, maxBytes),
		readAcross: (offset, maxRecords, maxBytes) =>
			readAcross(this.segments, (r) => this.read(r), { topicId: this.topicId ?? "", offset, maxRecords, maxBytes, waitMs: 0 }),
		background: (work) => this.ctx.waitUntil(work),
	};
	/** Bytes appended since this object started, for the metrics hub. */
	private bytesAppended = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		// Meters every statement from here on and reports offsets and sizes to the metrics hub after a change.
		new MetricsReporter(env, ctx, "PartitionLog", () =>
			partitionFigures(this.sql, this.status === "active", this.view, this.partition, this.bytesAppended),
		);
		this.sql = ctx.storage.sql;
		migrateSchema(ctx.storage, PARTITION_SCHEMA_VERSION, PARTITION_DDL, PARTITION_UPGRADES);
		this.load();
		this.tiering = new TieredStorage({
			storage: ctx.storage,
			view: this.view,
			bucket: () => this.segments,
			identity: () => (this.status === "active" && this.topicId !== null ? { topicId: this.topicId, partition: this.partition } : null),
		});
		this.lifecycle = new Lifecycle(ctx.storage, this.view, this.tiering);
		ctx.blockConcurrencyWhile(() => this.lifecycle.loadAlarm());
	}

	/**
	 * Rebuilds the in-memory view from SQLite: after a restart or an eviction this is all the state there is. Reads
	 * the state row, the newest batch (a seek on the primary key) and the append watchers (one per topic's webhook
	 * dispatcher): a wake-up costs the same on a log of any length.
	 */
	private load(): void {
		const row = this.sql.exec<StateRow>("SELECT * FROM partition_state WHERE id = 1").one();
		this.status = row.status;
		this.topicId = row.topic_id;
		this.partition = row.partition ?? -1;
		this.configVersion = row.config_version;
		this.config = row.config === null ? null : storedConfig(row.config);
		const tail = this.sql
			.exec<{ last_offset: number; timestamp_high: number }>(
				"SELECT last_offset, timestamp_high FROM batches ORDER BY base_offset DESC LIMIT 1",
			)
			.toArray()[0];
		this.view.logStartOffset = row.log_start_offset;
		this.view.localLogStartOffset = row.local_log_start_offset;
		this.view.remoteBytes = row.remote_bytes;
		this.view.nextOffset = Math.max(row.next_offset_floor, tail === undefined ? 0 : tail.last_offset + 1);
		this.view.timestampHigh = tail?.timestamp_high ?? 0;
		this.view.totalBytes = row.stored_bytes;
		this.view.storedBatches = row.stored_batches;
		this.view.storedRecords = row.stored_records;
		this.watchers.clear();
		for (const w of this.sql.exec<{ watcher: string; from_offset: number }>("SELECT watcher, from_offset FROM append_watchers")) {
			this.watchers.set(w.watcher, w.from_offset);
		}
		assert(
			this.view.logStartOffset <= this.view.localLogStartOffset && this.view.localLogStartOffset <= this.view.nextOffset,
			"log start ≤ local log start ≤ high watermark",
		);
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
		this.lifecycle.reschedule(assignment.config, Date.now());
		return ok(this.offsets());
	}

	/**
	 * Appends records with consecutive offsets, all or nothing. A batch already written by the same idempotent
	 * producer sequence or `Idempotency-Key` is answered with its original offsets and written again never.
	 */
	append(input: AppendInput): Result<AppendResult> | NeedsConfig {
		const request: AppendRequest = input.records === undefined ? { ...input, records: decodeBatch(input.batch) } : input;
		const identity = this.checkIdentity(request.topicId);
		if (identity !== null) return identity;
		if (this.status !== "active" || this.configVersion < request.configVersion) return { needsConfig: true };
		const config = this.config;
		assert(config !== null, "an active partition has a config");
		assert(request.records.length > 0, "an append carries at least one record");
		const nowMs = Date.now();
		const producer = request.producer ?? null;
		const producerState = producer === null ? null : loadProducerState(this.sql, producer.producerId);
		if (producer !== null) {
			const decision = checkSequence(producerState, producer.epoch, producer.baseSequence, request.records.length);
			if (decision.kind === "reject") return { ok: false, error: decision.error };
			if (decision.kind === "duplicate") {
				return ok({ baseOffset: decision.batch.baseOffset, appendTimeMs: decision.batch.appendTimeMs, duplicate: true });
			}
		}
		const remembered = this.rememberedIdempotency(request, nowMs);
		if (remembered !== null) return remembered;
		const refused = this.refuse(request, config);
		if (refused !== null) return refused;
		const baseOffset = this.view.nextOffset;
		this.ctx.storage.transactionSync(() => {
			this.writeBatches(request, baseOffset, nowMs);
			if (producer !== null) {
				const batch = { baseSequence: producer.baseSequence, recordCount: request.records.length, baseOffset, appendTimeMs: nowMs };
				saveProducerState(this.sql, afterAppend(producerState, producer.producerId, producer.epoch, batch, nowMs));
			}
			if (request.idempotency) {
				this.sql.exec(
					"INSERT INTO idempotency_keys (key, request_hash, base_offset, record_count, append_time_ms, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
					request.idempotency.key,
					request.idempotency.requestHash,
					baseOffset,
					request.records.length,
					nowMs,
					nowMs,
				);
			}
			if (compacts(config)) this.trackKeys(request, baseOffset, nowMs);
		});
		this.waiters.wakeAll();
		for (const ws of this.ctx.getWebSockets()) pushTail(ws, this.tailLog);
		this.pokeWatchers();
		this.lifecycle.afterAppend(config, nowMs, producer !== null, Boolean(request.idempotency));
		return ok({ baseOffset, appendTimeMs: nowMs, duplicate: false });
	}

	streamCreate(request: StreamCreateRequest) {
		return this.streams.create(request);
	}
	streamAppend(request: StreamAppendRequest) {
		return this.streams.append(request);
	}
	streamRead(request: StreamReadRequest) {
		return this.streams.read(request);
	}
	streamHead(topicId: string) {
		return this.streams.head(topicId);
	}
	streamDelete(topicId: string) {
		return this.streams.delete(topicId);
	}
	streamReference(topicId: string, delta: 1 | -1) {
		return this.streams.reference(topicId, delta);
	}

	/** Checks that must pass before anything is written: keys on compacted topics, the condition, sizes, space. */
	private refuse(request: AppendRequest, config: TopicConfig): Result<never> | null {
		if (compacts(config) && request.records.some((r) => r.keyId === null)) {
			return err("invalid_record", "records on a compacted topic must have a key");
		}
		const expected = request.expectedOffset ?? null;
		if (expected !== null && expected !== this.view.nextOffset) {
			return err("offset_mismatch", `expected_offset is ${expected} but the high watermark is ${this.view.nextOffset}`, {
				high_watermark: this.view.nextOffset,
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
		// With remote storage, only the bytes held here count (the offload keeps them down), whatever is in R2.
		const held = config["remote.storage.enable"] ? this.view.totalBytes : Math.max(this.view.totalBytes, this.databaseBytes(incomingBytes));
		if (held + incomingBytes > this.partitionBytesMax) {
			return err("partition_full", "this partition is full; lower retention.ms or retention.bytes, or add partitions", {
				partition_bytes_max: this.partitionBytesMax,
			});
		}
		return null;
	}

	/**
	 * SQLite's database size, read afresh every `DATABASE_SIZE_RECHECK_APPENDS` stored batches and whenever the estimate
	 * (last reading plus bytes appended since) is within `DATABASE_SIZE_RECHECK_MARGIN_BYTES` of the limit.
	 */
	private databaseBytes(incomingBytes: number): number {
		const sample = this.sizeSample;
		if (
			sample === null ||
			sample.appends >= DATABASE_SIZE_RECHECK_APPENDS ||
			sample.bytes + sample.appendedBytes + incomingBytes > this.partitionBytesMax - DATABASE_SIZE_RECHECK_MARGIN_BYTES
		) {
			this.sizeSample = { bytes: this.sql.databaseSize, appendedBytes: 0, appends: 0 };
			return this.sizeSample.bytes;
		}
		return sample.bytes + sample.appendedBytes;
	}

	/** Writes the records as stored batches of about `STORED_BATCH_BYTES_TARGET`, with dense offsets. */
	private writeBatches(request: AppendRequest, baseOffset: number, appendTimeMs: number): void {
		let lines: string[] = [];
		let bytes = 0;
		let maxTimestamp = -1;
		let chunkBase = baseOffset;
		const flush = (): void => {
			this.view.timestampHigh = Math.max(this.view.timestampHigh, maxTimestamp);
			const last = chunkBase + lines.length - 1;
			this.sql.exec(
				"INSERT INTO batches (base_offset, last_offset, record_count, max_timestamp, timestamp_high, bytes, records) VALUES (?, ?, ?, ?, ?, ?, ?)",
				chunkBase,
				last,
				lines.length,
				maxTimestamp,
				this.view.timestampHigh,
				bytes,
				lines.join(RECORD_SEPARATOR),
			);
			this.view.totalBytes += bytes;
			this.view.storedBatches++;
			this.view.storedRecords += lines.length;
			this.bytesAppended += bytes;
			if (this.sizeSample !== null) {
				this.sizeSample.appendedBytes += bytes;
				this.sizeSample.appends++;
			}
			chunkBase = last + 1;
			lines = [];
			bytes = 0;
			maxTimestamp = -1;
		};
		const count = request.records.length;
		for (let i = 0; i < count; i++) {
			const record = request.records[i] as (typeof request.records)[number];
			const timestampMs = record.timestampMs ?? appendTimeMs;
			const line = encodeLine(this.partition, baseOffset + i, timestampMs, record.tail);
			// The prefix encodeLine adds is ASCII, so the line's bytes follow from the tail's.
			const lineBytes = record.bytes + (line.length - record.tail.length) + RECORD_SEPARATOR.length;
			if (lines.length > 0 && bytes + lineBytes > STORED_BATCH_BYTES_TARGET) flush();
			lines.push(line);
			bytes += lineBytes;
			maxTimestamp = Math.max(maxTimestamp, timestampMs);
		}
		flush();
		saveTotals(this.sql, this.view);
		assert(chunkBase === baseOffset + count, "every record was written at its offset");
		this.view.nextOffset = baseOffset + count;
	}

	/** Compacted topics: remember each key's newest offset (and whether it is a tombstone). */
	private trackKeys(request: AppendRequest, baseOffset: number, nowMs: number): void {
		request.records.forEach((record, i) => {
			assert(record.keyId !== null, "compacted records have keys");
			this.sql.exec(
				"INSERT INTO record_keys (key_id, offset, tombstone, appended_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET offset = excluded.offset, tombstone = excluded.tombstone, appended_at_ms = excluded.appended_at_ms",
				record.keyId,
				baseOffset + i,
				record.tombstone ? 1 : 0,
				nowMs,
			);
		});
	}

	/** The original answer for an `Idempotency-Key` seen within the window; an error if the key was reused. */
	private rememberedIdempotency(request: AppendRequest, nowMs: number): Result<AppendResult> | null {
		const claim = request.idempotency;
		if (!claim) return null;
		const row = this.sql
			.exec<IdempotencyRow & { created_at_ms: number }>("SELECT * FROM idempotency_keys WHERE key = ?", claim.key)
			.toArray()[0];
		if (row === undefined || this.lifecycle.idempotencyExpired(row.created_at_ms, nowMs)) {
			if (row !== undefined) this.sql.exec("DELETE FROM idempotency_keys WHERE key = ?", claim.key);
			return null;
		}
		if (row.request_hash !== claim.requestHash || row.record_count !== request.records.length) {
			return err("idempotency_key_reused", "this Idempotency-Key was used for a different request");
		}
		return ok({ baseOffset: row.base_offset, appendTimeMs: row.append_time_ms, duplicate: true });
	}

	/**
	 * Reads records from `offset`, up to `maxRecords` and about `maxBytes` (always at least one record if one
	 * exists). At the high watermark it waits up to `waitMs` for an append before answering empty.
	 */
	async read(request: ReadRequest): Promise<Result<ReadAnswer>> {
		const identity = this.checkIdentity(request.topicId);
		if (identity !== null) return identity;
		let offset = request.offset ?? this.view.logStartOffset;
		const range = this.checkRange(offset);
		if (range !== null) return range;
		if (offset === this.view.nextOffset && request.waitMs > 0) {
			await this.waiters.wait(request.waitMs);
			offset = request.offset ?? this.view.logStartOffset;
			const after = this.checkIdentity(request.topicId) ?? this.checkRange(offset);
			if (after !== null) return after;
		}
		if (offset < this.view.localLogStartOffset) return ok(remoteRead(this.sql, this.view, offset, request.maxRecords, request.maxBytes));
		return ok(this.readNow(offset, request.maxRecords, request.maxBytes));
	}

	private readNow(offset: number, maxRecords: number, maxBytes: number): ReadResult {
		const slice = readLog(this.sql, offset, maxRecords, maxBytes);
		assert(slice.nextOffset <= this.view.nextOffset && slice.nextOffset >= offset, "a read ends inside the log");
		return { ...slice, highWatermark: this.view.nextOffset, logStartOffset: this.view.logStartOffset };
	}

	/**
	 * A WebSocket tail (`GET …/records` with `Upgrade: websocket`, forwarded by the edge after it validated the
	 * request): accepted with the hibernation API, sent the backlog from `offset`, then pushed every append.
	 */
	override async fetch(request: Request): Promise<Response> {
		const url = new URL(request.url);
		const topicId = url.searchParams.get("topic_id") ?? "";
		const keyId = url.searchParams.get("key_id");
		const refusedFirst = this.checkIdentity(topicId) ?? tailCapacity(this.ctx.getWebSockets().length);
		if (refusedFirst !== null) return Response.json({ error: refusedFirst.error }, { status: 409 });
		if (keyId !== null) {
			// Registered with the key's authority before it is accepted, so revoking the key closes it.
			// The edge names the partition: an object not configured yet does not know its own number.
			const partition = Number(url.searchParams.get("partition"));
			assert(Number.isSafeInteger(partition) && partition >= 0, "the edge names the partition of a key's tail");
			const alive = await keyAuthority(this.env, keyId).watchTail(keyId, topicId, partition);
			if (!alive || this.revokedKeys.has(keyId)) {
				return Response.json({ error: { code: "unauthorized", message: "invalid credentials" } }, { status: 401 });
			}
			// The wait let other events in: the topic may be gone, or the tails full, by now.
			const refusedAfter = this.checkIdentity(topicId) ?? tailCapacity(this.ctx.getWebSockets().length);
			if (refusedAfter !== null) return Response.json({ error: refusedAfter.error }, { status: 409 });
		}
		const offsetParam = url.searchParams.get("offset");
		const offset = offsetParam === null || offsetParam === "" ? this.view.logStartOffset : Number(offsetParam);
		const range = this.checkRange(offset);
		if (range !== null) return Response.json({ error: { ...range.error, ...range.error.details } }, { status: 416 });
		const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
		this.ctx.acceptWebSocket(server, keyId === null ? [] : [keyTag(keyId)]);
		server.serializeAttachment({ topicId, next: offset, acked: offset, unackedBytes: 0 } satisfies TailState);
		pushTail(server, this.tailLog);
		return new Response(null, { status: 101, webSocket: client });
	}

	/**
	 * Asks for a poke (`WebhookDispatcher.poke`) once the log holds an offset at or past `fromOffset`, so an idle
	 * dispatcher can sleep rather than long-poll. `behind: true` when it already does (no watch is kept then).
	 */
	watchAppends(topicId: string, watcher: string, fromOffset: number): Result<{ behind: boolean }> {
		const identity = this.checkIdentity(topicId);
		if (identity !== null) return identity;
		if (this.view.nextOffset > fromOffset) return ok({ behind: true });
		this.sql.exec(
			"INSERT INTO append_watchers (watcher, from_offset) VALUES (?, ?) ON CONFLICT (watcher) DO UPDATE SET from_offset = excluded.from_offset",
			watcher,
			fromOffset,
		);
		this.watchers.set(watcher, fromOffset);
		return ok({ behind: false });
	}

	/** Pokes each watcher the log has grown past; its row goes once the poke succeeded (a failed one is retried next append). */
	private pokeWatchers(): void {
		for (const [watcher, fromOffset] of this.watchers) {
			if (this.view.nextOffset <= fromOffset || this.poking.has(watcher)) continue;
			this.poking.add(watcher);
			const poke = webhookDispatcher(this.env, watcher)
				.poke()
				.then(() => {
					if (this.watchers.get(watcher) !== fromOffset) return; // watching again, from a later offset
					this.watchers.delete(watcher);
					this.sql.exec("DELETE FROM append_watchers WHERE watcher = ? AND from_offset = ?", watcher, fromOffset);
				})
				.catch((cause: unknown) => console.warn(`partition ${this.partition}: poke of ${watcher} failed: ${String(cause)}`))
				.finally(() => this.poking.delete(watcher));
			this.ctx.waitUntil(poke);
		}
	}

	/** Closes every tail key `keyId` opened here, and refuses any it is opening: the key was revoked. */
	revokeTails(keyId: string): void {
		this.revokedKeys.add(keyId);
		for (const ws of this.ctx.getWebSockets(keyTag(keyId))) ws.close(TAIL_CLOSE.keyRevoked, "the API key was revoked");
	}

	/** Whether key `keyId` has a tail open here (for its authority's pruning). */
	hasTailsOf(keyId: string): boolean {
		return this.ctx.getWebSockets(keyTag(keyId)).length > 0;
	}

	override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		acknowledge(ws, message);
		pushTail(ws, this.tailLog); // a catch-up from R2 paused for acknowledgements resumes
	}

	override webSocketClose(ws: WebSocket, code: number): void {
		// Complete the closing handshake; the runtime forgets the socket.
		ws.close(code === 1005 ? 1000 : code, "closed");
	}

	/** The log start offset, high watermark, stored bytes and records. An unconfigured partition is an empty log. */
	offsets(): PartitionOffsets {
		const { logStartOffset, nextOffset: highWatermark, totalBytes: bytes, storedRecords: records } = this.view;
		const { localLogStartOffset, remoteBytes } = this.view;
		return { logStartOffset, highWatermark, bytes, records, localLogStartOffset, remoteBytes };
	}

	/**
	 * The first offset whose timestamp is at or after `timestampMs` (Kafka's ListOffsets by time: searched by the
	 * running maximum timestamp, so out-of-order producer timestamps cannot hide later records). If no record is
	 * that recent, the high watermark: the next record appended will be the first.
	 */
	offsetForTimestamp(topicId: string, timestampMs: number): Result<TimestampAnswer> {
		const identity = this.checkIdentity(topicId);
		if (identity !== null) return identity;
		const remote = findRemoteTimestamp(this.sql, this.view, timestampMs);
		if (remote !== null) return ok({ remote });
		return ok({ offset: findOffsetForTimestamp(this.sql, timestampMs) ?? this.view.nextOffset });
	}

	/** Background work (lifecycle.ts, then tiering/): whatever is due, in bounded steps; then the next alarm is set. */
	override async alarm(): Promise<void> {
		const config = this.config;
		if (this.status !== "active" || config === null) return;
		const nowMs = Date.now();
		this.ctx.storage.transactionSync(() => this.lifecycle.run(config, nowMs));
		await this.tiering.run(config, nowMs);
		// The awaits let other calls in: a deletion, or a newer config.
		if (this.status === "active" && this.config !== null) this.lifecycle.reschedule(this.config, Date.now());
	}

	/**
	 * Deletes every record, here and in R2, and marks the partition deleted, so a stale producer cannot write into
	 * it again. The partition number is kept, so a retry (the registry retries a wipe that threw) finds the objects.
	 */
	async destroy(topicId: string): Promise<void> {
		if (this.status !== "unconfigured") assert(this.topicId === topicId, "destroy names this partition's topic");
		const partition = this.partition;
		await this.ctx.storage.deleteAlarm();
		await this.ctx.storage.deleteAll();
		migrateSchema(this.ctx.storage, PARTITION_SCHEMA_VERSION, PARTITION_DDL, PARTITION_UPGRADES);
		this.sql.exec("UPDATE partition_state SET status = 'deleted', topic_id = ?, partition = ? WHERE id = 1", topicId, partition);
		this.load();
		this.lifecycle.forgetAlarm();
		this.waiters.wakeAll();
		for (const ws of this.ctx.getWebSockets()) ws.close(TAIL_CLOSE.topicDeleted, "the topic was deleted");
		if (partition >= 0) await this.tiering.destroyObjects(topicId, partition);
	}

	private checkIdentity(topicId: string): Failure | null {
		if (this.status === "deleted" || (this.topicId !== null && this.topicId !== topicId)) {
			return err("topic_not_found", "the topic was deleted");
		}
		return null;
	}

	private checkRange(offset: number): Failure | null {
		if (offset >= this.view.logStartOffset && offset <= this.view.nextOffset) return null;
		return err("offset_out_of_range", `offset ${offset} is outside [${this.view.logStartOffset}, ${this.view.nextOffset}]`, {
			log_start_offset: this.view.logStartOffset,
			high_watermark: this.view.nextOffset,
		});
	}
}
