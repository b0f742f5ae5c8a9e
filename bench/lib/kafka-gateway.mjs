// @ts-check
/**
 * @module
 * The Kafka gateway's loads, for bench/scenarios/kafka.mjs and the standalone `npm run bench:kafka`: the same
 * produce and consume shapes sent over HTTP and through the gateway with kafkajs, and the gateway as its own
 * process (`gateway/main.js`, as in production, so kafkajs' decoding here does not share a thread with it).
 *
 * - produce: 100 × 1 KiB records per request to one partition, one client, each awaited (acks=all for kafkajs),
 *   both warmed up for WARMUP_MS, then measured in ROUNDS rounds of DURATION_MS / ROUNDS each, HTTP and kafkajs in
 *   turn (bench/lib/rounds.mjs), so their ratio is the median of ratios of windows seconds apart. Measured once
 *   each, back to back, the ratio swung from 32.5 % to 46.7 % over eight full runs with no change to the gateway:
 *   one run's HTTP side rose 36 % against the run before while the gateway's rose 8 %.
 * - consume: a prefilled partition read from offset 0 to its end: `GET …/records?max_records=1000` pages against
 *   a kafkajs consumer (`eachBatch`, default fetch sizes: 1 MiB per partition, about one HTTP page), timed from
 *   the first batch (the group join is not counted).
 *
 * - produce across partitions: one Produce carrying a batch of SPREAD_RECORDS_PER_PARTITION × 1 KiB records for each
 *   of SPREAD_PARTITIONS partitions (64; BENCH_KAFKA_SPREAD_PARTITIONS), which the gateway sends the Worker as one
 *   produce per partition, WORKER_REQUESTS_AT_ONCE_MAX at a time (gateway/limits.js), against the same records in one
 *   HTTP request (the Worker appends a request's partitions in parallel); measured in rounds as above. With
 *   BENCH_KAFKA_CAPS (e.g. `8,32,64,Infinity`) one gateway per cap (bench/lib/gateway-cap.mjs), compared step by
 *   step with HTTP (`produceSpreadPaired`): in windows seconds apart, the machine's drift on a shared 2-core machine
 *   swung one configuration's records/s by 64 % against itself (cap 64 and no cap are the same at 64 partitions).
 *
 * Each kafkajs result also carries `roundTripMs`: kafkajs' own timing of its Produce or Fetch requests (sent to
 * answered, from its `network.request` events), so a reader can tell the gateway's hop from the client's own
 * encoding and decoding, which the HTTP side of the comparison does not do (it sends one prebuilt body and reads
 * the page as bytes). Produce may also be measured, in the same rounds, against a broker that does nothing
 * (bench/lib/idle-kafka-broker.mjs): what kafkajs alone costs, which bounds the gateway's ratio.
 */

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { DURATION_MS, ROUNDS, WARMUP_MS } from "../settings.mjs";
import { latencySummary, round, runLoad } from "./load.mjs";
import { valueString } from "./records.mjs";
import { measureInRounds, roundOrder, roundsResult, windowed } from "./rounds.mjs";

export const BACKLOG_RECORDS = Number(process.env.BENCH_KAFKA_BACKLOG ?? 20_000);
const RECORDS_PER_PRODUCE = 100;
const FETCH_RECORDS = 1_000;
const FILL_BATCH_RECORDS = 500;
const CONSUME_TIMEOUT_MS = 120_000;
export const SPREAD_PARTITIONS = Number(process.env.BENCH_KAFKA_SPREAD_PARTITIONS ?? 64);
const SPREAD_RECORDS_PER_PARTITION = 5;
/** Gateway caps to measure side by side (BENCH_KAFKA_CAPS, `8,32,64,Infinity`); none: the gateway's own. */
export const GATEWAY_CAPS = (process.env.BENCH_KAFKA_CAPS ?? "").split(",").filter(Boolean);
/** Steps of the paired comparison of caps (`produceSpreadPaired`), BENCH_KAFKA_PAIRED_STEPS. */
export const PAIRED_STEPS = Number(process.env.BENCH_KAFKA_PAIRED_STEPS ?? 60);

process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";

const values = Array.from({ length: RECORDS_PER_PRODUCE }, (_, i) => valueString(9_000 + i));
const httpBody = Buffer.from(JSON.stringify({ records: values.map((value, i) => ({ key: `k${i}`, value, partition: 0 })) }));
const kafkaMessages = values.map((value, i) => ({ key: `k${i}`, value, partition: 0 }));

