/**
 * @module
 * An append's exactly-once claims (an idempotent producer's sequence, an `Idempotency-Key`) decided against the
 * partition's state: by the partition's `stage` inside a group's transaction, where they are final, and ahead of it
 * by `checkClaims`, without writing, for a request spread over several partitions. Each partition decides its own
 * share, so without asking first one could refuse after another had written, and a refused request would leave
 * records behind. The same checks in both places, so the question answers what the append will decide, unless a
 * request of the same producer or key lands in between (as it could change the order of two appends anyway).
 */

import { type Failure, ok, type Result } from "../shared/errors.ts";
import { idempotencyKeyRefusal } from "./append-store.ts";
import { checkSequence, type ProducerState } from "./producer-state.ts";
import type { ProducerStore } from "./producer-store.ts";
import type { AppendResult, ClaimCheck, ProducerClaim } from "./types.ts";

/** What a producer's claim decides for an append of `count` records: refused, a retry answered as first written, or null (new). */
export function sequenceOutcome(state: ProducerState | null, claim: ProducerClaim, count: number): Result<AppendResult> | null {
	const decision = checkSequence(state, claim.epoch, claim.baseSequence, count);
	if (decision.kind === "reject") return { ok: false, error: decision.error };
	if (decision.kind === "append") return null;
	return ok({ baseOffset: decision.batch.baseOffset, appendTimeMs: decision.batch.appendTimeMs, duplicate: true });
}

/** The refusal an append with `check`'s claims would get from this partition now, or null (new, or a retry). */
export function claimsRefusal(
	sql: SqlStorage,
	check: ClaimCheck,
	producers: ProducerStore,
	nowMs: number,
	expired: (createdAtMs: number, nowMs: number) => boolean,
): Failure | null {
	if (check.producer !== null) {
		const outcome = sequenceOutcome(producers.load(check.producer.producerId), check.producer, check.recordCount);
		if (outcome !== null && !outcome.ok) return outcome;
	}
	return check.idempotency === null ? null : idempotencyKeyRefusal(sql, check.idempotency, check.recordCount, nowMs, expired);
}
