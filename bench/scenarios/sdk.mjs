// @ts-check
/**
 * The SDK next to hand-written HTTP, in the same run against the same server, both over Node's global fetch:
 *
 * - produce: 100k × 1 KiB records through one SDK producer, each `send()` made after `await producer.ready()` and
 *   not awaited itself (batched per partition, idempotent, then `flush()`): the loop the SDK's README gives for
 *   large volumes. Without `ready()`, 100k sends would all be made at once and those that find the 32 MiB buffer
 *   full wait for room, refused with `buffer_full` after 60 s: below ~1.1k records/s (a slow or busy machine)
 *   the round would fail instead of being measured. Against raw batched produce (one loop per partition posting
 *   1 000-record JSON batches, built per request): the same request shape the producer makes, without its
 *   bookkeeping.
 * - consume: three SDK consumers in one group draining a backlog (`for await`, committing before each poll),
 *   against three raw members looping poll (500 records, parsed) → commit until their partitions run dry.
 *
 * Each side first runs once uncounted (the Worker's code and objects warm up: the first round of a fresh server
 * was the slowest), then three times in the order raw, SDK, SDK, raw, raw, SDK; rates are over the three runs
 * together, so drift on a busy machine weighs on both sides alike, and each adjacent raw/SDK pair gives a ratio
 * whose range says how steady the comparison was (other processes on a shared machine move a single round by
 * 2×). Targets: each SDK rate ≥ 80 % of its raw rate.
 *
 * `BENCH_SCENARIOS=sdk npm run bench` runs it alone.
 */

import { randomBytes } from "node:crypto";
import { Tributary } from "tributary/client";

export const SDK_TARGET_FRACTION = 0.8;
const PRODUCE_RECORDS = Number(process.env.BENCH_SDK_RECORDS ?? 100_000);
const CONSUME_RECORDS = Number(process.env.BENCH_SDK_CONSUME_RECORDS ?? 60_000);
const VALUE_CHARS = 1024;
const PRODUCE_PARTITIONS = 4;
const BATCH_RECORDS = 1_000;
const CONSUMERS = 3;
const POLL_RECORDS = 500;
const FILL_BATCH_RECORDS = 1_000;
const WARMUP_ROUNDS = ["raw", "sdk"];
/** Counted rounds; rounds 2k and 2k+1 are a pair. */
const ROUNDS = ["raw", "sdk", "sdk", "raw", "raw", "sdk"];

const VALUE = "x".repeat(VALUE_CHARS);

/**
 * A hand-written JSON call over fetch, as an SDK-less client would make it.
 * @param {string} baseUrl
 * @param {string} token
 * @returns {(method: string, path: string, body?: unknown) => Promise<any>}
 */
