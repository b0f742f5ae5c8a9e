#!/usr/bin/env node
/**
 * `npm run bench:kafka` (also the last step of `npm run bench`): kafkajs producing and consuming through the
 * Kafka gateway, next to the same load sent straight to Tributary's HTTP API, in one run on one Worker (Miniflare,
 * as `npm start` serves it), so the ratio is what the gateway's translation costs.
 *
 * - produce: 100 × 1 KiB records per request to one partition, one client, each request awaited (acks=all for
 *   kafkajs): `POST /v1/topics/{t}/records` against `producer.send()`.
 * - consume: a prefilled partition read from offset 0 to its end: `GET …/records?max_records=1000` pages against
 *   a kafkajs consumer (`eachBatch`, default fetch sizes: 1 MiB per partition, about one HTTP page).
 *
 * The gateway runs as its own process (`gateway/main.js`), as it would in production, so kafkajs' decoding in
 * this process does not share a thread with the gateway's encoding.
 *
 * Produce has a warm-up second before it is measured; each consume reads the backlog twice and counts the second.
 *
 * Not a test: it prints a table and writes bench/results/kafka-gateway.json and .md. Knobs: BENCH_DURATION_MS
 * (6000), BENCH_KAFKA_BACKLOG (20000 records).
 */

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { startLocalBroker } from "../scripts/lib/local-broker.mjs";
import { createClient } from "./lib/http.mjs";
import { latencySummary, round, runLoad } from "./lib/load.mjs";
import { freePort } from "./lib/peers.mjs";
import { descendantCpuSeconds } from "./lib/procstat.mjs";
import { valueString } from "./lib/records.mjs";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results");
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 6_000);
const WARMUP_MS = 1_000;
const BACKLOG_RECORDS = Number(process.env.BENCH_KAFKA_BACKLOG ?? 20_000);
const RECORDS_PER_PRODUCE = 100;
const FETCH_RECORDS = 1_000;
const FILL_BATCH_RECORDS = 500;
const CONSUME_TIMEOUT_MS = 120_000;

process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";

const values = Array.from({ length: RECORDS_PER_PRODUCE }, (_, i) => valueString(9_000 + i));
const httpBody = Buffer.from(JSON.stringify({ records: values.map((value, i) => ({ key: `k${i}`, value, partition: 0 })) }));
const kafkaMessages = values.map((value, i) => ({ key: `k${i}`, value, partition: 0 }));

async function produceHttp(http, topic) {
	return runLoad({
		clients: 1,
		warmupMs: WARMUP_MS,
		durationMs: DURATION_MS,
		serverCpu: descendantCpuSeconds,
		step: async () => {
			const r = await http.request("POST", `/v1/topics/${topic}/records`, httpBody);
			return { status: r.status, sentBytes: r.sentBytes, receivedBytes: r.receivedBytes, records: RECORDS_PER_PRODUCE };
		},
	});
}

async function produceKafka(kafka, topic) {
	const producer = kafka.producer();
	await producer.connect();
	try {
		return await runLoad({
			clients: 1,
			warmupMs: WARMUP_MS,
			durationMs: DURATION_MS,
			serverCpu: descendantCpuSeconds,
			step: async () => {
				await producer.send({ topic, acks: -1, messages: kafkaMessages });
				return { status: 200, sentBytes: 0, receivedBytes: 0, records: RECORDS_PER_PRODUCE };
			},
		});
	} finally {
		await producer.disconnect();
	}
}

async function fill(http, topic) {
	const body = Buffer.from(
		JSON.stringify({ records: Array.from({ length: FILL_BATCH_RECORDS }, (_, i) => ({ value: values[i % values.length], partition: 0 })) }),
	);
	for (let n = 0; n < BACKLOG_RECORDS; n += FILL_BATCH_RECORDS) {
		const r = await http.request("POST", `/v1/topics/${topic}/records`, body);
		if (r.status !== 200) throw new Error(`fill: ${r.status} ${r.body}`);
	}
}

/** Reads the backlog from 0 to its end; records/s over the whole read. */
async function consumeHttp(http, topic) {
	const latencies = [];
	const started = performance.now();
	let offset = 0;
	while (offset < BACKLOG_RECORDS) {
		const t0 = performance.now();
		const r = await http.request("GET", `/v1/topics/${topic}/partitions/0/records?offset=${offset}&max_records=${FETCH_RECORDS}`);
		latencies.push(performance.now() - t0);
		if (r.status !== 200) throw new Error(`fetch: ${r.status}`);
		const next = Number(/"next_offset":(\d+)/.exec(r.body.toString("latin1").slice(-200))?.[1]);
		if (!(next > offset)) throw new Error(`fetch from ${offset} answered next_offset ${next}`);
		offset = next;
	}
	return drained(BACKLOG_RECORDS, performance.now() - started, latencies);
}

