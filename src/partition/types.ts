/**
 * @module
 * The RPC vocabulary of a partition: what the edge and the registry send a `PartitionLog`, and what it answers.
 */

import type { Result } from "../shared/errors.ts";
import type { EncodedRecord } from "../shared/record-codec.ts";
import type { TopicConfig } from "../shared/topic-config.ts";

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

/** An `Idempotency-Key` and a digest of this partition's share of the request, to spot a reused key. */
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
}

export interface AppendResult {
	/** Offset of the first record; the rest follow densely. */
	readonly baseOffset: number;
	/** The broker time given to records that carried none. */
	readonly appendTimeMs: number;
	/** True when nothing was written because this batch had been written before (a retry). */
	readonly duplicate: boolean;
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
}

export interface ReadResult {
	/** The records, already JSON objects joined by `RECORD_SEPARATOR`: the body of a JSON array. */
	readonly records: string;
	readonly recordCount: number;
	readonly nextOffset: number;
	readonly highWatermark: number;
	readonly logStartOffset: number;
}

export interface PartitionOffsets {
	readonly logStartOffset: number;
	readonly highWatermark: number;
	/** Bytes of the stored records (their JSON as a fetch returns it): what `retention.bytes` is measured against. */
	readonly bytes: number;
	/** Records stored: fewer than high watermark minus log start once compaction has removed some. */
	readonly records: number;
}

/** What the in-memory view of the log holds; rebuilt from SQLite by `load()`. */
export interface LogView extends LogTotals {
	logStartOffset: number;
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
