// @ts-check
/**
 * @module
 * The table from scenario kind to its runner. Each kind lives in one file here and exports a `ScenarioKind`
 * (bench/scenarios/types.d.ts): its scenarios (id, label, settings), the targets it runs on, `run(ctx, scenario)`
 * answering a `Result`, and optionally its own report section, derived figures, JSON settings and console line.
 *
 * To add a scenario:
 * 1. Write bench/scenarios/<kind>.mjs exporting a `ScenarioKind` (copy produce.mjs for a throughput load driven
 *    by bench/lib/load.mjs `runLoad`, or latency.mjs for a kind with its own table). `run` gets a `RunContext`:
 *    the server's `url`, a keep-alive `http` client with the admin token, `token`, `target`, `runtime`,
 *    `nextSeed()`, `once()` and `interrupted()`; it makes its own topics (`bench-<scenario id>`). A throughput kind
 *    whose load can be stopped and started again on the same topic exports `open` instead of `run` (see produce.mjs):
 *    its scenarios are then measured in rounds with their references (bench/lib/rounds.mjs).
 * 2. Add it to KINDS below. Its rows then appear in the main table (unless `inMainTable: false`), in the details
 *    table, in its own section if it has one (after the others, in KINDS order), and in latest.json; and
 *    BENCH_SCENARIOS=<id prefix> runs it alone.
 */

import { coldStart } from "./cold-start.mjs";
import { cost } from "./cost.mjs";
import { durableStreams } from "./durable-streams.mjs";
import { fetch, fetchRemote } from "./fetch.mjs";
import { group } from "./group.mjs";
import { idempotence } from "./idempotence.mjs";
import { kafka } from "./kafka.mjs";
import { latency } from "./latency.mjs";
import { logScale } from "./log-scale.mjs";
import { produce } from "./produce.mjs";
import { sdk } from "./sdk.mjs";
import { smallProduce } from "./small-produce.mjs";
import { streaming } from "./streaming.mjs";

/** @type {import("./types.js").ScenarioKind[]} the kinds, in table order */
export const KINDS = [
	produce,
	smallProduce,
	fetch,
	fetchRemote,
	idempotence,
	durableStreams,
	group,
	latency,
	streaming,
	logScale,
	coldStart,
	kafka,
	sdk,
	cost,
];

/** Every scenario, in table order. */
export const SCENARIOS = KINDS.flatMap((kind) => kind.scenarios);

/**
 * The runner of `kind`.
 * @param {string | undefined} kind
 */
export function kindOf(kind) {
	const found = KINDS.find((k) => k.kind === kind);
	if (found === undefined) throw new Error(`no scenario kind ${kind}`);
	return found;
}

/**
 * The scenarios whose id starts with one of `prefixes` (all of them when there are none), in table order.
 * @param {string[]} prefixes
 */
export function activeScenarios(prefixes) {
	return prefixes.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => prefixes.some((prefix) => s.id.startsWith(prefix)));
}
