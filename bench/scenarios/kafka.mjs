// @ts-check
/**
 * @module
 * The Kafka gateway: kafkajs producing and consuming through `gateway/main.js` (its own process), each next to the
 * same load sent straight over HTTP in the same run, so the ratio is what the translation costs. Tributary on
 * Miniflare only. The loads are in bench/lib/kafka-gateway.mjs; `npm run bench:kafka` runs them alone.
 */

import { Kafka, logLevel } from "kafkajs";
import {
	BACKLOG_RECORDS,
	consumeHttp,
	consumeKafka,
	fill,
	gatewayBoundPercent,
	produceBoth,
	produceSpread,
	SPREAD_PARTITIONS,
	startGatewayProcess,
	startIdleBrokerProcess,
} from "../lib/kafka-gateway.mjs";
import { percentByRound, ratioCell, setRatio } from "../lib/rounds.mjs";
import { DURATION_MS, ROUNDS, WARMUP_MS } from "../settings.mjs";

/**
 * Gateway ÷ HTTP records/s each row should reach in one run. The kafkajs side pays for its own encoding (produce)
 * and decoding (consume) in the client, which the HTTP side does not (one prebuilt body; pages read as bytes):
 * kafkajs' encoding of 100 × 1 KiB costs about half of an HTTP produce's whole round trip, so produce is held to
 * less than consume, where the gateway's read-ahead overlaps the Worker's reads with the client's decoding.
 */
export const GATEWAY_TARGET_PERCENT = /** @type {const} */ ({ produce: 50, consume: 70 });

/**
 * The produce across SPREAD_PARTITIONS partitions is measured without a target: the gateway sends the Worker one
 * request per partition (WORKER_REQUESTS_AT_ONCE_MAX at a time) where HTTP sends one for them all, so it stays under
 * the produce target by design (the figures: WORKER_REQUESTS_AT_ONCE_MAX's comment, gateway/limits.js). It shows
 * what that fan-out costs, not a goal it misses.
 */
export const SPREAD_TARGET_PERCENT = null;
export const SPREAD_LABEL = `produce ${SPREAD_PARTITIONS} partitions × 5×1KB in one request, 1 client`;

/**
 * @param {import("./types.js").RunContext} ctx
 * @param {number | null} targetPercent  null: a measured row without a target (SPREAD_TARGET_PERCENT)
 * @param {(kafka: import("kafkajs").Kafka) => Promise<{ kafkajs: import("./types.js").Result, http: import("./types.js").Result, kafkajsAlone?: import("./types.js").Result | null }>} measure
 */
async function throughGateway(ctx, targetPercent, measure) {
	const gateway = await startGatewayProcess(ctx.url, ctx.token);
	try {
		const kafka = new Kafka({ clientId: "bench", brokers: [`127.0.0.1:${gateway.port}`], logLevel: logLevel.NOTHING });
		const { kafkajs, http, kafkajsAlone = null } = await measure(kafka);
		// Round by round where both were measured in rounds (produce), else over the whole reads (consume).
		const ratio = percentByRound(/** @type {import("./types.js").Row} */ (kafkajs), /** @type {import("./types.js").Row} */ (http));
		/** @type {import("./types.js").Result} */
		const row = { ...kafkajs, httpRecordsPerSec: http.recordsPerSec ?? 0, httpLatencyMs: http.latencyMs, targetPercent };
		setRatio(/** @type {import("./types.js").Row} */ (row), "percentOfHttp", ratio);
		// kafkajs against a broker that does nothing, in the same rounds: how much of a shortfall is the client's.
		const alone =
			kafkajsAlone === null
				? null
				: percentByRound(/** @type {import("./types.js").Row} */ (kafkajsAlone), /** @type {import("./types.js").Row} */ (http));
		if (alone !== null) row.boundPercentOfHttp = gatewayBoundPercent(alone.median);
		if (targetPercent === null) return row;
		return { ...row, meetsTarget: ratio !== null && ratio.median >= targetPercent };
	} finally {
		await gateway.stop();
	}
}

/** @param {import("./types.js").Row} r */
function line(r) {
	const ms = (/** @type {any} */ l) => (l === undefined ? "" : `${l.p50} / ${l.p99}`);
	if (r.failed) return `| ${r.label} | ${r.runtime} | failed: ${r.failed} | | | | | | | |`;
	const verdict = r.meetsTarget ? "yes" : "**no**";
	const target = typeof r.targetPercent === "number" ? `≥ ${r.targetPercent} %: ${verdict}` : "none (measured)";
	const bound = typeof r.boundPercentOfHttp === "number" ? `~${r.boundPercentOfHttp}%` : "";
	return `| ${r.label} | ${r.runtime} | ${Math.round(r.recordsPerSec ?? 0)} | ${Math.round(Number(r.httpRecordsPerSec ?? 0))} | ${ratioCell(r, "percentOfHttp")} | ${target} | ${bound} | ${ms(r.latencyMs)} | ${ms(r.roundTripMs)} | ${ms(r.httpLatencyMs)} |`;
}