async function consumeKafka(kafka, topic, run) {
	const consumer = kafka.consumer({ groupId: `bench-${topic}-${run}` });
	await consumer.connect();
	await consumer.subscribe({ topic, fromBeginning: true });
	const latencies = [];
	let records = 0;
	let started = 0;
	let last = 0;
	const done = new Promise((resolve) => {
		consumer.run({
			autoCommit: false,
			eachBatch: async ({ batch }) => {
				const now = performance.now();
				if (started === 0) started = now;
				else latencies.push(now - last);
				last = now;
				records += batch.messages.length;
				if (records >= BACKLOG_RECORDS) resolve(undefined);
			},
		});
	});
	const timeout = new Promise((_, reject) =>
		setTimeout(() => reject(new Error(`consumed ${records} of ${BACKLOG_RECORDS}`)), CONSUME_TIMEOUT_MS).unref(),
	);
	try {
		await Promise.race([done, timeout]);
	} finally {
		await consumer.disconnect();
	}
	// Timed from the first batch's arrival (after the group join), so the join is not counted against the gateway.
	return drained(records, performance.now() - started, latencies);
}

/** `gateway/main.js` on a free port; resolves once it listens. */
async function startGatewayProcess(url, token) {
	const port = await freePort();
	const main = join(dirname(fileURLToPath(import.meta.url)), "..", "gateway", "main.js");
	const child = spawn(process.execPath, [main, "--listen", `127.0.0.1:${port}`, "--url", url, "--token", token], {
		stdio: ["ignore", "ignore", "pipe"],
	});
	await new Promise((resolve, reject) => {
		let output = "";
		child.stderr.on("data", (chunk) => {
			output += chunk;
			if (output.includes("listening on")) resolve(undefined);
		});
		child.once("exit", (code) => reject(new Error(`kafka-gateway exited (${code}): ${output}`)));
	});
	return {
		port,
		stop: () =>
			new Promise((resolve) => {
				child.once("exit", resolve);
				child.kill("SIGTERM");
			}),
	};
}

function drained(records, ms, latencies) {
	const seconds = ms / 1000;
	return {
		records,
		seconds: round(seconds, 3),
		recordsPerSec: round(records / seconds, 1),
		latencyMs: latencySummary(latencies.sort((a, b) => a - b)),
	};
}

function row(label, via, result) {
	return {
		label,
		via,
		recordsPerSec: result.recordsPerSec,
		p50Ms: result.latencyMs?.p50 ?? null,
		p99Ms: result.latencyMs?.p99 ?? null,
		errors: result.errors ?? 0,
	};
}

async function main() {
	const token = randomBytes(24).toString("hex");
	const dir = await mkdtemp(join(os.tmpdir(), "tributary-bench-kafka-"));
	const broker = await startLocalBroker({
		token,
		port: await freePort(),
		persistTo: join(dir, "state"),
		outdir: join(dir, "dist"),
		quiet: true,
	});
	const gateway = await startGatewayProcess(broker.url, token);
	const http = createClient(broker.url, { token, sockets: 2 });
	const kafka = new Kafka({ clientId: "bench", brokers: [`127.0.0.1:${gateway.port}`], logLevel: logLevel.NOTHING });
	const rows = [];
	try {
		for (const t of ["p-http", "p-kafka", "c-backlog"]) await http.json("POST", "/v1/topics", { name: t, partitions: 1 }, [201]);
		rows.push(row("produce 100×1KB, 1 client, 1 partition", "HTTP", await produceHttp(http, "p-http")));
		rows.push(row("produce 100×1KB, 1 client, 1 partition", "kafkajs → gateway", await produceKafka(kafka, "p-kafka")));
		await fill(http, "c-backlog");
		// Each read runs twice and the second counts: the first warms the JIT of both paths (the gateway is a fresh process).
		const consumeLabel = `consume ${BACKLOG_RECORDS}×1KB from offset 0, 1 partition`;
		await consumeHttp(http, "c-backlog");
		rows.push(row(consumeLabel, "HTTP", await consumeHttp(http, "c-backlog")));
		await consumeKafka(kafka, "c-backlog", "warm-up");
		rows.push(row(consumeLabel, "kafkajs → gateway", await consumeKafka(kafka, "c-backlog", "measured")));
	} finally {
		http.close();
		await gateway.stop();
		await broker.dispose();
		await rm(dir, { recursive: true, force: true });
	}
	const lines = ["| scenario | via | records/s | p50 ms | p99 ms | gateway / HTTP |", "|---|---|---:|---:|---:|---:|"];
	for (const r of rows) {
		const base = rows.find((b) => b.label === r.label && b.via === "HTTP");
		const ratio = r.via === "HTTP" || !base ? "" : `${Math.round((r.recordsPerSec / base.recordsPerSec) * 100)} %`;
		lines.push(`| ${r.label} | ${r.via} | ${Math.round(r.recordsPerSec)} | ${r.p50Ms ?? ""} | ${r.p99Ms ?? ""} | ${ratio} |`);
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
		`${JSON.stringify({ at: new Date().toISOString(), durationMs: DURATION_MS, loadAverage: os.loadavg(), rows }, null, "\t")}\n`,
	);
	await writeFile(join(RESULTS, "kafka-gateway.md"), markdown);
}

await main();
