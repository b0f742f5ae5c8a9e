/**
 * @module
 * A Durable Object's side of metrics: meters every SQL statement it runs (the cursors' own `rowsRead` and
 * `rowsWritten`, the figures Cloudflare bills) and sends its figures to the metrics hub after a change, coalesced
 * to one report per `METRICS_REPORT_INTERVAL_MS`. Counting lives in memory: a report costs the object no row.
 *
 * @example
 * this.metrics = new MetricsReporter(env, ctx, "PartitionLog", () => ({ gauges: {…}, partition: {…} }));
 * this.metrics.count(series("tributary_partition_bytes_appended_total", labels), bytes);
 */

import { bare, thrownMessage } from "../shared/errors.ts";
import { METRICS_REPORT_INTERVAL_MS } from "../shared/limits.ts";
import { metricsHub } from "../shared/stubs.ts";
import { series } from "./catalog.ts";
import { Coalescer } from "./coalescer.ts";
import type { MetricsReport } from "./types.ts";

/** What the object reports: its gauges, counters it keeps itself, and the figures the hub joins (lag). */
export type Figures = Omit<MetricsReport, "source" | "incarnation" | "counters"> & { readonly counters?: Record<string, number> };

export class MetricsReporter {
	readonly #incarnation = crypto.randomUUID();
	readonly #counters = new Map<string, number>();
	#cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
	#rowsRead = 0;
	#rowsWritten = 0;
	/** Set while the report is built, so the statements it runs are metered without asking for another report. */
	#collecting = false;
	/** Set once the object is gone for good (`retire`): nothing more is reported. */
	#retired = false;
	readonly #coalescer: Coalescer;
	readonly #rowsReadKey: string;
	readonly #rowsWrittenKey: string;
	readonly #bytesKey: string;

	constructor(
		private readonly env: Env,
		private readonly ctx: DurableObjectState,
		className: string,
		private readonly figures: () => Figures,
	) {
		this.#rowsReadKey = series("tributary_storage_rows_read_total", { class: className });
		this.#rowsWrittenKey = series("tributary_storage_rows_written_total", { class: className });
		this.#bytesKey = series("tributary_storage_bytes", { class: className });
		this.#coalescer = new Coalescer(METRICS_REPORT_INTERVAL_MS, () => this.send());
		this.#meter(ctx.storage.sql);
	}

	/** Adds to a counter and schedules a report. */
	count(key: string, amount: number): void {
		this.#counters.set(key, (this.#counters.get(key) ?? 0) + amount);
		this.changed();
	}

	/** Something reported changed: a report follows within the interval. */
	changed(): void {
		if (!this.#collecting && !this.#retired) void this.#coalescer.trigger();
	}

	/**
	 * The object is gone for good (a deleted topic's partition): the hub drops its figures, keeping its class
	 * totals, and this incarnation reports nothing more, so a deleted object leaves no source behind. What it reads
	 * afterwards (its state row, when a stale caller wakes it) goes unreported: it holds no data.
	 */
	async retire(): Promise<void> {
		this.#retired = true;
		try {
			bare(await metricsHub(this.env).retire(this.ctx.id.toString(), this.#incarnation));
		} catch (error) {
			// Best effort, as reports are: a deletion does not wait on metrics. The source stays until retired again.
			console.error(`metrics: retiring failed: ${thrownMessage(error)}`);
		}
	}

	/**
	 * Wraps `exec` so each statement's cursor is counted; the storage API hands out one `SqlStorage` per object.
	 * Cursors are summed in a microtask, once the synchronous code that ran them has read them to the end, and
	 * then let go: a cursor held longer would keep its statement alive. What the wrapper adds to a large INSERT (a
	 * stored batch of 100 × 1 KiB) was within the spread of measuring it: 583-740 µs a statement wrapped or not,
	 * the order of the runs mattering more (workerd, medians of 7-9 runs of 500-600, in alternating orders). Again in
	 * a bare workerd (bench/metered-shapes.mjs, load ~10, 4-5 passes): such an INSERT ~640 µs bare, ~635 wrapped, of
	 * which ~560 the statement itself; a one-row UPDATE 11.0 bare, 11.0-11.5 wrapped. So a profile's `exec ← metered`
	 * (7.4 % of a 100-record produce's busy samples) is the statements, booked under the frame that calls them.
	 */
	#meter(sql: SqlStorage): void {
		// The prototype's `exec` is looked up on every call, so another wrapper of it (a test's meter) still sees
		// every statement.
		const prototype = Object.getPrototypeOf(sql) as SqlStorage;
		const metered = (query: string, ...bindings: SqlStorageValue[]) => {
			const cursor = prototype.exec.call(sql, query, ...bindings);
			if (this.#cursors.length === 0) queueMicrotask(() => this.#sumCursors());
			this.#cursors.push(cursor);
			return cursor;
		};
		sql.exec = metered as SqlStorage["exec"];
	}

	#sumCursors(): void {
		if (this.#cursors.length === 0) return;
		for (const cursor of this.#cursors) {
			this.#rowsRead += cursor.rowsRead;
			this.#rowsWritten += cursor.rowsWritten;
		}
		this.#cursors = [];
		this.changed();
	}

	// TypeScript's private, not #: a test holds the reports (spies on it) while it counts a commit's rows.
	private async send(): Promise<void> {
		if (this.#retired) return;
		this.#collecting = true;
		let report: MetricsReport;
		try {
			const figures = this.figures();
			this.#sumCursors();
			const counters = { ...Object.fromEntries(this.#counters), ...figures.counters };
			counters[this.#rowsReadKey] = this.#rowsRead;
			counters[this.#rowsWrittenKey] = this.#rowsWritten;
			const gauges = { ...figures.gauges, [this.#bytesKey]: this.ctx.storage.sql.databaseSize };
			report = { ...figures, source: this.ctx.id.toString(), incarnation: this.#incarnation, counters, gauges };
		} finally {
			this.#collecting = false;
		}
		// A failure is thrown, and logged by the coalescer, which sends again at the next change.
		bare(await metricsHub(this.env).report(report));
	}
}
