/**
 * Proof that a long-poll is waiting, read inside the partition's Durable Object: its pending waiters (the reads
 * parked until an append), and the timeout each wait was given. Tests produce only once a read is seen waiting,
 * instead of sleeping and hoping it has started.
 */

import { runInDurableObject } from "cloudflare:test";
import { expect, vi } from "vitest";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { partitionStub } from "./stubs.ts";

/** The part of PartitionLog these helpers read: its long-poll waiters (private; tests only look). */
interface WaitingReads {
	readonly waiters: { readonly pending: { readonly size: number }; wait(timeoutMs: number, id?: string): Promise<void> };
}

/**
 * A bound on a hung wait, not a measure: a parked read shows up within milliseconds when the machine is idle, but a
 * loaded one can take seconds to start the request's isolate. Success returns at the first poll that sees it.
 */
const UNTIL_WAITING = { timeout: 30_000, interval: 5 };

/** How many reads `partition` of `topic` holds parked until an append. */
export async function waitingReads(topic: string, partition = 0): Promise<number> {
	return runInDurableObject(
		await partitionStub(topic, partition),
		(instance) => (instance as unknown as WaitingReads).waiters.pending.size,
	);
}

/** Resolves once `partition` of `topic` holds at least `count` parked reads (fails after `UNTIL_WAITING.timeout`). */
export async function untilWaiting(topic: string, partition = 0, count = 1): Promise<void> {
	await vi.waitFor(async () => expect(await waitingReads(topic, partition)).toBeGreaterThanOrEqual(count), UNTIL_WAITING);
}

/**
 * From now on, records the timeout of every wait `partition` of `topic` starts (until the object is evicted):
 * what a long-poll's `wait_ms` became after every cap on the way.
 */
export async function recordWaits(topic: string, partition = 0): Promise<number[]> {
	const timeoutsMs: number[] = [];
	await runInDurableObject(await partitionStub(topic, partition), (instance) => {
		const { waiters } = instance as unknown as WaitingReads;
		const wait = waiters.wait.bind(waiters);
		waiters.wait = (timeoutMs: number, id?: string) => {
			timeoutsMs.push(timeoutMs);
			return wait(timeoutMs, id);
		};
	});
	return timeoutsMs;
}

/**
 * From now on the partitions are objects of the earlier version, as during a deploy: they have no `stopWaiting`, so an
 * edge that asks one to end a wait is refused. Returns what puts the method back.
 */
export function partitionsWithoutStopWaiting(): () => void {
	const prototype = PartitionLog.prototype as Partial<PartitionLog>;
	const stopWaiting = prototype.stopWaiting;
	delete prototype.stopWaiting;
	return () => {
		prototype.stopWaiting = stopWaiting;
	};
}
