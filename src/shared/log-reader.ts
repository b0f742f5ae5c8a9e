/**
 * @module
 * Reading a partition whose older records may live in R2 (tiered storage). Every reader of records — the edge's
 * fetch, group polls, SSE, the compatibility mounts, the webhook dispatcher, a partition's own tails and Durable
 * Streams reads — goes through `readRecords`: the partition answers either records or, below its local log start,
 * a pointer to a segment object and the batches needed; the records are then read from R2 here with one ranged
 * GET, so catching up on old data costs the partition's object one index seek, not the bytes.
 *
 * A read that crosses the local log start continues into the partition, so it returns the same records as if the
 * whole log were local: no gap, no duplicate. A segment retention deleted meanwhile (R2 answers null) is asked
 * for again; the partition then answers from its new log start or `offset_out_of_range`.
 *
 * @example
 * const read = await readRecords(env, topicId, 0, { topicId, offset: 0, maxRecords: 500, maxBytes: 1 << 20, waitMs: 0 });
 */

import type { PartitionLog } from "../partition/partition-log.ts";
import type { SegmentIndexEntry } from "../partition/tiering/segment.ts";
import type {
	FetchBody,
	ReadAnswer,
	ReadRequest,
	ReadResult,
	RemoteRead,
	RemoteSlice,
	RemoteTimestampEntry,
	TimestampAnswer,
	Utf8Parts,
} from "../partition/types.ts";
import { assert } from "./assert.ts";
import { utf8Encoder } from "./bytes.ts";
import { err, type Failure, isBug, ok, type Result } from "./errors.ts";
import { utf8ByteLength } from "./json.ts";
import { REMOTE_READ_RETRIES_MAX, REMOTE_READ_ROUNDS_MAX, TIMESTAMP_LOOKUP_BATCHES_MAX } from "./limits.ts";
import { takeLines } from "./line-cut.ts";
import { lineOffset, lineTimestamp, RECORD_SEPARATOR } from "./record-codec.ts";
import { partitionLog } from "./stubs.ts";

/** A partition's `read`: the RPC stub's, or the partition's own method when it reads for its tails and streams. */
export type PartitionRead = (request: ReadRequest) => Promise<Result<ReadAnswer>>;

/** Reads records of one partition from `request.offset`, from R2 where they are no longer local; its wait ends with `end`. */
export function readRecords(
	env: Env,
	topicId: string,
	partition: number,
	request: ReadRequest,
	end?: WaitEnd,
): Promise<Result<ReadResult>> {
	const log = partitionLog(env, topicId, partition);
	return readAcross(env.SEGMENTS, (r) => readEndingWhen(log, r, end, (named) => log.read(named)), request);
}

/**
 * Ends a read of `log` waiting at the tail under `waitId` (`PartitionLog.stopWaiting`), its reader's client gone, so
 * the partition does not keep its waiter to the wait's end. A partition of the earlier version (during a deploy) has
 * no such method and refuses the call: its waiter then ends with its wait, as before, and a client already gone is
 * told nothing, so the refusal is dropped here.
 */
export const stopWaiting = (log: DurableObjectStub<PartitionLog>, waitId: string): Promise<void> => log.stopWaiting(waitId).catch(() => {});

/**
 * What ends a read's wait at the tail before its time: `signal` aborts, a request's once its client has gone (workerd
 * aborts it under the `enable_request_signal` compatibility flag), or the edge's own controller once it needs the
 * answer no more (a group poll answered by another partition). `keep` holds the release past the edge's work
 * (`waitUntil`), over by then when the client has gone; without it the release is sent and not awaited.
 */
export interface WaitEnd {
	readonly signal: AbortSignal;
	readonly keep?: (work: Promise<void>) => void;
}

