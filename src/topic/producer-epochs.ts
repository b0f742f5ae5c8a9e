/**
 * @module
 * Idempotent producer ids at the edge: the registry hands them out (`POST /v1/producers`) and bumps the epoch
 * when a named producer re-initialises; the edge refuses a stale epoch before writing. The check uses a short
 * per-isolate cache, so for up to `PRODUCER_CACHE_TTL_MS` a fenced producer may still reach a partition it had
 * written to — which then fences it itself, since partitions compare epochs too (as Kafka's brokers do).
 */

import { err, ok, type Result, thrownUnless } from "../shared/errors.ts";
import { PRODUCER_CACHE_TTL_MS } from "../shared/limits.ts";
import { topicRegistry } from "../shared/stubs.ts";

const epochs = new Map<number, { epoch: number; expiresAtMs: number }>();

async function currentEpoch(env: Env, producerId: number, fresh: boolean): Promise<number | null> {
	const hit = epochs.get(producerId);
	if (!fresh && hit !== undefined && hit.expiresAtMs > Date.now()) return hit.epoch;
	const found = thrownUnless(await topicRegistry(env).getProducer(producerId), "unknown_producer");
	if (!found.ok) {
		epochs.delete(producerId);
		return null;
	}
	epochs.set(producerId, { epoch: found.value.epoch, expiresAtMs: Date.now() + PRODUCER_CACHE_TTL_MS });
	return found.value.epoch;
}

/** Ok when `epoch` is the producer's current epoch; `fenced` when it is older, `unknown_producer` when no such id. */
export async function checkProducerEpoch(env: Env, producerId: number, epoch: number): Promise<Result<void>> {
	let current = await currentEpoch(env, producerId, false);
	if (current !== null && epoch > current) current = await currentEpoch(env, producerId, true);
	if (current === null)
		return err("unknown_producer", `producer ${producerId} does not exist; get one from POST /v1/producers`, { producer_id: producerId });
	if (epoch !== current) {
		return err("fenced", `producer ${producerId} epoch ${epoch} is not current; the current epoch is ${current}`, {
			producer_id: producerId,
			current_epoch: current,
		});
	}
	return ok(undefined);
}

/** Forgets a cached epoch (after this isolate bumped it). */
export function forgetProducer(producerId: number): void {
	epochs.delete(producerId);
}
