// @ts-check
/**
 * @module
 * Many small producers (serverless functions and webhooks that cannot batch): 32 closed-loop clients, each sending
 * one 1 KiB record per request to one partition, on Tributary and on the ceilings. Its own section sets
 * requests/s against the do-nothing ceiling's, `ceiling+sqlite`'s and `ceiling+group-commit`'s, with rows written
 * per record and server CPU per record, all from one run (measured in rounds: bench/lib/rounds.mjs).
 *
 * `ceiling+group-commit` is the fair floor here: the do-nothing ceiling answers without writing anything, but a
 * produce may only be answered once durable, and under workerd a commit costs the one thread that runs the edge and
 * the partition about as much CPU as a whole small request. The group-commit ceiling pays that commit (one row per
 * group, answered after `storage.sync()`) and nothing else, so Tributary's share of it is what its own work costs.
 *
 * Where Tributary's CPU beyond `ceiling+group-commit` goes, found by taking parts out of a build (Miniflare, a fresh
 * server per run, server CPU µs per request, medians of 5 alternating rounds: Tributary 530, `ceiling+group-commit`
 * 350; this load resolves about ±40 per run): the four middlewares every request passes (request id, observe's log
 * line and counters, security headers, CORS check) ~65 to 90 (pair differences 44 to 117; other runs: 65 from 4
 * pairs, 14 from 3), mostly the eight response headers on their way out (~33 on a bare Worker: security-headers.ts):
 * run three times over, setting the same headers again, the middlewares added 35 (501 → 536), ~17 a pass, the log
 * line's ~8 (bench/profile.mjs) included; Hono's routing and the /v1 auth chain ~0 (6); the produce handler's own
 * work (reading and checking the body, choosing the partition, encoding, `produce`'s steps around the call) ~80 (51
 * to 87), though ten more parses or ten more `prepare`s per request moved nothing beyond noise; the partition's side
 * ~0 (its append swapped for the ceiling's bare group commit: 502 vs 504); the append request as Tributary's object
 * rather than the body as one string 0; the rest of Tributary's Worker (its other objects, metrics, assets) ~5.
 *
 * The same work timed inside the isolate (Miniflare advances `performance.now()` within a request; millisecond ticks
 * summed over ~10,000 requests, so quantisation averages out; script time only, not the runtime's): per request the
 * produce handler ran ~80 µs of script where the ceiling's ran ~34. Reading and checking the body 8–15 (JSON.parse
 * and the texts walk, ~4 together when repeated on the same body: its first pass pays cold caches); building the
 * response 16 (the ceiling's 8: the headers); the RPC call 12–27 (the ceiling's 13; a request's first call costs
 * 8–14 more than its second, the argument's shape 0–4); `getByName` 4 (1.5 in a loop, against 0.7 for a kept id:
 * not worth keeping); `produce`'s steps around the call (its awaits, Promise.all, the share's request, positions)
 * ~6 in all. The partition: queueing an append 3.5–5.5 (the ceiling's 1.2); a group of ~23 requests (the ceiling's
 * ~30) 220–256 µs of script, the batch row (join and INSERT) ~95, `transactionSync`'s savepoint ~27, the batch
 * cache and lifecycle after the commit ~37, deciding each append ~2 a request. The one item of size found beside
 * them was outside the script: the append's answer crossing RPC as an object, ~10 µs a request, now text
 * (src/shared/append-answer.ts; the ceiling answers `true`).
 *
 * Looked at again on a machine at load 19-25 (other work on it): `npm run bench:profile -- produce-32c-1r` ran 152
 * requests/s, 2,831 µs of busy isolate a request (the sampler's and the load's share included), and split the busy
 * samples edge 49.9 %, the runtime with no script frame 40.1 % (unnamed frames 19.1, `(program)` 18.4, GC 2.6), the
 * partition object 9.1 %, metrics 0.8 %. The edge's largest self item was `appendShare` (14.7 %: its own code is a
 * stub and an object; most plausibly the RPC call to the partition, the ceiling's too, booked to the caller), then
 * Hono's `dispatch` 3.1, `prepare` 2.3, the body's `text()` 2.2, `new Response` 1.7, `authorize` and `requireAccess`
 * 1.4 and 1.3, `parsesToAscii` 1.1: nothing new of a size a cut could show, and the natives a profile books
 * wrongly are listed in bench/profile.mjs. An A/A `bench:ab` in the same half hour (4 rounds, 36-58 requests/s a build,
 * each group commit waiting on a busy disk) read B − A −116.2, −5.8, +46.2, +27.6 µs of ~1,290 a request: at that load
 * a change under ~100 µs a request does not resolve, so none was tried. One thing the ceiling lacks was measured
 * there: Tributary's `enable_request_signal` flag (a request's `signal`, which ends a long wait once its client left);
 * a build without it read +6.9, +55.5, −70.1, +24.8 (lower in 1 of 4 rounds): not a cost.
 *
 * Looked at again (bench:ab and bare workerd, loads 7-25): an A/A `bench:ab` at load 7-9 read B − A +0.4, +10.3,
 * −29.4, +3.2 µs of ~880 a request (4 rounds, 390-620 requests/s a build), enough to resolve ~30; by the time a change
 * was ready the load was 19-25 (35-120 requests/s a build) and two runs of 8 rounds of the same change read −52.7
 * (+51 to −88, lower in 6 of 8) and −1.4 (+62 to −79, 4 of 8), and a third at load 8-10 −17.9 (−48 to +13, 6 of 8):
 * lower in 16 of 24 rounds, each run within its A/A spread. That change: the request id and the security headers
 * set on the answer once built instead of given to Hono's context, whose every Response copies them (bare workerd,
 * bench/answer-shapes.mjs: −9 µs an answer, lower in 7 of 8 passes; a route building its whole answer in one object
 * ~2 more). The middleware's other per-request steps are each below a microsecond in a bare workerd (100 of each a
 * request, 6 passes, none apart from the floor): `crypto.randomUUID()` for the request id, `Date.now()`, `c.var`
 * (an object made from the context's map at each read) against `c.get`. So of the middleware's ~65-90 µs the headers'
 * own cost on the way out (~24 µs on a bare Worker) and their building (~8 of it now gone) are the measurable part, and
 * the rest is spread over steps too small to cut one by one.
 *
 * The produce handler's ~80 µs, piece by piece in a bare workerd (bench/produce-shapes.mjs: the route's real code
 * bundled, each piece repeated 50 times a request, medians of 6-8 passes at load 7-10): the RPC to the partition
 * 30-44 µs and no cheaper with no argument at all (its request's shape 0-5, within the passes' spread), the ceiling's
 * cost too; the answer ~22 (`c.json` ~8, a plain `new Response` no cheaper; the eight headers ~13); the body's checks
 * after its text ~4 (the header reads 1, `declaredTextBytes` twice included; `fastProduceBody` 4); `checkProduce` and
 * the share's batch ~1 each; `getByName` 4, a kept id no cheaper; the whole of `produce()` no more than its stub and
 * RPC. Nothing above ~5 µs can go without weakening a check or an answer, and nothing of ~5 resolves against
 * bench:ab, whose A/A spread for this shape was 66-111 µs a request at load 7-11, on tmpfs as on disk (bench/ab.mjs),
 * so no cut was made. What the ceiling does not pay of the handler's work is the headers (~13), the answer's text
 * (~2) and the body's checks (~4).
 *
 * Rows written per record are the broker's own counters: `tributary_storage_rows_written_total{class="PartitionLog"}`
 * in /metrics (the SQL cursors' `rowsWritten`, what Cloudflare bills), read before the load and after it settled,
 * divided by the records the partition gained. `ceiling+sqlite` writes one row per request.
 */

