// @ts-check
/**
 * Cost per million records, from the broker's own counters: each variant produces 1 KiB records, consumes each
 * once through a consumer group (poll with auto-commit, a final commit), and reads `/metrics` before and after
 * for the SQLite rows every Durable Object class read and wrote (the cursors' `rowsRead`/`rowsWritten`, what
 * Cloudflare bills) and the bytes stored. Durable Object requests are counted from what the bench sent (a
 * produce to one partition is one `append`; a poll is `beginPoll`, one `read` per partition it reads and
 * `completePoll`; a commit one call; plus the metrics hub's reports, one per object touched per second at most).
 * Duration is an estimate: every object touched counted active for the whole wall-clock time of the variant.
 * Prices: bench/lib/prices.mjs. The scenario kind is bench/scenarios/cost.mjs.
 */

import { createClient } from "./http.mjs";
import { costOf, PRICES_AS_OF, storagePerDay } from "./prices.mjs";
import { valueString } from "./records.mjs";

const PARTITIONS = 4;
/** How long after the last request the figures are read: the metrics report interval, twice, plus slack. */
export const SETTLE_MS = 2_500;
/** Target for the batched variant: dollars per million records produced and consumed once. */
export const COST_TARGET_PER_MILLION = 0.02;

/**
 * @typedef {import("./http.mjs").HttpClient} HttpClient
 * @typedef {{ id: string, label: string, perRequest: number, pollRecords: number, records: number, autoCommitIntervalMs?: number }} CostVariant
 * @typedef {{ read: number, written: number }} Rows
 */

/** @type {CostVariant[]} */
export const COST_VARIANTS = [
	{ id: "cost-batched", label: "1000 per produce (1 MiB), polls of up to 5000", perRequest: 1_000, pollRecords: 5_000, records: 40_000 },
	{ id: "cost-small-polls", label: "1000 per produce, polls of up to 500", perRequest: 1_000, pollRecords: 500, records: 20_000 },
	// The same consumer auto-committing on Kafka's default interval instead of at every poll (the default here).
	{
		id: "cost-small-polls-interval",
		label: "1000 per produce, polls of up to 500, auto_commit_interval_ms 5000",
		perRequest: 1_000,
		pollRecords: 500,
		records: 20_000,
		autoCommitIntervalMs: 5_000,
	},
	{ id: "cost-single", label: "1 per produce request, polls of up to 500", perRequest: 1, pollRecords: 500, records: 2_000 },
];

/**
 * `/metrics` samples, by series.
 * @param {Pick<HttpClient, "request">} api
 */
export async function scrape(api) {
	const response = await api.request("GET", "/metrics");
	if (response.status !== 200) throw new Error(`/metrics → ${response.status}`);
	const samples = new Map();
	for (const line of response.body.toString("utf8").split("\n")) {
		if (line === "" || line.startsWith("#")) continue;
		const at = line.lastIndexOf(" ");
		samples.set(line.slice(0, at), Number(line.slice(at + 1)));
	}
	return samples;
}

/**
 * @param {Map<string, number>} samples
 * @param {string} prefix
 */
export function sumOf(samples, prefix) {
	let sum = 0;
	for (const [key, value] of samples) if (key.startsWith(prefix)) sum += value;
	return sum;
}

/** Rows read and written by every class (in all, and per class), and bytes the partitions store. */
/** @param {Map<string, number>} samples */
function storageFigures(samples) {
	/** @type {Record<string, Rows>} */
	const byClass = {};
	for (const [key, value] of samples) {
		const m = /^tributary_storage_rows_(read|written)_total\{class="([A-Za-z]+)"\}$/.exec(key);
		if (m === null) continue;
		const name = m[2] ?? "";
		const rows = byClass[name] ?? { read: 0, written: 0 };
		if (m[1] === "read") rows.read = value;
		else rows.written = value;
		byClass[name] = rows;
	}
	return {
		byClass,
		rowsRead: sumOf(samples, "tributary_storage_rows_read_total{"),
		rowsWritten: sumOf(samples, "tributary_storage_rows_written_total{"),
		partitionBytes: samples.get('tributary_storage_bytes{class="PartitionLog"}') ?? 0,
	};
}