/**
 * Reads raced for one answer (a group poll's or an Upstash fetch's long poll of several partitions): `read` of each of
 * `items`, answered with the first outcome `answer` takes (not undefined), or `none()` once every read ended without
 * one. The waits still running are ended then, as their answers would go to nobody, and all of them once the caller's
 * `end` aborts (its client gone): a read changes nothing, and a wait kept to its end would count as a reader following
 * its partition's log. A read that fails answers nothing: the client reads again.
 */
export function firstAnswer<T, R, A>(
	items: readonly T[],
	end: WaitEnd,
	read: (item: T, end: WaitEnd) => Promise<R>,
	answer: (outcome: R, i: number) => A | undefined,
	none: () => A,
): Promise<A> {
	const answered = new AbortController();
	const race = { signal: AbortSignal.any([answered.signal, end.signal]), keep: end.keep };
	let pending = items.length;
	return new Promise((resolve) => {
		const finish = (value: A | undefined): void => {
			if (value === undefined || answered.signal.aborted) return;
			answered.abort();
			resolve(value);
		};
		items.forEach((item, i) => {
			read(item, race)
				.then((outcome) => finish(answered.signal.aborted ? undefined : answer(outcome, i)))
				.catch(() => undefined)
				.finally(() => {
					if (--pending === 0) finish(none());
				});
		});
	});
}

/** What `readEndingWhen` names and ends: a read of records or of a Durable Stream, with its wait at the tail. */
type WaitingRead = Pick<ReadRequest, "waitMs" | "waitId">;

/**
 * `read` of `request` with its wait at the tail named, and ended in the partition (`stopWaiting`) if `end.signal`
 * aborts before the read is answered, so the partition does not keep a waiter for nobody. A release that reaches the
 * partition before the read does is kept a while: the read then ends as it begins (`Waiters.release`), as does one
 * whose `end` had come before it started.
 */
export async function readEndingWhen<Request extends WaitingRead, Read extends (request: Request) => Promise<unknown>>(
	log: DurableObjectStub<PartitionLog>,
	request: Request,
	end: WaitEnd | undefined,
	read: Read,
): Promise<Awaited<ReturnType<Read>>> {
	if (end === undefined || request.waitMs === 0) return read(request) as Awaited<ReturnType<Read>>;
	const waitId = crypto.randomUUID();
	const stop = (): void => {
		const released = stopWaiting(log, waitId);
		end.keep?.(released);
	};
	end.signal.addEventListener("abort", stop);
	// An end that came before the read was sent fires no event: released now, kept by the partition until the read
	// arrives (`Waiters.release`), so the read ends as it begins.
	if (end.signal.aborted) stop();
	try {
		return (await read({ ...request, waitId })) as Awaited<ReturnType<Read>>;
	} finally {
		end.signal.removeEventListener("abort", stop);
	}
}

/**
 * `readRecords` answered as UTF-8 parts (`recordEnds`: with where each part's records end, for a reader that walks
 * them), for a reader that sends the records on as they are (group polls; the fetch
 * route takes its whole body, `readFetchBody`; SSE and webhooks read text, which they frame or filter): a local read
 * comes as the partition cut it (`PartitionLog.readUtf8`); one that starts in R2 as `readAcrossUtf8` reads it.
 */
export async function readRecordsUtf8(
	env: Env,
	topicId: string,
	partition: number,
	request: ReadRequest,
	recordEnds = true,
	end?: WaitEnd,
): Promise<Result<ReadResult<Utf8Parts>>> {
	const log = partitionLog(env, topicId, partition);
	const first = await readEndingWhen(log, request, end, (r) => log.readUtf8(r, recordEnds));
	if (!first.ok || !("remote" in first.value)) return first as Result<ReadResult<Utf8Parts>>;
	return readAcrossUtf8(env.SEGMENTS, (r) => log.read(r), request, first.value);
}

/**
 * A read that starts in R2 (`remote`, as the partition answered it): read as text across segments and the partition
 * (`readAcross`), then encoded once, as one part without record ends. For the edge's readers and the partition's
 * own (a Durable Streams read, `PartitionLog.streamReadUtf8`).
 */
