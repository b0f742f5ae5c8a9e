/**
 * @module
 * How a live stream pays its key's byte quota: each message's bytes are charged at the key's authority before it
 * goes, and while the key is in debt the message waits. A live stream is so held to its rate rather than cut off:
 * it stays open and only slows down, as Kafka throttles a connection. One rule for every live stream, whoever holds
 * it: the edge's Server-Sent Events and streaming produce (src/http/middleware/quotas.ts,
 * src/http/routes/produce-stream.ts) and the partition's WebSocket tails (src/partition/tail.ts).
 *
 * A stream outlives the quota it opened under, as a Kafka client's connection outlives a quota change: whether the key
 * has the quota is asked of its authority again every `TAIL_PAYER_CHECK_MS`, so a quota set after the stream opened
 * starts charging it, and one removed stops its calls to the authority, within that time.
 */

import { bare } from "../shared/errors.ts";
import { TAIL_PAYER_CHECK_MS } from "../shared/limits.ts";
import { keyAuthority } from "../shared/stubs.ts";
import type { Quota } from "./types.ts";

/**
 * Charges `bytes` to key `keyId`'s `quota`, first waiting out any debt. Free when the key lacks that quota. Charges
 * nothing once `wanted()` is false: a message whose client left while it waited will not be sent, so not paid for.
 */
export async function payLive(env: Env, keyId: string, quota: Quota, bytes: number, wanted = () => true): Promise<void> {
	while (wanted()) {
		const refused = bare(await keyAuthority(env, keyId).chargeQuotas(keyId, [{ quota, amount: bytes }]));
		if (refused === null) return;
		await new Promise((resolve) => setTimeout(resolve, refused.waitMs));
	}
}

/** Whether key `keyId` has `quota`, as its authority answers now. */
export async function hasQuota(env: Env, keyId: string, quota: Quota): Promise<boolean> {
	return bare(await keyAuthority(env, keyId).getKey(keyId))?.quotas[quota] !== undefined;
}

/**
 * Pays each message of a stream the edge holds for key `keyId`, which had `quota` at open or not (`pays`); asked
 * again at the first message after each `TAIL_PAYER_CHECK_MS`. A message is sized (`size()`) only while the key pays:
 * measuring the UTF-8 bytes of every message of a key without the quota would cost its stream for nothing. A message
 * is paid only while `wanted()` (the client is still there), as in `payLive`.
 */
export function livePayer(
	env: Env,
	keyId: string,
	quota: Quota,
	pays: boolean,
): (size: () => number, wanted?: () => boolean) => Promise<void> {
	let checkAtMs = Date.now() + TAIL_PAYER_CHECK_MS;
	return async (size, wanted) => {
		if (Date.now() >= checkAtMs) {
			pays = await hasQuota(env, keyId, quota);
			checkAtMs = Date.now() + TAIL_PAYER_CHECK_MS;
		}
		if (pays) await payLive(env, keyId, quota, size(), wanted);
	};
}
