/**
 * @module
 * Every metric `/metrics` exposes, in one place: its name, Prometheus type and help text. Names follow the
 * Prometheus conventions (a `tributary_` prefix, base units, `_total` on counters); a series is written as its
 * exposition-format key, `name{label="value",…}`, built only by `series()`.
 *
 * @example
 * series("tributary_partition_high_watermark", { topic: "orders", partition: "0" })
 * // → 'tributary_partition_high_watermark{topic="orders",partition="0"}'
 */

export const METRICS = {
	tributary_partition_high_watermark: { type: "gauge", help: "Offset the next record appended to the partition will get." },
	tributary_partition_log_start_offset: { type: "gauge", help: "Oldest offset still readable in the partition." },
	tributary_partition_bytes: { type: "gauge", help: "Bytes of records stored in the partition's own storage." },
	tributary_partition_remote_bytes: { type: "gauge", help: "Bytes of the partition's segments in R2 (tiered storage)." },
	tributary_partition_records_appended_total: {
		type: "counter",
		help: "Records ever appended to the partition (offsets are dense from 0, so this is the high watermark).",
	},
	tributary_partition_bytes_appended_total: { type: "counter", help: "Bytes of records appended to the partition." },
	tributary_group_members: { type: "gauge", help: "Members of the consumer group." },
	tributary_group_committed_offset: { type: "gauge", help: "The group's committed offset for the partition." },
	tributary_group_lag: {
		type: "gauge",
		help: "High watermark minus the committed offset; absent for a partition with nothing committed.",
	},
	tributary_webhook_deliveries_total: { type: "counter", help: "Webhook delivery attempts by outcome." },
	tributary_webhook_dead_letter_records_total: { type: "counter", help: "Records written to the subscription's dead-letter topic." },
	tributary_webhook_lag: { type: "gauge", help: "Records of the topic not yet acknowledged by the subscription's receiver." },
	tributary_webhook_oldest_undelivered_age_seconds: {
		type: "gauge",
		help: "Age of the oldest record staged for delivery and not yet acknowledged (0 when none is staged).",
	},
	tributary_http_requests_total: { type: "counter", help: "HTTP requests by route and status." },
	tributary_http_request_duration_seconds: { type: "histogram", help: "Time to the response's headers, by route." },
	tributary_storage_rows_read_total: { type: "counter", help: "SQLite rows read by Durable Objects of the class (billed)." },
	tributary_storage_rows_written_total: { type: "counter", help: "SQLite rows written by Durable Objects of the class (billed)." },
	tributary_storage_cache_hits_total: { type: "counter", help: "Stored batches reads took from memory, not SQLite." },
	tributary_storage_cache_misses_total: { type: "counter", help: "Stored batches reads took from SQLite." },
	tributary_storage_bytes: { type: "gauge", help: "SQLite database bytes stored by Durable Objects of the class (billed)." },
	tributary_metrics_sources: { type: "gauge", help: "Objects and isolates whose figures the metrics hub holds." },
} as const satisfies Record<string, { type: "counter" | "gauge" | "histogram"; help: string }>;

export type MetricName = keyof typeof METRICS;

/** Latency histogram bucket bounds, seconds (Prometheus client defaults, plus 30 s for long polls). */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A label value escaped as the text format asks: backslash, double quote and newline. */
function escapeLabel(value: string): string {
	return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** One series' key: the metric name (or a histogram's `_bucket`/`_sum`/`_count`) and its labels, in order. */
export function series(name: MetricName | `${MetricName}_${"bucket" | "sum" | "count"}`, labels: Record<string, string> = {}): string {
	const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
	return pairs.length === 0 ? name : `${name}{${pairs.join(",")}}`;
}

/**
 * Whether a series key carries the label `name`. Label values are escaped (`"` as `\"`), so a value cannot
 * spell another label's start.
 */
export function hasLabel(key: string, name: string): boolean {
	return key.includes(`{${name}="`) || key.includes(`,${name}="`);
}

/** The metric a series key belongs to (a histogram's parts belong to the histogram). */
export function metricOf(key: string): string {
	const brace = key.indexOf("{");
	const name = brace === -1 ? key : key.slice(0, brace);
	const base = name.replace(/_(bucket|sum|count)$/, "");
	return base in METRICS && METRICS[base as MetricName].type === "histogram" ? base : name;
}
