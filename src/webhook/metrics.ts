/**
 * @module
 * What a topic's webhook dispatcher reports to the metrics hub: each lane's acknowledged position (the hub
 * joins it with the partition's high watermark into lag) and, per subscription, when the oldest record staged
 * for delivery and not yet acknowledged was written.
 */

import { series } from "../metrics/catalog.ts";
import type { Figures } from "../metrics/reporter.ts";
import { lineTimestamp } from "../shared/record-codec.ts";
import { splitLines } from "./records.ts";

interface LaneFiguresRow extends Record<string, SqlStorageValue> {
	topic: string;
	subscription_id: string;
	partition: number;
	next_offset: number;
	batch_records: string | null;
}

export function webhookFigures(sql: SqlStorage): Figures {
	const rows = sql
		.exec<LaneFiguresRow>(
			"SELECT d.topic, l.subscription_id, l.partition, l.next_offset, l.batch_records FROM lanes l JOIN subscriptions s ON s.id = l.subscription_id, dispatcher_state d",
		)
		.toArray();
	const first = rows[0];
	if (first === undefined) return { gauges: {} };
	const gauges: Record<string, number> = {};
	const since: Record<string, number> = {};
	for (const row of rows) {
		const key = series("tributary_webhook_oldest_undelivered_age_seconds", { topic: row.topic, subscription: row.subscription_id });
		gauges[key] = 0;
		const line = row.batch_records === null ? undefined : splitLines(row.batch_records)[0];
		if (line !== undefined) since[key] = Math.min(since[key] ?? Number.POSITIVE_INFINITY, lineTimestamp(line));
	}
	const lanes = rows.map((r) => ({ subscription: r.subscription_id, partition: r.partition, nextOffset: r.next_offset }));
	return { gauges, since, webhook: { topic: first.topic, lanes } };
}
