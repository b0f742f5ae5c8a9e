// @ts-check
/**
 * @module
 * Where things are in this checkout, and the environment every wrangler child process gets.
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The local wrangler binary: never npx, whose death would orphan workerd. */
export const WRANGLER_BIN = join(PROJECT_ROOT, "node_modules", ".bin", "wrangler");
/** Where `npm start` keeps its data: the directory `wrangler dev` uses by default, so either reads the other's. */
export const DEFAULT_PERSIST_TO = join(PROJECT_ROOT, ".wrangler", "state");
/** Where `npm start` writes the Worker's bundle. */
export const DEFAULT_OUTDIR = join(PROJECT_ROOT, ".wrangler", "dist");
export const HOST = "127.0.0.1";

/** The port a local broker takes when PORT does not name one: wrangler dev's own default. */
export const DEFAULT_PORT = 8787;

/**
 * Environment for wrangler child processes: no telemetry, no network look-ups for `request.cf`.
 * @param {Record<string, string>} [extra]
 * @returns {NodeJS.ProcessEnv}
 */
export function wranglerEnv(extra = {}) {
	return { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...extra };
}
