// @ts-check
/**
 * Cold start: how long a freshly started server takes to answer, and what its first requests cost, next to the
 * Worker's bundle size (what the isolate has to load). Each round starts the server on the same data directory,
 * times `start()` (process spawn until it listens: workerd loads and compiles the Worker's script here), the first
 * `GET /healthz` (the Worker alone), the first produce (the Worker, the topic registry and a partition object, all
 * cold: SQLite opened, schema checked), then the same two again warm, and stops it. Round 0 only creates the topic.
 * Figures are medians over the rounds, with the fastest round beside them (the machine is shared and noisy).
 *
 * @example
 * const result = await coldStartScenario({ start: () => startServerOnSameData(), token, rounds: 7 });
 * // { rounds, startMs: { median, min }, startToFirstAnswerMs, firstRequestMs, firstProduceMs, warmRequestMs, warmProduceMs }
 */

import { createClient } from "./http.mjs";
import { percentile, round } from "./load.mjs";

/** @typedef {() => Promise<{ url: string, stop(): Promise<unknown> }>} Start */

export const COLD_START_ROUNDS = 7;
const PRODUCE_BODY = Buffer.from('{"records":[{"partition":0,"key":"cold","value":"first record after a start"}]}');

/** @typedef {{ median: number, min: number }} Figure */

/** @param {number[]} samples @returns {Figure} */
function figure(samples) {
	const sorted = [...samples].sort((a, b) => a - b);
	return { median: round(percentile(sorted, 0.5), 1), min: round(sorted[0] ?? 0, 1) };
}

/**
 * Times `call`, which must answer `status`.
 * @param {() => Promise<{ status: number, body: Buffer }>} call
 * @param {number} status
 * @param {string} what
 */
async function timed(call, status, what) {
	const t0 = performance.now();
	const response = await call();
	const ms = performance.now() - t0;
	if (response.status !== status) throw new Error(`${what} → ${response.status} ${response.body.toString("utf8").slice(0, 300)}`);
	return ms;
}

/**
 * `start()` starts the server on the same data every time it is called; `log` (optional) reports each round.
 * @param {{ start: Start, token: string, rounds?: number, log?: (line: string) => void }} options
 */
export async function coldStartScenario({ start, token, rounds = COLD_START_ROUNDS, log = () => {} }) {
	const topic = `bench-cold-${Math.random().toString(36).slice(2, 8)}`;
	const setup = await start();
	const setupHttp = createClient(setup.url, { token, sockets: 1 });
	try {
		await setupHttp.json("POST", "/v1/topics", { name: topic, partitions: 1 }, [201]);
	} finally {
		setupHttp.close();
		await setup.stop();
	}
	/** @type {Record<"start" | "startToFirstAnswer" | "firstRequest" | "firstProduce" | "warmRequest" | "warmProduce", number[]>} */
	const samples = { start: [], startToFirstAnswer: [], firstRequest: [], firstProduce: [], warmRequest: [], warmProduce: [] };
	for (let i = 0; i < rounds; i++) {
		const t0 = performance.now();
		const server = await start();
		const started = performance.now() - t0;
		const http = createClient(server.url, { token, sockets: 1 });
		try {
			const firstRequest = await timed(() => http.request("GET", "/healthz"), 200, "GET /healthz");
			const answered = performance.now() - t0;
			const firstProduce = await timed(() => http.request("POST", `/v1/topics/${topic}/records`, PRODUCE_BODY), 200, "produce");
			const warmRequest = await timed(() => http.request("GET", "/healthz"), 200, "GET /healthz");
			const warmProduce = await timed(() => http.request("POST", `/v1/topics/${topic}/records`, PRODUCE_BODY), 200, "produce");
			samples.start.push(started);
			samples.startToFirstAnswer.push(answered);
			samples.firstRequest.push(firstRequest);
			samples.firstProduce.push(firstProduce);
			samples.warmRequest.push(warmRequest);
			samples.warmProduce.push(warmProduce);
			log(
				`round ${i + 1}: started ${started.toFixed(0)} ms, first answer at ${answered.toFixed(0)} ms (request ${firstRequest.toFixed(1)} ms), first produce ${firstProduce.toFixed(1)} ms, warm ${warmRequest.toFixed(1)} / ${warmProduce.toFixed(1)} ms`,
			);
		} finally {
			http.close();
			await server.stop();
		}
	}
	return {
		rounds,
		startMs: figure(samples.start),
		startToFirstAnswerMs: figure(samples.startToFirstAnswer),
		firstRequestMs: figure(samples.firstRequest),
		firstProduceMs: figure(samples.firstProduce),
		warmRequestMs: figure(samples.warmRequest),
		warmProduceMs: figure(samples.warmProduce),
	};
}

