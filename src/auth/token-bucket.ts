/**
 * @module
 * Token buckets for per-key quotas. A bucket holds up to one second of its rate. A request is let
 * through while the bucket is not in debt and then pays in full, possibly going negative: a request larger than
 * the burst (an 8 MiB produce on a 1 MB/s quota) still works, and the debt holds the key back until repaid, so
 * the long-run rate is the quota. Pure: time is passed in.
 *
 * A rate changed under a bucket (`rerate`): the time before the change refills at the old rate; then the bucket keeps
 * its level as a share of a second, except that a debt is never made to last longer than the old rate would have
 * taken to repay it. So a raised quota repays the bytes owed at the new rate (as Kafka recomputes a throttle from the
 * new quota), and a lowered one does not turn a 4 s wait into 400 s for bytes the old quota let through.
 */

export interface Bucket {
	tokens: number;
	updatedAtMs: number;
}

export function newBucket(ratePerSec: number, nowMs: number): Bucket {
	return { tokens: ratePerSec, updatedAtMs: nowMs };
}

function refill(bucket: Bucket, ratePerSec: number, nowMs: number): void {
	const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs);
	bucket.tokens = Math.min(ratePerSec, bucket.tokens + (elapsedMs * ratePerSec) / 1000);
	bucket.updatedAtMs = nowMs;
}

/** Milliseconds until the bucket is out of debt; 0 when a request may go now. */
export function waitMs(bucket: Bucket, ratePerSec: number, nowMs: number): number {
	refill(bucket, ratePerSec, nowMs);
	return bucket.tokens > 0 ? 0 : Math.ceil(((1 - bucket.tokens) * 1000) / ratePerSec);
}

/** Pays `amount` (requests or bytes), going into debt if need be. */
export function charge(bucket: Bucket, ratePerSec: number, amount: number, nowMs: number): void {
	refill(bucket, ratePerSec, nowMs);
	bucket.tokens -= amount;
}

/** Carries `bucket` from `oldRatePerSec` to `newRatePerSec` at `nowMs` (see the module's comment). */
export function rerate(bucket: Bucket, oldRatePerSec: number, newRatePerSec: number, nowMs: number): void {
	refill(bucket, oldRatePerSec, nowMs);
	// In debt: the bytes owed at a raise, the wait owed at a cut; not in debt: the same share of a full bucket.
	bucket.tokens = Math.max(bucket.tokens, (bucket.tokens * newRatePerSec) / oldRatePerSec);
}