/**
 * One client's produce load as a window: `step` awaited in a loop, latencies kept for the merged percentiles.
 * @param {() => Promise<unknown>} send @param {number} [records] records each send carries
 * @returns {(warmupMs: number, durationMs: number) => Promise<import("./load.mjs").LoadResult>}
 */
function produceWindow(send, records = RECORDS_PER_PRODUCE) {
	return (warmupMs, durationMs) =>
		runLoad({
			clients: 1,
			warmupMs,
			durationMs,
			keepLatencies: true,
			waitQuiet: false,
			serverCpu: descendantCpuSeconds,
			step: async () => {
				const r = /** @type {{ status?: number, sentBytes?: number, receivedBytes?: number }} */ ((await send()) ?? {});
				return { status: r.status ?? 200, sentBytes: r.sentBytes ?? 0, receivedBytes: r.receivedBytes ?? 0, records };
			},
		});
}

/**
 * The gateway's produce ratio at best, given kafkajs alone (against bench/lib/idle-kafka-broker.mjs) at
 * `alonePercent` of HTTP's records/s: a produce through the gateway takes at least kafkajs' own time plus Tributary's,
 * and Tributary's is most of an HTTP produce's (that client sends a prebuilt body), so the gateway reaches at most
 * 1 / (1 + kafkajs' time ÷ HTTP's time) of HTTP's records/s, a little more by the HTTP client's own share.
 * @param {number} alonePercent
 */
export function gatewayBoundPercent(alonePercent) {
	return Math.round(100 / (1 + 100 / alonePercent));
}

/**
 * The produce load over HTTP to `httpTopic` and through the gateway with kafkajs to `kafkaTopic`, measured in
 * rounds (the module's header); with `idle` (kafkajs on bench/lib/idle-kafka-broker.mjs), kafkajs alone in the same
 * rounds as `kafkajsAlone`. Each kafkajs result carries kafkajs' own round trips of its Produce requests.
 * @param {import("./http.mjs").HttpClient} http @param {import("kafkajs").Kafka} kafka
 * @param {string} httpTopic @param {string} kafkaTopic @param {import("kafkajs").Kafka | null} [idle]
 */
export async function produceBoth(http, kafka, httpTopic, kafkaTopic, idle = null) {
	const producer = kafka.producer();
	const roundTrips = roundTripsOf(producer, "Produce");
	const alone = idle?.producer() ?? null;
	const aloneRoundTrips = alone === null ? [] : roundTripsOf(alone, "Produce");
	await producer.connect();
	await alone?.connect();
	try {
		const sendHttp = () => http.request("POST", `/v1/topics/${httpTopic}/records`, httpBody);
		const sendKafka = () => producer.send({ topic: kafkaTopic, acks: -1, messages: kafkaMessages });
		const sends = [sendHttp, sendKafka];
		if (alone !== null) sends.push(() => alone.send({ topic: kafkaTopic, acks: -1, messages: kafkaMessages }));
		const { results } = await measureInRounds(
			sends.map((send) => ({ open: async () => windowed(produceWindow(send), async (merged) => merged) })),
			{ rounds: ROUNDS, windowMs: DURATION_MS / ROUNDS, warmupMs: WARMUP_MS },
		);
		const [viaHttp, viaKafka, viaIdle] = results.map((measured) => {
			if (measured.failed !== null) throw new Error(measured.failed);
			return roundsResult(measured);
		});
		return {
			http: /** @type {ReturnType<typeof roundsResult>} */ (viaHttp),
			kafkajs: { ...viaKafka, roundTripMs: latencySummary(roundTrips.sort((a, b) => a - b)) },
			kafkajsAlone: viaIdle === undefined ? null : { ...viaIdle, roundTripMs: latencySummary(aloneRoundTrips.sort((a, b) => a - b)) },
		};
	} finally {
		await producer.disconnect();
		await alone?.disconnect();
	}
}

/**
 * The produce across SPREAD_PARTITIONS partitions (the module's header): over HTTP to `httpTopic` and through each
 * of `gateways` with kafkajs to `kafkaTopic` (a partition's records keep their order per gateway; every gateway's
 * records land in the same topic), measured in the same rounds. Each kafkajs result carries its Produce round trips.
 * @param {import("./http.mjs").HttpClient} http @param {import("kafkajs").Kafka[]} gateways
 * @param {string} httpTopic @param {string} kafkaTopic
 */
