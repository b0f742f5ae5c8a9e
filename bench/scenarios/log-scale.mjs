// @ts-check
/**
 * @module
 * The log at scale (bench/lib/log-scale.mjs): fetch at the tail vs the head of a 100,000-batch partition, and its
 * cold start vs a short log's, on Miniflare only: it restarts a server of its own on one data directory, as often
 * as the scenario asks (`ctx.startServer`). BENCH_LOG_SCALE_BATCHES (100000) sets the stored batches.
 */

import { LOG_SCALE_BATCHES, logScaleScenario, logScaleSection } from "../lib/log-scale.mjs";
import { tempDir } from "../lib/session.mjs";
import { checkpointSqlite } from "../lib/sqlite-checkpoint.mjs";
import { which } from "../peers/server.mjs";

const BATCHES = Number(process.env.BENCH_LOG_SCALE_BATCHES ?? LOG_SCALE_BATCHES);

/** @type {import("./types.js").ScenarioKind} */
export const logScale = {
	kind: "log-scale",
	targets: ["tributary"],
	runtimes: ["miniflare"],
	inMainTable: false,
	inDetails: false,
	scenarios: [{ id: "log-scale", label: "fetch head vs tail and cold start on a 100k-batch partition", kind: "log-scale", partitions: 1 }],
	settings: { logScaleBatches: BATCHES },
	async run(ctx) {
		const persistTo = await tempDir("log-scale-data");
		const sqlite3 = which("sqlite3");
		const checkpoint = async () => sqlite3 !== null && (await checkpointSqlite(persistTo, sqlite3)) > 0;
		const start = () => ctx.startServer(persistTo);
		const log = (/** @type {string} */ line) => console.error(`    ${line}`);
		return logScaleScenario({ start, checkpoint, token: ctx.token, batches: BATCHES, log });
	},
	summary: (result) => `verification ${JSON.stringify(result.verification)}`,
	section: {
		title: "",
		intro: "",
		table: (rows) => logScaleSection(rows),
	},
};