export async function readAcrossUtf8(
	segments: R2Bucket,
	read: PartitionRead,
	request: ReadRequest,
	remote: RemoteRead,
): Promise<Result<ReadResult<Utf8Parts>>> {
	const across = await readAcross(segments, read, request, remote);
	if (!across.ok) return across;
	return ok({ ...across.value, records: across.value.recordCount === 0 ? [] : [utf8Encoder.encode(across.value.records)] });
}

/**
 * A fetch's body from partition `partition`, as `readRecordsUtf8` reads it: a local read comes as the partition built
 * it (`PartitionLog.readFetchBody`), a stream the runtime pipes into the response; one that starts in R2 is read here
 * and built here. Against the partition's parts sent over RPC (V8 serialises each into its buffer and out again)
 * and built into the body at the edge, bench:ab on pages of 1,000 × 1 KiB: through SQLite (fetch-1c-1p) −0.60
 * µs/record of ~4.6 (−1.04 to −0.36, lower in 6 of 6 rounds); from memory (fetch-tail-1c-1p) −0.12 of ~3.2 (−0.29
 * to +0.21, lower in 5 of 6) in one run, −0.11 of ~2.0 (−0.26 to +0.01, lower in 6 of 8) in another.
 */
export async function readFetchBody(
	env: Env,
	topicId: string,
	partition: number,
	request: ReadRequest,
	end?: WaitEnd,
): Promise<Result<FetchBody>> {
	const log = partitionLog(env, topicId, partition);
	const first = await readEndingWhen(log, request, end, (r) => log.readFetchBody(r));
	if (!first.ok || !("remote" in first.value)) return first as Result<FetchBody>;
	const read = await readAcrossUtf8(env.SEGMENTS, (r) => log.read(r), request, first.value);
	if (!read.ok) return read;
	const body = fetchBodyBlob(read.value);
	return ok({ body, bytes: body.size });
}

const FETCH_BODY_HEAD = utf8Encoder.encode('{"records":[');

/**
 * A fetch's response body. The partition hands back its records as ready-made JSON, already UTF-8, in parts: they
 * are copied once into the body between the envelope's head and tail, never re-serialised or re-encoded.
 */
export function fetchBodyBlob(result: ReadResult<Utf8Parts>): Blob {
	const tail = `],"high_watermark":${result.highWatermark},"log_start_offset":${result.logStartOffset},"next_offset":${result.nextOffset}}`;
	return utf8Blob(FETCH_BODY_HEAD, result.records, tail);
}

/**
 * `head`, the records of `parts` joined by `RECORD_SEPARATOR`, and `tail`, as one Blob: a reader's whole answer
 * around its records, which the runtime copies in once, outside the JS heap. Written into one Uint8Array instead,
 * the buffer is zero-filled, then written by JS, then copied by the Response. Measured, server CPU per record of
 * the Blob against the Uint8Array: 0.92–0.94 on pages of 1,000 × 1 KiB from memory (medians of 6 and 8 alternating
 * pairs; 0.985 in a third run on a loaded machine); through SQLite 1.01 (6 pairs, 0.92–1.03) in one run, 0.92 (8
 * pairs, 0.88–1.02) in another. Nor does a stream written with the parts in JS, which would copy none of them (the
 * partition's `readFetchBody` streams a Blob, the runtime's own): in a bare workerd, serving 10 parts of 100 × 1 KiB,
 * server CPU per record was 0.90 for this Blob, 1.05 for one Uint8Array, 1.5 for a `ReadableStream` enqueuing the
 * parts and 1.6–1.65 for an `IdentityTransformStream` or `FixedLengthStream` written with them (medians of 6
 * alternating runs of 200 requests; 0.60 answering without the records). workerd (1.20260426, blob.c++'s `concat`)
 * copies a Blob's pieces once, into a buffer of V8's it has zero-filled, and the zero-fill is most of the cost (~3/4
 * of the constructor's samples under perf: see poll-body.ts's `pollBodyBlob`): under `bench:profile fetch` the `new
 * Blob` here was about a fifth of the isolate's busy time (the ceiling's answer, a Uint8Array over RPC and copied at
 * its edge, copies more).
 */