export async function produceSpread(http, gateways, httpTopic, kafkaTopic) {
	const { records, sends, producers, roundTrips } = await spreadSends(http, gateways, httpTopic, kafkaTopic);
	try {
		const { results } = await measureInRounds(
			sends.map((send) => ({ open: async () => windowed(produceWindow(send, records.length), async (merged) => merged) })),
			{ rounds: ROUNDS, windowMs: DURATION_MS / ROUNDS, warmupMs: WARMUP_MS },
		);
		const [viaHttp, ...viaKafka] = results.map((measured) => {
			if (measured.failed !== null) throw new Error(measured.failed);
			return roundsResult(measured);
		});
		return {
			http: /** @type {ReturnType<typeof roundsResult>} */ (viaHttp),
			kafkajs: viaKafka.map((result, i) => ({ ...result, roundTripMs: latencySummary((roundTrips[i] ?? []).sort((a, b) => a - b)) })),
		};
	} finally {
		for (const producer of producers) await producer.disconnect();
	}
}

/**
 * The same produce across partitions as `produceSpread`, sent step by step instead of in windows: each step sends one
 * request over HTTP and one through each gateway, one after the other (the order rotated each step), so a drift in
 * the machine's load falls on every contestant alike, as bench:ab pairs its builds. Each contestant's latencies, and
 * for each gateway the median (and quartiles) of its steps' HTTP ÷ gateway latency, in percent.
 * @param {import("./http.mjs").HttpClient} http @param {import("kafkajs").Kafka[]} gateways
 * @param {string} httpTopic @param {string} kafkaTopic @param {number} steps
 */
export async function produceSpreadPaired(http, gateways, httpTopic, kafkaTopic, steps) {
	const { records, sends, producers } = await spreadSends(http, gateways, httpTopic, kafkaTopic);
	try {
		/** @type {number[][]} */
		const latencies = sends.map(() => []);
		const warmupSteps = Math.max(3, Math.round(steps / 10));
		for (let step = -warmupSteps; step < steps; step++) {
			for (const k of roundOrder(sends.length, Math.abs(step))) {
				const started = performance.now();
				const answer = /** @type {{ status?: number }} */ ((await /** @type {() => Promise<unknown>} */ (sends[k])()) ?? {});
				if ((answer.status ?? 200) !== 200) throw new Error(`step ${step}: HTTP ${answer.status}`);
				if (step >= 0) latencies[k]?.push(performance.now() - started);
			}
		}
		const [httpMs = [], ...gatewayMs] = latencies;
		const summary = (/** @type {number[]} */ ms) => ({
			recordsPerSec: round((records.length * ms.length) / (ms.reduce((a, b) => a + b, 0) / 1000), 1),
			latencyMs: latencySummary([...ms].sort((a, b) => a - b)),
		});
		return {
			http: summary(httpMs),
			kafkajs: gatewayMs.map((ms) => {
				const percents = ms.map((m, i) => (100 * (httpMs[i] ?? 0)) / m).sort((a, b) => a - b);
				const at = (/** @type {number} */ q) => round(percents[Math.floor(q * (percents.length - 1))] ?? 0, 1);
				return { ...summary(ms), percentOfHttp: { median: at(0.5), q1: at(0.25), q3: at(0.75) } };
			}),
		};
	} finally {
		for (const producer of producers) await producer.disconnect();
	}
}

/**
 * The sends of a produce across SPREAD_PARTITIONS partitions: the first over HTTP, then one kafkajs producer (connected)
 * per gateway, each with its Produce round trips.
 * @param {import("./http.mjs").HttpClient} http @param {import("kafkajs").Kafka[]} gateways
 * @param {string} httpTopic @param {string} kafkaTopic
 */
async function spreadSends(http, gateways, httpTopic, kafkaTopic) {
	const records = Array.from({ length: SPREAD_PARTITIONS * SPREAD_RECORDS_PER_PARTITION }, (_, i) => ({
		key: `k${i}`,
		value: /** @type {string} */ (values[i % values.length]),
		partition: i % SPREAD_PARTITIONS,
	}));
	const body = Buffer.from(JSON.stringify({ records }));
	const producers = gateways.map((kafka) => kafka.producer());
	const roundTrips = producers.map((producer) => roundTripsOf(producer, "Produce"));
	for (const producer of producers) await producer.connect();
	const sends = [
		() => http.request("POST", `/v1/topics/${httpTopic}/records`, body),
		...producers.map((producer) => () => producer.send({ topic: kafkaTopic, acks: -1, messages: records })),
	];
	return { records, sends, producers, roundTrips };
}

/**
 * kafkajs' own durations (ms) of one API's requests on `client`, sent to answered.
 * @param {import("kafkajs").Producer | import("kafkajs").Consumer} client @param {string} apiName
 */
