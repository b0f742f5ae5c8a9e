#!/usr/bin/env node
// @ts-check
/**
 * @module
 * Reproduces wrangler dev's idle-connection race and measures the keep-warm against it (scripts/lib/wrangler-dev.mjs,
 * KEEP_WARM_INTERVAL_MS). wrangler dev's proxy reuses its kept-alive connection to the Worker's workerd; both ends
 * drop one idle for 5 s, so a request sent just under 5 s after the last can be forwarded over a connection the
 * Worker's end is closing, and a POST is then answered the proxy's 503 text. This sends POSTs (unauthenticated, so
 * the Worker answers 401 and stores nothing) separated by idle gaps just under 5 s, one at a time or in bursts of
 * concurrent ones, against a wrangler dev with the keep-warm off, then on, and counts the proxy's 503s of each.
 *
 *   node scripts/wrangler-idle-race.mjs [--sends 50] [--burst 1] [--port 8873] [--modes off,on] [--gap-min 4960] [--gap-max 4990]
 *     [--interval <ms>]   (the keep-warm's, default KEEP_WARM_INTERVAL_MS)
 *
 * Takes about 5 s per send (per burst). Not part of the suite: it needs minutes, and a quiet machine for its timing.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WRANGLER_PROXY_RETRY_TEXT } from "tributary/client";
import { generateToken, sleep, startWranglerDev } from "./lib/index.mjs";
import { KEEP_WARM_INTERVAL_MS } from "./lib/wrangler-dev.mjs";

/** The idle gaps by default, from the last answer to the next send: where the 5 s timeouts of both ends meet. */
const GAP_MS_MIN = 4_960;
const GAP_MS_MAX = 4_990;
const REQUEST_TIMEOUT_MS = 15_000;

const { values } = parseArgs({
	options: {
		sends: { type: "string", default: "50" },
		burst: { type: "string", default: "1" },
		port: { type: "string", default: "8873" },
		modes: { type: "string", default: "off,on" },
		"gap-min": { type: "string", default: String(GAP_MS_MIN) },
		"gap-max": { type: "string", default: String(GAP_MS_MAX) },
		interval: { type: "string", default: String(KEEP_WARM_INTERVAL_MS) },
	},
});
const sends = Number(values.sends);
const burst = Number(values.burst);
const gapMinMs = Number(values["gap-min"]);
const gapMaxMs = Number(values["gap-max"]);
const keepWarmIntervalMs = Number(values.interval);

/**
 * One POST, classified: the Worker's answer ("worker"), the proxy's 503 ("proxy 503"), or how it failed.
 * @param {string} url
 */
async function post(url) {
	try {
		const response = await fetch(`${url}/v1/topics`, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ name: "never-created", partitions: 1 }),
			signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
		});
		const text = await response.text();
		if (response.status === 503 && text === WRANGLER_PROXY_RETRY_TEXT) return "proxy 503";
		return `worker ${response.status}`;
	} catch (error) {
		const cause = /** @type {{ name?: string, cause?: { code?: string } }} */ (error);
		return `failed: ${cause.cause?.code ?? cause.name}`;
	}
}

/** @param {"off" | "on"} mode */
async function measure(mode) {
	const persistTo = await mkdtemp(join(tmpdir(), "idle-race-"));
	const dev = await startWranglerDev({
		persistTo,
		token: generateToken(),
		port: Number(values.port),
		keepWarm: mode === "on",
		keepWarmIntervalMs,
	});
	/** @type {Record<string, number>} */
	const counts = {};
	try {
		await Promise.all(Array.from({ length: burst }, () => post(dev.url)));
		for (let round = 0; round < sends; round++) {
			await sleep(gapMinMs + Math.random() * (gapMaxMs - gapMinMs));
			for (const outcome of await Promise.all(Array.from({ length: burst }, () => post(dev.url)))) {
				counts[outcome] = (counts[outcome] ?? 0) + 1;
			}
		}
	} finally {
		await dev.stop();
		await rm(persistTo, { recursive: true, force: true });
	}
	const proxy = counts["proxy 503"] ?? 0;
	console.log(
		`keep-warm ${mode === "on" ? `every ${keepWarmIntervalMs} ms` : mode}: ${sends} rounds of ${burst} POST(s) after ${gapMinMs}-${gapMaxMs} ms idle: ${proxy} of ${sends * burst} answered the proxy's 503; all outcomes ${JSON.stringify(counts)}`,
	);
}

for (const mode of values.modes.split(",")) await measure(/** @type {"off" | "on"} */ (mode));
