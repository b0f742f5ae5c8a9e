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
 * while deliveries move): read at a start and after a subscription is added, deleted or replayed or a lane added
 * (`load`, rare changes), and otherwise kept by each lane's write of its position or staged batch (`set`), so a
 * report reads no row however many lanes and staged batches the topic has.
 */
export class ReportedLanes {
	/** Each lane as reported, and when its staged batch's first record was written (none without a staged batch). */
	#lanes = new Map<string, [WebhookFigures["lanes"][number], number | undefined]>();
	readonly #sql: SqlStorage;

	constructor(sql: SqlStorage) {
		this.#sql = sql;
		this.load();
	}

	/** Reads every lane: at a start, and after a change the lanes' own writes do not tell (a subscription added). */
	load(): void {
		this.#lanes.clear();
		const rows = this.#sql.exec<LaneFiguresRow>(
			"SELECT l.subscription_id, l.partition, l.next_offset, l.batch_records FROM lanes l JOIN subscriptions s ON s.id = l.subscription_id",
		);
		// A staged batch's text starts with its first record.
		for (const r of rows)
			this.set(r.subscription_id, r.partition, r.next_offset, r.batch_records === null ? undefined : lineTimestamp(r.batch_records));
	}

	/** A lane now at `nextOffset`, with a batch staged whose first record was written at `stagedAtMs`, or none. */
	set(subscription: string, partition: number, nextOffset: number, stagedAtMs?: number): void {
		this.#lanes.set(`${subscription}/${partition}`, [{ subscription, partition, nextOffset }, stagedAtMs]);
	}

	figures(topic: string): Figures {
		const lanes = [...this.#lanes.values()];
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
