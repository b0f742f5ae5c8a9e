/**
 * @module
 * Token buckets for per-key quotas. A bucket holds up to one second of its rate. A request is let
 * through while the bucket is not in debt and then pays in full, possibly going negative: a request larger than
 * the burst (an 8 MiB produce on a 1 MB/s quota) still works, and the debt holds the key back until repaid, so
 * the long-run rate is the quota. Pure: time is passed in.
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
