// @ts-check
/**
 * @module
 * Module hooks registered by bench/lib/gateway-cap.mjs: `gateway/limits.js` loads with WORKER_REQUESTS_AT_ONCE_MAX at
 * the cap given (a whole number ≥ 1, or `Infinity` for none).
 */

import assert from "node:assert/strict";

const CAP_PATTERN = /export const WORKER_REQUESTS_AT_ONCE_MAX = [^;]+;/;

/** @type {string | null} */
let cap = null;

/** @param {string} data the cap */
export function initialize(data) {
	cap = data;
}

/**
 * @param {string} url @param {any} context
 * @param {(url: string, context: any) => Promise<{ format: string, source: any }>} nextLoad
 */
export async function load(url, context, nextLoad) {
	const loaded = await nextLoad(url, context);
	if (cap === null || !url.endsWith("/gateway/limits.js")) return loaded;
	const source = String(loaded.source);
	assert.match(source, CAP_PATTERN, "gateway/limits.js no longer declares WORKER_REQUESTS_AT_ONCE_MAX as the bench expects");
	return { ...loaded, source: source.replace(CAP_PATTERN, `export const WORKER_REQUESTS_AT_ONCE_MAX = ${cap};`) };
}
