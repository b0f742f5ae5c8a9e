/**
 * @module
 * How the coordinator's answer to a commit crosses RPC. A stored commit is answered as its generation alone, a
 * number, to a caller that asks for it: the commit route tells the member nothing more, and workerd's RPC returns a
 * primitive for less than an object (measured for the poll's answers, see poll-answer.ts). Every other answer (a
 * refusal, offsets held back for a bounds check) crosses as the object itself. The caller asks (the call's last
 * argument), so an edge of an earlier version, still running during a deploy, keeps getting the object it reads.
 */

import { assert } from "../shared/assert.ts";
import { ok, type Result } from "../shared/errors.ts";
import type { CommitOutcome, TopicPartition } from "./types.ts";

/** What `GroupCoordinator.commit` answers over RPC. */
export type CommitAnswer = number | Result<CommitOutcome>;

/** A commit as the commit route uses it: stored in a generation, or offsets the edge must bounds-check first. */
export type CommitResult =
	| { readonly committed: true; readonly generation: number }
	| { readonly committed: false; readonly unverified: readonly TopicPartition[] };

/** The coordinator's side: `outcome` as it crosses RPC to a caller that asked for the generation alone or did not. */
export function commitAnswer(outcome: Result<CommitOutcome>, generationOnly = false): CommitAnswer {
	if (!generationOnly || !outcome.ok || !outcome.value.committed) return outcome;
	return outcome.value.generation;
}

/** The caller's side: the commit `answer` stands for, or the coordinator's refusal. */
export function commitResultOf(answer: CommitAnswer): Result<CommitResult> {
	if (typeof answer !== "number") {
		if (!answer.ok || !answer.value.committed) return answer;
		return ok({ committed: true, generation: answer.value.generation });
	}
	assert(Number.isSafeInteger(answer) && answer >= 0, "commit generation");
	return ok({ committed: true, generation: answer });
}
