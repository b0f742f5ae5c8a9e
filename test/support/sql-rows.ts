/**
 * Rows read and written by the SQL a piece of work runs, from the cursors' own counters (what Cloudflare bills).
 * The storage API's prototype is wrapped while `work` runs, so every `sql.exec` in the isolate is seen; with
 * `onlyThis`, only the statements run on that one object count. Nothing else runs in the isolate meanwhile in the
 * tests that use it (vitest.config.ts gives each file that imports this module a workerd of its own), so the figures
 * are `work`'s own.
 */

import { vi } from "vitest";
import { MetricsReporter } from "../../src/metrics/reporter.ts";

type Cursor = SqlStorageCursor<Record<string, SqlStorageValue>>;

export interface RowsCounted<T> {
	readonly result: T;
	readonly rowsRead: number;
	readonly rowsWritten: number;
}

export async function countRows<T>(sql: SqlStorage, work: () => T | Promise<T>, onlyThis = false): Promise<RowsCounted<T>> {
	const watch = watchCursors(sql, onlyThis);
	try {
		return watch.totals(await work());
	} finally {
		watch.restore();
	}
}

/** `countRows` for synchronous work, answered without an await (a constructor's or a fetch's synchronous part). */
export function countRowsSync<T>(sql: SqlStorage, work: () => T): RowsCounted<T> {
	const watch = watchCursors(sql, false);
	try {
		return watch.totals(work());
	} finally {
		watch.restore();
	}
}

function watchCursors(sql: SqlStorage, onlyThis: boolean) {
	const prototype = Object.getPrototypeOf(sql) as SqlStorage;
	const exec = prototype.exec;
	const cursors: Cursor[] = [];
	prototype.exec = function countedExec(this: SqlStorage, query: string, ...bindings: unknown[]) {
		const cursor = exec.call(this, query, ...bindings);
		if (!onlyThis || this === sql) cursors.push(cursor);
		return cursor;
	} as SqlStorage["exec"];
	return {
		totals: <T>(result: T): RowsCounted<T> => ({
			result,
			rowsRead: cursors.reduce((n, c) => n + c.rowsRead, 0),
			rowsWritten: cursors.reduce((n, c) => n + c.rowsWritten, 0),
		}),
		restore: () => {
			prototype.exec = exec;
		},
	};
}

/**
 * Runs `work` with every statement on this object's `sql` that starts with `prefix` throwing `message` (as SQLite
 * would when the disk is full), so a transaction can be made to fail after its first statements took effect.
 */
export async function failingStatement<T>(sql: SqlStorage, prefix: string, message: string, work: () => Promise<T>): Promise<T> {
	const exec = sql.exec;
	sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
		if (query.startsWith(prefix)) throw new Error(message);
		return exec.call(sql, query, ...bindings);
	}) as typeof sql.exec;
	try {
		return await work();
	} finally {
		sql.exec = exec;
	}
}

type Reporting = { ctx: DurableObjectState; send(): Promise<void> };

/**
 * Rows read by the next report the object `stub` sends once `change` has run: the report is built synchronously
 * before it is sent, so its statements are the ones its `send` runs before returning. Waits for that send to be
 * delivered (an event: the reporter sends within its interval after a change), whichever change it follows.
 */
export async function nextReportRows(stub: DurableObjectStub, change: () => Promise<unknown>): Promise<number> {
	const reporter = MetricsReporter.prototype as unknown as Reporting;
	const send = reporter.send;
	const source = stub.id.toString();
	const { promise, resolve } = Promise.withResolvers<number>();
	const spy = vi.spyOn(reporter, "send").mockImplementation(function (this: Reporting) {
		if (this.ctx.id.toString() !== source) return send.call(this);
		const counted = countRowsSync(this.ctx.storage.sql, () => send.call(this));
		const sent = () => resolve(counted.rowsRead);
		counted.result.then(sent, sent);
		return counted.result;
	});
	try {
		await change();
		return await promise;
	} finally {
		spy.mockRestore();
	}
}
