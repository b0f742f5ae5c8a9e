// @ts-check
/**
 * @module
 * Cold start (bench/lib/cold-start.mjs) next to the Worker's bundle size: restarts a server of its own on one data
 * directory (`ctx.startServer`), on each runtime. BENCH_COLD_START_ROUNDS (7) sets the restarts. On Miniflare, also
 * what a KiB of script costs a start (bench/lib/script-size-cost.mjs), which is what the bundle budget is worth.
 */

import { measureBundle, WORKER_GZIP_BYTES_MAX } from "../../scripts/lib/index.mjs";
import { COLD_START_ROUNDS, coldStartScenario, coldStartSection } from "../lib/cold-start.mjs";
import { scriptSizeCost } from "../lib/script-size-cost.mjs";
import { tempDir } from "../lib/session.mjs";

const ROUNDS = Number(process.env.BENCH_COLD_START_ROUNDS ?? COLD_START_ROUNDS);

/** @type {import("./types.js").ScenarioKind} */
export const coldStart = {
	kind: "cold-start",
	targets: ["tributary"],
	inMainTable: false,
	inDetails: false,
	scenarios: [
		{ id: "cold-start", label: "start to first answer, first requests after a restart, bundle size", kind: "cold-start", partitions: 1 },
	],
	settings: { coldStartRounds: ROUNDS, bundleGzipBytesMax: WORKER_GZIP_BYTES_MAX },
	async run(ctx) {
		const bundle = await ctx.once("bundle-size", () => measureBundle());
		const persistTo = await tempDir("cold-start-data");
		const log = (/** @type {string} */ line) => console.error(`    ${line}`);
		const figures = await coldStartScenario({ start: () => ctx.startServer(persistTo), token: ctx.token, rounds: ROUNDS, log });
		const sizeCost = ctx.runtime === "miniflare" ? await scriptSizeCost({ rounds: ROUNDS, token: ctx.token, log }) : null;
		const verification =
			bundle.gzipBytes <= WORKER_GZIP_BYTES_MAX ? "ok" : [`bundle ${bundle.gzipBytes} B gzipped, budget ${WORKER_GZIP_BYTES_MAX} B`];
		return {
			...figures,
			bundleRawBytes: bundle.rawBytes,
			bundleGzipBytes: bundle.gzipBytes,
			bundleParts: bundle.parts.slice(0, 10),
			sizeCost,
			verification,
		};
	},
	summary: (result) =>
		`bundle ${(Number(result.bundleGzipBytes) / 1024).toFixed(1)} KiB gzip; start → first answer ${JSON.stringify(result.startToFirstAnswerMs)} ms; first produce ${JSON.stringify(result.firstProduceMs)} ms`,
	section: {
		title: "",
		intro: "",
		table: (rows) => coldStartSection(rows, WORKER_GZIP_BYTES_MAX),
	},
};
