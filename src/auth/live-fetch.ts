/**
 * @module
 * How a live read pays its key's fetch-bytes quota: each write's bytes are charged at the key's authority before
 * the write goes, and while the key is in debt the write waits. A live reader is so held to its rate rather than
 * cut off: its stream stays open and only slows down. One rule for every live read, whoever holds it: the edge's
 * Server-Sent Events (src/http/middleware/quotas.ts) and the partition's WebSocket tails (src/partition/tail.ts).
 */

import { keyAuthority } from "../shared/stubs.ts";

/** Charges `bytes` to key `keyId`'s fetch quota, first waiting out any debt. Free for quotas the key lacks. */
export async function payLiveFetch(env: Env, keyId: string, bytes: number): Promise<void> {
	for (;;) {
		const refused = await keyAuthority(env, keyId).chargeQuotas(keyId, [{ quota: "fetch_bytes_per_sec", amount: bytes }]);
		if (refused === null) return;
		await new Promise((resolve) => setTimeout(resolve, refused.waitMs));
	}
}
