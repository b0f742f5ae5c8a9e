/**
 * @module
 * The Durable Streams side of a partition: a stream is a one-partition topic whose partition also remembers the
 * protocol's state (`stream_meta`, `stream_producers`; docs/storage-schema.md). Each write (create, append,
 * delete, reference) runs as one step of the partition's group commit, in arrival order among the log's appends:
 * it checks that state, stages its records (`StreamHost.append`) and writes the state synchronously inside the
 * group's transaction, so they commit together and the answer leaves only after that commit.
 */

import { type Failure, type Result, thrownUnless } from "../shared/errors.ts";
import { DS_DROP_CHECK_MS, DS_DROP_RETRY_MS_MAX, DS_PRODUCER_IDLE_MS, EXPIRY_ROWS_PER_STEP, FETCH_RECORDS_MAX } from "../shared/limits.ts";
import {
	checkProducer,
	closedBySame,
	expiryMs,
	isExpired,
	newStreamMeta,
	normalizeContentType,
	type ProducerRecord,
	type ProducerTuple,
	type StreamMeta,
	sameSettings,
} from "../shared/stream-rules.ts";
import { topicRegistry } from "../shared/stubs.ts";
import { releaseReference } from "../topic/stream-topics.ts";
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
	/** Makes sure the partition's alarm comes by `atMs` (null: nothing due). */
	alarmBy(atMs: number | null): void;
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
	/** The end under way (`end`): a second caller waits on it, so the source's reference is given back once. */
	#ending: Promise<string | undefined> | undefined;

	constructor(host: StreamHost) {
		this.#host = host;
	}

	create(request: StreamCreateRequest): StreamResult<StreamCreated> | NeedsConfig {
		const nowMs = Date.now();
		const found = this.#live(request.topicId, nowMs);
		// One that ended must go before the path is reused (not_found, expired): the edge ends it and creates it again.
		if (found.ok) {
			if (!sameSettings(found.value, request.settings)) return fail({ kind: "settings_conflict" });
			return done({ created: false, view: this.#view(found.value), hold: found.value.hold });
		}
		if (found.failure.kind === "gone") return fail({ kind: "blocked_by_forks" });
		if (found.failure.kind !== "not_found" || found.failure.expired || request.repeatOnly) return found;
		// A stream made before its records: appending them first means a failed append leaves no stream behind.
		if (request.records.length > 0) {
			const appended = this.#host.append({ topicId: request.topicId, configVersion: request.configVersion, records: request.records });
			if ("needsConfig" in appended) return appended;
			if (!appended.ok) return logFailure(appended);
		}
		const meta = newStreamMeta(request.settings, nowMs);
		this.#save(meta);
		return done({ created: true, view: this.#view(meta), hold: meta.hold });
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
		return found.ok ? done({ soft: this.#deleted(found.value).softDeleted }) : found;
	}

	/**
	 * Deletes the stream (a DELETE, or its time ran out): only marked gone while forks reference it, else marked deleted,
	 * a mark, not the row's delete: until the edge (or the alarm) has ended it (`end`), its records are not a new stream's.
	 */
	#deleted(meta: StreamMeta): StreamMeta {
		const next = { ...meta, softDeleted: meta.refCount > 0, deleted: meta.refCount === 0 };
		this.#save(next);
		if (next.deleted) this.#host.wake();
		return next;
	}

	/**
	 * Counts a fork made from (+1) or released by (-1) this stream: reference `hold`, counted once however often it is
	 * taken or given back (one without an id, taken before ids were, as often as given back). Taking one needs a live
	 * stream; releasing works on a soft-deleted one too, and says whether it may now go for good.
	 */
	reference(topicId: string, delta: 1 | -1, hold?: string): StreamResult<StreamReferenced> {
		const refused = this.#host.identity(topicId);
		if (refused !== null) return logFailure(refused);
		const meta = delta > 0 ? this.#live(topicId, Date.now()) : { ok: true as const, value: this.#meta() };
		if (!meta.ok) return meta;
		if (meta.value === null) return fail({ kind: "not_found" });
		let holds = meta.value.holds ?? [];
		const counted = hold === undefined || delta > 0 !== holds.includes(hold);
		if (hold !== undefined && counted) holds = delta > 0 ? [...holds, hold] : holds.filter((id) => id !== hold);
		// Never below the ids held: a release without one (a fork stored before ids) counted twice takes no other fork's.
		const refCount = Math.max(holds.length, meta.value.refCount + (counted ? delta : 0));
		// Deleted with no fork left: marked so, as a delete marks it, so an end that fails (the edge's, on this answer) is
		// done again by the next request that finds it, or its alarm, not left behind a "gone" forever.
		const next = { ...meta.value, refCount, holds, deleted: meta.value.deleted || (meta.value.softDeleted && refCount === 0) };
		this.#save(next);
		return done({ refCount: next.refCount, softDeleted: next.softDeleted, view: this.#view(next) });
	}

	/** The stream when it exists, is not gone and has not expired (an expired one is deleted now: `#deleted`). */
	#live(topicId: string, nowMs: number): StreamResult<StreamMeta> {
		const refused = this.#host.identity(topicId);
		if (refused !== null) return logFailure(refused);
		const meta = this.#expired(this.#meta(), nowMs);
		if (meta === null) return fail({ kind: "not_found" });
		if (meta.deleted) return fail({ kind: "not_found", expired: true });
		return meta.softDeleted ? fail({ kind: "gone" }) : done(meta);
	}

	/** `meta`, deleted now if its time ran out (`#deleted`). */
	#expired(meta: StreamMeta | null, nowMs: number): StreamMeta | null {
		return meta && !meta.deleted && !meta.softDeleted && isExpired(meta, nowMs) ? this.#deleted(meta) : meta;
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
	 * Ends a stream marked deleted (or found expired now): gives back its reference on its source, once (then forgotten),
	 * and drops its topic, so the registry wipes this partition. The edge calls it after the mark, and the alarm
	 * (`dropDueMs`) when that failed or no request came. The source's topic id when the release ended it too (see
	 * `releaseReference`). Throws if either step fails, counted, so the alarm's next try backs off.
	 */
	end(env: Env, topicId: string): Promise<string | undefined> {
		this.#ending ??= this.#end(env, topicId).finally(() => {
			this.#ending = undefined;
		});
		return this.#ending;
	}

	async #end(env: Env, topicId: string): Promise<string | undefined> {
		// One read of the state, on every partition's alarm run (`dropStream`), a stream's or not.
		const meta = this.#expired(this.#meta(), Date.now());
		if (!meta?.deleted) return;
		try {
			const source = meta.forkedFrom === null ? undefined : await releaseReference(env, meta.forkedFrom, meta.hold);
			const released = this.#meta();
			if (!released) return source; // wiped meanwhile
			this.#save({ ...released, forkedFrom: null });
			const { topic } = this.#host.sql.exec<{ topic: string }>("SELECT topic FROM partition_state WHERE id = 1").one();
			// The registry knows the topic no more: its wipe of this partition is under way, nothing is left to drop.
			if (!thrownUnless(await topicRegistry(env).deleteTopic(topic, topicId), "topic_not_found").ok) {
				this.#host.sql.exec("DELETE FROM stream_meta");
			}
			return source;
		} catch (cause) {
			const failed = this.#meta();
			if (failed !== null) this.#save({ ...failed, endFailures: (failed.endFailures ?? 0) + 1 });
			throw cause;
		}
	}

	/**
	 * When the alarm must look at the stream (`end`): when it expires; once marked deleted, `DS_DROP_CHECK_MS` after a
	 * reschedule, doubling with each failed end up to `DS_DROP_RETRY_MS_MAX`. Null when there is nothing to end.
	 */
	dropDueMs(nowMs: number, meta = this.#meta()): number | null {
		if (meta?.deleted) return nowMs + Math.min(DS_DROP_CHECK_MS * 2 ** (meta.endFailures ?? 0), DS_DROP_RETRY_MS_MAX);
		return !meta || meta.softDeleted ? null : expiryMs(meta);
	}

	#save(meta: StreamMeta): void {
		// The edge ends a stream marked deleted at once; should that fail, and no request finish it, the alarm does.
		this.#host.alarmBy(this.dropDueMs(Date.now(), meta));
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
