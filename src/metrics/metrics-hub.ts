/**
 * @module
 * `MetricsHub`: the one object `/metrics` reads. Partitions, coordinators, dispatchers and edge isolates send it
 * their figures after a change (coalesced, see `Coalescer`), so a scrape is one RPC however many partitions
 * exist, and an idle cluster sends nothing. Reports are held in memory and written to SQLite by an alarm at most
 * every `METRICS_HUB_FLUSH_MS` (one row per source that changed), so the hub's own storage cost does not grow
 * with the report rate; a hub restarted before a flush has lost nothing a source's next report does not bring
 * back, because counters are reported as totals. One alarm writes at most `METRICS_HUB_FLUSH_ROWS_MAX` sources and
 * forgets at most `METRICS_HUB_FORGET_ROWS_MAX` silent isolates: its work is bounded whatever the history, since
 * the hub shares its isolate with every other object of the Worker. Design and limits: docs/observability.md.
 */

import { DurableObject } from "../shared/durable-object.ts";
import { type Failure, settleEach } from "../shared/errors.ts";
import {
	METRICS_EDGE_FORGET_MS,
	METRICS_HUB_FLUSH_MS,
	METRICS_HUB_FLUSH_ROWS_MAX,
	METRICS_HUB_FORGET_ROWS_MAX,
	METRICS_HUB_FORGOTTEN_REMEMBERED_MAX,
	METRICS_HUB_RETIRED_REMEMBERED_MAX,
	METRICS_SOURCES_MAX,
} from "../shared/limits.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import { hasLabel, series } from "./catalog.ts";
import { renderExposition } from "./exposition.ts";
import type { MetricsReport } from "./types.ts";

const HUB_SCHEMA_VERSION = 2;
const HUB_DDL: readonly string[] = [
	// Each source's latest report, and what its earlier incarnations counted (`retired`, series → value).
	"CREATE TABLE IF NOT EXISTS sources (" +
		"source TEXT PRIMARY KEY, " +
		"report TEXT NOT NULL, " +
		"retired TEXT NOT NULL, " +
		"edge INTEGER NOT NULL CHECK (edge IN (0, 1)), " +
		"updated_at_ms INTEGER NOT NULL)",
	// Counts of sources forgotten (isolates silent for METRICS_EDGE_FORGET_MS), so totals never go down.
	"CREATE TABLE IF NOT EXISTS forgotten (id INTEGER PRIMARY KEY CHECK (id = 1), totals TEXT NOT NULL)",
	// v2: each forgotten isolate's last report and retired counts, what forgetting moved into `forgotten`: an isolate
	// idle that long may still be alive, and its next report's cumulative counters include them again.
	"CREATE TABLE IF NOT EXISTS forgotten_sources (" +
		"source TEXT PRIMARY KEY, " +
		"report TEXT NOT NULL, " +
		"retired TEXT NOT NULL, " +
		"forgotten_at_ms INTEGER NOT NULL)",
	"CREATE INDEX IF NOT EXISTS forgotten_sources_by_age ON forgotten_sources (forgotten_at_ms)",
];

type Counts = Record<string, number>;

interface Held {
	report: MetricsReport;
	retired: Counts;
	edge: boolean;
	updatedAtMs: number;
}

function addInto(into: Counts, from: Readonly<Counts>): void {
	for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
}

function subtractFrom(into: Counts, from: Readonly<Counts>): void {
	for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) - value;
}

