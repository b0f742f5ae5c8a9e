/**
 * @module
 * One group of the partition's group commit (commit-queue.ts, `PartitionLog.writeGroup`): its entries, and what is
 * read once for all the appends written in it.
 */

import type { EncodedRecord } from "../shared/record-codec.ts";
import type { GroupKeys } from "./append-store.ts";
import type { BatchWriter } from "./batch-writer.ts";
import type { AppendRequest } from "./types.ts";

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

export const recordBytes = (records: readonly EncodedRecord[]): number => records.reduce((sum, r) => sum + r.bytes, 0);

/**
 * Runs what follows a group's commit (`PartitionLog.afterAppend`), each step on its own: one that throws is logged and
 * `recover` rebuilds the view and cache from storage, and the steps after it still run, since a quiet partition may
 * see no next append to catch up at. A `recover` that throws too (storage failing) may leave them half rebuilt, and
 * nothing may be served from those: it runs again, then the steps left, in `blocking` (a critical section, which the
 * input gate lets in before any other event); if it throws there, the runtime resets the object and the next call
 * starts from SQLite. The group is answered either way, its records being stored. Not `ctx.abort()` at once: that
 * would fail the answers the output gate still holds for the commit.
 */
export function runAfterCommit(steps: readonly (() => void)[], recover: () => void, blocking: (work: () => void) => void): void {
	for (const [i, step] of steps.entries()) {
		try {
			step();
		} catch (cause) {
			console.error(`after a commit: ${String(cause)}`);
			try {
				recover();
			} catch (failed) {
				console.error(`after a commit, rebuilding: ${String(failed)}`);
				blocking(() => {
					recover();
					runAfterCommit(steps.slice(i + 1), recover, blocking);
				});
				return;
			}
		}
	}
}
