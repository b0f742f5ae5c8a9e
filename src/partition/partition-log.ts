/**
 * @module
 * `PartitionLog`: one Durable Object per topic partition, owning an ordered log in its SQLite storage.
 *
 * Appends are group-committed (`commit-queue.ts`): those that arrive while the previous group commits are written
 * together, each decided in arrival order, inside one synchronous `transactionSync` (Durable Streams' writes are
 * steps in the same queue, so their checks and appends are one step too), so there is no await between
 * reading the next offset and writing it: producers can never interleave, offsets stay dense, and the output gate
 * holds every RPC reply until the rows are durable (a produce is acknowledged only after its write committed).
 * Background work — retention, compaction, forgetting idle producers and old idempotency keys — runs in one
 * alarm multiplexed over whatever is due first (see `lifecycle.ts`).
 */

import { MetricsReporter } from "../metrics/reporter.ts";
import { type AppendAnswer, appendAnswer } from "../shared/append-answer.ts";
import { assert } from "../shared/assert.ts";
import { DurableObject } from "../shared/durable-object.ts";
import { err, type Failure, ok, type Result, settleEach } from "../shared/errors.ts";
import { APPEND_GROUP_BYTES_MAX, APPEND_GROUP_LINGER_MS, APPEND_GROUP_REQUESTS_MAX, PARTITION_BYTES_MAX } from "../shared/limits.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import { storedConfig, type TopicConfig } from "../shared/topic-config.ts";
import { PartitionAlarm } from "./alarm-run.ts";
import { appendFailure, appendRequest, type GroupEntry, type OpenGroup, recordBytes, runAfterCommit } from "./append-group.ts";
import { claimIdempotencyKey, refuseAppend, releaseIdempotencyKey, SizeEstimate, saveKeys } from "./append-store.ts";
import { openBatchCache } from "./batch-cache.ts";
import { BatchWriter } from "./batch-writer.ts";
import { claimsRefusal, sequenceOutcome } from "./claims.ts";
import { CommitQueue } from "./commit-queue.ts";
import { compacts } from "./compaction.ts";
import { advanceLogStart } from "./delete-records.ts";
import { Followers } from "./followers.ts";
import { Lifecycle } from "./lifecycle.ts";
import { findOffsetForTimestamp, loadView, partitionOffsets } from "./log-store.ts";
import { partitionFigures } from "./metrics.ts";
import { afterAppend } from "./producer-state.ts";
import { ProducerStore } from "./producer-store.ts";
import { ReadSide } from "./read-side.ts";
import { PARTITION_DDL, PARTITION_SCHEMA_VERSION, PARTITION_UPGRADES } from "./schema.ts";
import { type PartitionStatus, type StateRow, saveAssignment } from "./state-row.ts";
import { logFailure, StreamSide } from "./stream-side.ts";
import type { StreamAppendRequest, StreamCreateRequest, StreamReadRequest, StreamResult } from "./stream-types.ts";
import { CLOSE_CODES_RESERVED, type TailSource } from "./tail.ts";
import { findRemoteTimestamp } from "./tiering/remote-lookup.ts";
import { TieredStorage } from "./tiering/tiered-storage.ts";
import type {
	AppendInput,
	AppendOutcome,
	AppendRequest,
	ClaimCheck,
	FetchBody,
	LogView,
	PartitionAssignment,
	PartitionOffsets,
	PollShare,
	ReadAnswer,
	ReadRequest,
	RemoteRead,
	TimestampAnswer,
	Utf8Parts,
} from "./types.ts";
import { Waiters } from "./waiters.ts";

