// @ts-check
/**
 * @module
 * One `wrangler dev` shared by the e2e files that need nothing of theirs from it: `npm run test:e2e`
 * (scripts/test-e2e.mjs) starts it once (`startSharedDev`), in the background when the first file asks for it (not
 * at once: the longest files, which start first, start their own, and a start more among theirs only slows them), and
 * every file that asks for `plainWranglerDev` while it runs is given that one instead of a start of its own (about
 * 4 CPU-s each). A file
 * run alone (`node --test test/e2e/<file>.test.mjs`) starts its own, as before.
 *
 * Only a file that works on topics, groups and keys no other sharer names may ask for it (test/structure/
 * e2e-shared-names.test.mjs checks their names), and that never restarts or crashes it, reads its whole log, needs
 * it empty, or changes what every caller meets (anonymous's grant, default quotas), nor one that leaves a connection
 * to it open after its tests (its process then never exits, and it fails at the runner's timeout, where its own
 * instance's stop closed the connection: produce-stream's did, while the SDK's `producer.close()` left its channel
 * open after a failed flush): such a file starts its own with `startWranglerDev`.
 *
 * The runner hands the instance to its test files (one process each) through SHARED_DEV_ENV, which names a directory
 * and the token: a file asks for the instance by writing `wanted` there, the runner writes its URL as `ready.json` once
 * it answers (or why it could not start, as `failed.json`), and every line it prints to `wrangler.log`, so a file's
 * failure shows what it said.
 */

import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateToken, startWranglerDev, waitUntil } from "../../../scripts/lib/index.mjs";
import { tempDir } from "./temp-dir.mjs";

/** The variable the runner sets for its test files: `{ dir, token }` as JSON. */
export const SHARED_DEV_ENV = "E2E_SHARED_WRANGLER_DEV";
/** How long a file waits for the shared instance: its start, at the runner's load, with the first files starting theirs. */
const SHARED_READY_TIMEOUT_MS = 180_000;
const WANTED_FILE = "wanted";
const READY_FILE = "ready.json";
/** How often the runner looks for a file's `wanted`. */
const WANTED_POLL_MS = 250;
const FAILED_FILE = "failed.json";
const LOG_FILE = "wrangler.log";

/**
 * @typedef {object} PlainDev
 * @property {string} url
 * @property {string} token
 * @property {() => string} output  what it printed (a shared one's: every file's requests)
 * @property {boolean} shared
 */

/**
 * The token of this file's `wrangler dev`, known before it starts: the shared instance's under the runner, else a
 * fresh one for `plainWranglerDev` to start its own with.
 */
export function plainDevToken() {
	return sharedDevInfo()?.token ?? generateToken();
}

/**
 * A `wrangler dev` of the plain configuration (no vars but the token) for this file: the runner's shared one if it
 * runs under `npm run test:e2e`, else its own on a temp dir named after `name`, stopped by `stopAllWranglerDevs()`
 * (its dir is removed by `remove`).
 * @param {string} name  names the temp dir of an own instance
 * @param {string} token  `plainDevToken()`'s
 * @returns {Promise<PlainDev & { remove: () => void }>}
 */
export async function plainWranglerDev(name, token) {
	const info = sharedDevInfo();
	if (info === undefined) {
		const state = tempDir(name);
		const dev = await startWranglerDev({ persistTo: state.path, token });
		return { url: dev.url, token, output: dev.output, shared: false, remove: state.remove };
	}
	if (token !== info.token) throw new Error("plainWranglerDev: the shared instance's token is plainDevToken()'s");
	writeFileSync(join(info.dir, WANTED_FILE), name);
	const { url } = /** @type {{ url: string }} */ (
		await waitUntil(
			() => {
				const failed = join(info.dir, FAILED_FILE);
				if (existsSync(failed)) throw new Error(`the shared wrangler dev did not start: ${readFileSync(failed, "utf8")}`);
				const ready = join(info.dir, READY_FILE);
				return existsSync(ready) ? /** @type {{ url: string }} */ (JSON.parse(readFileSync(ready, "utf8"))) : null;
			},
			{ timeoutMs: SHARED_READY_TIMEOUT_MS, intervalMs: 200, message: `the shared wrangler dev (${info.dir})` },
		)
	);
	const output = () => {
		try {
			return readFileSync(join(info.dir, LOG_FILE), "utf8");
		} catch {
			return "";
		}
	};
	return { url, token, output, shared: true, remove: () => {} };
}

/** @returns {{ dir: string, token: string } | undefined} */
function sharedDevInfo() {
	const value = process.env[SHARED_DEV_ENV];
	return value === undefined || value === "" ? undefined : JSON.parse(value);
}

/**
 * For the runner: starts the shared instance in the background once a test file asks for it, and returns at once,
 * with the variable to set for the test files and `stop`, which stops it (if it started) and removes its directory.
 * @param {{ bin?: string }} [options]  `bin`: another wrangler executable (the runner's tests give a stand-in)
 */
export function startSharedDev({ bin } = {}) {
	const dir = mkdtempSync(join(tmpdir(), "tributary-e2e-shared-"));
	const token = generateToken();
	/** @param {string} file @param {unknown} value  written whole, so a reader never sees half of it */
	const publish = (file, value) => {
		writeFileSync(join(dir, `${file}.tmp`), JSON.stringify(value));
		renameSync(join(dir, `${file}.tmp`), join(dir, file));
	};
	/** @type {Promise<import("../../../scripts/lib/wrangler-dev.mjs").WranglerDev | null> | undefined} */
	let started;
	const start = () =>
		startWranglerDev({ persistTo: join(dir, "state"), token, logPath: join(dir, LOG_FILE), bin }).then(
			(dev) => {
				publish(READY_FILE, { url: dev.url });
				return dev;
			},
			(error) => {
				publish(FAILED_FILE, String(error instanceof Error ? error.message : error));
				return null;
			},
		);
	const asked = setInterval(() => {
		if (!existsSync(join(dir, WANTED_FILE))) return;
		clearInterval(asked);
		started = start();
	}, WANTED_POLL_MS);
	return {
		env: JSON.stringify({ dir, token }),
		async stop() {
			clearInterval(asked);
			await (await started)?.stop();
			if (process.env.E2E_KEEP === "1") console.log(`# kept ${dir}`);
			else rmSync(dir, { recursive: true, force: true });
		},
	};
}