/** @type {import("./types.js").ScenarioKind} */
export const kafka = {
	kind: "kafka",
	targets: ["tributary"],
	runtimes: ["miniflare"],
	inMainTable: false,
	scenarios: [
		{ id: "kafka-produce-1c-1p", label: "produce 100×1KB, 1 client, 1 partition", kind: "kafka", op: "produce", clients: 1, partitions: 1 },
		{
			id: `kafka-produce-1c-${SPREAD_PARTITIONS}p`,
			label: SPREAD_LABEL,
			kind: "kafka",
			op: "produce",
			clients: 1,
			partitions: SPREAD_PARTITIONS,
		},
		{
			id: "kafka-consume-1p",
			label: `consume ${BACKLOG_RECORDS}×1KB from offset 0, 1 partition`,
			kind: "kafka",
			op: "consume",
			partitions: 1,
		},
	],
	settings: { backlogRecords: BACKLOG_RECORDS, gatewayTargetPercent: GATEWAY_TARGET_PERCENT },
	async run(ctx, scenario) {
		const topic = `bench-${scenario.id}`;
		if (scenario.op === "produce" && (scenario.partitions ?? 1) > 1) {
			// One Produce with a batch per partition: the gateway's fan-out (WORKER_REQUESTS_AT_ONCE_MAX at a time).
			for (const name of [`${topic}-http`, `${topic}-kafka`])
				await ctx.http.json("POST", "/v1/topics", { name, partitions: scenario.partitions }, [201]);
			return throughGateway(ctx, SPREAD_TARGET_PERCENT, async (kafka) => {
				const spread = await produceSpread(ctx.http, [kafka], `${topic}-http`, `${topic}-kafka`);
				return { http: spread.http, kafkajs: /** @type {import("./types.js").Result} */ (spread.kafkajs[0]) };
			});
		}
		if (scenario.op === "produce") {
			await ctx.http.json("POST", "/v1/topics", { name: `${topic}-http`, partitions: 1 }, [201]);
			await ctx.http.json("POST", "/v1/topics", { name: `${topic}-kafka`, partitions: 1 }, [201]);
			const idleBroker = await startIdleBrokerProcess();
			try {
				const idle = new Kafka({ clientId: "bench", brokers: [`127.0.0.1:${idleBroker.port}`], logLevel: logLevel.NOTHING });
				return await throughGateway(ctx, GATEWAY_TARGET_PERCENT.produce, (kafka) =>
					produceBoth(ctx.http, kafka, `${topic}-http`, `${topic}-kafka`, idle),
				);
			} finally {
				await idleBroker.stop();
			}
		}
		await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: 1 }, [201]);
		await fill(ctx.http, topic);
		return throughGateway(ctx, GATEWAY_TARGET_PERCENT.consume, async (kafka) => {
			// Each read runs twice and the second counts: the first warms the JIT of both paths.
			await consumeHttp(ctx.http, topic);
			const http = await consumeHttp(ctx.http, topic);
			await consumeKafka(kafka, topic, "warm-up");
			return { http, kafkajs: await consumeKafka(kafka, topic, "measured") };
		});
	},
	summary: (r) =>
		`kafkajs → gateway ${Math.round(r.recordsPerSec ?? 0)} records/s, HTTP ${Math.round(Number(r.httpRecordsPerSec ?? 0))} (${r.percentOfHttp} %, ${typeof r.targetPercent === "number" ? `target ≥ ${r.targetPercent} %` : "no target"})`,
	section: {
		title: "Kafka clients through the gateway",
		intro: `kafkajs through the Kafka gateway (\`gateway/main.js\`, its own process) next to the same load sent over HTTP in the same run. Produce: 100×1 KiB records per request to one partition, one client, each awaited (acks=all), both warmed up for ${WARMUP_MS} ms, then ${ROUNDS} rounds of ${DURATION_MS / ROUNDS} ms each, HTTP, kafkajs and kafkajs against an idle broker (the bound, below) in turn; the ratio is the median of the rounds' ratios (their range beside it). Produce across ${SPREAD_PARTITIONS} partitions: one request carrying a batch of 5×1 KiB records for each partition, against the same records in one HTTP request (the Worker appends a request's partitions in parallel; the gateway sends one Worker produce per partition, WORKER_REQUESTS_AT_ONCE_MAX at a time), in rounds as above; a measured row without a target (SPREAD_TARGET_PERCENT): that fan-out keeps it under the produce target by design, and the row shows what it costs. Consume: a prefilled partition read from offset 0 to its end, HTTP pages of 1000 records against a kafkajs consumer with default fetch sizes (1 MiB per partition), the second of two reads counted. Targets: gateway ≥ 50 % of HTTP for produce to one partition and ≥ 70 % for consume (GATEWAY_TARGET_PERCENT: kafkajs encodes and decodes every record in the client, the HTTP side sends a prebuilt body and reads pages as bytes). kafkajs round trip: its own timing of each Produce or Fetch request, sent to answered, which leaves out the client's encoding and decoding. Bound (produce): kafkajs against a broker that answers every Produce at once (bench/lib/idle-kafka-broker.mjs), in the same rounds; a produce through the gateway takes at least kafkajs' own time plus Tributary's, so the gateway's ratio is at most 1 / (1 + kafkajs' time ÷ HTTP's time).`,
		table: (rows) =>
			[
				"| scenario | runtime | kafkajs → gateway records/s | HTTP records/s | gateway / HTTP | target | bound (kafkajs alone) | gateway p50 / p99 ms | kafkajs round trip p50 / p99 ms | HTTP p50 / p99 ms |",
				"|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
				...rows.map(line),
			].join("\n"),
	},
};
