/**
 * @module
 * Renders the Prometheus text exposition format (version 0.0.4) from what the hub holds: counter totals, each
 * source's gauges (summed per series across sources), and lag joined from partition and group figures. Pure: the
 * hub passes the clock in.
 */

import { METRICS, metricOf, series } from "./catalog.ts";
import type { MetricsReport, PartitionFigures } from "./types.ts";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Lag as `GET /v1/groups/{group}` computes it: high watermark minus the committed offset; none without a commit. */
function lagOf(p: PartitionFigures, committed: number): number {
	return Math.max(0, p.highWatermark - committed);
}

function partitionIndex(reports: readonly MetricsReport[]): Map<string, PartitionFigures> {
	const index = new Map<string, PartitionFigures>();
	for (const r of reports) if (r.partition !== undefined) index.set(`${r.partition.topic}/${r.partition.partition}`, r.partition);
	return index;
}

/** Per group: committed offset and lag of every partition it committed on (the API's lag is null without a commit). */
function groupSeries(reports: readonly MetricsReport[], partitions: Map<string, PartitionFigures>, out: Map<string, number>): void {
	const counts = new Map<string, number>();
	for (const p of partitions.values()) counts.set(p.topic, Math.max(counts.get(p.topic) ?? 0, p.partition + 1));
	for (const r of reports) {
		const g = r.group;
		if (g === undefined) continue;
		const committed = new Map(g.committed.map((c) => [`${c.topic}/${c.partition}`, c.offset]));
		const topics = new Map(g.topics.map((t) => [t.topic, t.partitions]));
		for (const c of g.committed) if (!topics.has(c.topic)) topics.set(c.topic, counts.get(c.topic) ?? 0);
		for (const [topic, n] of topics) {
			for (let partition = 0; partition < n; partition++) {
				const at = `${topic}/${partition}`;
				const labels = { group: g.group, topic, partition: String(partition) };
				const offset = committed.get(at);
				if (offset === undefined) continue;
				out.set(series("tributary_group_committed_offset", labels), offset);
				const p = partitions.get(at);
				if (p !== undefined) out.set(series("tributary_group_lag", labels), lagOf(p, offset));
			}
		}
	}
}

/** Per subscription: records of the topic its receiver has not acknowledged. */
function webhookSeries(reports: readonly MetricsReport[], partitions: Map<string, PartitionFigures>, out: Map<string, number>): void {
	for (const r of reports) {
		const w = r.webhook;
		if (w === undefined) continue;
		const lag = new Map<string, number>();
		for (const lane of w.lanes) {
			const p = partitions.get(`${w.topic}/${lane.partition}`);
			const behind = p === undefined ? 0 : Math.max(0, p.highWatermark - Math.max(lane.nextOffset, p.logStartOffset));
			lag.set(lane.subscription, (lag.get(lane.subscription) ?? 0) + behind);
		}
		for (const [subscription, n] of lag) out.set(series("tributary_webhook_lag", { topic: w.topic, subscription }), n);
	}
}

/** Every figure as exposition text: one `# HELP` and `# TYPE` per metric, in catalog order. */
export function renderExposition(reports: readonly MetricsReport[], totals: ReadonlyMap<string, number>, nowMs: number): string {
	const values = new Map<string, number>(totals);
	for (const r of reports) {
		for (const [key, value] of Object.entries(r.gauges)) values.set(key, (values.get(key) ?? 0) + value);
		for (const [key, atMs] of Object.entries(r.since ?? {})) {
			values.set(key, Math.max(values.get(key) ?? 0, Math.max(0, nowMs - atMs) / 1000));
		}
	}
	const partitions = partitionIndex(reports);
	groupSeries(reports, partitions, values);
	webhookSeries(reports, partitions, values);
	values.set(series("tributary_metrics_sources"), reports.length);
	const byMetric = new Map<string, string[]>();
	for (const [key, value] of values) {
		const metric = metricOf(key);
		const lines = byMetric.get(metric) ?? [];
		lines.push(`${key} ${formatValue(value)}`);
		byMetric.set(metric, lines);
	}
	const out: string[] = [];
	for (const [name, facts] of Object.entries(METRICS)) {
		const lines = byMetric.get(name);
		if (lines === undefined) continue;
		out.push(`# HELP ${name} ${facts.help}`, `# TYPE ${name} ${facts.type}`, ...lines);
	}
	return `${out.join("\n")}\n`;
}

function formatValue(value: number): string {
	if (Number.isNaN(value)) return "NaN";
	if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
	return String(value);
}
