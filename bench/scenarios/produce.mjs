// @ts-check
/**
 * @module
 * Produce throughput: closed-loop clients each sending 100×1 KiB records per request, on Tributary and on both
 * ceilings; on Tributary every acknowledged record must then be in the log.
 */

import { produceLoad } from "../lib/produce-load.mjs";
import { DURATION_MS, RECORDS_PER_PRODUCE, WARMUP_MS } from "../settings.mjs";

/**
 * The single-partition rows also run on ceiling+sqlite+parse (a fair floor: the body parsed as Tributary must).
 * @type {import("./types.js").Scenario["targets"]}
 */
const WITH_PARSE = ["ceiling", "ceiling+sqlite", "ceiling+sqlite+parse", "tributary"];

/** @type {import("./types.js").ScenarioKind} */
export const produce = {
	kind: "produce",
	targets: ["ceiling", "ceiling+sqlite", "tributary"],
	scenarios: [
		{
			id: "produce-1c-1p",
			label: "produce 100×1KB, 1 client, 1 partition",
			kind: "produce",
			clients: 1,
			partitions: 1,
			targets: WITH_PARSE,
		},
		{
			id: "produce-4c-1p",
			label: "produce 100×1KB, 4 clients, 1 partition",
			kind: "produce",
			clients: 4,
			partitions: 1,
			targets: WITH_PARSE,
		},
		{ id: "produce-4c-4p", label: "produce 100×1KB, 4 clients, 4 partitions", kind: "produce", clients: 4, partitions: 4 },
	],
	settings: { recordsPerProduce: RECORDS_PER_PRODUCE, valueChars: 1024 },
	async run(ctx, scenario) {
		const topic = `bench-${scenario.id}`;
		await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
		const load = await produceLoad(ctx.http, ctx.target, scenario, topic, ctx.nextSeed());
		const result = await load.window(WARMUP_MS, DURATION_MS);
		return { ...result, payloadMBPerSec: result.sentMBPerSec, verification: await load.verify() };
	},
};