export function utf8Blob(head: BlobPiece, parts: Utf8Parts, tail: string): Blob {
	const pieces: BlobPiece[] = [head];
	pushParts(pieces, parts);
	pieces.push(tail);
	return new Blob(pieces);
}

export type BlobPiece = Uint8Array | string;

/** Appends the records of `parts` to a Blob's `pieces`: each part as it is, `RECORD_SEPARATOR` between them. */
export function pushParts(pieces: BlobPiece[], parts: Utf8Parts): void {
	for (const [i, part] of parts.entries()) {
		if (i > 0) pieces.push(RECORD_SEPARATOR);
		pieces.push(part);
	}
}

/**
 * The first offset whose timestamp is at or after `timestampMs` (the high watermark if none), remote or local: the
 * partition's walk (`findOffsetForTimestamp`), its remote batches read here, segment by segment, then its local ones,
 * at most `TIMESTAMP_LOOKUP_BATCHES_MAX` batches in all, so it answers as if the whole log were local.
 */
export async function offsetForTimestamp(
	env: Env,
	topicId: string,
	partition: number,
	timestampMs: number,
): Promise<Result<{ offset: number }>> {
	const log = partitionLog(env, topicId, partition);
	let fromOffset: number | undefined;
	let batchesLeft = TIMESTAMP_LOOKUP_BATCHES_MAX;
	for (let missing = 0; ; ) {
		const answer: Result<TimestampAnswer> = await log.offsetForTimestamp(topicId, timestampMs, fromOffset, batchesLeft);
		if (!answer.ok) return answer;
		if ("offset" in answer.value) return ok({ offset: answer.value.offset });
		const { remote } = answer.value;
		const texts = await fetchBatches(env.SEGMENTS, remote);
		if (texts !== null && "ok" in texts) return texts;
		if (texts === null) {
			// Retention deleted the segment after the partition answered: ask again, it knows the new log start.
			if (++missing > REMOTE_READ_RETRIES_MAX) return segmentGone(remote.objectKey);
			continue;
		}
		for (const text of texts) {
			for (const line of text.split(RECORD_SEPARATOR)) {
				if (lineTimestamp(line) >= timestampMs && lineOffset(line) >= (remote.fromOffset ?? 0)) return ok({ offset: lineOffset(line) });
			}
		}
		batchesLeft -= texts.length;
		fromOffset = (remote.entries.at(-1) as SegmentIndexEntry).lastOffset + 1;
		// As the local walk does past its bound: no record before here is that recent.
		if (batchesLeft === 0) return ok({ offset: fromOffset });
	}
}

/** A place in a partition as Kafka's tools name one: its log start, its high watermark, an offset, or a time. */
export type LogPosition = "earliest" | "latest" | { readonly offset: number } | { readonly timestamp: number };

/**
 * The offset `position` names in one partition: a given offset is clamped into the log, a time is looked up as
 * `offsetForTimestamp` does. What a group's offsets reset to and where a webhook subscription starts.
 */
export async function resolvePosition(env: Env, topicId: string, partition: number, position: LogPosition): Promise<Result<number>> {
	if (typeof position === "object" && "timestamp" in position) {
		const found = await offsetForTimestamp(env, topicId, partition, position.timestamp);
		return found.ok ? ok(found.value.offset) : found;
	}
	const { logStartOffset, highWatermark } = await partitionLog(env, topicId, partition).offsets();
	if (position === "earliest") return ok(logStartOffset);
	if (position === "latest") return ok(highWatermark);
	return ok(Math.min(Math.max(position.offset, logStartOffset), highWatermark));
}

