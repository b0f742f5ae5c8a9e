/**
 * @module
 * `MetricsHub`: the one object `/metrics` reads. Partitions, coordinators, dispatchers and edge isolates send it
 * their figures after a change (coalesced, see `Coalescer`), so a scrape is one RPC however many partitions
 * exist, and an idle cluster sends nothing. It keeps each source's latest report and the counter totals in
 * SQLite, so a restarted hub still answers for objects that have been quiet since. Design and limits:
 * docs/observability.md.
 */

import { DurableObject } from "cloudflare:workers";
import { METRICS_EDGE_FORGET_MS, METRICS_SOURCES_MAX } from "../shared/limits.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import { series } from "./catalog.ts";
import { renderExposition } from "./exposition.ts";
import type { MetricsReport } from "./types.ts";

const HUB_SCHEMA_VERSION = 1;
const HUB_DDL: readonly string[] = [
	// Each source's latest report, as sent; `edge` marks isolates, forgotten after METRICS_EDGE_FORGET_MS of silence.
	`CREATE TABLE IF NOT EXISTS sources (
		source TEXT PRIMARY KEY,
		report TEXT NOT NULL,
		edge INTEGER NOT NULL CHECK (edge IN (0, 1)),
		updated_at_ms INTEGER NOT NULL
	)`,
	// Counter totals over every incarnation of every source: only ever increased.
	"CREATE TABLE IF NOT EXISTS totals (series TEXT PRIMARY KEY, value REAL NOT NULL)",
];

interface Held {
	report: MetricsReport;
	edge: boolean;
	updatedAtMs: number;
}

export class MetricsHub extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	private readonly sources = new Map<string, Held>();
	private readonly totals = new Map<string, number>();
	private readonly incarnation = crypto.randomUUID();
	private rowsRead = 0;
	private rowsWritten = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		migrateSchema(ctx.storage, HUB_SCHEMA_VERSION, HUB_DDL);
		for (const row of this.run<{ source: string; report: string; edge: number; updated_at_ms: number }>("SELECT * FROM sources")) {
			this.sources.set(row.source, {
				report: JSON.parse(row.report) as MetricsReport,
				edge: row.edge === 1,
				updatedAtMs: row.updated_at_ms,
			});
		}
		for (const row of this.run<{ series: string; value: number }>("SELECT series, value FROM totals"))
			this.totals.set(row.series, row.value);
	}

	/** Takes a source's latest figures; counters add what grew since its previous report of the same incarnation. */
	report(report: MetricsReport): void {
		const held = this.sources.get(report.source);
		if (held === undefined && this.sources.size >= METRICS_SOURCES_MAX) {
			console.error(`metrics hub: ${METRICS_SOURCES_MAX} sources held; dropping figures of ${report.source}`);
			return;
		}
		const before = held !== undefined && held.report.incarnation === report.incarnation ? held.report.counters : {};
		const nowMs = Date.now();
		const edge = report.source.startsWith("edge:");
		this.ctx.storage.transactionSync(() => {
			for (const [key, value] of Object.entries(report.counters)) {
				const delta = value - (before[key] ?? 0);
				if (delta <= 0) continue;
				const total = (this.totals.get(key) ?? 0) + delta;
				this.totals.set(key, total);
				this.run("INSERT INTO totals (series, value) VALUES (?, ?) ON CONFLICT (series) DO UPDATE SET value = excluded.value", key, total);
			}
			this.run(
				"INSERT INTO sources (source, report, edge, updated_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET report = excluded.report, updated_at_ms = excluded.updated_at_ms",
				report.source,
				JSON.stringify(report),
				edge ? 1 : 0,
				nowMs,
			);
		});
		this.sources.set(report.source, { report, edge, updatedAtMs: nowMs });
	}

	/** The exposition text; forgets isolates silent for `METRICS_EDGE_FORGET_MS` (their counts stay in the totals). */
	scrape(): string {
		const nowMs = Date.now();
		for (const [source, held] of this.sources) {
			if (held.edge && nowMs - held.updatedAtMs > METRICS_EDGE_FORGET_MS) {
				this.run("DELETE FROM sources WHERE source = ?", source);
				this.sources.delete(source);
			}
		}
		this.report({
			source: this.ctx.id.toString(),
			incarnation: this.incarnation,
			counters: {
				[series("tributary_storage_rows_read_total", { class: "MetricsHub" })]: this.rowsRead,
				[series("tributary_storage_rows_written_total", { class: "MetricsHub" })]: this.rowsWritten,
			},
			gauges: { [series("tributary_storage_bytes", { class: "MetricsHub" })]: this.sql.databaseSize },
		});
		return renderExposition(
			[...this.sources.values()].map((h) => h.report),
			this.totals,
			nowMs,
		);
	}

	/** Runs a statement, counting its rows (the hub meters itself without reporting to itself over RPC). */
	private run<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: SqlStorageValue[]): T[] {
		const cursor = this.sql.exec<T>(query, ...bindings);
		const rows = cursor.toArray();
		this.rowsRead += cursor.rowsRead;
		this.rowsWritten += cursor.rowsWritten;
		return rows;
	}
}
