/**
 * The SDK next to hand-written HTTP, in the same run against the same server, both over Node's global fetch:
 *
 * - produce: 100k × 1 KiB records through one SDK producer with unawaited `send()` (batched per partition,
 *   idempotent, then `flush()`), against raw batched produce (one loop per partition posting 1 000-record JSON
 *   batches, built per request): the same request shape the producer makes, without its bookkeeping.
 * - consume: three SDK consumers in one group draining a backlog (`for await`, committing before each poll),
 *   against three raw members looping poll (500 records, parsed) → commit until their partitions run dry.
 *
 * Each side runs twice in the order raw, SDK, SDK, raw; rates are over both runs together, so drift on a busy
 * machine weighs on both sides alike. Targets: each SDK rate ≥ 80 % of its raw rate.
 *
 * Standalone: `node bench/scenarios/sdk.mjs` serves the Worker on Miniflare from a temp dir (or uses BENCH_URL and
 * BENCH_TOKEN) and prints the result as JSON.
 */

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
const ROUNDS = ["raw", "sdk", "sdk", "raw"];

const VALUE = "x".repeat(VALUE_CHARS);

function api(baseUrl, token) {
	return async (method, path, body) => {
		const response = await fetch(`${baseUrl}${path}`, {
			method,
			headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
			body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
		});
		const text = await response.text();
		if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 300)}`);
		return text === "" ? null : JSON.parse(text);
	};
}

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

async function sdkProduce(client, topic, records) {
	const producer = client.producer({ batchRecords: BATCH_RECORDS });
	for (let i = 0; i < records; i++) producer.send(topic, { value: VALUE });
	await producer.flush();
	await producer.close();
	return records;
}

async function rawConsume(call, topic, group, total) {
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

async function sdkConsume(client, topic, group, total) {
	const consumers = Array.from({ length: CONSUMERS }, () =>
		client.consumer({ group, topics: [topic], from: "earliest", maxRecords: POLL_RECORDS }),
	);
	// As the raw members do: everyone joins before anyone reads.
	for (const consumer of consumers) await consumer.join();
	let records = 0;
	let doneAt = 0;
	let resolveDone;
	const done = new Promise((resolve) => {
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

/** Runs both comparisons; `measure(run)` may wrap each measured part (quiet-machine wait, CPU meter). */
export async function sdkScenario({ baseUrl, token, produceRecords = PRODUCE_RECORDS, consumeRecords = CONSUME_RECORDS }) {
	const call = api(baseUrl, token);
	const client = new Tributary({ url: baseUrl, token });
	const suffix = randomBytes(4).toString("hex");
	const produce = { raw: { records: 0, seconds: 0 }, sdk: { records: 0, seconds: 0 } };
	const consume = { raw: { records: 0, seconds: 0 }, sdk: { records: 0, seconds: 0 } };
	const topics = [];
	try {
		for (const [i, side] of ROUNDS.entries()) {
			const topic = `bench-sdk-produce-${suffix}-${i}`;
			topics.push(topic);
			await call("POST", "/v1/topics", { name: topic, partitions: PRODUCE_PARTITIONS });
			const t0 = performance.now();
			const n = side === "raw" ? await rawProduce(call, topic, produceRecords) : await sdkProduce(client, topic, produceRecords);
			produce[side].seconds += (performance.now() - t0) / 1000;
			produce[side].records += n;
			const described = await call("GET", `/v1/topics/${topic}`);
			const written = described.partitions.reduce((sum, p) => sum + p.high_watermark, 0);
			if (written !== n) throw new Error(`${side} produce: ${n} records sent, ${written} in the topic`);
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
		for (const [i, side] of ROUNDS.entries()) {
			const group = `bench-sdk-${suffix}-${i}`;
			const t0 = performance.now();
			// Each side's clock stops when the last record is in hand; its last commits and leaving are not counted.
			const { records: n, doneAt: t1 } =
				side === "raw" ? await rawConsume(call, source, group, consumeRecords) : await sdkConsume(client, source, group, consumeRecords);
			if (n < consumeRecords) throw new Error(`${side} consume: ${n} of ${consumeRecords} records`);
			consume[side].seconds += (t1 - t0) / 1000;
			consume[side].records += n;
			await call("DELETE", `/v1/groups/${group}`).catch(() => {});
		}
	} finally {
		for (const topic of topics) await call("DELETE", `/v1/topics/${topic}`).catch(() => {});
	}
	const rate = (s) => ({ ...s, seconds: Math.round(s.seconds * 1000) / 1000, recordsPerSec: Math.round(s.records / s.seconds) });
	const compare = (c) => {
		const raw = rate(c.raw);
		const sdk = rate(c.sdk);
		const ratio = Math.round((sdk.recordsPerSec / raw.recordsPerSec) * 1000) / 1000;
		return { raw, sdk, ratio, meetsTarget: ratio >= SDK_TARGET_FRACTION };
	};
	return { produce: compare(produce), consume: compare(consume), produceRecords, consumeRecords, valueBytes: VALUE_CHARS };
}

/** The markdown table for bench/results/latest.md. */
export function sdkMarkdown(runtime, result) {
	if (result.failed) return `| ${runtime} | failed: ${result.failed} | | | | |`;
	const row = (what, c) =>
		`| ${runtime} | ${what} | ${c.raw.recordsPerSec} | ${c.sdk.recordsPerSec} | ${Math.round(c.ratio * 100)} % | ${c.meetsTarget ? "yes" : "NO"} |`;
	return [
		row(`produce ${result.produceRecords} × ${result.valueBytes} B, unawaited send() vs raw batched`, result.produce),
		row(`consume ${result.consumeRecords}, 3 SDK consumers vs 3 raw members poll + commit`, result.consume),
	].join("\n");
}

export const SDK_TABLE_HEADER = `| runtime | comparison | raw records/s | SDK records/s | SDK ÷ raw | ≥ ${SDK_TARGET_FRACTION * 100} % |\n|---|---|---|---|---|---|`;

if (import.meta.url === `file://${process.argv[1]}`) {
	let baseUrl = process.env.BENCH_URL;
	let token = process.env.BENCH_TOKEN;
	let broker = null;
	let dir = null;
	if (!baseUrl) {
		const { startLocalBroker } = await import("../../scripts/lib/local-broker.mjs");
		dir = await mkdtemp(join(tmpdir(), "tributary-bench-sdk-"));
		token = randomBytes(24).toString("hex");
		broker = await startLocalBroker({ token, port: 0, persistTo: join(dir, "data"), outdir: join(dir, "dist"), quiet: true });
		baseUrl = broker.url.replace(/\/$/, "");
	}
	try {
		const result = await sdkScenario({ baseUrl, token });
		console.log(JSON.stringify(result, null, 2));
		console.log(`${SDK_TABLE_HEADER}\n${sdkMarkdown("miniflare", result)}`);
	} finally {
		await broker?.dispose();
		if (dir) await rm(dir, { recursive: true, force: true });
	}
}
