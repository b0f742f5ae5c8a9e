// @ts-check
/**
 * @module
 * The streaming produce channel (`…/records/stream`): one client, one 1 KiB record per message, one partition, up
 * to WINDOW_MESSAGES unacknowledged (the client's `max.in.flight`), over a WebSocket and over one long NDJSON
 * request (bench/lib/stream-channel.mjs). Figures: records/s over the measured phase, and each message's ack
 * latency (sent → its report read). Every report is checked: offsets must be dense and in order.
 *
 * The same load runs on the ceiling Worker's channel (bench/ceiling/stream.js: same transports, same coalesced
 * edge → Durable Object RPC per run of messages, nothing else), on `ceiling+sqlite` (plus one INSERT per run) and on
 * `ceiling+sqlite+parse` (each message also parsed with `JSON.parse` as it arrives: a fair floor, since Tributary must
 * read and check every message before writing it), so the target is judged against what this runtime carries in the
 * same run. `stream-ws-array-1p` is the same
 * WebSocket load with `?reports=array` on both sides (one frame per run's reports). `stream-ws-echo` is the ceiling's
 * WebSocket answering each message at once, no RPC: the bare cost of a message round trip.
 *
 * What bounds every durable row here is the runtime's storage, not the channel (measured with strace on workerd under
 * Miniflare while other processes used the disk): each commit fsyncs the object's WAL on workerd's main thread, the
 * isolate's (one per run of messages, median 1.3-2 ms; 0.2-0.3 ms on a quiet disk, see lib/disk.mjs), and every
 * ~3.5 MB of WAL SQLite checkpoints into the database file with an fsync of 15-25 ms, during which no message is read
 * or answered. Such checkpoints set the ack p99 (~30 ms on Tributary and `ceiling+sqlite` alike: a run's append,
 * timed at the edge, has the same p99 on both), and the blocked thread keeps server CPU under 100 % at full load.
 * And `ceiling+sqlite` alone spends more server CPU per record (~21 µs) than one thread can give 50,000 records/s
 * (20 µs).
 *
 * `BENCH_SCENARIOS=stream npm run bench` runs it alone.
 */

import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { scrape } from "../lib/cost.mjs";
import { noisy, oneLine } from "../lib/format.mjs";
import { latencySummary, round, serverCpuMicrosPerRecord, startCpuMeter, totalsOver } from "../lib/load.mjs";
import { ratioCell } from "../lib/rounds.mjs";
import { DISTINCT_MESSAGES, openStream, phase, streamMessages, WINDOW_MESSAGES } from "../lib/stream-channel.mjs";

export const STREAM_TARGET_RECORDS_PER_SEC = 50_000;
export const STREAM_TARGET_P99_MS = 20;
/** How long after the load the partition's row counter is read: the metrics report interval, twice, plus slack. */
const SETTLE_MS = 2_500;
const PARTITION_ROWS_WRITTEN = 'tributary_storage_rows_written_total{class="PartitionLog"}';

/**
 * Rows the partitions have written (their SQL cursors' counters in /metrics), or null on a ceiling.
 * @param {import("./types.js").RunContext} ctx
 */
async function rowsWritten(ctx) {
	if (ctx.target !== "tributary") return null;
	return (await scrape(ctx.http)).get(PARTITION_ROWS_WRITTEN) ?? 0;
}

/**
 * One measured phase on an open channel, as a load window: the records it sent, each message's ack latency, server
 * CPU over it. A phase that found a problem (an offset out of order, a stall) is an aborted window.
 * @param {import("../lib/stream-channel.mjs").Channel} channel
 * @param {string[]} messages
 * @param {number} ms
 * @param {{ nextOffset: number }} expect
 * @returns {Promise<import("../lib/load.mjs").LoadResult>}
 */
async function streamWindow(channel, messages, ms, expect) {
	const meter = await startCpuMeter(descendantCpuSeconds);
	const m = await phase(channel, messages, ms, expect);
	const cpu = await meter.stop(m.seconds);
	m.latencies.sort((a, b) => a - b);
	const sentBytes = m.records * ((messages[0] ?? "").length + 1);
	return {
		clients: 1,
		// Each message is one record and counts as one request.
		...totalsOver({ requests: m.records, records: m.records, sentBytes, receivedBytes: 0 }, m.seconds),
		latencyMs: latencySummary(m.latencies),
		latenciesMs: m.latencies,
		cpu,
		quietWaitMs: 0,
		errors: m.problem === null ? 0 : 1,
		errorSamples: m.problem === null ? [] : [{ status: 0, error: m.problem }],
		aborted: m.problem !== null,
	};
}

/**
 * Opens the channel on one target for measurement in rounds: one channel, its offsets checked across every phase.
 * @param {import("./types.js").RunContext} ctx
 * @param {import("./types.js").Scenario} scenario
 * @returns {Promise<import("./types.js").Measurement>}
 */
