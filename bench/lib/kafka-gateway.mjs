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
 * Each kafkajs result also carries `roundTripMs`: kafkajs' own timing of its Produce or Fetch requests (sent to
 * answered, from its `network.request` events), so a reader can tell the gateway's hop from the client's own
 * encoding and decoding, which the HTTP side of the comparison does not do (it sends one prebuilt body and reads
 * the page as bytes). Produce may also be measured, in the same rounds, against a broker that does nothing
 * (bench/lib/idle-kafka-broker.mjs): what kafkajs alone costs, which bounds the gateway's ratio.
 */

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { DURATION_MS, ROUNDS, WARMUP_MS } from "../settings.mjs";
import { latencySummary, round, runLoad } from "./load.mjs";
import { valueString } from "./records.mjs";
import { measureInRounds, roundsResult, windowed } from "./rounds.mjs";

export const BACKLOG_RECORDS = Number(process.env.BENCH_KAFKA_BACKLOG ?? 20_000);
const RECORDS_PER_PRODUCE = 100;
const FETCH_RECORDS = 1_000;
const FILL_BATCH_RECORDS = 500;
const CONSUME_TIMEOUT_MS = 120_000;

process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";

const values = Array.from({ length: RECORDS_PER_PRODUCE }, (_, i) => valueString(9_000 + i));
const httpBody = Buffer.from(JSON.stringify({ records: values.map((value, i) => ({ key: `k${i}`, value, partition: 0 })) }));
const kafkaMessages = values.map((value, i) => ({ key: `k${i}`, value, partition: 0 }));

/**
 * One client's produce load as a window: `step` awaited in a loop, latencies kept for the merged percentiles.
 * @param {() => Promise<unknown>} send
 * @returns {(warmupMs: number, durationMs: number) => Promise<import("./load.mjs").LoadResult>}
 */
function produceWindow(send) {
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
				return { status: r.status ?? 200, sentBytes: r.sentBytes ?? 0, receivedBytes: r.receivedBytes ?? 0, records: RECORDS_PER_PRODUCE };
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
 * first); resolves once it listens, with the port its "listening on" line names.
 * @param {string} url @param {string} token
 * @returns {Promise<{ port: number, stop(): Promise<unknown> }>}
 */
export function startGatewayProcess(url, token) {
	const main = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "gateway", "main.js");
	return startListening([main, "--listen", "127.0.0.1:0", "--url", url, "--token", token]);
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
 * @param {string[]} args
 * @returns {Promise<{ port: number, stop(): Promise<unknown> }>}
 */
async function startListening(args) {
	const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
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
