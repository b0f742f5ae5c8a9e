// @ts-check
/**
 * @module
 * The bench's knobs (environment variables) and the shapes of load every scenario and peer shares.
 *
 * BENCH_DURATION_MS (6000), BENCH_WARMUP_MS (1000), BENCH_ROUNDS (3: the produce, many-small-producer, fetch and
 * streaming-channel scenarios measure every target in this many rounds of BENCH_DURATION_MS / BENCH_ROUNDS each, the
 * order rotated each round, after one warm-up per target, and take each ratio as the median of the rounds' ratios:
 * bench/lib/rounds.mjs), BENCH_RUNTIMES ("miniflare,wrangler-dev"), BENCH_PEERS ("1";
 * "0" skips Redis and NATS), BENCH_KEEP_TMP ("1" keeps the temp dirs and logs), BENCH_QUIET_WAIT_MS (60000: how
 * long in all the bench may wait for other processes to go quiet before a measurement; rows measured while they
 * were busy anyway are marked noisy), BENCH_GROUP_DURATION_MS (3000: the group consume scenarios' measured time, in
 * BENCH_ROUNDS rounds beside their plain-fetch reference) and BENCH_GROUP_BACKLOG (the records every group scenario's
 * topic is filled with; by default sized by its poll size: bench/scenarios/group.mjs), BENCH_LATENCY_RECORDS (300), BENCH_SCENARIOS (all: a comma-separated list of scenario id prefixes to run, e.g.
 * "idem,e2e"; targets none of them needs are not started).
 */

import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const RESULTS = join(ROOT, "bench", "results");

export const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 6_000);
export const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1_000);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) throw new Error(`BENCH_ROUNDS must be a whole number ≥ 1, not ${process.env.BENCH_ROUNDS}`);
export const RUNTIMES = (process.env.BENCH_RUNTIMES ?? "miniflare,wrangler-dev").split(",").filter(Boolean);
export const PEERS = process.env.BENCH_PEERS !== "0";
export const KEEP_TMP = process.env.BENCH_KEEP_TMP === "1";
/** Scenario id prefixes to run (none: all). */
export const ONLY = (process.env.BENCH_SCENARIOS ?? "").split(",").filter(Boolean);

export const RECORDS_PER_PRODUCE = 100;
export const FETCH_RECORDS = 1_000;
export const PREFILL_RECORDS = 20_000;
export const BODIES_PER_CLIENT = 8;
/**
 * The throughput targets in the main table: which reference's records/s (same scenario, same runtime, same run)
 * Tributary should reach, and what fraction of it. Produce is held to `ceiling+sqlite`, the cost of the durable write
 * itself, since a produce may only be answered after its commit (the do-nothing ceiling writes nothing); many small
 * producers and fetch, which group commit and the batch cache lift past that write, to the ceiling. A scenario not
 * named has no target of its own (its section may set one).
 * @type {Record<string, { of: "ceiling" | "ceiling+sqlite", fraction: number }>}
 */
export const MAIN_TARGETS = {
	"produce-1c-1p": { of: "ceiling+sqlite", fraction: 0.9 },
	"produce-32c-1r": { of: "ceiling", fraction: 0.9 },
	"fetch-1c-1p": { of: "ceiling", fraction: 0.9 },
};

/** The ADMIN_TOKEN every server of this run is started with. */
export const TOKEN = randomBytes(24).toString("hex");
