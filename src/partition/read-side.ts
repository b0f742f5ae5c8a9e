/**
 * @module
 * The read side of a partition (`PartitionLog.read` and its kin): the checks a read passes, its wait at the high
 * watermark for an append (waiters.ts), and its answer, as records, UTF-8 parts or a response body built here.
 * Apart from the log's writes: it only looks at the view, the batch cache and SQLite the partition lends it.
 */

import { assert } from "../shared/assert.ts";
import { utf8Encoder } from "../shared/bytes.ts";
import { err, type Failure, ok, type Result } from "../shared/errors.ts";
import { fetchBodyBlob, readAcross, readAcrossUtf8, utf8Blob } from "../shared/log-reader.ts";
import { pollBodyBlob } from "../shared/poll-body.ts";
import type { BatchCache } from "./batch-cache.ts";
import { type LogSlice, readLog, readLogUtf8 } from "./log-store.ts";
import { remoteRead } from "./tiering/remote-lookup.ts";
import type { FetchBody, LogView, PollShare, ReadAnswer, ReadRequest, ReadResult, RemoteRead, Utf8Parts } from "./types.ts";
import type { Waiters } from "./waiters.ts";

/** What the partition lends its read side: its storage, its view of the log, and its own checks. */
export interface ReadHost {
	readonly sql: SqlStorage;
	readonly view: LogView;
	readonly hot: BatchCache;
	readonly waiters: Waiters;
	/** Where segments are: the partition's `segments` (a field tests wrap). */
	readonly segments: () => R2Bucket;
	/** Null when `topicId` is this partition's (or it is not configured yet); the refusal otherwise. */
	readonly identity: (topicId: string) => Failure | null;
	/** Tells the metrics hub a read may have changed what it reports (the cache's reads). */
	readonly changed: () => void;
}

export class ReadSide {
	readonly #host: ReadHost;

	constructor(host: ReadHost) {
		this.#host = host;
	}

	/** See `PartitionLog.read`. */
	async read(request: ReadRequest): Promise<Result<ReadAnswer>> {
		const start = await this.#start(request);
		if (!start.ok || typeof start.value !== "number") return start as Result<RemoteRead>;
		return ok(this.now(start.value, request.maxRecords, request.maxBytes));
	}

	/** The local records from `offset` as they are now, no check made and no wait (a tail's read, `TailSource.readNow`). */
	now(offset: number, maxRecords: number, maxBytes: number): ReadResult {
		const { sql, hot, view } = this.#host;
		return this.#answer(readLog(sql, offset, maxRecords, maxBytes, hot, view.nextOffset), offset);
	}

	/** `readUtf8`; `withEnds`: with where each part's records end (a poll's splice walks them); `views`: see `readLogUtf8`. */
	async parts(request: ReadRequest, withEnds: boolean, views = false): Promise<Result<ReadAnswer<Utf8Parts>>> {
		const start = await this.#start(request);
		if (!start.ok || typeof start.value !== "number") return start as Result<RemoteRead>;
		const { maxRecords, maxBytes } = request;
		const { sql, hot, view } = this.#host;
		const slice = readLogUtf8(sql, start.value, maxRecords, maxBytes, hot, withEnds, view.nextOffset, views);
		return ok(this.#answer(slice, start.value));
	}

	/** See `PartitionLog.readFetchBody`. */
	async fetchBody(request: ReadRequest): Promise<Result<FetchBody | RemoteRead>> {
		const read = await this.parts(request, false, true);
		if (!read.ok || "remote" in read.value) return read as Result<RemoteRead>;
		const body = fetchBodyBlob(read.value);
		return ok({ body: body.stream(), bytes: body.size });
	}

	/** See `PartitionLog.readPollBody`. */
	async pollBody(request: ReadRequest, head: string, tail: string): Promise<Result<PollShare | RemoteRead>> {
		const read = await this.parts(request, false, true);
		if (!read.ok || "remote" in read.value) return read as Result<RemoteRead>;
		const { records, recordEnds: _, ...figures } = read.value;
		if (figures.recordCount === 0) return ok({ ...figures, body: null, bytes: 0 });
		const body = utf8Blob(head, records, tail);
		return ok({ ...figures, body: body.stream(), bytes: body.size });
	}

	/** See `PartitionLog.readRecordsPollBody`. */
	async recordsPollBody(request: ReadRequest, topic: string, tail: string): Promise<Result<PollShare | RemoteRead>> {
		const read = await this.parts(request, true, true);
		if (!read.ok || "remote" in read.value) return read as Result<RemoteRead>;
		const { records: _, recordEnds: __, ...figures } = read.value;
		if (figures.recordCount === 0) return ok({ ...figures, body: null, bytes: 0 });
		const body = pollBodyBlob([{ plan: { topic }, result: read.value }], utf8Encoder.encode(tail));
		return ok({ ...figures, body: body.stream(), bytes: body.size });
	}

	/** `read`, with a read that starts in R2 read across it (`readAcross`): for the partition's own tails and streams. */
	across(request: ReadRequest): Promise<Result<ReadResult>> {
		return readAcross(this.#host.segments(), (r) => this.read(r), request);
	}

	/** `readUtf8`, with a read that starts in R2 read across it as text and answered as one part (its ends unknown). */
	async utf8Across(request: ReadRequest): Promise<Result<ReadResult<Utf8Parts>>> {
		const local = await this.parts(request, true);
		if (!local.ok || !("remote" in local.value)) return local as Result<ReadResult<Utf8Parts>>;
		return readAcrossUtf8(this.#host.segments(), (r) => this.read(r), request, local.value);
	}

	/** What a read found from `offset`, with the log's bounds as they are now. */
	#answer<Records extends string | Utf8Parts>(slice: LogSlice<Records>, offset: number): ReadResult<Records> {
		const { view } = this.#host;
		this.#host.changed();
		assert(slice.nextOffset <= view.nextOffset && slice.nextOffset >= offset, "read in log");
		return { ...slice, highWatermark: view.nextOffset, logStartOffset: view.logStartOffset };
	}

	/** Where a read starts once its checks passed (and its wait at the high watermark ended), or its remote slice. */
	async #start(request: ReadRequest): Promise<Result<number | RemoteRead>> {
		const { view, identity } = this.#host;
		const refused = identity(request.topicId);
		if (refused !== null) return refused;
		let offset = request.offset ?? view.logStartOffset;
		const outside = this.range(offset);
		if (outside !== null) return outside;
		if (offset === view.nextOffset && request.waitMs > 0) {
			await this.#host.waiters.wait(request.waitMs, request.waitId);
			offset = request.offset ?? view.logStartOffset;
			const after = identity(request.topicId) ?? this.range(offset);
			if (after !== null) return after;
		}
		if (offset < view.localLogStartOffset) return ok(remoteRead(this.#host.sql, view, offset, request.maxRecords, request.maxBytes));
		return ok(offset);
	}

	/** Null when `offset` is inside the log; the refusal otherwise. */
	range(offset: number): Failure | null {
		const { logStartOffset, nextOffset } = this.#host.view;
		if (offset >= logStartOffset && offset <= nextOffset) return null;
		return err("offset_out_of_range", `offset ${offset} is outside [${logStartOffset}, ${nextOffset}]`, {
			log_start_offset: logStartOffset,
			high_watermark: nextOffset,
		});
	}
}
