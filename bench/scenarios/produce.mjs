// @ts-check
/**
 * @module
 * Produce throughput: closed-loop clients each sending 100×1 KiB records per request, on Tributary and on both
 * ceilings; on Tributary every acknowledged record must then be in the log.
 *
 * One window of a full run does not tell builds apart on this row: produce-1c-1p on Miniflare showed 17.5 µs of
 * server CPU per record in the run at 1b8c463 and 21.9 in the next, at e4e87e6, with nothing on the batch path changed
 * between. `AB_SHAPE=produce-1c-1p npm run bench:ab` (both builds under one load, 8 rounds of 8 s, load 3-7 on 2
 * cores) found no difference: 146a6d0 against b034630, B − A +0.61 µs/record (−1.6 to +2.8, B lower in 3 of 8) and
 * +0.13 (−1.7 to +1.4, 3 of 8) at ~40-46 µs/record; the same build against itself −0.67 (−1.7 to +0.75, 5 of 8).
 * So a difference under ~2 µs/record here is noise, and a change to the batch path is judged with bench:ab.
 */

import { produceLoad } from "../lib/produce-load.mjs";
import { windowed } from "../lib/rounds.mjs";
import { RECORDS_PER_PRODUCE } from "../settings.mjs";

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
		{
			// The same load with a key and two small headers on each record (bench/lib/records.mjs): what Kafka users
			// commonly send (trace ids, content types), whose headers the edge's one-pass reader reads one by one.
			id: "produce-keyed-1c-1p",
			label: "produce 100×1KB + key + 2 headers, 1 client, 1 partition",
			kind: "produce",
			clients: 1,
			partitions: 1,
			records: "keyed",
			targets: WITH_PARSE,
		},
		{ id: "produce-4c-4p", label: "produce 100×1KB, 4 clients, 4 partitions", kind: "produce", clients: 4, partitions: 4 },
	],
	settings: { recordsPerProduce: RECORDS_PER_PRODUCE, valueChars: 1024 },
	// Each window appends to the same partition, on every target alike: a target's round k finds its log as its
	// k − 1 earlier windows left it, so round k compares logs of the same age (each window's records ~ a third of
	// the single window's they replace, the log at the end as long as before).
	async open(ctx, scenario) {
		const topic = `bench-${scenario.id}`;
		await ctx.http.json("POST", "/v1/topics", { name: topic, partitions: scenario.partitions }, [201]);
		const load = await produceLoad(ctx.http, ctx.target, scenario, topic, ctx.nextSeed());
		return windowed(
			(warmupMs, durationMs) => load.window(warmupMs, durationMs, { keepLatencies: true, waitQuiet: false }),
			async (merged) => ({ payloadMBPerSec: merged.sentMBPerSec, verification: await load.verify() }),
		);
	},
};