function roundTripsOf(client, apiName) {
	/** @type {number[]} */
	const durations = [];
	/** @type {any} */ (client).on(client.events.REQUEST, (/** @type {any} */ event) => {
		if (event.payload.apiName === apiName) durations.push(event.payload.duration);
	});
	return durations;
}

/** @param {import("./http.mjs").HttpClient} http @param {string} topic */
export async function fill(http, topic) {
	const body = Buffer.from(
		JSON.stringify({ records: Array.from({ length: FILL_BATCH_RECORDS }, (_, i) => ({ value: values[i % values.length], partition: 0 })) }),
	);
	for (let n = 0; n < BACKLOG_RECORDS; n += FILL_BATCH_RECORDS) {
		const r = await http.request("POST", `/v1/topics/${topic}/records`, body);
		if (r.status !== 200) throw new Error(`fill: ${r.status} ${r.body}`);
	}
}

/**
 * Reads the backlog from 0 to its end; records/s over the whole read.
 * @param {import("./http.mjs").HttpClient} http @param {string} topic
 */
export async function consumeHttp(http, topic) {
	/** @type {number[]} */
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

/** @param {import("kafkajs").Kafka} kafka @param {string} topic @param {string} run names the group */
export async function consumeKafka(kafka, topic, run) {
	const consumer = kafka.consumer({ groupId: `bench-${topic}-${run}` });
	const roundTrips = roundTripsOf(consumer, "Fetch");
	await consumer.connect();
	await consumer.subscribe({ topic, fromBeginning: true });
	/** @type {number[]} */
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
	return { ...drained(records, performance.now() - started, latencies), roundTripMs: latencySummary(roundTrips.sort((a, b) => a - b)) };
}

/**
 * `gateway/main.js` on port 0 (the kernel picks a free port as it binds: one found free beforehand could be taken
 * first); resolves once it listens, with the port its "listening on" line names. With `workerRequestsAtOnce` (a
 * whole number, or `Infinity`), the gateway's WORKER_REQUESTS_AT_ONCE_MAX is that (bench/lib/gateway-cap.mjs).
 * @param {string} url @param {string} token @param {{ workerRequestsAtOnce?: string }} [options]
 * @returns {Promise<{ port: number, stop(): Promise<unknown> }>}
 */
export function startGatewayProcess(url, token, { workerRequestsAtOnce } = {}) {
	const here = dirname(fileURLToPath(import.meta.url));
	const main = join(here, "..", "..", "gateway", "main.js");
	const args = [main, "--listen", "127.0.0.1:0", "--url", url, "--token", token];
	if (workerRequestsAtOnce === undefined) return startListening(args);
	const env = { ...process.env, BENCH_GATEWAY_WORKER_REQUESTS_AT_ONCE: workerRequestsAtOnce };
	return startListening(["--import", pathToFileURL(join(here, "gateway-cap.mjs")).href, ...args], env);
}

/**
 * bench/lib/idle-kafka-broker.mjs as its own process, as the gateway runs; resolves once it listens.
 * @returns {Promise<{ port: number, stop(): Promise<unknown> }>}
 */
export function startIdleBrokerProcess() {
	return startListening([join(dirname(fileURLToPath(import.meta.url)), "idle-kafka-broker.mjs")]);
}

/**
 * A Node process of `args` that prints "listening on HOST:PORT " on stderr once it listens on a port the kernel
 * picked; resolves with that port.
 * @param {string[]} args @param {NodeJS.ProcessEnv} [env]
 * @returns {Promise<{ port: number, stop(): Promise<unknown> }>}
 */
async function startListening(args, env = process.env) {
	const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env });
	/** @type {number} */
	const port = await new Promise((resolve, reject) => {
		let output = "";
		child.stderr.on("data", (chunk) => {
			output += chunk;
			const listening = /listening on \S*:(\d+) /.exec(output);
			if (listening !== null) resolve(Number(listening[1]));
		});
		child.once("exit", (code) => reject(new Error(`${args[0]} exited (${code}): ${output}`)));
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

/** @param {number} records @param {number} ms @param {number[]} latencies */
export function drained(records, ms, latencies) {
	const seconds = ms / 1000;
	return {
		records,
		requests: latencies.length + 1,
		errors: 0,
		seconds: round(seconds, 3),
		recordsPerSec: round(records / seconds, 1),
		latencyMs: latencySummary(latencies.sort((a, b) => a - b)),
	};
}
