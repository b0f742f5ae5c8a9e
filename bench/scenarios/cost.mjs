// @ts-check
/**
 * @module
 * What a million records produced and consumed once cost at Durable Objects prices, from the broker's own
 * `/metrics` counters (bench/lib/cost.mjs). Rows and requests do not depend on the runtime, so Miniflare only.
 */

import { COST_VARIANTS, costTable, costVariant } from "../lib/cost.mjs";

/** @type {import("./types.js").ScenarioKind} */
export const cost = {
	kind: "cost",
	targets: ["tributary"],
	runtimes: ["miniflare"],
	inMainTable: false,
	inDetails: false,
	scenarios: COST_VARIANTS.map((v) => ({ ...v, label: `cost: ${v.label}`, kind: "cost", partitions: 4 })),
	run: (ctx, scenario) => costVariant(ctx.url, ctx.token, /** @type {any} */ (scenario)),
	summary: (result) => `$${/** @type {{ total: number }} */ (result.dollars).total.toFixed(4)} per million records produced and consumed`,
	section: {
		title: "Cost per million records",
		intro:
			"bench/lib/cost.mjs: 1 KiB records produced to a 4-partition topic and consumed once by one group member (polls with auto-commit); rows read and written are the broker's own counters (`tributary_storage_rows_*_total` in /metrics, from the SQL cursors), Durable Object requests are counted from the requests sent, duration is an estimate (every object touched active for the whole run, at 128 MB). Each partition gets one record before counting starts: making a partition's object (its schema and configuration, about 60 rows written) happens once in its life, and the few records measured, scaled to a million, would count it many times over. Storage is shown apart, per day the records are retained.",
		table: (rows) => costTable(rows),
	},
};
