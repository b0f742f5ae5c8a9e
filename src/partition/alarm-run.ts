/**
 * @module
 * The partition's alarm handler: one run of its background work (lifecycle.ts, then tiering/), each part bounded,
 * then the next alarm is set for whatever is due first.
 */

import { AssertionError } from "../shared/assert.ts";
import { ALARM_RETRIES_MAX, ALARM_RETRY_MS_MIN } from "../shared/limits.ts";
import type { TopicConfig } from "../shared/topic-config.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { ProducerStore } from "./producer-store.ts";
import type { TieredStorage } from "./tiering/tiered-storage.ts";

/**
 * The storage key (the object's synchronous KV, in its SQLite database) of the failed runs in a row: written only by
 * a failure and deleted by the first success, so a partition whose runs succeed never writes it.
 */
const FAILURES_KEY = "alarm_failures";

/** What an alarm run needs of its partition. */
export interface AlarmHost {
	readonly storage: DurableObjectStorage;
	readonly lifecycle: Lifecycle;
	readonly tiering: TieredStorage;
	readonly producers: ProducerStore;
	/** The config while the partition is active; null otherwise (a deleted or unconfigured partition has no work). */
	activeConfig(): TopicConfig | null;
	/** Reads the partition's view back from SQLite, after a run's transaction rolled back; never throws (`PartitionLog.rebuild`). */
	reload(): void;
	/**
	 * Ends a Durable Streams stream marked deleted or expired (its topic dropped: the registry then wipes this object). Run
	 * only while the partition is active, so its topic id is known; a failure is logged, and its next try backs off on
	 * its own (`StreamSide.dropDueMs`).
	 */
	dropStream(): Promise<unknown>;
}

/**
 * Runs the alarm's work. A run that fails sets the alarm again itself, backing off while failures repeat: workerd
 * retries a throwing handler only a few times, and an idle partition would then have no alarm (no retention, no
 * offload) until its next append. It throws instead, leaving the alarm to workerd, when a retry cannot help: a failed
 * assertion (a bug, met again by every run), `ALARM_RETRIES_MAX` failures in a row (counted in storage, so across
 * instances), or storage that no longer takes the count's write (the object is being reset or aborted: its reads
 * still answer, but workerd runs the alarm again on a new instance; this one must not even log, since vitest's log
 * capture waits forever on a line from such an object).
 */
export class PartitionAlarm {
	/** Failed runs in a row, as stored under `FAILURES_KEY`; unknown until this instance's first run reads it. */
	#failures: number | undefined;

	constructor(private readonly host: AlarmHost) {}

	async run(): Promise<void> {
		const kv = this.host.storage.kv;
		this.#failures ??= kv.get<number>(FAILURES_KEY) ?? 0;
		try {
			await runAlarm(this.host);
			if (this.#failures > 0) kv.delete(FAILURES_KEY);
			this.#failures = 0;
		} catch (cause) {
			if (cause instanceof AssertionError || this.#failures >= ALARM_RETRIES_MAX) throw cause;
			const failures = this.#failures + 1;
			try {
				this.host.storage.transactionSync(() => kv.put(FAILURES_KEY, failures));
			} catch {
				throw cause;
			}
			this.#failures = failures;
			const delayMs = ALARM_RETRY_MS_MIN * 2 ** (failures - 1);
			console.error(`partition alarm failed (${failures} in a row), again in ${delayMs} ms: ${String(cause)}`);
			this.host.lifecycle.retryAt(Date.now() + delayMs);
		}
	}
}

async function runAlarm(host: AlarmHost): Promise<void> {
	const config = host.activeConfig();
	if (config === null) return;
	const nowMs = Date.now();
	try {
		host.storage.transactionSync(() => {
			// Retention and compaction may delete rows a replay of the producers' batches would read.
			host.producers.snapshot();
			host.lifecycle.run(config, nowMs);
		});
	} catch (cause) {
		// Rolled back: what the run changed in memory (the log's view, segments to delete) is read back or dropped.
		host.tiering.rolledBack();
		host.reload();
		throw cause;
	}
	host.producers.forget(); // idle producers' rows may have expired
	await host.tiering.run(config, nowMs);
	await host.dropStream();
	// The awaits let other calls in: a deletion (the stream's drop too), or a newer config.
	const latest = host.activeConfig();
	if (latest !== null) host.lifecycle.reschedule(latest, Date.now());
}