/** Accumulates records across rounds, under the request's limits, as one local read would. */
class Collected {
	readonly parts: string[] = [];
	recordCount = 0;
	bytes = 0;
	constructor(
		readonly maxRecords: number,
		readonly maxBytes: number,
	) {}

	/** Whether `line` would go past the byte limit after what was collected (the first record always fits). */
	overBy(line: string): boolean {
		return this.recordCount > 0 && this.bytes + utf8ByteLength(line) + RECORD_SEPARATOR.length > this.maxBytes;
	}

	full(): boolean {
		return this.recordCount >= this.maxRecords || this.bytes >= this.maxBytes;
	}

	/**
	 * Takes what fits of one batch from `offset` (whole when it can, else line by line), as the partition's local
	 * read does; the offset after what it took, and whether all of the batch from `offset` fitted.
	 */
	take(records: string, entry: SegmentIndexEntry, offset: number): { next: number; complete: boolean } {
		const bytes = entry.byteLength + RECORD_SEPARATOR.length;
		if (entry.baseOffset >= offset && this.recordCount + entry.recordCount <= this.maxRecords && this.bytes + bytes <= this.maxBytes) {
			this.parts.push(records);
			this.recordCount += entry.recordCount;
			this.bytes += bytes;
			return { next: entry.lastOffset + 1, complete: true };
		}
		const take = takeLines(
			{
				text: records,
				baseOffset: entry.baseOffset,
				lastOffset: entry.lastOffset,
				dense: entry.lastOffset - entry.baseOffset + 1 === entry.recordCount,
				ascii: entry.byteLength === records.length,
			},
			offset,
			{ records: this.maxRecords - this.recordCount, bytes: this.maxBytes - this.bytes, firstOfRead: this.recordCount === 0 },
		);
		if (take.count > 0) {
			this.parts.push(take.text);
			this.recordCount += take.count;
			this.bytes += take.bytes;
		}
		return take.complete
			? { next: entry.lastOffset + 1, complete: true }
			: { next: take.lastOffset < 0 ? offset : take.lastOffset + 1, complete: false };
	}
}

/**
 * `readRecords` over any partition `read` and bucket: remote slices are fetched and cut to the request, then the
 * read continues (without waiting) from where they end, at most `REMOTE_READ_ROUNDS_MAX` rounds.
 */
export async function readAcross(
	segments: R2Bucket,
	read: PartitionRead,
	request: ReadRequest,
	/** The partition's answer to `request`, when the caller already asked. */
	answered?: RemoteRead,
): Promise<Result<ReadResult>> {
	const firstAnswer = answered === undefined ? await read(request) : ok(answered);
	if (!firstAnswer.ok || !("remote" in firstAnswer.value)) return firstAnswer as Result<ReadResult>;
	let answer: Result<ReadAnswer> = firstAnswer;
	const collected = new Collected(request.maxRecords, request.maxBytes);
	let offset = firstAnswer.value.offset;
	let last: RemoteRead | ReadResult = firstAnswer.value;
	let missing = 0;
	for (let round = 0; round < REMOTE_READ_ROUNDS_MAX && answer.ok; round++) {
		const value: ReadAnswer = answer.value;
		last = value;
		if (!("remote" in value)) {
			// Local records from here, cut by the partition to the budget left, except that it returns at least one
			// record: one that does not fit after what R2 gave is left for the next read, as one local read would.
			if (value.recordCount > 0 && !collected.overBy(firstLine(value.records))) {
				collected.parts.push(value.records);
				collected.recordCount += value.recordCount;
				offset = value.nextOffset;
			}
			break;
		}
		assert(value.offset === offset, "answer offset");
		const taken = await takeSlice(segments, value.remote, offset, collected);
		if (taken !== null && "ok" in taken) return collected.recordCount > 0 ? ok(result(collected, offset, last)) : taken;
		if (taken === null) {
			// Retention deleted the segment after the partition answered: ask again, it knows the new log start.
			if (++missing > REMOTE_READ_RETRIES_MAX) {
				return collected.recordCount > 0 ? ok(result(collected, offset, last)) : segmentGone(value.remote.objectKey);
			}
		} else {
			offset = taken.next;
			if (taken.stopped || collected.full() || offset >= value.highWatermark) break;
		}
		answer = await read({
			...request,
			offset,
			maxRecords: request.maxRecords - collected.recordCount,
			maxBytes: Math.max(1, request.maxBytes - collected.bytes),
			waitMs: 0,
		});
		// A continuation that fails (the topic went, retention passed the offset) ends the read with what it has.
		if (!answer.ok && collected.recordCount === 0) return answer;
	}
	return ok(result(collected, offset, last));
}

