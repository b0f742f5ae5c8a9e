/**
 * @module
 * A key's quotas after a change (`PATCH /v1/keys/{id}/quotas`, JSON Merge Patch, RFC 7396 §2): a quota named with a
 * rate is set, one named with null removed, one not named kept. A whole replacement (`PUT`) is the same change made
 * to no quotas. Pure.
 */

import type { KeyQuotas, Quota, QuotasPatch } from "./types.ts";

export function mergeQuotas(quotas: KeyQuotas, patch: QuotasPatch): KeyQuotas {
	const next: Partial<Record<Quota, number>> = { ...quotas };
	for (const [quota, rate] of Object.entries(patch) as [Quota, number | null | undefined][]) {
		if (rate === null) delete next[quota];
		else if (rate !== undefined) next[quota] = rate;
	}
	return next;
}
