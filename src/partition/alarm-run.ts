/**
 * @module
 * The partition's alarm handler: one run of its background work (lifecycle.ts, then tiering/), each part bounded,
 * then the next alarm is set for whatever is due first.
 */

import type { TopicConfig } from "../shared/topic-config.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { ProducerStore } from "./producer-store.ts";
import type { TieredStorage } from "./tiering/tiered-storage.ts";

/** What an alarm run needs of its partition. */
export interface AlarmHost {
	readonly storage: DurableObjectStorage;
	readonly lifecycle: Lifecycle;
	readonly tiering: TieredStorage;
	readonly producers: ProducerStore;
	/** The config while the partition is active; null otherwise (a deleted or unconfigured partition has no work). */
	activeConfig(): TopicConfig | null;
	/** Reads the partition's view back from SQLite, after a run's transaction rolled back. */
	reload(): void;
}

export async function runAlarm(host: AlarmHost): Promise<void> {
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
	// The awaits let other calls in: a deletion, or a newer config.
	const latest = host.activeConfig();
	if (latest !== null) host.lifecycle.reschedule(latest, Date.now());
}
