// @ts-check
/**
 * @module
 * What exactly-once produce costs: produce-1c-1p's load in three variants (plain, an idempotent producer, an
 * `Idempotency-Key` per request), Tributary only, run back to back in rounds so a drift of the machine weighs on
 * all three alike. The plain variant is the others' baseline.
 */

import { fmt, noisy, oneLine, percentOf } from "../lib/format.mjs";
import { serverCpuMicrosPerRecord } from "../lib/load.mjs";
import { produceLoad } from "../lib/produce-load.mjs";
import {
	measureInRounds,
	meetsTarget,
	percentByRound,
	ROUND_LEAD_IN_MS,
	ratioCell,
	roundsResult,
	setRatio,
	windowed,
} from "../lib/rounds.mjs";
import { DURATION_MS } from "../settings.mjs";

/**
 * @typedef {import("./types.js").Row} Row
 * @typedef {import("./types.js").Scenario} Scenario
 * @typedef {import("../lib/load.mjs").LoadResult} LoadResult
 */

/** Idempotent produce should cost at most 10 % of plain produce's throughput. */
const TARGET_FRACTION = 0.9;
/**
 * The variants are measured in rounds (plain, producer, key; then key, plain, producer; …) of short windows:
 * 6 × 1.5 s = 9 s per variant at the default duration. A 10 % difference needs it on a busy 2-core box.
 */
const ROUNDS = 6;
const WINDOW_MS = Math.round(DURATION_MS / 4);
const WARMUP_MS = 500;

const VARIANT_NAMES = {
	plain: "plain",
	producer: "idempotent producer (producer_id, epoch, sequence)",
	"idempotency-key": "Idempotency-Key header, unique per request",
};

/**
 * @param {string} id
 * @param {string} how
 * @param {keyof typeof VARIANT_NAMES} variant
 * @returns {Scenario}
 */
function variantScenario(id, how, variant) {
	return { id, label: `produce 100×1KB, 1 client, 1 partition: ${how}`, kind: "idempotence", variant, clients: 1, partitions: 1 };
}

/**
 * The variants, interleaved (bench/lib/rounds.mjs, as the scenarios measured in rounds are): each on its own topic,
 * warmed up once, then ROUNDS rounds of a WINDOW_MS window each, the order rotated each round, a short lead-in before
 * each window after the first round. A variant's row merges its windows; `percentOfPlain` is the median of its
 * windows' ratios to the plain window of the same round (`percentOfPlainByRound`), so a slow drift of the machine (or
 * of the server) weighs on every variant alike. A variant that fails fails them all: without the plain baseline no
 * ratio stands, and without a variant the comparison is not made.
 * @param {import("./types.js").RunContext} ctx
 * @param {Scenario[]} scenarios
 */
async function rounds(ctx, scenarios) {
	const seed = ctx.nextSeed(scenarios.length);
	const runs = [];
	for (const [k, scenario] of scenarios.entries()) {
		const topic = `bench-${scenario.id}`;
		await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
		runs.push({ scenario, load: await produceLoad(ctx.http, ctx.target, scenario, topic, seed + k) });
	}
	const { results: measured, quietWaitMs } = await measureInRounds(
		runs.map(({ load }) => ({
			open: async () =>
				windowed(
					(warmupMs, durationMs) => load.window(warmupMs, durationMs, { keepLatencies: true, waitQuiet: false }),
					async () => ({}),
				),
		})),
		{ rounds: ROUNDS, windowMs: WINDOW_MS, warmupMs: WARMUP_MS, interrupted: ctx.interrupted },
	);
	/** @type {Map<string, import("./types.js").Result>} */
	const results = new Map();
	for (const [k, run] of runs.entries()) {
		const variant = /** @type {import("../lib/rounds.mjs").TargetRounds} */ (measured[k]);
		const aborted = variant.windows.find((w) => w.aborted);
		const failure = variant.failed ?? (aborted === undefined ? null : (aborted.errorSamples[0]?.error ?? "aborted"));
		if (failure !== null) throw new Error(`${run.scenario.id}: ${failure}`);
		const merged = roundsResult(variant);
		results.set(run.scenario.id, {
			...merged,
			// The one wait for quiet came before the first variant's warm-up.
			quietWaitMs: k === 0 ? quietWaitMs : 0,
			payloadMBPerSec: merged.sentMBPerSec,
			variant: run.scenario.variant,
			verification: await run.load.verify(),
		});
	}
	const plainRun = runs.find((run) => run.scenario.variant === "plain");
	const plainResult = plainRun === undefined ? undefined : results.get(plainRun.scenario.id);
	for (const result of results.values()) {
		if (plainResult === undefined || result === plainResult) continue;
		setRatio(result, "percentOfPlain", percentByRound(/** @type {Row} */ (result), /** @type {Row} */ (plainResult)));
	}
	return results;
}