import { scrape } from "../lib/cost.mjs";
import { fmt } from "../lib/format.mjs";
import { round, serverCpuMicrosPerRecord } from "../lib/load.mjs";
import { produceLoad, storedRecords } from "../lib/produce-load.mjs";
import { meetsTarget, percentByRound, ratioCell, setRatio, windowed } from "../lib/rounds.mjs";
import { MAIN_TARGETS } from "../settings.mjs";
import { isTributary } from "../targets.mjs";

/** @typedef {import("./types.js").Row} Row */

/** Targets: requests/s at least this fraction of the ceiling's (the main table's), and at most this many rows written per record. */
const TARGET_FRACTION = MAIN_TARGETS["produce-32c-1r"]?.fraction ?? 0.9;
/** The proposed target: requests/s at least this fraction of `ceiling+group-commit`'s. */
const GROUP_COMMIT_TARGET_FRACTION = 0.9;
const ROWS_PER_RECORD_MAX = 0.1;
/** How long after the load the counters are read: the metrics report interval, twice, plus slack. */
const SETTLE_MS = 2_500;
const PARTITION_ROWS_WRITTEN = 'tributary_storage_rows_written_total{class="PartitionLog"}';

/**
 * Rows the partitions wrote (cursor counters in /metrics) and records they hold, now.
 * @param {import("../lib/http.mjs").HttpClient} http
 * @param {string} topic
 */
async function partitionCounters(http, topic) {
	const samples = await scrape(http);
	return { rowsWritten: samples.get(PARTITION_ROWS_WRITTEN) ?? 0, records: await storedRecords(http, topic) };
}

/** @param {boolean} met */
const yes = (met) => (met ? "yes" : "**no**");

