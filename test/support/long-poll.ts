/**
 * Proof that a long-poll is waiting, read inside the partition's Durable Object: its pending waiters (the reads
 * parked until an append), and the timeout each wait was given. Tests produce only once a read is seen waiting,
 * instead of sleeping and hoping it has started.
 */

import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { partitionStub } from "./stubs.ts";
import { ADMIN_TOKEN, BASE } from "./worker.ts";

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

/**
 * `method path` (with the admin's token, `options.headers`, and `options.body` as JSON) sent by a client that can
 * leave, through the runtime's own request boundary (`exports.default.fetch`), not the handler called directly: what
 * a test of it proves is that workerd tells the edge its client left (`Request.signal`, under the
 * `enable_request_signal` compatibility flag) and what the edge does then. `leave()` disconnects the client and
 * resolves with how its call ended: "AbortError" when it was still waiting, "answered" when it was not.
 */
export function leavingClient(
	method: string,
	path: string,
	options: { readonly body?: unknown; readonly headers?: Record<string, string> } = {},
): { leave(): Promise<string> } {
	const client = new AbortController();
	const headers = new Headers(options.headers);
	headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
	const body = options.body === undefined ? undefined : JSON.stringify(options.body);
	if (body !== undefined) {
		headers.set("Content-Type", "application/json");
		headers.set("Content-Length", String(new TextEncoder().encode(body).byteLength));
	}
	const answer = exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body, signal: client.signal })).then(
		() => "answered",
		(error: unknown) => (error instanceof Error ? error.name : String(error)),
	);
	return {
		leave: () => {
			client.abort();
			return answer;
		},
	};
}

/**
 * Resolves once none of `partitions` of `topic` holds a parked read, and fails if one still does when a read's wait
 * of `waitMs` is 10 s from its end: a bound on a hung release, well inside that wait, so what passes is a release, not
 * a wait that ran out. `whose` names the reads in the failure.
 */
export async function untilReleased(topic: string, partitions: readonly number[], waitMs: number, whose: string): Promise<void> {
	await vi.waitFor(
		async () => {
			const held = await Promise.all(partitions.map((p) => waitingReads(topic, p)));
			expect(held, `waiters of ${whose}`).toEqual(partitions.map(() => 0));
		},
		{ timeout: waitMs - RELEASE_MARGIN_MS, interval: 20 },
	);
}

/** How long before a read's own end `untilReleased` gives up: more than a test takes to begin the read. */
const RELEASE_MARGIN_MS = 10_000;
