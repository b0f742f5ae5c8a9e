// @ts-check
/**
 * @module
 * Many small producers (serverless functions and webhooks that cannot batch): 32 closed-loop clients, each sending
 * one 1 KiB record per request to one partition, on Tributary and on both ceilings. Its own section sets
 * requests/s against the do-nothing ceiling's and `ceiling+sqlite`'s, with rows written per record and server CPU
 * per record, all from one run.
 *
 * Rows written per record come from the partition's own state row after the load (`stored_batches`,
 * `stored_records`, read from its SQLite file with the `sqlite3` CLI): a group commit that fits one stored batch
 * writes three rows — the batch, its `batches_by_timestamp_high` entry and the state row's totals, as
 * test/simulation/group-commit.test.ts measures with the SQL cursors' `rowsWritten`. `ceiling+sqlite` writes one
 * row per request.
 */

import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { fmt } from "../lib/format.mjs";
import { round } from "../lib/load.mjs";
import { produceLoad } from "../lib/produce-load.mjs";
import { which } from "../peers/server.mjs";
import { DURATION_MS, WARMUP_MS } from "../settings.mjs";

/** @typedef {import("./types.js").Row} Row */

/** Targets: requests/s at least this fraction of the ceiling's, and at most this many rows written per record. */
const TARGET_FRACTION = 0.9;
const ROWS_PER_RECORD_MAX = 0.1;
/** Rows one group commit writes when it fits one stored batch (see the module comment). */
const ROWS_PER_STORED_BATCH = 3;

const run = promisify(execFile);

/**
 * Stored batches and records of `topic`'s partitions, read from the SQLite files under `persistTo`; null if unknown.
 * @param {string} persistTo
 * @param {string} topic
 */
async function storedBatchesOf(persistTo, topic) {
	const sqlite3 = which("sqlite3");
	if (sqlite3 === null) return null;
	const files = (await readdir(persistTo, { recursive: true })).filter((f) => f.endsWith(".sqlite") && !f.endsWith("metadata.sqlite"));
	const query = `SELECT stored_batches || ' ' || stored_records FROM partition_state WHERE topic = '${topic.replaceAll("'", "''")}';`;
	let batches = 0;
	let records = 0;
	for (const file of files) {
		const out = await run(sqlite3, ["-readonly", join(persistTo, file), query], { timeout: 30_000 }).catch(() => null);
		const line = out?.stdout.trim();
		if (!line) continue;
		const [b, r] = line.split(" ").map(Number);
		batches += b ?? 0;
		records += r ?? 0;
	}
	return records > 0 ? { batches, records } : null;
}

/**
 * Server CPU (every process the bench started) per record, in µs.
 * @param {Row} row
 */
function serverCpuPerRecord(row) {
	const percent = row.cpu?.serverPercent;
	if (typeof percent !== "number" || !(typeof row.recordsPerSec === "number" && row.recordsPerSec > 0)) return null;
	return round((percent / 100 / row.recordsPerSec) * 1e6, 1);
}

/** @param {boolean} met */
const yes = (met) => (met ? "yes" : "**no**");

/** @type {import("./types.js").ScenarioKind} */
export const smallProduce = {
	kind: "small-produce",
	targets: ["ceiling", "ceiling+sqlite", "tributary"],
	scenarios: [
		{
			id: "produce-32c-1r",
			label: "produce 1×1KB per request, 32 clients, 1 partition",
			kind: "small-produce",
			clients: 32,
			partitions: 1,
			perRequest: 1,
		},
	],
	settings: { smallProduceTargetFractionOfCeiling: TARGET_FRACTION, smallProduceRowsPerRecordMax: ROWS_PER_RECORD_MAX },
	async run(ctx, scenario) {
		const topic = `bench-${scenario.id}`;
		await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
		const load = await produceLoad(ctx.http, ctx.target, scenario, topic, ctx.nextSeed());
		const result = await load.window(WARMUP_MS, DURATION_MS);
		const stored = ctx.target === "tributary" ? await storedBatchesOf(ctx.persistTo, topic) : null;
		return { ...result, payloadMBPerSec: result.sentMBPerSec, verification: await load.verify(), stored };
	},
	derive(row, all) {
		const peer = (/** @type {string} */ server) =>
			all.find((r) => r.scenario === row.scenario && r.runtime === row.runtime && r.server === server && !r.failed)?.requestsPerSec;
		const pct = (/** @type {number | undefined} */ base) =>
			typeof base === "number" && base > 0 && typeof row.requestsPerSec === "number" ? round((row.requestsPerSec / base) * 100, 1) : null;
		row.requestsPercentOfCeiling = row.server === "ceiling" ? null : pct(peer("ceiling"));
		row.requestsPercentOfCeilingSqlite = row.server === "tributary" ? pct(peer("ceiling+sqlite")) : null;
		const stored = /** @type {{ batches: number, records: number } | null | undefined} */ (row.stored);
		row.rowsWrittenPerRecord =
			row.server === "ceiling+sqlite" && row.records
				? round((row.requests ?? 0) / row.records, 3)
				: row.server === "tributary" && stored
					? round((ROWS_PER_STORED_BATCH * stored.batches) / stored.records, 3)
					: null;
		row.serverCpuMicrosPerRecord = serverCpuPerRecord(row);
	},
	section: {
		title: "Many small producers",
		intro:
			"produce-32c-1r: 32 clients, each sending one 1 KiB record per request to partition 0 and waiting for its answer (serverless functions and webhooks that cannot batch). Appends arriving while a write commits are group-committed. % of ceiling compares requests/s with the do-nothing ceiling's, same run. Rows written per record come from the partition's stored batches (3 rows per group commit: the batch, its index entry, the state row); `ceiling+sqlite` writes one per request. Server CPU µs/record = server CPU % ÷ records/s.",
		table(rows) {
			const lines = [
				`| runtime | server | requests/s | % of ceiling | target ≥${TARGET_FRACTION * 100}% | % of ceiling+sqlite | rows written/record | target ≤${ROWS_PER_RECORD_MAX} | server CPU µs/record | p50 ms | p99 ms |`,
				"|---|---|--:|--:|:-:|--:|--:|:-:|--:|--:|--:|",
			];
			for (const row of rows) {
				if (row.failed) {
					lines.push(`| ${row.runtime} | ${row.server} | failed: ${String(row.failed).slice(0, 100)} | | | | | | | | |`);
					continue;
				}
				const tributary = row.server === "tributary";
				const ofCeiling = /** @type {number | null} */ (row.requestsPercentOfCeiling ?? null);
				const ofSqlite = /** @type {number | null} */ (row.requestsPercentOfCeilingSqlite ?? null);
				const rowsPer = /** @type {number | null} */ (row.rowsWrittenPerRecord ?? null);
				const cells = [
					row.runtime,
					row.server,
					fmt(row.requestsPerSec),
					ofCeiling === null ? "" : `${ofCeiling.toFixed(1)}%`,
					tributary && ofCeiling !== null ? yes(ofCeiling >= TARGET_FRACTION * 100) : "",
					ofSqlite === null ? "" : `${ofSqlite.toFixed(1)}%`,
					rowsPer === null ? "" : rowsPer.toFixed(3),
					tributary && rowsPer !== null ? yes(rowsPer <= ROWS_PER_RECORD_MAX) : "",
					String(row.serverCpuMicrosPerRecord ?? "—"),
					row.latencyMs?.p50.toFixed(2) ?? "",
					row.latencyMs?.p99.toFixed(2) ?? "",
				];
				lines.push(`| ${cells.join(" | ")} |`);
			}
			return lines.join("\n");
		},
	},
};
