/**
 * @module
 * Per-key quotas (issue 6): requests/s, produce bytes/s and fetch bytes/s, each a token bucket
 * (`src/auth/token-bucket.ts`). Over quota → 429 `quota_exceeded` with `Retry-After`.
 *
 * Where the state lives, and the trade-off: buckets are kept per isolate, in memory. That costs nothing on the
 * request path and is exact for a client served by one isolate, but a key spread over N isolates (or N
 * locations) can reach up to N× its quota, and a new isolate starts with a full bucket. Exact global limits
 * would need a Durable Object per key on every request — an extra round trip that this hot path avoids.
 * Produce bytes are charged from the declared Content-Length before the request runs (a key with a produce quota
 * must declare it: 411 otherwise, so a chunked body cannot slip past); fetch bytes from the response body
 * afterwards (routes report it as `bodyBytes`), so a key in debt waits.
 */

import type { Context, MiddlewareHandler } from "hono";
import { type Bucket, charge, newBucket, waitMs } from "../../auth/token-bucket.ts";
import type { KeyQuotas } from "../../auth/types.ts";
import { ApiError } from "../../shared/errors.ts";
import { QUOTA_BUCKETS_MAX } from "../../shared/limits.ts";
import type { AppEnv } from "../app-env.ts";

type Quota = keyof KeyQuotas;

const buckets = new Map<string, Bucket>();

function bucketFor(keyId: string, quota: Quota, rate: number, nowMs: number): Bucket {
	const id = `${keyId}/${quota}`;
	let bucket = buckets.get(id);
	if (bucket === undefined) {
		if (buckets.size >= QUOTA_BUCKETS_MAX) buckets.clear(); // bounded memory; a reset only grants a fresh burst
		bucket = newBucket(rate, nowMs);
		buckets.set(id, bucket);
	}
	return bucket;
}

/**
 * The routes that draw on a byte quota, by method and path. Produce routes are charged their declared
 * Content-Length up front; fetch routes their response body afterwards (they set `bodyBytes`). Compatibility
 * mounts add their produce and fetch routes here.
 */
const BYTE_QUOTA_ROUTES: readonly { readonly method: string; readonly path: RegExp; readonly quota: Quota }[] = [
	{ method: "POST", path: /^\/v1\/topics\/[^/]+\/(?:records|webhook)$/, quota: "produce_bytes_per_sec" },
	{ method: "GET", path: /^\/v1\/topics\/[^/]+\/partitions\/[^/]+\/records$/, quota: "fetch_bytes_per_sec" },
	{ method: "POST", path: /^\/v1\/groups\/[^/]+\/members\/[^/]+\/poll$/, quota: "fetch_bytes_per_sec" },
	// Confluent REST v3 (issue 7): single, streamed and batch produce.
	{ method: "POST", path: /^\/kafka\/v3\/clusters\/[^/]+\/topics\/[^/]+\/records(?::batch)?$/, quota: "produce_bytes_per_sec" },
	// Upstash (issue 7). `GET /upstash/produce/{topic}/{message}` has no body to charge: its message is in the URL.
	{ method: "POST", path: /^\/upstash\/(?:produce(?:\/[^/]+)?|webhook)$/, quota: "produce_bytes_per_sec" },
	{ method: "POST", path: /^\/upstash\/(?:fetch|consume\/[^/]+\/[^/]+(?:\/[^/]+)?)$/, quota: "fetch_bytes_per_sec" },
	{ method: "GET", path: /^\/upstash\/consume\/[^/]+\/[^/]+\/[^/]+$/, quota: "fetch_bytes_per_sec" },
];

/** Which byte quota a request draws on. */
function byteQuotaOf(method: string, path: string): Quota | null {
	return BYTE_QUOTA_ROUTES.find((route) => route.method === method && route.path.test(path))?.quota ?? null;
}

function refuse(quota: Quota, wait: number): never {
	throw new ApiError("quota_exceeded", `this key is over its ${quota.replaceAll("_", " ")} quota; retry in ${Math.ceil(wait / 1000)} s`, {
		quota,
		retry_after_ms: wait,
	});
}

/**
 * Whether this request's response is charged to a fetch-bytes quota, so a route measures its body only then:
 * sizing a 1 MB fetch as UTF-8 costs a scan the admin token and unlimited keys need not pay.
 */
export function chargesFetchBytes(c: Context<AppEnv>): boolean {
	const principal = c.get("principal");
	return principal?.kind === "key" && principal.key.quotas.fetch_bytes_per_sec !== undefined;
}

export function quotas(): MiddlewareHandler<AppEnv> {
	return async function quotas(c, next) {
		const principal = c.get("principal");
		if (principal.kind !== "key") return next();
		const limits = principal.key.quotas;
		const nowMs = Date.now();
		const requestRate = limits.requests_per_sec;
		if (requestRate !== undefined) {
			const bucket = bucketFor(principal.key.id, "requests_per_sec", requestRate, nowMs);
			const wait = waitMs(bucket, requestRate, nowMs);
			if (wait > 0) refuse("requests_per_sec", wait);
			charge(bucket, requestRate, 1, nowMs);
		}
		const quota = byteQuotaOf(c.req.method, new URL(c.req.url).pathname);
		const rate = quota === null ? undefined : limits[quota];
		if (quota === null || rate === undefined) return next();
		const bucket = bucketFor(principal.key.id, quota, rate, nowMs);
		const wait = waitMs(bucket, rate, nowMs);
		if (wait > 0) refuse(quota, wait);
		if (quota === "produce_bytes_per_sec") {
			const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
			if (!Number.isSafeInteger(declared) || declared < 0) {
				throw new ApiError("length_required", "this key has a produce quota: send Content-Length (no chunked bodies)");
			}
			charge(bucket, rate, declared, nowMs);
			return next();
		}
		await next();
		const measured = c.get("bodyBytes");
		if (measured !== undefined) charge(bucket, rate, measured, Date.now());
	};
}