export class MetricsHub extends DurableObject<Env> {
	readonly #sql: SqlStorage;
	private readonly sources = new Map<string, Held>();
	readonly #dirty = new Set<string>();
	#forgotten: Counts = {};
	/** Rows of `forgotten_sources`, kept at most `METRICS_HUB_FORGOTTEN_REMEMBERED_MAX`. */
	#forgottenRemembered = 0;
	#flushArmed = false;
	readonly #incarnation = crypto.randomUUID();
	/** Incarnations retired here (in insertion order): their late reports are dropped. */
	readonly #retiredIncarnations = new Set<string>();
	#rowsRead = 0;
	#rowsWritten = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrateSchema(ctx.storage, HUB_SCHEMA_VERSION, HUB_DDL);
		type Row = { source: string; report: string; retired: string; edge: number; updated_at_ms: number };
		for (const row of this.#run<Row>("SELECT * FROM sources")) {
			const report = JSON.parse(row.report) as MetricsReport;
			this.sources.set(row.source, {
				report,
				retired: JSON.parse(row.retired) as Counts,
				edge: row.edge === 1,
				updatedAtMs: row.updated_at_ms,
			});
		}
		const forgotten = this.#run<{ totals: string }>("SELECT totals FROM forgotten WHERE id = 1")[0];
		this.#forgotten = forgotten === undefined ? {} : (JSON.parse(forgotten.totals) as Counts);
		this.#forgottenRemembered = this.#run<{ n: number }>("SELECT count(*) AS n FROM forgotten_sources")[0]?.n ?? 0;
	}

	/** Takes a source's latest figures; a new incarnation retires the previous one's counts into the source's total. */
	async report(report: MetricsReport): Promise<undefined | Failure> {
		if (this.#retiredIncarnations.has(report.incarnation)) return;
		const held = this.sources.get(report.source) ?? this.#recallForgotten(report);
		if (held === undefined && this.sources.size >= METRICS_SOURCES_MAX) {
			console.error(`metrics hub: ${METRICS_SOURCES_MAX} sources held; dropping figures of ${report.source}`);
			return;
		}
		const sameIncarnation = held !== undefined && held.report.incarnation === report.incarnation;
		if (sameIncarnation && (report.sequence ?? 0) < (held.report.sequence ?? 0)) return;
		const retired = { ...held?.retired };
		if (held !== undefined && !sameIncarnation) addInto(retired, held.report.counters);
		this.sources.set(report.source, { report, retired, edge: report.source.startsWith("edge:"), updatedAtMs: Date.now() });
		this.#dirty.add(report.source);
		await this.#armFlush();
	}

	/**
	 * A source that is gone for good (a deleted topic's partition): its row and figures are dropped, and its counts
	 * without a topic (the rows its class read and wrote, its cache hits) move into the `forgotten` totals, so no
	 * class total goes down. Series labelled with its topic go with it, as a scrape target's series go when the target
	 * does: a topic created again under the name counts from 0 (a counter reset, which Prometheus' `rate` expects).
	 * Reports of the retired incarnation that arrive later are dropped.
	 */
	async retire(source: string, incarnation: string): Promise<undefined | Failure> {
		this.#retiredIncarnations.add(incarnation);
		if (this.#retiredIncarnations.size > METRICS_HUB_RETIRED_REMEMBERED_MAX) {
			this.#retiredIncarnations.delete(this.#retiredIncarnations.values().next().value as string);
		}
		const held = this.sources.get(source);
		if (held === undefined) return;
		const forgotten = { ...this.#forgotten };
		for (const counts of [held.retired, held.report.counters]) {
			for (const [key, value] of Object.entries(counts)) if (!hasLabel(key, "topic")) forgotten[key] = (forgotten[key] ?? 0) + value;
		}
		this.ctx.storage.transactionSync(() => {
			this.#run("DELETE FROM sources WHERE source = ?", source);
			this.#run(
				"INSERT INTO forgotten (id, totals) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET totals = excluded.totals",
				JSON.stringify(forgotten),
			);
		});
		this.#forgotten = forgotten;
		this.sources.delete(source);
		this.#dirty.delete(source);
	}

	/**
	 * The exposition text; forgets isolates silent for `METRICS_EDGE_FORGET_MS` (their counts stay in the totals). Its own
	 * figures taken in failing (a Failure, logged) still answers what the hub holds.
	 */
	async scrape(): Promise<string | Failure> {
		const nowMs = Date.now();
		this.#forgetSilentIsolates(nowMs);
		await this.report(this.#selfReport());
		const totals: Counts = { ...this.#forgotten };
		const reports: MetricsReport[] = [];
		for (const held of this.sources.values()) {
			addInto(totals, held.retired);
			addInto(totals, held.report.counters);
			reports.push(held.report);
		}
		return renderExposition(reports, new Map(Object.entries(totals)), nowMs);
	}

	/**
	 * Writes up to `METRICS_HUB_FLUSH_ROWS_MAX` of the sources that changed since the last flush, one row each, and
	 * forgets silent isolates; sets the next alarm at once while changed sources remain.
	 */
	override async alarm(): Promise<void> {
		this.#flushArmed = false;
		this.#forgetSilentIsolates(Date.now());
		const batch: string[] = [];
		for (const source of this.#dirty) {
			if (batch.length === METRICS_HUB_FLUSH_ROWS_MAX) break;
			batch.push(source);
		}
		this.ctx.storage.transactionSync(() => {
			for (const source of batch) {
				const held = this.sources.get(source);
				if (held === undefined) continue;
				this.#run(
					"INSERT INTO sources (source, report, retired, edge, updated_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET report = excluded.report, retired = excluded.retired, updated_at_ms = excluded.updated_at_ms",
					source,
					JSON.stringify(held.report),
					JSON.stringify(held.retired),
					held.edge ? 1 : 0,
					held.updatedAtMs,
				);
			}
		});
		// Only once written: a transaction that throws leaves them dirty, and the alarm is retried.
		for (const source of batch) this.#dirty.delete(source);
		if (this.#dirty.size > 0) {
			this.#flushArmed = true;
			await this.ctx.storage.setAlarm(Date.now());
		}
	}

	/**
	 * Forgets up to `METRICS_HUB_FORGET_ROWS_MAX` isolates silent for `METRICS_EDGE_FORGET_MS`, in one transaction:
	 * their counts move into the `forgotten` totals, so no counter goes down, and what moved is remembered in
	 * `forgotten_sources` (the longest forgotten let go past `METRICS_HUB_FORGOTTEN_REMEMBERED_MAX`).
	 */
	#forgetSilentIsolates(nowMs: number): void {
		const silent: string[] = [];
		for (const [source, held] of this.sources) {
			if (silent.length === METRICS_HUB_FORGET_ROWS_MAX) break;
			if (held.edge && nowMs - held.updatedAtMs > METRICS_EDGE_FORGET_MS) silent.push(source);
		}
		if (silent.length === 0) return;
		const forgotten = { ...this.#forgotten };
		for (const source of silent) {
			const held = this.sources.get(source) as Held;
			addInto(forgotten, held.retired);
			addInto(forgotten, held.report.counters);
		}
		const excess = Math.max(0, this.#forgottenRemembered + silent.length - METRICS_HUB_FORGOTTEN_REMEMBERED_MAX);
		this.ctx.storage.transactionSync(() => {
			if (excess > 0) {
				this.#run(
					"DELETE FROM forgotten_sources WHERE source IN (SELECT source FROM forgotten_sources ORDER BY forgotten_at_ms LIMIT ?)",
					excess,
				);
			}
			for (const source of silent) {
				const held = this.sources.get(source) as Held;
				this.#run("DELETE FROM sources WHERE source = ?", source);
				this.#run(
					"INSERT INTO forgotten_sources (source, report, retired, forgotten_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET report = excluded.report, retired = excluded.retired, forgotten_at_ms = excluded.forgotten_at_ms",
					source,
					JSON.stringify(held.report),
					JSON.stringify(held.retired),
					nowMs,
				);
			}
			this.#run(
				"INSERT INTO forgotten (id, totals) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET totals = excluded.totals",
				JSON.stringify(forgotten),
			);
		});
		this.#forgotten = forgotten;
		this.#forgottenRemembered = this.#forgottenRemembered + silent.length - excess;
		for (const source of silent) {
			this.sources.delete(source);
			this.#dirty.delete(source);
		}
	}

	/**
	 * A forgotten isolate reporting again: what forgetting moved into the totals is taken back out and its source is
	 * held again as it was, so its next cumulative counters replace those counts instead of adding to them. Undefined
	 * when it is not remembered (never forgotten, let go, or another incarnation: those counts stay in the totals), or
	 * when the hub holds all the sources it may.
	 */
	#recallForgotten({ source, incarnation }: MetricsReport): Held | undefined {
		if (!source.startsWith("edge:") || this.sources.size >= METRICS_SOURCES_MAX) return undefined;
		type Row = { report: string; retired: string };
		const row = this.#run<Row>("SELECT report, retired FROM forgotten_sources WHERE source = ?", source)[0];
		if (row === undefined) return undefined;
		const report = JSON.parse(row.report) as MetricsReport;
		if (report.incarnation !== incarnation) return undefined;
		const retired = JSON.parse(row.retired) as Counts;
		const forgotten = { ...this.#forgotten };
		subtractFrom(forgotten, retired);
		subtractFrom(forgotten, report.counters);
		const held: Held = { report, retired, edge: true, updatedAtMs: Date.now() };
		this.ctx.storage.transactionSync(() => {
			this.#run("DELETE FROM forgotten_sources WHERE source = ?", source);
			this.#run("UPDATE forgotten SET totals = ? WHERE id = 1", JSON.stringify(forgotten));
			this.#run(
				"INSERT INTO sources (source, report, retired, edge, updated_at_ms) VALUES (?, ?, ?, 1, ?)",
				source,
				row.report,
				row.retired,
				held.updatedAtMs,
			);
		});
		this.#forgotten = forgotten;
		this.#forgottenRemembered -= 1;
		this.sources.set(source, held);
		return held;
	}

	async #armFlush(): Promise<void> {
		if (this.#flushArmed) return;
		this.#flushArmed = true;
		if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + METRICS_HUB_FLUSH_MS);
	}

	/** The hub meters itself without reporting to itself over RPC. */
	#selfReport(): MetricsReport {
		return {
			source: this.ctx.id.toString(),
			incarnation: this.#incarnation,
			counters: {
				[series("tributary_storage_rows_read_total", { class: "MetricsHub" })]: this.#rowsRead,
				[series("tributary_storage_rows_written_total", { class: "MetricsHub" })]: this.#rowsWritten,
			},
			gauges: { [series("tributary_storage_bytes", { class: "MetricsHub" })]: this.#sql.databaseSize },
		};
	}

	/** Runs a statement, counting its rows. */
	#run<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: SqlStorageValue[]): T[] {
		const cursor = this.#sql.exec<T>(query, ...bindings);
		const rows = cursor.toArray();
		this.#rowsRead += cursor.rowsRead;
		this.#rowsWritten += cursor.rowsWritten;
		return rows;
	}
}

// Storage failing (or a bug) in any of them is answered a failure Result, not a rejection crossing RPC.
settleEach(MetricsHub, ["report", "retire", "scrape"]);
