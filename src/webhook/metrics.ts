/**
 * @module
 * What a topic's webhook dispatcher reports to the metrics hub: each lane's acknowledged position (the hub
 * joins it with the partition's high watermark into lag) and, per subscription, when the oldest record staged
 * for delivery and not yet acknowledged was written.
 */

import { series } from "../metrics/catalog.ts";
import type { Figures } from "../metrics/reporter.ts";
import type { WebhookFigures } from "../metrics/types.ts";
import { lineTimestamp } from "../shared/record-codec.ts";

interface LaneFiguresRow extends Record<string, SqlStorageValue> {
	subscription_id: string;
	partition: number;
	next_offset: number;
	batch_records: string | null;
}

/**
 * Every lane's figures by `subscription/partition`, for the report sent a second after any change (so every second
 * while deliveries move): read by the first report after a start or after a subscription is added, deleted or
 * replayed or a lane added (`forget`, rare changes), and otherwise kept by each lane's write of its position or staged
 * batch (`set`), so a report reads no row however many lanes and staged batches the topic has. Read when a report
 * wants it, not at the start: a dispatcher woken for a subscription's GET sends none.
 */
export class ReportedLanes {
	/** Each lane as reported, and when its staged batch's first record was written (none without a staged batch). */
	#lanes: Map<string, [WebhookFigures["lanes"][number], number | undefined]> | null = null;
	readonly #sql: SqlStorage;

	constructor(sql: SqlStorage) {
		this.#sql = sql;
	}

	/** Drops the lanes kept, for the next report to read again: after a change the lanes' own writes do not tell. */
	forget(): void {
		this.#lanes = null;
	}

	/** A lane now at `nextOffset`, with a batch staged whose first record was written at `stagedAtMs`, or none. */
	set(subscription: string, partition: number, nextOffset: number, stagedAtMs?: number): void {
		// Not read yet: the read will take this write from SQLite.
		this.#lanes?.set(`${subscription}/${partition}`, [{ subscription, partition, nextOffset }, stagedAtMs]);
	}

	#read(): Map<string, [WebhookFigures["lanes"][number], number | undefined]> {
		if (this.#lanes === null) {
			this.#lanes = new Map();
			const rows = this.#sql.exec<LaneFiguresRow>(
				"SELECT l.subscription_id, l.partition, l.next_offset, l.batch_records FROM lanes l JOIN subscriptions s ON s.id = l.subscription_id",
			);
			// A staged batch's text starts with its first record.
			for (const r of rows)
				this.set(r.subscription_id, r.partition, r.next_offset, r.batch_records === null ? undefined : lineTimestamp(r.batch_records));
		}
		return this.#lanes;
	}

	figures(topic: string): Figures {
		const lanes = [...this.#read().values()];
		if (lanes.length === 0) return { gauges: {} };
		const gauges: Record<string, number> = {};
		const since: Record<string, number> = {};
		for (const [{ subscription }, stagedAtMs] of lanes) {
			const key = series("tributary_webhook_oldest_undelivered_age_seconds", { topic, subscription });
			gauges[key] = 0;
			if (stagedAtMs !== undefined) since[key] = Math.min(since[key] ?? stagedAtMs, stagedAtMs);
		}
		return { gauges, since, webhook: { topic, lanes: lanes.map(([lane]) => lane) } };
	}
}