/**
 * @param {HttpClient} api
 * @param {string} topic
 * @param {CostVariant} variant
 */
async function produceAll(api, topic, variant) {
	let requests = 0;
	for (let sent = 0; sent < variant.records; sent += variant.perRequest) {
		const partition = requests % PARTITIONS;
		const records = [];
		for (let r = 0; r < variant.perRequest; r++)
			records.push(`{"partition":${partition},"value":${JSON.stringify(valueString(sent + r + 1))}}`);
		const response = await api.request("POST", `/v1/topics/${topic}/records`, Buffer.from(`{"records":[${records.join(",")}]}`));
		if (response.status !== 200) throw new Error(`produce → ${response.status} ${response.body.toString("utf8").slice(0, 200)}`);
		requests++;
	}
	return { httpRequests: requests, objectRequests: requests };
}

/**
 * @param {HttpClient} api
 * @param {string} topic
 * @param {string} group
 * @param {number} total
 * @param {number} pollRecords
 * @param {number} [autoCommitIntervalMs] each poll's `auto_commit_interval_ms` (0: commit at every poll)
 */
async function consumeAll(api, topic, group, total, pollRecords, autoCommitIntervalMs = 0) {
	const member = await api.json("POST", `/v1/groups/${group}/members`, { topics: [topic], auto_offset_reset: "earliest" }, [200]);
	let consumed = 0;
	let polls = 0;
	let objectRequests = 1;
	while (consumed < total) {
		const polled = await api.json(
			"POST",
			`/v1/groups/${group}/members/${member.member_id}/poll`,
			{ max_records: pollRecords, auto_commit: true, auto_commit_interval_ms: autoCommitIntervalMs },
			[200],
		);
		polls++;
		consumed += polled.records.length;
		const read = new Set(polled.records.map((/** @type {{ partition: number }} */ r) => r.partition)).size;
		objectRequests += 2 + Math.max(1, read);
		if (polls > total) throw new Error("consume made no progress");
	}
	// The last poll's records are committed by the next poll (auto-commit, if due) or by leaving.
	await api.json(
		"POST",
		`/v1/groups/${group}/members/${member.member_id}/poll`,
		{ max_records: 1, auto_commit: true, auto_commit_interval_ms: autoCommitIntervalMs },
		[200],
	);
	await api.request("DELETE", `/v1/groups/${group}/members/${member.member_id}`);
	return { consumed, httpRequests: polls + 3, objectRequests: objectRequests + 3 + PARTITIONS };
}

/**
 * One variant against a running broker: figures per million records.
 * @param {string} baseUrl
 * @param {string} token
 * @param {CostVariant} variant
 */
