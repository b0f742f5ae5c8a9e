/**
 * @module
 * The RPC vocabulary of a partition: what the edge and the registry send a `PartitionLog`, and what it answers.
 */

import type { Result } from "../shared/errors.ts";
import type { EncodedBatch, EncodedRecord } from "../shared/record-codec.ts";
import type { TopicConfig } from "../shared/topic-config.ts";
import type { SegmentIndexEntry } from "./tiering/segment.ts";

/** Who a partition is and how it behaves; pushed by the registry or, lazily, by the edge. */
export interface PartitionAssignment {
	readonly topic: string;
	readonly topicId: string;
	readonly partition: number;
	readonly configVersion: number;
	readonly config: TopicConfig;
}

/** An idempotent producer's claim on a batch (KIP-98): who, which epoch, and the batch's first sequence. */
export interface ProducerClaim {
	readonly producerId: number;
	readonly epoch: number;
	readonly baseSequence: number;
}

/**
 * An `Idempotency-Key` and a digest of the request (of this partition's share when the request has one share; of
 * every share and its partition when several), to spot a reused key.
 */
export interface IdempotencyClaim {
	readonly key: string;
	readonly requestHash: string;
}

export interface AppendRequest {
	readonly topicId: string;
	/** The topic config version the sender validated against; a partition behind it asks to be reconfigured. */
	readonly configVersion: number;
	readonly records: readonly EncodedRecord[];
	readonly producer?: ProducerClaim | null;
	readonly idempotency?: IdempotencyClaim | null;
	/** Conditional append: the offset the first record must get (the current high watermark). */
	readonly expectedOffset?: number | null;
	/**
	 * The caller reads a fresh append's answer as text (`shared/append-answer.ts`). An edge of an earlier version,
	 * still running during a deploy, does not say so, and is answered the `AppendOutcome` object it expects.
	 */
	readonly textAnswer?: boolean;
}

/**
 * What `append` takes over RPC: an `AppendRequest`, or the same with its records as one `EncodedBatch` payload
 * (what the edge sends: one string and a few arrays serialise far faster than an object per record).
 */
export type AppendInput = AppendRequest | (Omit<AppendRequest, "records"> & { readonly batch: EncodedBatch; readonly records?: undefined });

/**
 * An append's exactly-once claims, checked by `PartitionLog.checkClaims` before any share of a request spread over
 * several partitions is written.
 */
export interface ClaimCheck {
	readonly topicId: string;
	readonly recordCount: number;
	readonly producer: ProducerClaim | null;
	readonly idempotency: IdempotencyClaim | null;
}

export interface AppendResult {
	/** Offset of the first record; the rest follow densely. */
	readonly baseOffset: number;
	/** The broker time given to records that carried none. */
	readonly appendTimeMs: number;
	/** True when nothing was written because this batch had been written before (a retry). */
	readonly duplicate: boolean;
	/**
	 * Present when the partition's topic is LogAppendTime: every record has `appendTimeMs`, whatever it carried. The
	 * partition says so because the edge's cached config may be behind an alter (a replay: the config of now).
	 */
	readonly stamped?: true;
}

/**
 * An append the partition could not take because it lacks (current) configuration. Not an error users see:
 * the edge configures the partition from the registry and retries once.
 */
export interface NeedsConfig {
	readonly needsConfig: true;
}

/** What `PartitionLog.append` answers. */
export type AppendOutcome = Result<AppendResult> | NeedsConfig;

export interface ReadRequest {
	readonly topicId: string;
	/** Where to start; null for the log start offset. */
	readonly offset: number | null;
	readonly maxRecords: number;
	readonly maxBytes: number;
	readonly waitMs: number;
	/**
	 * Names the wait at the high watermark, so the reader can end it early (`PartitionLog.stopWaiting`) once its
	 * client has gone. An edge of an earlier version names none.
	 */
	readonly waitId?: string;
}

/**
 * Records as UTF-8, in parts to be joined by `RECORD_SEPARATOR`: each part a stored batch's bytes (shared with the
 * batch cache: read-only) or a copy of the lines cut from one, each in a buffer of its own, so it crosses RPC as
 * exactly itself (a view's whole buffer would go with it). The reader that sends them copies them once, into its
 * answer: no page is assembled before that.
 */
export type Utf8Parts = readonly Uint8Array[];

/**
 * Per part of a `Utf8Parts` read, where each of its records ends (the byte past it, where a separator starts; the
 * last at the part's length), so a reader that walks the records (a poll's splice) does not search the bytes; null
 * for a part whose reader must (one cut from a text batch, or read from R2).
 */
export type RecordEnds = readonly (Uint32Array | null)[];

/** A read's records; `PartitionLog.readUtf8` answers them as UTF-8 parts (`ReadResult<Utf8Parts>`). */
export interface ReadResult<Records extends string | Utf8Parts = string> {
	/** The records, already JSON objects joined by `RECORD_SEPARATOR`: the body of a JSON array. */
	readonly records: Records;
	readonly recordCount: number;
	readonly nextOffset: number;
	readonly highWatermark: number;
	readonly logStartOffset: number;
	/** Where each part's records end, as `PartitionLog.readUtf8` answers them (absent: every part must be scanned). */
	readonly recordEnds?: RecordEnds;
}

