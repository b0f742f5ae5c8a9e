// @ts-check
/**
 * `node bench/metered-shapes.mjs [passes] [requests]`: what src/metrics/reporter.ts's `metered` (the wrapper a
 * metered Durable Object's `sql.exec` is replaced with: each cursor kept, summed in a microtask) adds to a statement,
 * in a bare workerd (Miniflare, one Durable Object with SQLite, no Tributary code). Each request runs `STATEMENTS`
 * statements (default 20) of one kind, through the prototype's `exec` (`bare`) or through a copy of the wrapper
 * (`metered`), or not at all (`none`: what the request costs besides its statements, its batch's text built for each): `insert` (a stored batch of 100 × 1 KiB records as the partition's writeRow stores it: twelve columns,
 * the records' text, a rowid-keyed row replaced in turn among 40) or `update` (the one-row UPDATE of the partition's
 * state row). Prints workerd's CPU (its process's, from /proc) per statement for each shape over `passes` passes of
 * `requests` requests, the shapes alternating. Not part of `npm test` or the bench.
 *
 * What it showed (load ~10; µs a statement, per pass): insert-none 83 83 83 167, insert-bare 658 650 633 658,
 * insert-metered 633 633 633 658 (and 708 658 608 617 642 against 683 633 625 692 633 in a run of 5); update-bare
 * 11.0 11.0 11.5 11.0 9.0, update-metered 11.5 12.0 11.0 10.5 11.0 (STATEMENTS=200). The wrapper's accounting is
 * within the spread; what shows under `metered` in a profile is the statement (~560 µs a 100 × 1 KiB row).
 */

import { measurePasses, startBareWorkerd } from "./lib/bare-workerd.mjs";

const PASSES = Number(process.argv[2] ?? 3);
const REQUESTS = Number(process.argv[3] ?? 100);
const STATEMENTS = Number(process.env.STATEMENTS ?? 20);
const SHAPES = (process.env.SHAPES ?? "insert-none,insert-bare,insert-metered,update-none,update-bare,update-metered").split(",");

const script = /* js */ `
const RECORD_VALUE = "x".repeat(1000);
function record(offset) {
	return '{"partition":0,"offset":' + offset + ',"timestamp":1765000000000,"key":null,"value":"' + RECORD_VALUE + '","headers":[]}';
}

export class Part {
	constructor(state) {
		this.sql = state.storage.sql;
		this.sql.exec("CREATE TABLE IF NOT EXISTS batches (base_offset INTEGER PRIMARY KEY, last_offset INTEGER, record_count INTEGER, max_timestamp INTEGER, timestamp_high INTEGER, bytes INTEGER, records TEXT, log_bytes INTEGER, log_batches INTEGER, log_records INTEGER, record_ends BLOB, producers TEXT)");
		this.sql.exec("CREATE TABLE IF NOT EXISTS partition_state (id INTEGER PRIMARY KEY, next_offset INTEGER)");
		this.sql.exec("INSERT OR REPLACE INTO partition_state VALUES (1, 0)");
		this.next = 0;
		this.cursors = [];
		this.rowsWritten = 0;
		const prototype = Object.getPrototypeOf(this.sql);
		this.bare = (query, ...bindings) => prototype.exec.call(this.sql, query, ...bindings);
		// As MetricsReporter's #meter wraps it.
		this.metered = (query, ...bindings) => {
			const cursor = prototype.exec.call(this.sql, query, ...bindings);
			if (this.cursors.length === 0) queueMicrotask(() => this.sum());
			this.cursors.push(cursor);
			return cursor;
		};
	}
	sum() {
		for (const cursor of this.cursors) this.rowsWritten += cursor.rowsWritten + cursor.rowsRead;
		this.cursors = [];
	}
	async fetch(request) {
		const [kind, how] = new URL(request.url).pathname.slice(1).split("-");
		const exec = how === "metered" ? this.metered : how === "none" ? () => null : this.bare;
		for (let k = 0; k < ${STATEMENTS}; k++) {
			const base = this.next++;
			if (kind === "insert") {
				const lines = [];
				for (let i = 0; i < 100; i++) lines.push(record(base * 100 + i));
				const text = lines.join(",\\n");
				const ends = new Uint32Array(100).buffer;
				exec("INSERT OR REPLACE INTO batches (base_offset, last_offset, record_count, max_timestamp, timestamp_high, bytes, records, log_bytes, log_batches, log_records, record_ends, producers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
					base % 40, base * 100 + 99, 100, 1765000000000, 1765000000000, text.length, text, base * text.length, base, base * 100, ends, null);
			} else exec("UPDATE partition_state SET next_offset = ? WHERE id = 1", base);
		}
		return new Response("ok");
	}
}

export default {
	fetch(request, env) {
		return env.PART.get(env.PART.idFromName("p")).fetch(request);
	},
};
`;

const { mf, base, pid } = await startBareWorkerd(script, { PART: { className: "Part", useSQLite: true } });
try {
	const results = await measurePasses({ base, pid, shapes: SHAPES, passes: PASSES, requests: REQUESTS });
	console.log(`${STATEMENTS} statements a request, ${REQUESTS} requests a pass`);
	console.log("shape            µs workerd CPU per statement, per pass");
	for (const [shape, runs] of results)
		console.log(`${shape.padEnd(16)} ${runs.map((r) => ((r.cpu / (REQUESTS * STATEMENTS)) * 1e6).toFixed(1)).join(" ")}`);
} finally {
	await mf.dispose();
}