export async function costVariant(baseUrl, token, variant) {
	const api = createClient(baseUrl, { token, sockets: 1 });
	const suffix = Math.random().toString(36).slice(2, 8);
	const topic = `bench-${variant.id}-${suffix}`;
	try {
		await api.json("POST", "/v1/topics", { name: topic, partitions: PARTITIONS }, [201]);
		// One record in each partition before counting: a partition's object is made (its schema and configuration,
		// about 60 rows written) once in its life, which the few records measured here, scaled to a million, would
		// count many times over (25 times for 40,000: most of what the partitions wrote).
		for (let partition = 0; partition < PARTITIONS; partition++) {
			await api.json("POST", `/v1/topics/${topic}/records`, { records: [{ partition, value: "warm" }] }, [200]);
		}
		await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
		const before = storageFigures(await scrape(api));
		const started = performance.now();
		const produced = await produceAll(api, topic, variant);
		const consumed = await consumeAll(
			api,
			topic,
			`bench-${variant.id}-${suffix}`,
			variant.records + PARTITIONS,
			variant.pollRecords,
			variant.autoCommitIntervalMs,
		);
		const wallSeconds = (performance.now() - started) / 1000;
		await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
		const after = storageFigures(await scrape(api));
		// The warm-up records are read too (the member starts at the earliest offset).
		const expected = variant.records + PARTITIONS;
		if (consumed.consumed !== expected) throw new Error(`consumed ${consumed.consumed} of ${expected}`);
		const perMillion = 1e6 / variant.records;
		// Objects touched: the partitions, the group's coordinator and the metrics hub.
		const objects = PARTITIONS + 2;
		const hubReports = Math.ceil(wallSeconds) * objects;
		const work = {
			requests: (produced.objectRequests + consumed.objectRequests + hubReports) * perMillion,
			activeSeconds: wallSeconds * objects * perMillion,
			rowsRead: (after.rowsRead - before.rowsRead) * perMillion,
			rowsWritten: (after.rowsWritten - before.rowsWritten) * perMillion,
		};
		const storedBytes = (after.partitionBytes - before.partitionBytes) * perMillion;
		const rowsByClass = Object.fromEntries(
			Object.entries(after.byClass).map(([name, a]) => {
				const b = before.byClass[name] ?? { read: 0, written: 0 };
				return [name, { read: Math.round((a.read - b.read) * perMillion), written: Math.round((a.written - b.written) * perMillion) }];
			}),
		);
		return {
			...work,
			storedBytesPerMillion: storedBytes,
			rowsByClass,
			dollars: costOf(work),
			storagePerDay: storagePerDay(storedBytes),
			httpRequests: (produced.httpRequests + consumed.httpRequests) * perMillion,
			records: variant.records,
			wallSeconds,
		};
	} finally {
		await api.request("DELETE", `/v1/topics/${topic}`).catch(() => {});
		api.close();
	}
}

const dollars = (/** @type {number} */ n) => `$${n < 0.001 ? n.toFixed(6) : n.toFixed(4)}`;
const millions = (/** @type {number} */ n) => (n / 1e6).toFixed(3);

/**
 * The report's cost table (markdown).
 * @param {import("../scenarios/types.js").Row[]} rows
 */
export function costTable(rows) {
	const lines = [
		`Per million records produced and consumed once, at Durable Objects prices of ${PRICES_AS_OF} (bench/lib/prices.mjs). Target for the batched variant: ≤ $${COST_TARGET_PER_MILLION}.`,
		"",
		"| variant | runtime | DO requests (M) | rows written (M) | rows read (M) | requests $ | duration $ (est.) | rows written $ | rows read $ | total $ | storage $/day retained | target |",
		"|---|---|---|---|---|---|---|---|---|---|---|---|",
	];
	for (const row of rows) {
		if (row.failed) {
			lines.push(`| ${row.scenario} | ${row.runtime} | failed: ${String(row.failed).slice(0, 120)} | | | | | | | | | |`);
			continue;
		}
		const d = /** @type {ReturnType<typeof costOf>} */ (row.dollars);
		const figures = /** @type {{ requests: number, rowsWritten: number, rowsRead: number, storagePerDay: number }} */ (
			/** @type {unknown} */ (row)
		);
		const target = row.scenario === "cost-batched" ? (d.total <= COST_TARGET_PER_MILLION ? "met" : "MISSED") : "";
		lines.push(
			`| ${row.scenario} | ${row.runtime} | ${millions(figures.requests)} | ${millions(figures.rowsWritten)} | ${millions(figures.rowsRead)} | ${dollars(d.requests)} | ${dollars(d.duration)} | ${dollars(d.rowsWritten)} | ${dollars(d.rowsRead)} | **${dollars(d.total)}** | ${dollars(figures.storagePerDay)} | ${target} |`,
		);
	}
	return lines.join("\n");
}
