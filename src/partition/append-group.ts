/**
 * @module
 * One group of the partition's group commit (commit-queue.ts, `PartitionLog.writeGroup`): its entries, and what is
 * read once for all the appends written in it.
 */

import { err, type Failure, isBug, partitionUnavailable } from "../shared/errors.ts";
import { decodeBatch, type EncodedRecord } from "../shared/record-codec.ts";
import type { GroupKeys } from "./append-store.ts";
import type { BatchWriter } from "./batch-writer.ts";
import type { AppendInput, AppendRequest } from "./types.ts";

/** One entry of a group: an append, or a step of a protocol kept beside the log that may append (see `inGroup`). */
export type GroupEntry =
	| { readonly kind: "append"; readonly request: AppendRequest }
	| { readonly kind: "step"; readonly run: () => unknown; readonly bytes: number };

/** The group being written: its records' writer, and what its requests used. */
export interface OpenGroup {
	readonly writer: BatchWriter;
	readonly keys: GroupKeys;
	readonly nowMs: number;
	/**
	 * The topic is LogAppendTime: every record appended takes `nowMs`, whatever it carried, and each append's answer
	 * says so (`AppendResult.stamped`), a replay's too (its records were stamped or not by the config of then).
	 */
	readonly stampsAppendTime: boolean;
	usedProducer: boolean;
	usedIdempotency: boolean;
}

/**
 * The append `input` asks for, its batch decoded (the batch path: one pre-encoded payload per partition, decoded once,
 * before it joins a group), or, if that throws, its failure (logged): a value, not a rejection crossing RPC, and a
 * try here rather than `settleEach`'s async wrapper around the partition's hot path.
 */
export function appendRequest(input: AppendInput, partition: number): AppendRequest | Failure {
	try {
		return input.records === undefined ? { ...input, records: decodeBatch(input.batch) } : input;
	} catch (cause) {
		console.error(cause);
		return appendFailure(cause, partition);
	}
}

/** What an append that failed unwritten is answered: a bug's 500 (no retry invited), else its partition unavailable. */
export function appendFailure(cause: unknown, partition: number): Failure {
	return isBug(cause, true) ? err("internal", "internal error") : partitionUnavailable(partition);
}

export const recordBytes = (records: readonly EncodedRecord[]): number => records.reduce((sum, r) => sum + r.bytes, 0);

/**
 * Runs what follows a group's commit (`PartitionLog.afterAppend`), each step on its own: one that throws is logged and
 * `rebuild` reads the view and cache back from storage, then runs the steps after it, since a quiet partition may see
 * no next append to catch up at. A rebuild that throws too runs again, with them, before any other event
 * (`PartitionLog.rebuild`), and the group is answered with its offsets; only if that fails too is the object reset,
 * failing the answers it holds although the records are stored (a storage failure, answered as a retriable 503: a
 * retry may write them twice, as any lost answer may; an idempotent producer's is answered as a duplicate).
 */
export function runAfterCommit(steps: readonly (() => void)[], rebuild: (then: () => void) => void): void {
	for (const [i, step] of steps.entries()) {
		try {
			step();
		} catch (cause) {
			console.error(`after a commit: ${String(cause)}`);
			rebuild(() => runAfterCommit(steps.slice(i + 1), rebuild));
			return;
		}
	}
}
