/**
 * @module
 * The Durable Streams side of a partition: a stream is a one-partition topic whose partition also remembers the
 * protocol's state (`stream_meta`, `stream_producers`; docs/storage-schema.md). Each write (create, append,
 * delete, reference) runs as one step of the partition's group commit, in arrival order among the log's appends:
 * it checks that state, stages its records (`StreamHost.append`) and writes the state synchronously inside the
 * group's transaction, so they commit together and the answer leaves only after that commit.
 */

import { type Failure, type Result, thrownUnless } from "../shared/errors.ts";
import { DS_DROP_CHECK_MS, DS_PRODUCER_IDLE_MS, EXPIRY_ROWS_PER_STEP, FETCH_RECORDS_MAX } from "../shared/limits.ts";
import {
	checkProducer,
	closedBySame,
	isExpired,
	newStreamMeta,
	normalizeContentType,
	type ProducerRecord,
	type ProducerTuple,
	type StreamMeta,
	sameSettings,
} from "../shared/stream-rules.ts";
import { topicRegistry } from "../shared/stubs.ts";
import type {
	StreamAppended,
	StreamAppendRequest,
	StreamCreated,
	StreamCreateRequest,
	StreamDeleted,
	StreamFailure,
	StreamRead,
	StreamReadRequest,
	StreamReferenced,
	StreamResult,
	StreamView,
} from "./stream-types.ts";
import type { AppendRequest, AppendResult, NeedsConfig, ReadRequest, ReadResult, Utf8Parts } from "./types.ts";

/** What the partition lends its stream side: its storage and its own log operations. */
export interface StreamHost {
	readonly sql: SqlStorage;
	offsets(): { readonly logStartOffset: number; readonly nextOffset: number };
	identity(topicId: string): Failure | null;
	/** Decides and stages an append in the group being written (only from a write's step, never after an await). */
	append(request: AppendRequest): Result<AppendResult> | NeedsConfig;
	read(request: ReadRequest): Promise<Result<ReadResult>>;
	/** `read`, the records as UTF-8 parts with where their records end (see `PartitionLog.readUtf8`). */
	readUtf8(request: ReadRequest): Promise<Result<ReadResult<Utf8Parts>>>;
	/** Wakes waiting long-polls (a close changes what they answer). */
	wake(): void;
	/** Makes sure the partition's alarm comes by `atMs`. */
	alarmBy(atMs: number): void;
}

const fail = (failure: StreamFailure): { ok: false; failure: StreamFailure } => ({ ok: false, failure });
/** A failure of the log under the stream (a deleted topic, a record too large, storage failing), as a stream's answer. */
export const logFailure = ({ error }: Failure) => fail({ kind: "log", error });
const done = <T>(value: T): StreamResult<T> => ({ ok: true, value });

interface ProducerRow extends Record<string, SqlStorageValue> {
	epoch: number;
	last_seq: number;
	updated_at_ms: number;
}

export class StreamSide {
	readonly #host: StreamHost;

	constructor(host: StreamHost) {
		this.#host = host;
	}