export class PartitionLog extends DurableObject<Env> {
	readonly #sql: SqlStorage;
	#status: PartitionStatus = "unconfigured";
	#topicId: string | null = null;
	private partition = -1;
	#configVersion = 0;
	private config: TopicConfig | null = null;
	readonly #view: LogView = {
		logStartOffset: 0,
		localLogStartOffset: 0,
		remoteBytes: 0,
		remoteRecords: 0,
		nextOffset: 0,
		timestampHigh: 0,
		totalBytes: 0,
		storedBatches: 0,
		storedRecords: 0,
	};
	private readonly waiters = new Waiters();
	private readonly lifecycle: Lifecycle;
	readonly #appends: CommitQueue<GroupEntry, unknown>;
	/** The group being written, while `writeGroup` runs (synchronously); null otherwise. */
	#group: OpenGroup | null = null;
	/** Offload to R2 and everything remote (tiering/). */
	private readonly tiering: TieredStorage;
	/** Appends stop here (507); a field rather than the constant so tests can lower it. */
	partitionBytesMax = PARTITION_BYTES_MAX;
	/** Where segments go: the `SEGMENTS` binding; a field so tests can wrap it to inject R2 failures. */
	segments: R2Bucket = this.env.SEGMENTS;
	/** The database size as last read, and what this object has appended since (for the partition-full check). */
	readonly #size: SizeEstimate;
	/** Idempotent producers' states: their snapshot and the batches named since (forgotten by `load()` and after an expiry run). */
	private readonly producers = new ProducerStore(this.ctx.storage.sql);
	/** A Durable Streams stream's protocol state, on this log (see stream-side.ts); idle for ordinary topics. */
	readonly #streams = new StreamSide({
		sql: this.ctx.storage.sql,
		offsets: () => this.#view,
		identity: (topicId) => this.#checkIdentity(topicId),
		append: (request) => this.#stage(request),
		read: (request) => this.reads.across(request),
		readUtf8: (request) => this.reads.utf8Across(request),
		wake: () => this.waiters.wakeAll(),
		alarmBy: (atMs) => this.lifecycle.ensureBy(atMs),
	});
	/** What the WebSocket tails (tail.ts) read: the view, local reads, and reads across R2 for old offsets. */
	readonly #tailLog: TailSource = {
		view: this.#view,
		readNow: (offset, maxRecords, maxBytes) => this.reads.now(offset, maxRecords, maxBytes),
		readAcross: (offset, maxRecords, maxBytes) =>
			this.reads.across({ topicId: this.#topicId ?? "", offset, maxRecords, maxBytes, waitMs: 0 }),
		background: (work) => this.ctx.waitUntil(work),
	};
	/** WebSocket tails and append watchers (followers.ts): told of each commit. */
	private readonly followers = new Followers({
		ctx: this.ctx,
		env: this.env,
		view: this.#view,
		tailLog: this.#tailLog,
		identity: (topicId) => this.#checkIdentity(topicId),
		range: (offset) => this.reads.range(offset),
		partition: () => this.partition,
		alarmBy: (atMs) => this.lifecycle.ensureBy(atMs),
	});
	/** Whether an `Idempotency-Key` created at `createdAtMs` is past its window at `nowMs`. */
	readonly #keyExpired = (createdAtMs: number, nowMs: number) => this.lifecycle.idempotencyExpired(createdAtMs, nowMs);
	/** Bytes appended since this object started, for the metrics hub. */
	#bytesAppended = 0;
	/** Hot stored batches, in the isolate's shared budget (batch-cache.ts): a tail read runs no SQL. */
	private readonly hot = openBatchCache(this.ctx.id.toString());
	/** Reads, their checks and their wait at the high watermark (read-side.ts). */
	private readonly reads = new ReadSide({
		sql: this.ctx.storage.sql,
		view: this.#view,
		hot: this.hot,
		waiters: this.waiters,
		segments: () => this.segments,
		identity: (topicId) => this.#checkIdentity(topicId),
		changed: () => this.metrics.changed(),
	});
	private readonly metrics: MetricsReporter;
	readonly #alarmRun: PartitionAlarm;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		// Meters every statement from here on and reports offsets and sizes to the metrics hub after a change.
		this.metrics = new MetricsReporter(env, ctx, "PartitionLog", () =>
			partitionFigures(this.#sql, this.#status === "active", this.#view, this.partition, this.#bytesAppended, this.hot),
		);
		this.#sql = ctx.storage.sql;
		this.#size = new SizeEstimate(this.#sql);
		migrateSchema(ctx.storage, PARTITION_SCHEMA_VERSION, PARTITION_DDL, PARTITION_UPGRADES);
		this.load();
		// A deleted partition woken by a stale caller reports nothing (its earlier incarnation was retired).
		if (this.#status === "deleted") ctx.waitUntil(this.metrics.retire());
		this.tiering = new TieredStorage({
			storage: ctx.storage,
			view: this.#view,
			bucket: () => this.segments,
			cache: this.hot,
			identity: () => (this.#status === "active" && this.#topicId !== null ? { topicId: this.#topicId, partition: this.partition } : null),
			beforeDeletingBatches: () => this.producers.snapshot(),
			reload: () => this.#rebuild(),
		});
		this.lifecycle = new Lifecycle(ctx.storage, this.#view, this.tiering, this.hot, this.#streams);
		this.#appends = new CommitQueue({
			write: (entries) => this.writeGroup(entries),
			// Nothing was written: a failure (a bug's 500: no retry invited), or, unconfigured, the config all needed (`stage`).
			failed: (entry, cause) => {
				if (this.#status === "unconfigured") return { needsConfig: true };
				const failure = appendFailure(cause, this.partition);
				return entry.kind === "append" ? failure : logFailure(failure);
			},
			// Neither this nor the group's transactionSync is where a commit's time goes: a call inserting one small row
			// cost 333 µs of workerd CPU bare, 407 in transactionSync, 340 awaiting sync(), 323 with both (medians of 7 runs
			// of 3,000; each varied by ±100 between runs), and the ceiling's INSERT pays the same commit implicitly.
			durable: () => ctx.storage.sync(),
			weigh: (entry) => (entry.kind === "append" ? recordBytes(entry.request.records) : entry.bytes),
			groupRequestsMax: APPEND_GROUP_REQUESTS_MAX,
			groupWeightMax: APPEND_GROUP_BYTES_MAX,
			lingerMs: APPEND_GROUP_LINGER_MS,
		});
		this.#alarmRun = new PartitionAlarm({
			storage: ctx.storage,
			lifecycle: this.lifecycle,
			tiering: this.tiering,
			producers: this.producers,
			activeConfig: () => (this.#status === "active" ? this.config : null),
			reload: () => this.#rebuild(),
			dropStream: () =>
				this.#streams.end(env, this.#topicId as string).catch((cause) => console.error(`stream ${this.#topicId}: end failed: ${cause}`)),
		});
		ctx.blockConcurrencyWhile(() => this.lifecycle.loadAlarm());
	}

	/**
	 * Rebuilds the in-memory view from SQLite (and forgets cached batches): after a restart, an eviction, a rolled-back
	 * group or a deletion this is all the state there is. Reads
	 * the state row, the newest batch (a seek on the primary key) and the append watchers (one per topic's webhook
	 * dispatcher): a wake-up costs the same on a log of any length.
	 */
	private load(): void {
		this.producers.forget();
		const row = this.#sql.exec<StateRow>("SELECT * FROM partition_state WHERE id = 1").one();
		this.hot.forgetThrough(Number.POSITIVE_INFINITY);
		this.#status = row.status;
		this.#topicId = row.topic_id;
		this.partition = row.partition ?? -1;
		this.#configVersion = row.config_version;
		this.config = row.config === null ? null : storedConfig(row.config);
		loadView(this.#sql, row, this.#view);
		this.followers.load();
	}

	/**
	 * `load()` after a failure (a transaction rolled back, a step after a commit threw) or a deletion's wipe, then
	 * `then`. A rebuild that throws (storage failing) may leave the view and cache half rebuilt, and nothing may be
	 * served from those: it is logged, and runs again, then `then`, in a critical section, which the input gate lets in
	 * before any other event; if it throws there, the runtime resets the object and the next call starts from SQLite.
	 * The load's failure is not thrown, so the caller's own error is what its caller sees. Not `ctx.abort()` at once:
	 * it would fail the answers the output gate still holds for a commit, which a reset after a second failure does too.
	 */
	#rebuild(then = () => {}): void {
		try {
			this.load();
		} catch (failed) {
			console.error(`rebuilding from storage: ${String(failed)}`);
			this.ctx.blockConcurrencyWhile(async () => {
				this.load();
				then();
			});
			return;
		}
		then();
	}

	/** Sets who this partition is and its config. Idempotent; an older config version never replaces a newer one. */
	async configure(assignment: PartitionAssignment): Promise<Result<PartitionOffsets>> {
		if (this.#status === "deleted") return err("topic_not_found", `topic "${assignment.topic}" was deleted`);
		if (this.#status === "active") {
			assert(this.#topicId === assignment.topicId && this.partition === assignment.partition, "same partition");
			if (assignment.configVersion <= this.#configVersion) return ok(this.offsets());
		}
		saveAssignment(this.#sql, assignment);
		const previous = this.config;
		this.#status = "active";
		this.#topicId = assignment.topicId;
		this.partition = assignment.partition;
		this.#configVersion = assignment.configVersion;
		this.config = assignment.config;
		this.lifecycle.configured(previous, assignment.config, Date.now());
		return ok(this.offsets());
	}

	/**
	 * Appends records with consecutive offsets, all or nothing. A batch already written by the same idempotent
	 * producer sequence or `Idempotency-Key` is answered with its original offsets and written again never.
	 * Appends arriving while a write is being committed are written together as the next group (`CommitQueue`):
	 * one transaction, one stored batch where they fit; each is decided on its own, in arrival order.
	 */
	append(input: AppendInput): Promise<AppendAnswer> {
		const request = appendRequest(input, this.partition);
		if ("ok" in request) return Promise.resolve(request);
		return this.#appends.submit({ kind: "append", request }) as Promise<AppendAnswer>;
	}

	/** Whether an append with these exactly-once claims would be refused for them, without writing (claims.ts). */
	async checkClaims(check: ClaimCheck): Promise<Result<void>> {
		// Not configured yet: the append configures it first, and decides then.
		const active = this.#status === "active";
		const refused =
			this.#checkIdentity(check.topicId) ?? (active ? claimsRefusal(this.#sql, check, this.producers, Date.now(), this.#keyExpired) : null);
		return refused ?? ok(undefined);
	}

	/**
	 * Runs `step` inside the next group's transaction, in arrival order among the appends: a protocol kept beside
	 * the log (Durable Streams) decides against its own state and appends (`stage`) in one synchronous step, and
	 * its answer, like an append's, leaves only after the group's commit.
	 */
	#inGroup<T>(step: () => T, bytes: number): Promise<T> {
		return this.#appends.submit({ kind: "step", run: step, bytes }) as Promise<T>;
	}

	/**
	 * Writes one group in one transaction; a refused request gets its error and changes nothing. What a request adds
	 * here beyond its share of the commit is not where a small producer's cost is (bench:ab produce-32c-1r, load ~7,
	 * ~880 µs of server CPU a request): plain appends staged with none of `stage`'s checks and no `afterAppend` cost
	 * −11 µs (−81 to +68, lower in 4 of 8 rounds; a first run −52: −134 to +37, 4 of 6), and no `afterAppend` alone
	 * −14 (−50 to +9, lower in 7 of 8), both within the noise. Tried and dropped: a group of one plain append that fits
	 * one stored batch written without `transactionSync` (its INSERT is atomic by itself; the producers' row count then
	 * taken before it, so nothing after the INSERT can fail the group): produce-1c-1p −0.42 and −0.58 µs/record of
	 * ~50 in two runs (lower in 4 of 6 rounds each, load 8-22; A/A +0.55), for 138 gzipped bytes and a second write
	 * path beside the transaction.
	 */
	private writeGroup(entries: readonly GroupEntry[]): unknown[] {
		const group: OpenGroup = {
			writer: new BatchWriter(this.#sql, this.#view, this.partition),
			keys: new Map(),
			nowMs: Date.now(),
			stampsAppendTime: this.config?.["message.timestamp.type"] === "LogAppendTime",
			usedProducer: false,
			usedIdempotency: false,
		};
		this.#group = group;
		let results: unknown[];
		try {
			results = this.ctx.storage.transactionSync(() => {
				const decided = entries.map((e) =>
					e.kind === "append" ? appendAnswer(this.#stage(e.request), e.request.textAnswer, group.stampsAppendTime) : e.run(),
				);
				group.writer.finish();
				this.producers.rowsWritten(group.writer.rowsWritten, group.writer.writtenBytes);
				saveKeys(this.#sql, group.keys, group.nowMs);
				return decided;
			});
		} catch (cause) {
			// Rolled back (each request is answered `failed`): the in-memory view may be ahead of the database.
			console.error(`writing a group: ${String(cause)}`);
			this.#rebuild();
			throw cause;
		} finally {
			this.#group = null;
		}
		if (group.writer.rowsWritten > 0) this.#afterAppend(group);
		return results;
	}

	/**
	 * Decides one append of the open group against the log as the group's earlier requests left it, and stages it.
	 * Only inside `writeGroup` (an append, or a step's own append).
	 */
	#stage(request: AppendRequest): AppendOutcome {
		const group = this.#group;
		assert(group !== null, "staged in transaction");
		const identity = this.#checkIdentity(request.topicId);
		if (identity !== null) return identity;
		if (this.#status !== "active" || this.#configVersion < request.configVersion) return { needsConfig: true };
		const config = this.config;
		assert(config !== null, "active config");
		assert(request.records.length > 0, "append has records");
		const { writer, nowMs, stampsAppendTime } = group;
		const producer = request.producer ?? null;
		const producerState = producer === null ? null : this.producers.load(producer.producerId);
		const sequenced = producer === null ? null : sequenceOutcome(producerState, producer, request.records.length);
		if (sequenced !== null) return sequenced;
		const baseOffset = this.#view.nextOffset;
		const remembered = claimIdempotencyKey(this.#sql, request, baseOffset, nowMs, this.#keyExpired);
		if (remembered !== null) return remembered;
		const refused = refuseAppend(request, {
			config,
			nextOffset: baseOffset,
			storedBytes: this.#view.totalBytes,
			pendingBytes: writer.pendingBytes,
			partitionBytesMax: this.partitionBytesMax,
			size: this.#size,
		});
		if (refused !== null) {
			releaseIdempotencyKey(this.#sql, request);
			return refused;
		}
		writer.add(request.records, nowMs, stampsAppendTime);
		if (producer !== null) {
			const { producerId, epoch } = producer;
			const batch = { baseSequence: producer.baseSequence, recordCount: request.records.length, baseOffset, appendTimeMs: nowMs };
			writer.nameProducerBatch({ producerId, epoch, ...batch });
			this.producers.appended(afterAppend(producerState, producerId, epoch, batch, nowMs), writer.openRowBase);
			group.usedProducer = true;
		}
		if (request.idempotency) group.usedIdempotency = true;
		if (compacts(config)) {
			request.records.forEach((record, i) => {
				assert(record.keyId !== null, "compacted keyed");
				group.keys.set(record.keyId, { offset: baseOffset + i, tombstone: record.tombstone });
			});
		}
		return ok({ baseOffset, appendTimeMs: nowMs, duplicate: false });
	}

	/**
	 * After a group's commit was written: readers, tails and watchers learn of it, and background work is armed. Never
	 * fails the group, whose records are stored (a producer told otherwise would write them again): a step that throws
	 * has the view and cache rebuilt from storage (before any other event, if that throws too: see `rebuild`), and
	 * the others still run. The cache goes first, so what a woken reader or a pushed tail reads is there (or is read from SQLite).
	 */
	#afterAppend(group: OpenGroup): void {
		const { writer, nowMs } = group;
		this.#bytesAppended += writer.writtenBytes;
		this.#size.appended(writer.writtenBytes, writer.rowsWritten);
		runAfterCommit(
			[
				() => (this.#followed() ? this.hot.committed(writer.batches) : this.hot.committedAhead(writer.batches)),
				() => this.waiters.wakeAll(),
				() => this.followers.committed(),
				() => this.lifecycle.afterAppend(this.config as TopicConfig, nowMs, group.usedProducer, group.usedIdempotency),
			],
			(then) => this.#rebuild(then),
		);
	}

	/**
	 * Whether a reader follows the log, so a group's batches go to the batch cache as they are: one read it lately,
	 * or one waits at the tail (a long poll, a WebSocket tail, a webhook's watch). A log only written keeps its
	 * commits for a reader to come, as bytes and while free room lasts (`committedAhead`).
	 */
	#followed(): boolean {
		return this.hot.read || this.waiters.waiting > 0 || this.followers.following();
	}

	// Durable Streams: writes go through the group queue (decided in arrival order with the appends, answered after
	// the commit); reads and HEAD only look; an end (stream-side.ts `end`) gives back the source's reference, drops the topic.
	streamCreate(request: StreamCreateRequest) {
		return this.#inGroup(() => this.#streams.create(request), recordBytes(request.records));
	}
	streamAppend(request: StreamAppendRequest) {
		return this.#inGroup(() => this.#streams.append(request), recordBytes(request.records));
	}
	streamRead(request: StreamReadRequest) {
		return this.#streams.read(request);
	}
	/** `streamRead`, the records as UTF-8 parts with their ends (a catch-up read's body is built from their bytes). */
	streamReadUtf8(request: StreamReadRequest) {
		return this.#streams.readUtf8(request);
	}
	async streamHead(topicId: string) {
		return this.#streams.head(topicId);
	}
	streamDelete(topicId: string) {
		return this.#inGroup(() => this.#streams.delete(topicId), 0);
	}
	streamReference(topicId: string, delta: 1 | -1, hold?: string) {
		return this.#inGroup(() => this.#streams.reference(topicId, delta, hold), 0);
	}
	async streamEnd(topicId: string): Promise<StreamResult<string | undefined>> {
		return { ok: true, value: await this.#streams.end(this.env, topicId) };
	}

	/**
	 * Reads records from `offset`, up to `maxRecords` and about `maxBytes` (always at least one record if one
	 * exists). At the high watermark it waits up to `waitMs` for an append before answering empty.
	 */
	read(request: ReadRequest): Promise<Result<ReadAnswer>> {
		return this.reads.read(request);
	}

	/**
	 * `read`, with the records as UTF-8 parts and (`withEnds`) where each part's records end: for readers that send
	 * them on as they are, whole or one by one (group polls, see `readLogUtf8`).
	 */
	readUtf8(request: ReadRequest, withEnds = true): Promise<Result<ReadAnswer<Utf8Parts>>> {
		return this.reads.parts(request, withEnds);
	}

	/**
	 * `readUtf8` answered as a fetch's whole response body (`fetchBodyBlob`), for the fetch route: its bytes cross to
	 * the edge as a stream the runtime pipes into the response, not as parts the RPC serialises and the edge copies.
	 */
	readFetchBody(request: ReadRequest): Promise<Result<FetchBody | RemoteRead>> {
		return this.reads.fetchBody(request);
	}

	/**
	 * `readUtf8` answered as a group poll's whole response body, for a poll laid out by partition that reads this partition
	 * alone (the member owns one: as many members as partitions): `head`, the records, `tail`, which the edge wrote from the
	 * poll's plan. As a fetch's body (`readFetchBody`), its bytes cross to the edge as a stream the runtime pipes into it.
	 */
	readPollBody(request: ReadRequest, head: string, tail: string): Promise<Result<PollShare | RemoteRead>> {
		return this.reads.pollBody(request, head, tail);
	}

	/**
	 * `readPollBody` for a poll in the default layout: the records with `"topic"` spliced into each (`pollBody`), between
	 * the layout's head and `tail`.
	 */
	readRecordsPollBody(request: ReadRequest, topic: string, tail: string): Promise<Result<PollShare | RemoteRead>> {
		return this.reads.recordsPollBody(request, topic, tail);
	}

	/**
	 * Ends the read waiting at the high watermark under `waitId` now, as a timed-out wait ends (its answer goes to
	 * nobody): the edge's client has gone, and until the wait's end the waiter would count as a reader following the
	 * log (`followed`). A read not waiting (any more) is left alone.
	 */
	stopWaiting(waitId: string): void {
		this.waiters.release(waitId);
	}

	/** A WebSocket tail (`GET …/records` with `Upgrade: websocket`, forwarded by the edge): see `Followers.openTail`. */
	override fetch(request: Request): Promise<Response> {
		return this.followers.openTail(request);
	}

	/** Pokes the webhook dispatcher `watcher` once the log holds `fromOffset` (`Followers.watch`). */
	async watchAppends(topicId: string, watcher: string, fromOffset: number): Promise<Result<{ behind: boolean }>> {
		return this.followers.watch(topicId, watcher, fromOffset);
	}

	/** Closes every tail key `keyId` opened here, and refuses any it is opening: the key was revoked. */
	revokeTails(keyId: string): void {
		this.followers.revoke(keyId);
	}

	/** Whether key `keyId` has a tail open here (for its authority's pruning). */
	hasTailsOf(keyId: string): boolean {
		return this.followers.hasTailsOf(keyId);
	}

	override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		this.followers.tailMessage(ws, message);
	}

	override webSocketClose(ws: WebSocket, code: number): void {
		// Complete the closing handshake; the runtime forgets the socket.
		ws.close(CLOSE_CODES_RESERVED.includes(code) ? 1000 : code, "closed");
	}

	/** The log start offset, high watermark, stored bytes and records (local and remote). An unconfigured partition is an empty log. */
	offsets(): PartitionOffsets {
		return partitionOffsets(this.#view);
	}

	/**
	 * The first offset whose timestamp is at or after `timestampMs` (Kafka's ListOffsets by time: searched by the
	 * running maximum timestamp, so out-of-order producer timestamps cannot hide later records). If no record is
	 * that recent, the high watermark: the next record appended will be the first. A reader walking on from remote
	 * batches (src/shared/log-reader.ts) names where it stopped, `fromOffset`, and how many batches it has left.
	 */
	async offsetForTimestamp(
		topicId: string,
		timestampMs: number,
		fromOffset?: number,
		batchesMax?: number,
	): Promise<Result<TimestampAnswer>> {
		const identity = this.#checkIdentity(topicId);
		if (identity !== null) return identity;
		const remote = findRemoteTimestamp(this.#sql, this.#view, timestampMs, fromOffset, batchesMax);
		if (remote !== null) return ok({ remote });
		const { nextOffset, logStartOffset } = this.#view;
		return ok({ offset: findOffsetForTimestamp(this.#sql, timestampMs, nextOffset, logStartOffset, fromOffset, batchesMax) ?? nextOffset });
	}

	/** Kafka's DeleteRecords: the log start moves up to `beforeOffset` (-1: the high watermark); see delete-records.ts. */
	async deleteRecords(topicId: string, beforeOffset: number): Promise<Result<{ logStartOffset: number }>> {
		const moved = this.#checkIdentity(topicId) ?? advanceLogStart(this.#sql, this.#view, this.config, beforeOffset);
		if (moved.ok && this.config !== null) this.lifecycle.reschedule(this.config, Date.now()); // retention deletes below it
		return moved;
	}

	/** Background work (alarm-run.ts): whatever is due, in bounded steps; then the next alarm is set. */
	override async alarm(): Promise<void> {
		await this.#alarmRun.run();
		this.followers.committed(); // a tail's background send cut short (an eviction) resumes, after the run's reschedule
	}

	/**
	 * Deletes every record, here and in R2, and marks the partition deleted, so a stale producer cannot write into
	 * it again. The partition number is kept, so a retry (the registry retries a wipe that threw) finds the objects.
	 */
	async destroy(topicId: string): Promise<Result<void>> {
		if (this.#status !== "unconfigured") assert(this.#topicId === topicId, "destroy topic");
		const partition = this.partition;
		await this.ctx.storage.deleteAlarm();
		await this.ctx.storage.deleteAll();
		migrateSchema(this.ctx.storage, PARTITION_SCHEMA_VERSION, PARTITION_DDL, PARTITION_UPGRADES);
		this.#sql.exec("UPDATE partition_state SET status = 'deleted', topic_id = ?, partition = ? WHERE id = 1", topicId, partition);
		// Readers woken and tails closed must find the partition deleted: after the rebuild, however late it comes.
		this.#rebuild(() => {
			this.lifecycle.forgetAlarm();
			this.waiters.wakeAll();
			this.followers.closeAll();
		});
		if (partition >= 0) await this.tiering.destroyObjects(topicId, partition);
		await this.metrics.retire();
		return ok(undefined);
	}

	#checkIdentity(topicId: string): Failure | null {
		if (this.#status === "deleted" || (this.#topicId !== null && this.#topicId !== topicId)) {
			return err("topic_not_found", "the topic was deleted");
		}
		return null;
	}
}
// Storage failing (or a bug) in any of them is answered a failure Result, not a rejection crossing RPC; a stream's as its log's.
// Not wrapped: stopWaiting, revokeTails, hasTailsOf only touch memory and cannot throw (call-failures' test).
settleEach(PartitionLog, [
	"configure",
	"checkClaims",
	"read",
	"readUtf8",
	"readFetchBody",
	"readPollBody",
	"readRecordsPollBody",
	"watchAppends",
	"offsetForTimestamp",
	"deleteRecords",
	"destroy",
]);
settleEach(PartitionLog, ["streamRead", "streamReadUtf8", "streamHead", "streamEnd"], logFailure);