/** @type {import("./types.js").ScenarioKind} */
export const smallProduce = {
	kind: "small-produce",
	targets: ["ceiling", "ceiling+sqlite", "ceiling+group-commit", "tributary", "tributary, all logged"],
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
	settings: {
		smallProduceTargetFractionOfCeiling: TARGET_FRACTION,
		smallProduceTargetFractionOfGroupCommit: GROUP_COMMIT_TARGET_FRACTION,
		smallProduceRowsPerRecordMax: ROWS_PER_RECORD_MAX,
	},
	async open(ctx, scenario) {
		const topic = `bench-${scenario.id}`;
		await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
		const tributary = isTributary(ctx.target);
		const load = await produceLoad(ctx.http, ctx.target, scenario, topic, ctx.nextSeed());
		// Counted over warm-up and every round: what the partition wrote for all it gained.
		const before = tributary ? await partitionCounters(ctx.http, topic) : null;
		return windowed(
			(warmupMs, durationMs) => load.window(warmupMs, durationMs, { keepLatencies: true, waitQuiet: false }),
			async (merged) => {
				let counted = null;
				if (before !== null) {
					await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
					const after = await partitionCounters(ctx.http, topic);
					counted = { rowsWritten: after.rowsWritten - before.rowsWritten, records: after.records - before.records };
				}
				return { payloadMBPerSec: merged.sentMBPerSec, verification: await load.verify(), counted };
			},
		);
	},
	derive(row, all) {
		// Each ratio is the median of the rounds' ratios (requests/s of round k against the reference's round k).
		const ratio = (/** @type {string} */ server) => {
			const ref = all.find((r) => r.scenario === row.scenario && r.runtime === row.runtime && r.server === server && !r.failed);
			return ref === undefined || row.failed ? null : percentByRound(row, ref, "requestsPerSec");
		};
		const tributary = isTributary(row.server);
		setRatio(row, "requestsPercentOfCeiling", row.server === "ceiling" ? null : ratio("ceiling"));
		setRatio(row, "requestsPercentOfCeilingSqlite", tributary ? ratio("ceiling+sqlite") : null);
		setRatio(row, "requestsPercentOfGroupCommit", tributary ? ratio("ceiling+group-commit") : null);
		const counted = /** @type {{ rowsWritten: number, records: number } | null | undefined} */ (row.counted);
		row.rowsWrittenPerRecord =
			row.server === "ceiling+sqlite" && row.records
				? round((row.requests ?? 0) / row.records, 3)
				: tributary && counted && counted.records > 0
					? round(counted.rowsWritten / counted.records, 3)
					: null;
		row.serverCpuMicrosPerRecord = serverCpuMicrosPerRecord(row);
	},
	section: {
		title: "Many small producers",
		intro: `produce-32c-1r: 32 clients, each sending one 1 KiB record per request to partition 0 and waiting for its answer (serverless functions and webhooks that cannot batch). Appends arriving while a write commits are group-committed. % of ceiling compares requests/s with the do-nothing ceiling's, same run: measured in rounds (see the top), each % is the median of the rounds' ratios, their range in brackets, and the targets are judged on the median. \`ceiling+group-commit\` is the ceiling made durable at the least cost (each group of waiting bodies one row, answered after storage.sync()): a produce may only be answered once committed, and a commit costs workerd's one thread about as much CPU as a whole small request, so the proposed target is ≥${GROUP_COMMIT_TARGET_FRACTION * 100}% of it. Rows written per record are the partition's SQL cursor counters (\`tributary_storage_rows_written_total\` in /metrics) over the records it gained; \`ceiling+sqlite\` writes one per request. Server CPU µs/record = server CPU % ÷ records/s. \`tributary, all logged\` is Tributary with \`REQUEST_LOG = "all"\`: a log line for every request, where the default (\`errors\`) writes one for failures only (under wrangler dev, wrangler's own process reads and prints every line workerd writes); the targets are judged on the default, \`tributary\`.`,
		table(rows) {
			const lines = [
				`| runtime | server | requests/s | % of ceiling | target ≥${TARGET_FRACTION * 100}% | % of ceiling+group-commit | proposed ≥${GROUP_COMMIT_TARGET_FRACTION * 100}% | % of ceiling+sqlite | rows written/record | target ≤${ROWS_PER_RECORD_MAX} | server CPU µs/record | p50 ms | p99 ms |`,
				"|---|---|--:|--:|:-:|--:|:-:|--:|--:|:-:|--:|--:|--:|",
			];
			for (const row of rows) {
				if (row.failed) {
					lines.push(`| ${row.runtime} | ${row.server} | failed: ${String(row.failed).slice(0, 100)} | | | | | | | | | | |`);
					continue;
				}
				const tributary = row.server === "tributary";
				const judged = (/** @type {string} */ key, /** @type {number} */ fraction) => {
					const met = meetsTarget(row, key, fraction);
					return tributary && met !== null ? yes(met) : "";
				};
				const rowsPer = /** @type {number | null} */ (row.rowsWrittenPerRecord ?? null);
				const cells = [
					row.runtime,
					row.server,
					fmt(row.requestsPerSec),
					ratioCell(row, "requestsPercentOfCeiling"),
					judged("requestsPercentOfCeiling", TARGET_FRACTION),
					ratioCell(row, "requestsPercentOfGroupCommit"),
					judged("requestsPercentOfGroupCommit", GROUP_COMMIT_TARGET_FRACTION),
					ratioCell(row, "requestsPercentOfCeilingSqlite"),
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
