/**
 * @module
 * Per-key quotas: requests/s, produce bytes/s and fetch bytes/s, each a token bucket
 * (`src/auth/token-bucket.ts`). Over quota → 429 `quota_exceeded` with `Retry-After`.
 *
 * Where the state lives: in the key's own `KeyStore` authority (the object that authenticates it), in memory. Every
 * isolate and location charges the same buckets, so a quota is exact however a key's traffic is spread; the price
 * is one more RPC per request, paid only by keys that have quotas (and one more after a fetch with a fetch-bytes
 * quota). An evicted authority starts with full buckets: at worst one extra burst.
 * Produce bytes are charged from the declared Content-Length before the request runs (a key with a produce quota
 * must declare it: 411 otherwise, so a chunked body cannot slip past; a compressed body is charged as sent, as Kafka's
 * byte-rate quotas count a compressed batch, and inflates to `REQUEST_BYTES_MAX` at most); fetch bytes from the response body
 * afterwards (routes report it as `bodyBytes`), so a key in debt waits. A live read pays each write as it goes (SSE:
 * `liveFetchCharger`; a WebSocket tail: src/partition/tail.ts). Which byte quota a route draws on is its `byteQuota`
 * in the route table (route-table.ts), the same entry `authorize()` reads.
 */

import type { Context, MiddlewareHandler } from "hono";
import { livePayer } from "../../auth/live-quota.ts";
import type { QuotaCharge, QuotaRefusal } from "../../auth/types.ts";
import { ApiError, bare } from "../../shared/errors.ts";
import { utf8ByteLength } from "../../shared/json.ts";
import { keyAuthority } from "../../shared/stubs.ts";
import type { AppEnv } from "../app-env.ts";
import { matchedRoute } from "../route-table.ts";

function refuse(refusal: QuotaRefusal): never {
	throw quotaError(refusal);
}

/** The 429 a request over its key's quota is answered. */
export function quotaError({ quota, waitMs: wait }: QuotaRefusal): ApiError {
	return new ApiError("quota_exceeded", `this key is over its ${quota.replaceAll("_", " ")} quota; retry in ${Math.ceil(wait / 1000)} s`, {
		quota,
		retry_after_ms: wait,
	});
}

/** Whether the caller's fetched bytes are charged: a key's (or anonymous's) with a fetch quota. */
function paysFetch(c: Context<AppEnv>): boolean {
	const principal = c.get("principal");
	return principal !== undefined && principal.kind !== "admin" && principal.key.quotas.fetch_bytes_per_sec !== undefined;
}

/**
 * Reports a response body's size for the fetch-bytes quota. Measured only when a quota charges it: sizing a 1 MB
 * fetch as UTF-8 costs a scan the admin token and keys without that quota need not pay.
 */
export function reportFetchedBody(c: Context<AppEnv>, body: string): void {
	if (paysFetch(c)) c.set("bodyBytes", utf8ByteLength(body));
}

/** As `reportFetchedBody`, for a body already measured in bytes (a binary read). */
export function reportFetchedBytes(c: Context<AppEnv>, bytes: number): void {
	if (paysFetch(c)) c.set("bodyBytes", bytes);
}

/**
 * Charges produce bytes a handler writes from something other than a body with a Content-Length (a GET whose URL
 * carries the record), before it writes them: over quota → 429 as `quotas()` answers. Free for the admin token and
 * for keys without a produce quota. Its route is `chargedByHandler`, so `quotas()` does not ask for a Content-Length.
 */
export async function chargeProducedBytes(c: Context<AppEnv>, bytes: number): Promise<void> {
	const principal = c.get("principal");
	if (principal.kind === "admin" || principal.key.quotas.produce_bytes_per_sec === undefined) return;
	const id = principal.key.id;
	const refused = bare(await keyAuthority(c.env, id).chargeQuotas(id, [{ quota: "produce_bytes_per_sec", amount: bytes }]));
	if (refused !== null) refuse(refused);
}

/**
 * For a live read the edge holds (Server-Sent Events): a function that charges each write's bytes (`size()`, asked
 * only while the key has the quota) to the key's
 * fetch quota before the write goes, waiting while the key is in debt, unless the client left meanwhile (`wanted()`),
 * and follows a quota set or removed after the stream opened (see src/auth/live-quota.ts). Null for the admin token:
 * its live reads pay nothing.
 */
export function liveFetchCharger(c: Context<AppEnv>): ReturnType<typeof livePayer> | null {
	const principal = c.get("principal");
	if (principal.kind === "admin") return null;
	return livePayer(c.env, principal.key.id, "fetch_bytes_per_sec", principal.key.quotas.fetch_bytes_per_sec !== undefined);
}

export function quotas(): MiddlewareHandler<AppEnv> {
	return async function quotas(c, next) {
		const principal = c.get("principal");
		if (principal.kind === "admin") return next();
		const limits = principal.key.quotas;
		const charges: QuotaCharge[] = [];
		if (limits.requests_per_sec !== undefined) charges.push({ quota: "requests_per_sec", amount: 1 });
		const facts = matchedRoute(c)?.facts;
		// A stream's handler charges its messages as they come (see produce-stream.ts); a GET that produces, its URL's.
		const quota = facts?.chargedByHandler === true ? null : (facts?.byteQuota ?? null);
		const byteQuota = quota !== null && limits[quota] !== undefined ? quota : null;
		if (byteQuota === "produce_bytes_per_sec") {
			const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
			if (!Number.isSafeInteger(declared) || declared < 0) {
				throw new ApiError("length_required", "this key has a produce quota: send Content-Length (no chunked bodies)");
			}
			charges.push({ quota: byteQuota, amount: declared });
		} else if (byteQuota !== null) charges.push({ quota: byteQuota, amount: 0 }); // fetch: paid once the body is known
		if (charges.length === 0) return next();
		const authority = keyAuthority(c.env, principal.key.id);
		const refused = bare(await authority.chargeQuotas(principal.key.id, charges));
		if (refused !== null) refuse(refused);
		await next();
		const measured = c.get("bodyBytes");
		if (byteQuota === "fetch_bytes_per_sec" && measured !== undefined) {
			// Charged whatever the debt, after the answer was built (a poll's positions have moved): one that fails costs
			// one burst, logged, and the answer stands.
			await authority
				.chargeQuotas(principal.key.id, [{ quota: byteQuota, amount: measured }], true)
				.then(bare)
				.catch((cause: unknown) => console.error(`key ${principal.key.id}: owed fetch charge failed: ${String(cause)}`));
		}
	};
}
