// @ts-check
/**
 * @module
 * For the bench's gateway processes only (`node --import ./bench/lib/gateway-cap.mjs gateway/main.js …`): with
 * BENCH_GATEWAY_WORKER_REQUESTS_AT_ONCE set (a whole number ≥ 1, or `Infinity` for no cap), the gateway runs with
 * WORKER_REQUESTS_AT_ONCE_MAX at that value (bench/lib/gateway-cap-hooks.mjs), so one bench run measures several caps
 * side by side, each in a gateway of its own, and the gateway reads no environment for a limit no deployment tunes.
 */

import assert from "node:assert/strict";
import { register } from "node:module";

const wanted = process.env.BENCH_GATEWAY_WORKER_REQUESTS_AT_ONCE;
if (wanted !== undefined) {
	assert(
		wanted === "Infinity" || (Number.isInteger(Number(wanted)) && Number(wanted) >= 1),
		`BENCH_GATEWAY_WORKER_REQUESTS_AT_ONCE: ${wanted}`,
	);
	register("./gateway-cap-hooks.mjs", import.meta.url, { data: wanted });
}
