#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench:kafka`: the Kafka gateway's scenarios alone (bench/lib/kafka-gateway.mjs), on a Miniflare Worker
 * as `npm start` serves it; `npm run bench` runs the same loads as the `kafka` scenario kind. Produce is measured
 * after a warm-up (BENCH_WARMUP_MS, bench/settings.mjs), with kafkajs against an idle broker (bench/lib/idle-kafka-broker.mjs)
 * in the same rounds as the bound kafkajs alone sets; each consume reads the backlog twice and counts the second
 * (the first warms both paths' JIT); the produce across many partitions (SPREAD_PARTITIONS) likewise, beside one HTTP
 * request of the same records. Prints a table and writes bench/results/kafka-gateway.json and .md. Knobs:
 * BENCH_DURATION_MS, BENCH_WARMUP_MS, BENCH_ROUNDS and BENCH_SCENARIOS (bench/settings.mjs; ids kafka-produce-1c-1p,
 * kafka-consume-1p, kafka-produce-1c-64p), BENCH_KAFKA_BACKLOG (20000 records), BENCH_KAFKA_SPREAD_PARTITIONS (64),
 * BENCH_KAFKA_CAPS (gateway caps measured side by side in the spread rows, e.g. `8,32,64,Infinity`).
 */

import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { startLocalBroker } from "../scripts/lib/index.mjs";
import { createClient } from "./lib/http.mjs";
import {
	BACKLOG_RECORDS,
	consumeHttp,
	consumeKafka,
	fill,
	GATEWAY_CAPS,
	gatewayBoundPercent,
	PAIRED_STEPS,
	produceBoth,
	produceSpread,
	produceSpreadPaired,
	SPREAD_PARTITIONS,
	startGatewayProcess,
	startIdleBrokerProcess,
} from "./lib/kafka-gateway.mjs";
import { percentByRound } from "./lib/rounds.mjs";
import { GATEWAY_TARGET_PERCENT, SPREAD_LABEL, SPREAD_TARGET_PERCENT } from "./scenarios/kafka.mjs";
import { DURATION_MS, ONLY, RESULTS, WARMUP_MS } from "./settings.mjs";

/**
 * @param {string} label @param {string} via @param {"produce" | "consume"} op
 * @param {{ recordsPerSec?: number, recordsPerSecByRound?: number[], latencyMs?: { p50: number, p99: number }, roundTripMs?: { p50: number }, errors?: number }} result
 */
function row(label, via, op, result) {
	const recordsPerSec = result.recordsPerSec ?? 0;
	return {
		label,
		via,
		op,
		recordsPerSec,
		recordsPerSecByRound: result.recordsPerSecByRound ?? null,
		p50Ms: result.latencyMs?.p50 ?? null,
		p99Ms: result.latencyMs?.p99 ?? null,
		roundTripP50Ms: result.roundTripMs?.p50 ?? null,
		errors: result.errors ?? 0,
	};
}

/** Whether BENCH_SCENARIOS (id prefixes) lets the row of `id` run. @param {string} id */
const wanted = (id) => ONLY.length === 0 || ONLY.some((prefix) => id.startsWith(prefix));

/** kafkajs against bench/lib/idle-kafka-broker.mjs: what kafkajs alone costs a produce, which bounds the gateway's ratio. */
const IDLE_VIA = "kafkajs → idle broker (bound)";

async function main() {
	const token = randomBytes(24).toString("hex");
	const dir = await mkdtemp(join(os.tmpdir(), "tributary-bench-kafka-"));
	const broker = await startLocalBroker({
		token,
		port: 0,
		persistTo: join(dir, "state"),
		outdir: join(dir, "dist"),
		quiet: true,
	});
	const gateway = await startGatewayProcess(broker.url, token);
	const idleBroker = await startIdleBrokerProcess();
	const http = createClient(broker.url, { token, sockets: 2 });
	const kafkaOf = (/** @type {number} */ port) =>
		new Kafka({ clientId: "bench", brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
	const kafka = kafkaOf(gateway.port);
	const idle = new Kafka({ clientId: "bench", brokers: [`127.0.0.1:${idleBroker.port}`], logLevel: logLevel.NOTHING });
	/** One gateway per cap measured side by side (BENCH_KAFKA_CAPS), each with WORKER_REQUESTS_AT_ONCE_MAX at its cap. */
	/** @type {{ cap: string, gateway: { port: number, stop(): Promise<unknown> } }[]} */
	const capped = [];
	const rows = [];
	/** A paired row's HTTP ÷ gateway latency per step, median (quartiles), by its via's cap. */
	const pairedPercents = new Map();
	try {
		for (const t of ["p-http", "p-kafka", "c-backlog"]) await http.json("POST", "/v1/topics", { name: t, partitions: 1 }, [201]);
		if (wanted("kafka-produce-1c-1p")) {
			const produced = await produceBoth(http, kafka, "p-http", "p-kafka", idle);
			rows.push(row("produce 100×1KB, 1 client, 1 partition", "HTTP", "produce", produced.http));
			rows.push(row("produce 100×1KB, 1 client, 1 partition", "kafkajs → gateway", "produce", produced.kafkajs));
			if (produced.kafkajsAlone !== null)
				rows.push(row("produce 100×1KB, 1 client, 1 partition", IDLE_VIA, "produce", produced.kafkajsAlone));
		}
		if (wanted(`kafka-produce-1c-${SPREAD_PARTITIONS}p`)) {
			for (const t of ["s-http", "s-kafka"]) await http.json("POST", "/v1/topics", { name: t, partitions: SPREAD_PARTITIONS }, [201]);
			for (const cap of GATEWAY_CAPS)
				capped.push({ cap, gateway: await startGatewayProcess(broker.url, token, { workerRequestsAtOnce: cap }) });
			const label = SPREAD_LABEL;
			if (capped.length === 0) {
				const spread = await produceSpread(http, [kafka], "s-http", "s-kafka");
				rows.push(row(label, "HTTP", "produce", spread.http));
				for (const result of spread.kafkajs) rows.push(row(label, "kafkajs → gateway", "produce", result));
			} else {
				const through = capped.map(({ gateway: g }) => kafkaOf(g.port));
				const spread = await produceSpreadPaired(http, through, "s-http", "s-kafka", PAIRED_STEPS);
				const stepped = `${label}, ${PAIRED_STEPS} paired steps`;
				rows.push(row(stepped, "HTTP", "produce", spread.http));
				for (const [i, result] of spread.kafkajs.entries()) {
					const { median, q1, q3 } = result.percentOfHttp;
					pairedPercents.set(`cap ${capped[i]?.cap}`, `${median} (${q1}–${q3})`);
					rows.push(row(stepped, `kafkajs → gateway, cap ${capped[i]?.cap}`, "produce", result));
				}
			}
		}
		if (wanted("kafka-consume-1p")) {
			await fill(http, "c-backlog");
			// Each read runs twice and the second counts: the first warms the JIT of both paths (the gateway is a fresh process).
			const consumeLabel = `consume ${BACKLOG_RECORDS}×1KB from offset 0, 1 partition`;
			await consumeHttp(http, "c-backlog");
			rows.push(row(consumeLabel, "HTTP", "consume", await consumeHttp(http, "c-backlog")));
			await consumeKafka(kafka, "c-backlog", "warm-up");
			rows.push(row(consumeLabel, "kafkajs → gateway", "consume", await consumeKafka(kafka, "c-backlog", "measured")));
		}
	} finally {
		http.close();
		await gateway.stop();
		for (const { gateway: g } of capped) await g.stop();
		await idleBroker.stop();
		await broker.dispose();
		await rm(dir, { recursive: true, force: true });
	}
	const lines = [
		"| scenario | via | records/s | p50 ms | p99 ms | kafkajs round trip p50 ms | gateway / HTTP | target |",
		"|---|---|---:|---:|---:|---:|---:|---:|",
	];
	for (const r of rows) {
		const base = rows.find((b) => b.label === r.label && b.via === "HTTP");
		// Produce's ratio is the median of its rounds' (range beside it); consume's is over the whole reads.
		const ratio = r.via === "HTTP" || !base ? null : percentByRound(/** @type {any} */ (r), /** @type {any} */ (base));
		const paired = pairedPercents.get(r.via.replace("kafkajs → gateway, ", ""));
		const percent =
			paired ?? (ratio === null ? null : ratio.byRound.length > 1 ? `${ratio.median} (${ratio.min}–${ratio.max})` : `${ratio.median}`);
		// The spread row has no target (SPREAD_TARGET_PERCENT says why): measured only.
		const target = r.label.startsWith(SPREAD_LABEL)
			? SPREAD_TARGET_PERCENT
			: GATEWAY_TARGET_PERCENT[/** @type {"produce" | "consume"} */ (r.op)];
		// The idle broker's row is a bound, not a result: kafkajs with no gateway and no Tributary behind it.
		const verdict =
			ratio === null
				? ""
				: r.via === IDLE_VIA
					? `gateway ≤ ~${gatewayBoundPercent(ratio.median)} %`
					: target === null
						? "none (measured)"
						: `≥ ${target} %: ${ratio.median >= target ? "yes" : "**no**"}`;
		lines.push(
			`| ${r.label} | ${r.via} | ${Math.round(r.recordsPerSec)} | ${r.p50Ms ?? ""} | ${r.p99Ms ?? ""} | ${r.roundTripP50Ms ?? ""} | ${percent === null ? "" : `${percent} %`} | ${verdict} |`,
		);
	}
	// The machine's load during the run, so a reader can tell a slow run from a busy machine.
	const load = os
		.loadavg()
		.map((l) => l.toFixed(1))
		.join(" ");
	const markdown = `# Kafka gateway bench\n\n${new Date().toISOString()}, ${os.cpus().length} CPUs (load average ${load}), node ${process.version}, Miniflare.\n\n${lines.join("\n")}\n`;
	console.log(markdown);
	await writeFile(
		join(RESULTS, "kafka-gateway.json"),
		`${JSON.stringify({ at: new Date().toISOString(), durationMs: DURATION_MS, warmupMs: WARMUP_MS, loadAverage: os.loadavg(), rows }, null, "\t")}\n`,
	);
	await writeFile(join(RESULTS, "kafka-gateway.md"), markdown);
}

await main();