function api(baseUrl, token) {
	return async (method, path, body) => {
		const response = await fetch(`${baseUrl}${path}`, {
			method,
			// Uncompressed, as the SDK asks of a broker on loopback (client/http.ts): both sides' answers travel alike.
			headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Accept-Encoding": "identity" },
			body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
		});
		const text = await response.text();
		if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 300)}`);
		return text === "" ? null : JSON.parse(text);
	};
}

/** @typedef {ReturnType<typeof api>} Call */

/**
 * One loop per partition posting 1 000-record batches.
 * @param {Call} call
 * @param {string} topic
 * @param {number} records
 */
async function rawProduce(call, topic, records) {
	const perPartition = Math.ceil(records / PRODUCE_PARTITIONS);
	await Promise.all(
		Array.from({ length: PRODUCE_PARTITIONS }, async (_, partition) => {
			for (let sent = 0; sent < perPartition; sent += BATCH_RECORDS) {
				const n = Math.min(BATCH_RECORDS, perPartition - sent);
				const batch = Array.from({ length: n }, () => ({ value: VALUE, partition }));
				const answer = await call("POST", `/v1/topics/${topic}/records`, JSON.stringify({ records: batch }));
				if (answer.offsets.length !== n) throw new Error("raw produce: offsets missing");
			}
		}),
	);
	return perPartition * PRODUCE_PARTITIONS;
}

/**
 * @param {Tributary} client
 * @param {string} topic
 * @param {number} records
 */
async function sdkProduce(client, topic, records) {
	const producer = client.producer({ batchRecords: BATCH_RECORDS });
	for (let i = 0; i < records; i++) {
		await producer.ready();
		producer.send(topic, { value: VALUE });
	}
	await producer.flush();
	await producer.close();
	return records;
}

/**
 * Three members poll → commit until their partitions run dry; the clock stops when `total` records are in hand.
 * @param {Call} call
 * @param {string} topic
 * @param {string} group
 * @param {number} total
 */
async function rawConsume(call, topic, group, total) {
	/** @type {{ member_id: string }[]} */
	const members = [];
	for (let i = 0; i < CONSUMERS; i++)
		members.push(await call("POST", `/v1/groups/${group}/members`, { topics: [topic], auto_offset_reset: "earliest" }));
	let records = 0;
	let doneAt = 0;
	await Promise.all(
		members.map(async (m) => {
			for (;;) {
				const polled = await call("POST", `/v1/groups/${group}/members/${m.member_id}/poll`, {
					max_records: POLL_RECORDS,
					auto_commit: false,
				});
				if (polled.records.length === 0) return;
				records += polled.records.length;
				if (records >= total && doneAt === 0) doneAt = performance.now();
				const last = new Map();
				for (const r of polled.records) last.set(r.partition, r.offset + 1);
				const offsets = [...last].map(([partition, offset]) => ({ topic, partition, offset }));
				await call("POST", `/v1/groups/${group}/offsets`, { member_id: m.member_id, generation: polled.generation, offsets });
			}
		}),
	);
	for (const m of members) await call("DELETE", `/v1/groups/${group}/members/${m.member_id}`);
	return { records, doneAt };
}

/**
 * Three SDK consumers iterate until `total` records are in hand.
 * @param {Tributary} client
 * @param {string} topic
 * @param {string} group
 * @param {number} total
 */
async function sdkConsume(client, topic, group, total) {
	const consumers = Array.from({ length: CONSUMERS }, () =>
		client.consumer({ group, topics: [topic], from: "earliest", maxRecords: POLL_RECORDS }),
	);
	// As the raw members do: everyone joins before anyone reads.
	for (const consumer of consumers) await consumer.join();
	let records = 0;
	let doneAt = 0;
	/** @type {() => void} */
	let resolveDone = () => {};
	const done = new Promise((/** @type {(value?: unknown) => void} */ resolve) => {
		resolveDone = resolve;
	});
	const loops = consumers.map(async (consumer) => {
		for await (const _record of consumer) {
			records++;
			if (records === total) {
				doneAt = performance.now();
				resolveDone();
			}
		}
	});
	await done;
	await Promise.all(consumers.map((c) => c.close()));
	await Promise.all(loops);
	return { records, doneAt };
}

/** @typedef {{ records: number, seconds: number, rounds: number[] }} Tally  rounds: each counted round's records/s */
/** @typedef {{ raw: Tally, sdk: Tally }} Tallies */
/** @typedef {{ records: number, seconds: number, recordsPerSec: number }} Rate */
/** @typedef {{ raw: Rate, sdk: Rate, ratio: number, pairRange: number[], meetsTarget: boolean }} Comparison */

/** @returns {Tallies} */
function tallies() {
	return { raw: { records: 0, seconds: 0, rounds: [] }, sdk: { records: 0, seconds: 0, rounds: [] } };
}

/**
 * @param {Tallies} tallies
 * @param {string} side
 * @param {number} records
 * @param {number} seconds
 */
function count(tallies, side, records, seconds) {
	const tally = side === "raw" ? tallies.raw : tallies.sdk;
	tally.records += records;
	tally.seconds += seconds;
	tally.rounds.push(records / seconds);
}

/**
 * Runs both comparisons against the server at `baseUrl`.
 * @param {{ baseUrl: string, token: string, produceRecords?: number, consumeRecords?: number }} options
 */
export async function sdkScenario({ baseUrl, token, produceRecords = PRODUCE_RECORDS, consumeRecords = CONSUME_RECORDS }) {
	const call = api(baseUrl, token);
	const client = new Tributary({ url: baseUrl, token });
	const suffix = randomBytes(4).toString("hex");
	const produce = tallies();
	const consume = tallies();
	/** @type {string[]} */
	const topics = [];
	try {
		for (const [i, side] of [...WARMUP_ROUNDS, ...ROUNDS].entries()) {
			const topic = `bench-sdk-produce-${suffix}-${i}`;
			topics.push(topic);
			await call("POST", "/v1/topics", { name: topic, partitions: PRODUCE_PARTITIONS });
			const t0 = performance.now();
			const n = side === "raw" ? await rawProduce(call, topic, produceRecords) : await sdkProduce(client, topic, produceRecords);
			if (i >= WARMUP_ROUNDS.length) count(produce, side, n, (performance.now() - t0) / 1000);
			const described = await call("GET", `/v1/topics/${topic}`);
			const written = described.partitions.reduce(
				(/** @type {number} */ sum, /** @type {{ high_watermark: number }} */ p) => sum + p.high_watermark,
				0,
			);
			if (written !== n) throw new Error(`${side} produce: ${n} records sent, ${written} in the topic`);
			// Each round on a fresh topic; the last one's 100 MB gone before the next round.
			await call("DELETE", `/v1/topics/${topic}`).catch(() => {});
		}
		const source = `bench-sdk-consume-${suffix}`;
		topics.push(source);
		await call("POST", "/v1/topics", { name: source, partitions: CONSUMERS });
		for (let sent = 0; sent < consumeRecords; sent += FILL_BATCH_RECORDS) {
			const n = Math.min(FILL_BATCH_RECORDS, consumeRecords - sent);
			await call(
				"POST",
				`/v1/topics/${source}/records`,
				JSON.stringify({ records: Array.from({ length: n }, (_, i) => ({ key: `k${sent + i}`, value: VALUE })) }),
			);
		}
		for (const [i, side] of [...WARMUP_ROUNDS, ...ROUNDS].entries()) {
			const group = `bench-sdk-${suffix}-${i}`;
			const t0 = performance.now();
			// Each side's clock stops when the last record is in hand; its last commits and leaving are not counted.
			const { records: n, doneAt: t1 } =
				side === "raw" ? await rawConsume(call, source, group, consumeRecords) : await sdkConsume(client, source, group, consumeRecords);
			if (n < consumeRecords) throw new Error(`${side} consume: ${n} of ${consumeRecords} records`);
			if (i >= WARMUP_ROUNDS.length) count(consume, side, n, (t1 - t0) / 1000);
			await call("DELETE", `/v1/groups/${group}`).catch(() => {});
		}
	} finally {
		for (const topic of topics) await call("DELETE", `/v1/topics/${topic}`).catch(() => {});
	}
	const rate = (/** @type {Tally} */ s) => ({
		records: s.records,
		seconds: Math.round(s.seconds * 1000) / 1000,
		recordsPerSec: Math.round(s.records / s.seconds),
	});
	/** @returns {Comparison} */
	const compare = (/** @type {Tallies} */ c) => {
		const raw = rate(c.raw);
		const sdk = rate(c.sdk);
		const ratio = Math.round((sdk.recordsPerSec / raw.recordsPerSec) * 1000) / 1000;
		// The k-th rounds of the two sides ran next to each other (see ROUNDS): a pair.
		const pairs = c.sdk.rounds.map((s, k) => Math.round((s / (c.raw.rounds[k] ?? Number.NaN)) * 1000) / 1000);
		const pairRange = [Math.min(...pairs), Math.max(...pairs)];
		return { raw, sdk, ratio, pairRange, meetsTarget: ratio >= SDK_TARGET_FRACTION };
	};
	return { produce: compare(produce), consume: compare(consume), produceRecords, consumeRecords, valueBytes: VALUE_CHARS };
}

/**
 * The two lines of one runtime's result.
 * @param {import("./types.js").Row} row
 */
function lines(row) {
	if (row.failed) return `| ${row.runtime} | failed: ${row.failed} | | | | |`;
	const line = (/** @type {string} */ what, /** @type {Comparison} */ c) =>
		`| ${row.runtime} | ${what} | ${c.raw.recordsPerSec} | ${c.sdk.recordsPerSec} | ${Math.round(c.ratio * 100)} % (${(c.pairRange ?? []).map((r) => Math.round(r * 100)).join("–")} %) | ${c.meetsTarget ? "yes" : "**no**"} |`;
	return [
		line(
			`produce ${row.produceRecords} × ${row.valueBytes} B, send() after ready() vs raw batched`,
			/** @type {Comparison} */ (row.produceComparison),
		),
		line(
			`consume ${row.consumeRecords}, 3 SDK consumers vs 3 raw members poll + commit`,
			/** @type {Comparison} */ (row.consumeComparison),
		),
	].join("\n");
}

/** @type {import("./types.js").ScenarioKind} */
export const sdk = {
	kind: "sdk",
	targets: ["tributary"],
	scenarios: [
		{ id: "sdk", label: "SDK vs raw HTTP: producer 100k × 1 KB, 3 group consumers", kind: "sdk", partitions: PRODUCE_PARTITIONS },
	],
	inMainTable: false,
	inDetails: false,
	settings: { sdkProduceRecords: PRODUCE_RECORDS, sdkConsumeRecords: CONSUME_RECORDS, sdkTargetFraction: SDK_TARGET_FRACTION },
	async run(ctx) {
		const result = await sdkScenario({ baseUrl: ctx.url, token: ctx.token });
		return {
			produceComparison: result.produce,
			consumeComparison: result.consume,
			produceRecords: result.produceRecords,
			consumeRecords: result.consumeRecords,
			valueBytes: result.valueBytes,
			verification: result.produce.meetsTarget && result.consume.meetsTarget ? "ok" : ["below the SDK target"],
		};
	},
	summary: (result) => {
		const p = /** @type {Comparison} */ (result.produceComparison);
		const c = /** @type {Comparison} */ (result.consumeComparison);
		return `SDK produce ${Math.round(p.ratio * 100)} % of raw, consume ${Math.round(c.ratio * 100)} % of raw`;
	},
	section: {
		title: "SDK vs raw HTTP",
		intro:
			"bench/scenarios/sdk.mjs: the client SDK next to hand-written HTTP in the same run, both over Node's fetch. Produce: one SDK producer, `await producer.ready()` then an unawaited `send()` for every record (the README's loop for large volumes), then `flush()`, against one raw loop per partition posting 1 000-record batches. Consume: three SDK consumers (`for await`, joined before reading) in one group against three raw members looping poll (500) → commit, each draining the same backlog; both clocks stop when the last record is in hand. Each side runs once uncounted to warm up, then three times (raw, SDK, SDK, raw, raw, SDK); SDK ÷ raw is over the three runs, the range in brackets each adjacent raw/SDK pair's ratio.",
		table: (rows) =>
			[
				`| runtime | comparison | raw records/s | SDK records/s | SDK ÷ raw (pairs) | ≥ ${SDK_TARGET_FRACTION * 100} % |`,
				"|---|---|--:|--:|--:|:-:|",
				...rows.map(lines),
			].join("\n"),
	},
};