	create(request: StreamCreateRequest): StreamResult<StreamCreated> | NeedsConfig {
		const refused = this.#host.identity(request.topicId);
		if (refused !== null) return logFailure(refused);
		const nowMs = Date.now();
		const existing = this.#meta();
		if (existing?.deleted) return fail({ kind: "not_found", expired: true });
		if (existing?.softDeleted) return fail({ kind: "blocked_by_forks" });
		if (existing !== null && isExpired(existing, nowMs)) {
			// Its records must go before the path is reused: the edge deletes the topic and creates it again.
			if (existing.refCount === 0) return fail({ kind: "not_found", expired: true });
			this.#save({ ...existing, softDeleted: true });
			return fail({ kind: "blocked_by_forks" });
		}
		if (existing !== null) {
			if (!sameSettings(existing, request.settings)) return fail({ kind: "settings_conflict" });
			return done({ created: false, view: this.#view(existing) });
		}
		// A stream made before its records: appending them first means a failed append leaves no stream behind.
		if (request.records.length > 0) {
			const appended = this.#host.append({ topicId: request.topicId, configVersion: request.configVersion, records: request.records });
			if ("needsConfig" in appended) return appended;
			if (!appended.ok) return logFailure(appended);
		}
		const meta = newStreamMeta(request.settings, nowMs);
		this.#save(meta);
		return done({ created: true, view: this.#view(meta) });
	}

	append(request: StreamAppendRequest): StreamResult<StreamAppended> | NeedsConfig {
		const found = this.#live(request.topicId, Date.now());
		if (!found.ok) return found;
		const meta = found.value;
		const nowMs = Date.now();
		const closing = request.records.length === 0;
		if (meta.closed) {
			if (closedBySame(meta, request.producer)) return done(this.#appended(meta, true, request.producer?.seq ?? null));
			if (closing && request.producer === null) return done(this.#appended(meta, true, null));
			return fail({ kind: "closed", nextOffset: this.#host.offsets().nextOffset });
		}
		if (!closing && normalizeContentType(request.contentType ?? "") !== normalizeContentType(meta.contentType)) {
			return fail({ kind: "content_type_mismatch", contentType: meta.contentType });
		}
		let producer: ProducerRecord | null = null;
		if (request.producer !== null) {
			const decision = checkProducer(this.#producer(request.producer.producerId), request.producer.epoch, request.producer.seq, nowMs);
			if (decision.kind === "duplicate") return done(this.#appended(meta, true, decision.lastSeq));
			if (decision.kind !== "accepted") return fail(decision);
			producer = decision.next;
		}
		if (request.seq !== null && meta.lastSeq !== null && request.seq <= meta.lastSeq) {
			return fail({ kind: "seq_conflict", lastSeq: meta.lastSeq });
		}
		if (!closing) {
			const appended = this.#host.append({ topicId: request.topicId, configVersion: request.configVersion, records: request.records });
			if ("needsConfig" in appended) return appended;
			if (!appended.ok) return logFailure(appended);
		}
		const next: StreamMeta = {
			...meta,
			lastAccessMs: nowMs,
			lastSeq: request.seq ?? meta.lastSeq,
			closed: request.close,
			closedBy: request.close ? request.producer : null,
		};
		this.#save(next);
		if (request.producer !== null && producer !== null) this.#saveProducer(request.producer, producer);
		if (request.close) this.#host.wake();
		return done(this.#appended(next, false, request.producer?.seq ?? null));
	}

	read(request: StreamReadRequest): Promise<StreamResult<StreamRead>> {
		return this.#readWith(request, (r) => this.#host.read(r));
	}

	/** `read`, the records as UTF-8 parts: for a reader that copies them into its answer as bytes. */
	readUtf8(request: StreamReadRequest): Promise<StreamResult<StreamRead<Utf8Parts>>> {
		return this.#readWith(request, (r) => this.#host.readUtf8(r));
	}

	async #readWith<Records extends string | Utf8Parts>(
		request: StreamReadRequest,
		reader: (request: ReadRequest) => Promise<Result<ReadResult<Records>>>,
	): Promise<StreamResult<StreamRead<Records>>> {
		const found = this.#live(request.topicId, Date.now());
		if (!found.ok) return found;
		const { logStartOffset, nextOffset } = this.#host.offsets();
		// An offset is the client's place in the stream: read from any other, it would skip records unawares.
		if (typeof request.offset === "number" && request.offset < logStartOffset) return fail({ kind: "offset_gone", logStartOffset });
		if (typeof request.offset === "number" && request.offset > nextOffset) return fail({ kind: "offset_ahead", nextOffset });
		const offset = request.offset === "now" ? nextOffset : (request.offset ?? logStartOffset);
		const waitMs = found.value.closed || offset < nextOffset ? 0 : request.waitMs;
		const read = await reader({ ...request, offset, maxRecords: FETCH_RECORDS_MAX, waitMs });
		if (!read.ok) return logFailure(read);
		// Read again: a close (or a delete) may have happened while the read waited.
		const after = this.#meta();
		if (after === null || after.deleted) return fail({ kind: "not_found" });
		if (after.ttlSeconds !== null) this.#save({ ...after, lastAccessMs: Date.now() });
		const { records, recordEnds, recordCount, nextOffset: readTo } = read.value;
		return done({ records, recordEnds, recordCount, offset, nextOffset: readTo, view: this.#view(after) });
	}

	/** Metadata only; unlike a read it does not extend a sliding TTL. */
	head(topicId: string): StreamResult<StreamView> {
		const found = this.#live(topicId, Date.now());
		return found.ok ? done(this.#view(found.value)) : found;
	}

	/** Deletes the stream's state, or only marks it gone while forks reference it (its records stay for them). */
	delete(topicId: string): StreamResult<StreamDeleted> {
		const found = this.#live(topicId, Date.now());
		if (!found.ok) return found;
		const meta = found.value;
		if (meta.refCount > 0) {
			this.#save({ ...meta, softDeleted: true });
			return done({ soft: true, forkedFrom: meta.forkedFrom });
		}
		// A mark, not the row's delete: until the edge has dropped the topic, its records are not a new stream's.
		this.#save({ ...meta, deleted: true });
		this.#host.wake();
		return done({ soft: false, forkedFrom: meta.forkedFrom });
	}

	/**
	 * Counts a fork made from (+1) or released by (-1) this stream. Taking one needs a live stream; releasing works
	 * on a soft-deleted one too, and says whether it may now go for good.
	 */
	reference(topicId: string, delta: 1 | -1): StreamResult<StreamReferenced> {
		const refused = this.#host.identity(topicId);
		if (refused !== null) return logFailure(refused);
		const meta = delta > 0 ? this.#live(topicId, Date.now()) : { ok: true as const, value: this.#meta() };
		if (!meta.ok) return meta;
		if (meta.value === null) return fail({ kind: "not_found" });
		const refCount = Math.max(0, meta.value.refCount + delta);
		// Deleted with no fork left: marked so, as a delete marks it, so a drop of its topic that fails (the edge's, on
		// this answer) is done again by the next request that finds it, not left behind a "gone" forever.
		const next = { ...meta.value, refCount, deleted: meta.value.deleted || (meta.value.softDeleted && refCount === 0) };
		this.#save(next);
		return done({ refCount: next.refCount, softDeleted: next.softDeleted, forkedFrom: next.forkedFrom, view: this.#view(next) });
	}

	/** The stream when it exists, is not gone and has not expired (an expired one with forks becomes gone). */
	#live(topicId: string, nowMs: number): StreamResult<StreamMeta> {
		const refused = this.#host.identity(topicId);
		if (refused !== null) return logFailure(refused);
		const meta = this.#meta();
		if (meta === null) return fail({ kind: "not_found" });
		if (meta.deleted) return fail({ kind: "not_found", expired: true });
		if (meta.softDeleted) return fail({ kind: "gone" });
		if (isExpired(meta, nowMs)) {
			if (meta.refCount === 0) return fail({ kind: "not_found", expired: true });
			this.#save({ ...meta, softDeleted: true });
			return fail({ kind: "gone" });
		}
		return done(meta);
	}

	#appended(meta: StreamMeta, duplicate: boolean, producerSeq: number | null): StreamAppended {
		return { nextOffset: this.#host.offsets().nextOffset, closed: meta.closed, duplicate, producerSeq };
	}

	#view(meta: StreamMeta): StreamView {
		return {
			contentType: meta.contentType,
			nextOffset: this.#host.offsets().nextOffset,
			closed: meta.closed,
			ttlSeconds: meta.ttlSeconds,
			expiresAt: meta.expiresAt,
			forkedFrom: meta.forkedFrom,
		};
	}

	#meta(): StreamMeta | null {
		const row = this.#host.sql.exec<{ meta: string }>("SELECT meta FROM stream_meta WHERE id = 1").toArray()[0];
		return row === undefined ? null : (JSON.parse(row.meta) as StreamMeta);
	}

	/**
	 * Drops the topic of a stream marked deleted, whose drop at the edge failed (the partition's alarm, `DS_DROP_CHECK_MS`
	 * after the mark); the registry then wipes this partition. Throws if the drop fails, for the alarm to retry.
	 */
	async dropIfDeleted(env: Env, topicId: string): Promise<void> {
		if (!this.#meta()?.deleted) return;
		const { topic } = this.#host.sql.exec<{ topic: string }>("SELECT topic FROM partition_state WHERE id = 1").one();
		thrownUnless(await topicRegistry(env).deleteTopic(topic, topicId), "topic_not_found");
	}

	/** When the alarm must look at a stream marked deleted (`dropIfDeleted`): a reschedule keeps it. Null when not deleted. */
	dropDueMs(nowMs: number): number | null {
		return this.#meta()?.deleted ? nowMs + DS_DROP_CHECK_MS : null;
	}

	#save(meta: StreamMeta): void {
		// Marked deleted: the edge drops the topic at once; should that fail, and no request finish it, the alarm does.
		if (meta.deleted) this.#host.alarmBy(Date.now() + DS_DROP_CHECK_MS);
		this.#host.sql.exec(
			"INSERT INTO stream_meta (id, meta) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET meta = excluded.meta",
			JSON.stringify(meta),
		);
	}

	#producer(producerId: string): ProducerRecord | null {
		const row = this.#host.sql
			.exec<ProducerRow>("SELECT epoch, last_seq, updated_at_ms FROM stream_producers WHERE producer_id = ?", producerId)
			.toArray()[0];
		if (row === undefined || row.updated_at_ms < Date.now() - DS_PRODUCER_IDLE_MS) return null;
		return { epoch: row.epoch, lastSeq: row.last_seq, updatedAtMs: row.updated_at_ms };
	}

	#saveProducer(tuple: ProducerTuple, state: ProducerRecord): void {
		// Idle producers go a bounded step at a time, on the next producer's write (index stream_producers_by_time).
		this.#host.sql.exec(
			"DELETE FROM stream_producers WHERE producer_id IN (SELECT producer_id FROM stream_producers WHERE updated_at_ms < ? LIMIT ?)",
			state.updatedAtMs - DS_PRODUCER_IDLE_MS,
			EXPIRY_ROWS_PER_STEP,
		);
		this.#host.sql.exec(
			"INSERT INTO stream_producers (producer_id, epoch, last_seq, updated_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (producer_id) DO UPDATE SET epoch = excluded.epoch, last_seq = excluded.last_seq, updated_at_ms = excluded.updated_at_ms",
			tuple.producerId,
			state.epoch,
			state.lastSeq,
			state.updatedAtMs,
		);
	}
}