/**
 * A fetch's whole response body (`{"records":[…],"high_watermark":…}`, see `fetchBodyBlob`) and its size in bytes.
 * Built by the partition (`PartitionLog.readFetchBody`), its records cross to the edge as the bytes of a stream,
 * which the runtime pipes into the response: neither side copies or serialises them in JS. The stream keeps the
 * Blob's length across RPC, so an uncompressed answer still states its Content-Length (test/e2e/smoke.test.mjs): a
 * client can tell a page cut short mid-pipe from a whole one.
 */
export interface FetchBody {
	readonly body: ReadableStream<Uint8Array> | Blob;
	readonly bytes: number;
}

/**
 * A poll's whole response body when the poll reads this partition alone (see `PartitionLog.readPollBody`), with
 * what the group's coordinator needs to settle the read; `body` is null when the read found no records.
 */
export interface PollShare extends Omit<ReadResult<never>, "records" | "recordEnds"> {
	readonly body: ReadableStream<Uint8Array> | null;
	readonly bytes: number;
}

/**
 * Where records below the local log start are: one R2 segment object and its batches from the one holding the
 * offset up to what the read asked for. The reader fetches them with one ranged GET.
 */
export interface RemoteSlice {
	readonly objectKey: string;
	/** Consecutive batches of the segment, in offset order; the first holds the offset asked for. */
	readonly entries: readonly SegmentIndexEntry[];
	/** Where the local log started when the partition answered: a reader continues there once past the segments. */
	readonly localLogStartOffset: number;
}

/** The partition's answer to a read below its local log start: a pointer, not the records. */
export interface RemoteRead {
	readonly remote: RemoteSlice;
	/** The offset the read starts at (the log start offset when the request named none). */
	readonly offset: number;
	readonly highWatermark: number;
	readonly logStartOffset: number;
}

/** What `PartitionLog.read` answers; `readRecords` (src/shared/log-reader.ts) turns a remote pointer into records. */
export type ReadAnswer<Records extends string | Utf8Parts = string> = ReadResult<Records> | RemoteRead;

/**
 * The remote batches a seek by time reads next, in one segment: from the first whose running maximum reaches the
 * time (or from where the walk goes on), at most the batches its walk has left. The reader looks in them for the
 * first record that recent, and asks again after them if none is.
 */
export interface RemoteTimestampEntry {
	readonly objectKey: string;
	readonly entries: readonly SegmentIndexEntry[];
	/**
	 * Records before it are below the log start (a DeleteRecords may leave some in the first batch): skipped. A
	 * partition of an earlier version, still running during a deploy, does not say it.
	 */
	readonly fromOffset?: number;
}

/** What `PartitionLog.offsetForTimestamp` answers: the offset, or the remote batches to look in next. */
export type TimestampAnswer = { readonly offset: number } | { readonly remote: RemoteTimestampEntry };

export interface PartitionOffsets {
	readonly logStartOffset: number;
	readonly highWatermark: number;
	/** Bytes of the stored records (their JSON as a fetch returns it): what `retention.bytes` is measured against. */
	readonly bytes: number;
	/** Records stored: fewer than high watermark minus log start once compaction has removed some. */
	readonly records: number;
	/** The first offset held in the partition's own storage; below it, up to the log start, segments in R2. */
	readonly localLogStartOffset: number;
	/** Bytes of the partition's segments in R2 (object sizes). */
	readonly remoteBytes: number;
	/** Records in the partition's segments in R2: `records` + `remoteRecords` are all the records it holds. */
	readonly remoteRecords: number;
	/** The largest record timestamp the log has held: its newest batch's running maximum (0 with no batch). */
	readonly timestampHigh: number;
}

/** What the in-memory view of the log holds; rebuilt from SQLite by `load()`. */
export interface LogView extends LogTotals {
	logStartOffset: number;
	/**
	 * The first offset held locally: `logStartOffset` ≤ it ≤ `nextOffset`; [logStartOffset, localLogStartOffset)
	 * lies in remote segments (`remote_segments`), without gaps.
	 */
	localLogStartOffset: number;
	/** Bytes of the remote segments (object sizes); `totalBytes` counts the local batches only. */
	remoteBytes: number;
	/** Records of the remote segments; `storedRecords` counts the local batches only. */
	remoteRecords: number;
	/** The high watermark: the offset the next appended record gets. */
	nextOffset: number;
	/** Running maximum of record timestamps, so `timestamp_high` rises with `base_offset` (a timestamp seek is a binary search). */
	timestampHigh: number;
}

/** Running totals of the stored batches, kept in memory and stored in the newest batch's row or the state row (`loadTotals`). */
export interface LogTotals {
	/** Bytes of all stored batches. */
	totalBytes: number;
	storedBatches: number;
	storedRecords: number;
}