async function openStreaming(ctx, scenario) {
	const topic = `bench-${scenario.id}`;
	await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: 1 }, [201]);
	const messages = streamMessages(ctx.nextSeed(DISTINCT_MESSAGES));
	const url = `${ctx.url}/v1/topics/${topic}/records/stream${scenario.echo ? "?echo=1" : ""}`;
	const channel = await openStream(
		/** @type {"websocket" | "ndjson"} */ (scenario.via),
		url,
		ctx.token,
		/** @type {"message" | "array" | undefined} */ (scenario.reports),
	);
	const expect = { nextOffset: 0 };
	const rowsBefore = await rowsWritten(ctx).catch(async (error) => {
		await channel.close();
		throw error;
	});
	let warmRecords = 0;
	return {
		async warmUp(ms) {
			const warm = await phase(channel, messages, ms, expect);
			warmRecords += warm.records;
			if (warm.problem !== null) throw new Error(warm.problem);
		},
		measure: (ms) => streamWindow(channel, messages, ms, expect),
		async close(merged) {
			try {
				if (rowsBefore !== null) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
				const rowsAfter = await rowsWritten(ctx);
				// Over warm-up and every round: each phase waits for its last reports, so every record sent is counted.
				const written = warmRecords + (merged.records ?? 0);
				const latencyMs = merged.latencyMs ?? latencySummary([]);
				const recordsPerSec = merged.recordsPerSec ?? 0;
				return {
					payloadMBPerSec: merged.sentMBPerSec,
					windowMessages: WINDOW_MESSAGES,
					rowsWrittenPerRecord:
						rowsBefore === null || rowsAfter === null || written === 0 ? null : round((rowsAfter - rowsBefore) / written, 4),
					meetsTarget: recordsPerSec >= STREAM_TARGET_RECORDS_PER_SEC && latencyMs.p99 <= STREAM_TARGET_P99_MS,
					verification: merged.aborted ? (merged.errorSamples ?? []).map((e) => e.error) : "ok",
				};
			} finally {
				await channel.close();
			}
		},
	};
}

/** @param {import("./types.js").Row} row */
function line(row) {
	const head = `| ${row.scenario} | ${row.runtime} | ${row.server}`;
	if (row.failed) return `${head} | failed: ${oneLine(row.failed, 120)} | | | | | | | | |`;
	const l = row.latencyMs ?? { p50: 0, p90: 0, p99: 0, max: 0 };
	const target = row.server === "tributary" ? (row.meetsTarget ? "yes" : "**no**") : "";
	const rows = typeof row.rowsWrittenPerRecord === "number" ? row.rowsWrittenPerRecord.toFixed(4) : "";
	return `${head} | ${Math.round(row.recordsPerSec ?? 0)}${noisy(row)} | ${ratioCell(row, "percentOfCeiling")} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} | ${l.max.toFixed(2)} | ${serverCpuMicrosPerRecord(row) ?? "—"} | ${rows} | ${target} |`;
}

/** @type {import("./types.js").ScenarioKind} */
export const streaming = {
	kind: "streaming",
	targets: ["ceiling", "ceiling+sqlite", "ceiling+sqlite+parse", "tributary"],
	scenarios: [
		{ id: "stream-ws-1p", label: "produce stream, WebSocket, 1 × 1 KiB per message", kind: "streaming", via: "websocket", partitions: 1 },
		{
			id: "stream-ws-array-1p",
			label: "produce stream, WebSocket, reports=array, 1 × 1 KiB per message",
			kind: "streaming",
			via: "websocket",
			reports: "array",
			partitions: 1,
		},
		{ id: "stream-ndjson-1p", label: "produce stream, NDJSON, 1 × 1 KiB per message", kind: "streaming", via: "ndjson", partitions: 1 },
		{
			id: "stream-ws-echo",
			label: "bare WebSocket echo, 1 × 1 KiB per message (ceiling only)",
			kind: "streaming",
			via: "websocket",
			echo: true,
			partitions: 1,
			targets: ["ceiling"],
		},
	],
	inMainTable: false,
	settings: {
		streamWindowMessages: WINDOW_MESSAGES,
		streamTargetRecordsPerSec: STREAM_TARGET_RECORDS_PER_SEC,
		streamTargetP99Ms: STREAM_TARGET_P99_MS,
	},
	open: openStreaming,
	summary: (r) => `${Math.round(r.recordsPerSec ?? 0)} records/s, ack p50 ${r.latencyMs?.p50} ms, p99 ${r.latencyMs?.p99} ms`,
	section: {
		title: "Streaming produce channel",
		intro: `bench/scenarios/streaming.mjs: one client on \`…/records/stream\`, one 1 KiB record per message to partition 0, at most ${WINDOW_MESSAGES} messages unacknowledged; ack latency = message sent → its report read. WebSocket via the \`ws\` package (one report per frame; stream-ws-array-1p asks \`?reports=array\`: the reports of a run as one JSON array per frame, and the ceilings frame theirs the same way), NDJSON via one fetch with a streamed body. The ceiling (bench/ceiling/stream.js) carries the same channel over the same hops, one coalesced RPC per run of messages and nothing else; \`ceiling+sqlite\` adds one INSERT per run, and \`ceiling+sqlite+parse\` also parses each message with JSON.parse as it arrives (a fair floor: Tributary must read and check every message); stream-ws-echo is its WebSocket answering each message at once, no RPC and no coalescing (one send per message, as the client sends it). Measured in rounds (see the top), one channel per target open through all of them: records/s, ack latency and server CPU are over every round, % of ceiling the median of the rounds' ratios (range in brackets). Server CPU µs/record = server CPU % ÷ records/s. Rows written/record (Tributary): the partition's SQL cursor counters (\`tributary_storage_rows_written_total\` in /metrics) over the records of warm-up and every round: how well messages were coalesced into appends. Target: ≥ ${STREAM_TARGET_RECORDS_PER_SEC} records/s with p99 ack ≤ ${STREAM_TARGET_P99_MS} ms.`,
		table: (rows) =>
			[
				"| scenario | runtime | server | records/s | % of ceiling | ack p50 ms | ack p99 ms | max ms | server CPU µs/record | rows written/record | target met |",
				"|---|---|---|--:|--:|--:|--:|--:|--:|--:|:-:|",
				...rows.map(line),
			].join("\n"),
	},
};