function firstLine(records: string): string {
	const end = records.indexOf(RECORD_SEPARATOR);
	return end < 0 ? records : records.slice(0, end);
}

function result(collected: Collected, nextOffset: number, last: RemoteRead | ReadResult): ReadResult {
	return {
		records: collected.parts.join(RECORD_SEPARATOR),
		recordCount: collected.recordCount,
		nextOffset,
		highWatermark: last.highWatermark,
		logStartOffset: last.logStartOffset,
	};
}

/**
 * Fetches a slice's batches (one ranged GET) and takes what fits from `offset`: the offset after, and whether the
 * request's limits stopped it; null if the object is gone, R2's failure if it failed.
 */
async function takeSlice(
	segments: R2Bucket,
	slice: RemoteSlice,
	offset: number,
	collected: Collected,
): Promise<{ next: number; stopped: boolean } | Failure | null> {
	const texts = await fetchBatches(segments, slice);
	if (texts === null || "ok" in texts) return texts;
	let next = offset;
	for (const [i, entry] of slice.entries.entries()) {
		if (entry.lastOffset < next) continue;
		const taken = collected.take(texts[i] as string, entry, next);
		next = taken.next;
		if (!taken.complete || collected.full()) return { next, stopped: true };
	}
	return { next, stopped: false };
}

const decoder = new TextDecoder();

/**
 * The records text of each of `slice`'s batches, read with one ranged GET; null when the object is gone. R2 failing
 * (unreachable, the connection lost) is the platform's failure, answered 503 `service_unavailable`: its errors carry
 * none of the marks a Durable Object's do (`isBug`), so left to `onError` they were a 500.
 */
async function fetchBatches(segments: R2Bucket, slice: RemoteSlice | RemoteTimestampEntry): Promise<string[] | Failure | null> {
	const first = slice.entries[0];
	const last = slice.entries.at(-1);
	assert(first !== undefined && last !== undefined, "slice has batches");
	const start = first.byteStart;
	const length = last.byteStart + last.byteLength - start;
	let body: Uint8Array;
	try {
		const object = await segments.get(slice.objectKey, { range: { offset: start, length } });
		if (object === null) return null;
		body = new Uint8Array(await object.arrayBuffer());
	} catch (cause) {
		if (isBug(cause, true)) throw cause;
		console.error(`R2 read failed: ${cause}`);
		return err("service_unavailable", "R2 read failed; retry");
	}
	assert(body.byteLength === length, "R2 whole range");
	return slice.entries.map((entry) => {
		const text = decoder.decode(body.subarray(entry.byteStart - start, entry.byteStart - start + entry.byteLength));
		// Paired with the writer's assertions: the bytes are the batch the index says they are (compaction, before the
		// topic was tiered, may have cut records from its front).
		const firstOffset = lineOffset(text);
		assert(firstOffset >= entry.baseOffset && firstOffset <= entry.lastOffset, "batch in range");
		return text;
	});
}

function segmentGone(objectKey: string): Result<never> {
	return err("partition_unavailable", `segment ${objectKey} kept disappearing while it was read; retry`);
}