/**
 * One table line.
 * @param {Row} row
 */
function line(row) {
	if (row.failed) return `| ${row.runtime} | ${row.scenario} | failed: ${oneLine(row.failed, 120)} | | | | | |`;
	const met = meetsTarget(row, "percentOfPlain", TARGET_FRACTION);
	const metCell = met === null ? "" : met ? "yes" : "**no**";
	const cost = /** @type {number | null | undefined} */ (row.serverCpuMicrosPerRecord);
	const costVs = /** @type {number | null | undefined} */ (row.serverCpuVsPlainPercent);
	const versus = costVs === null || costVs === undefined ? "" : ` (${costVs >= 100 ? "+" : "−"}${Math.abs(costVs - 100).toFixed(0)}%)`;
	const costCell = cost === null || cost === undefined ? "—" : `${cost.toFixed(1)}${versus}`;
	const variant = VARIANT_NAMES[/** @type {keyof typeof VARIANT_NAMES} */ (row.variant ?? "plain")];
	const latency = row.latencyMs ?? { p50: 0, p99: 0 };
	return `| ${row.runtime} | ${variant} | ${row.aborted ? "ABORTED" : fmt(row.recordsPerSec)}${noisy(row)} | ${latency.p50.toFixed(2)} | ${latency.p99.toFixed(2)} | ${ratioCell(row, "percentOfPlain")} | ${metCell} | ${costCell} |`;
}

/** @type {import("./types.js").ScenarioKind} */
export const idempotence = {
	kind: "idempotence",
	targets: ["tributary"],
	scenarios: [
		variantScenario("idem-plain-1c-1p", "plain (baseline)", "plain"),
		variantScenario("idem-producer-1c-1p", "idempotent producer", "producer"),
		variantScenario("idem-key-1c-1p", "Idempotency-Key", "idempotency-key"),
	],
	settings: {
		idempotenceTargetFractionOfPlain: TARGET_FRACTION,
		idempotenceRounds: ROUNDS,
		idempotenceWindowMs: WINDOW_MS,
		idempotenceWarmupMs: WARMUP_MS,
	},
	async run(ctx, scenario) {
		// The variants are measured together, when the first of them comes up; each row is taken from that run.
		const variants = ctx.active.filter((s) => s.kind === "idempotence");
		const results = await ctx.once("idempotence", () => rounds(ctx, variants));
		const result = results.get(scenario.id);
		if (result === undefined) throw new Error(`no idempotence result for ${scenario.id}`);
		return result;
	},
	derive(row, all) {
		if (row.failed) return;
		row.serverCpuMicrosPerRecord = serverCpuMicrosPerRecord(row);
		if (row.variant === "plain" || row.aborted) return;
		const plain = all.find((r) => r.scenario === "idem-plain-1c-1p" && r.runtime === row.runtime && r.server === row.server);
		row.serverCpuVsPlainPercent = percentOf(row.serverCpuMicrosPerRecord, serverCpuMicrosPerRecord(plain));
	},
	section: {
		title: "Idempotence cost",
		intro: `produce-1c-1p's load (100×1KB per request, explicit partition 0, 1 client), Tributary only, each variant on its own fresh topic. The variants are measured in rounds (bench/lib/rounds.mjs): each warmed up once (${WARMUP_MS} ms), then ${ROUNDS} rounds of a ${WINDOW_MS} ms window each (plain → idempotent producer → Idempotency-Key, the last of a round first in the next), each window after the first round following a ${ROUND_LEAD_IN_MS} ms lead-in, so a drift of the machine over the minute weighs on all three alike; a row merges its variant's windows, its % of plain is the median of each round's window against that round's plain one (their range in brackets), and the target is judged on it. The idempotent producer gets an id from \`POST /v1/producers\` and sends \`producer_id\`, \`epoch\` and \`sequence\` (advancing by 100 per request); the Idempotency-Key variant sends a new key with every request. After each run the last request is sent again: it must answer the original offsets and write nothing. Server CPU per record (server CPU % ÷ records/s) is the steadier figure when the machine is busy: one client waits for each answer, so records/s also moves with whatever else delays the server.`,
		table: (rows) =>
			[
				`| runtime | variant | records/s | p50 ms | p99 ms | % of plain (per round) | target ≥${TARGET_FRACTION * 100}% | server CPU µs/record (vs plain) |`,
				"|---|---|--:|--:|--:|--:|:-:|--:|",
				...rows.map(line),
			].join("\n"),
	},
};