/** @param {Figure} f */
const cell = (f) => `${f.median} (${f.min})`;
const kib = (/** @type {number} */ bytes) => (bytes / 1024).toFixed(1);

/**
 * The section of the report: one line per runtime.
 * @param {import("../scenarios/types.js").Row[]} rows
 * @param {number} budgetBytes  the bundle's gzip budget
 */
export function coldStartSection(rows, budgetBytes) {
	const lines = [
		"## Cold start and bundle size",
		"",
		`bench/lib/cold-start.mjs: the server is started on the same data ${rows[0]?.rounds ?? COLD_START_ROUNDS} times (BENCH_COLD_START_ROUNDS); each time the start (until it listens), the first \`GET /healthz\` (the Worker alone) and the first produce (the Worker, the topic registry and a partition object, all cold) are timed, then the same two warm. Medians, fastest round in brackets, in ms. \`wrangler dev\` bundles the Worker as it starts, so its start includes that. The bundle is the Worker as \`wrangler deploy\` uploads it (minified); budget ${kib(budgetBytes)} KiB gzipped (test/structure/bundle-size.test.mjs).`,
		"",
		"| runtime | bundle KiB | gzip KiB | start ms | start → first answer ms | first request ms | first produce ms | warm request ms | warm produce ms |",
		"|---|--:|--:|--:|--:|--:|--:|--:|--:|",
	];
	for (const row of rows) {
		if (row.failed) {
			lines.push(`| ${row.runtime} | failed: ${String(row.failed).replace(/\s+/g, " ").slice(0, 200)} | | | | | | | |`);
			continue;
		}
		const r = /** @type {Record<string, any>} */ (row);
		lines.push(
			`| ${row.runtime} | ${kib(r.bundleRawBytes)} | ${kib(r.bundleGzipBytes)} | ${cell(r.startMs)} | ${cell(r.startToFirstAnswerMs)} | ${cell(r.firstRequestMs)} | ${cell(r.firstProduceMs)} | ${cell(r.warmRequestMs)} | ${cell(r.warmProduceMs)} |`,
		);
	}
	for (const row of rows) {
		const cost = /** @type {Record<string, any>} */ (row).sizeCost;
		if (cost === null || cost === undefined) continue;
		lines.push(
			"",
			`What a KiB of script costs a start (bench/lib/script-size-cost.mjs, ${row.runtime}): the bench's ceiling Worker (${kib(cost.plain.gzipBytes)} KiB gzipped) answers its first request ${cost.plain.startMs} ms after its start, and ${cost.padded.startMs} ms with an inert copy of this Worker appended (${kib(cost.addedGzipBytes)} KiB gzipped more, parsed and never run); workerd's CPU per start ${cost.plain.workerdCpuMs} → ${cost.padded.workerdCpuMs} ms. So a gzipped KiB costs ${cost.startMsPerGzipKiB} ms of start (${cost.workerdCpuMsPerGzipKiB} ms of workerd CPU).`,
		);
	}
	return lines.join("\n");
}
