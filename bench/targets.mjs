// @ts-check
/**
 * @module
 * The servers a scenario runs against (Tributary, the do-nothing ceiling Worker and its SQLite variant), served
 * from a snapshot of the project taken when the bench starts (src/ may be edited while it runs, and `wrangler dev`
 * would hot-reload mid-scenario); both runtimes serve that same snapshot. Started through scripts/lib, the one
 * library for running the Worker locally.
 */

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, readdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { bundleWorker, startLocalBroker, startWranglerDev } from "../scripts/lib/index.mjs";
import { tempDir } from "./lib/session.mjs";
import { ROOT, TOKEN } from "./settings.mjs";

/**
 * @typedef {"tributary" | "tributary, all logged" | "ceiling" | "ceiling+sqlite" | "ceiling+sqlite+parse" | "ceiling+group-commit"} TargetName
 * @typedef {{ config: string, vars: Record<string, string> }} TargetSpec
 */

/**
 * Config paths are inside the snapshot (see `snapshotProject`). Each scenario runs on its targets in this order.
 * @type {Record<TargetName, TargetSpec>}
 */
export const TARGETS = {
	ceiling: { config: "ceiling/wrangler.toml", vars: {} },
	/** Reference only: the ceiling plus one SQLite INSERT of the request body per produce (the bare cost of storing it). */
	"ceiling+sqlite": { config: "ceiling/wrangler.toml", vars: { CEILING_MODE: "sqlite" } },
	/** A fair floor for batch produce: ceiling+sqlite that also parses each produce body with `JSON.parse`, as Tributary must. */
	"ceiling+sqlite+parse": { config: "ceiling/wrangler.toml", vars: { CEILING_MODE: "sqlite", CEILING_PARSE: "true" } },
	/**
	 * A fair floor for many small producers: the ceiling whose partition object group-commits the bodies it is sent
	 * (one row per group, answered after `storage.sync()`), as a produce must be durable before it is answered.
	 */
	"ceiling+group-commit": { config: "ceiling/wrangler.toml", vars: { CEILING_MODE: "group" } },
	/** WEBHOOK_ALLOW_PRIVATE lets subscriptions deliver to the bench's receiver on http://127.0.0.1. */
	tributary: { config: "wrangler.toml", vars: { WEBHOOK_ALLOW_PRIVATE: "true" } },
	/**
	 * Tributary writing the request log line for every request (`REQUEST_LOG = "all"`; the default logs failures
	 * only): what a deployment that asks for every line pays. Under `wrangler dev` every line is also read and printed
	 * by wrangler's own process, which weighs on small requests.
	 */
	"tributary, all logged": { config: "wrangler.toml", vars: { WEBHOOK_ALLOW_PRIVATE: "true", REQUEST_LOG: "all" } },
};
export const TARGET_NAMES = /** @type {TargetName[]} */ (Object.keys(TARGETS));

/**
 * Whether a target is Tributary itself (in any of its settings: every target built from the project's own
 * wrangler.toml), whose answers and stored records can be checked.
 * @param {string | undefined} target
 */
export const isTributary = (target) =>
	target !== undefined && target in TARGETS && TARGETS[/** @type {TargetName} */ (target)].config === TARGETS.tributary.config;

/**
 * @typedef {object} Snapshot
 * @property {string} dir
 * @property {string} srcHash
 * @property {string} takenAt
 */

/**
 * A private copy of what the Worker is built from (node_modules linked), and a hash of its src/.
 * @returns {Promise<Snapshot>}
 */
export async function snapshotProject() {
	const dir = await tempDir("snapshot");
	for (const name of ["src", "wrangler.toml", "tsconfig.json", "package.json"]) {
		await cp(join(ROOT, name), join(dir, name), { recursive: true });
	}
	await cp(join(ROOT, "bench", "ceiling"), join(dir, "ceiling"), { recursive: true, filter: (path) => !path.includes(".wrangler") });
	// The ceiling builds its records with the bench's own generator (`../lib/records.mjs`, as in bench/).
	await cp(join(ROOT, "bench", "lib", "records.mjs"), join(dir, "lib", "records.mjs"));
	// wrangler.toml's [assets] directory (the console, built by `npm install`): bundling needs it to exist.
	if (!existsSync(join(ROOT, "console", "dist"))) throw new Error("console/dist does not exist: run `npm run build` (npm install runs it)");
	await cp(join(ROOT, "console", "dist"), join(dir, "console", "dist"), { recursive: true });
	await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
	const hash = createHash("sha256");
	const files = (await readdir(join(dir, "src"), { recursive: true })).sort();
	for (const file of files) {
		const text = await readFile(join(dir, "src", file)).catch(() => null);
		if (text !== null) hash.update(`${file}\0`).update(text);
	}
	return { dir, srcHash: hash.digest("hex").slice(0, 16), takenAt: new Date().toISOString() };
}

/**
 * Each config's bundle (or the error bundling it gave), for the Miniflare runtime.
 * @param {Snapshot} snapshot
 * @returns {Promise<Record<string, string | Error>>}
 */
export async function bundleTargets(snapshot) {
	/** @type {Record<string, string | Error>} */
	const bundles = {};
	for (const config of new Set(Object.values(TARGETS).map((spec) => spec.config))) {
		try {
			const outdir = await tempDir("bundle");
			bundles[config] = await bundleWorker({ root: snapshot.dir, configPath: config, outdir });
		} catch (error) {
			bundles[config] = error instanceof Error ? error : new Error(String(error));
			console.error(`  ${config}: ${bundles[config].message}`);
		}
	}
	return bundles;
}

/**
 * @typedef {object} Server
 * @property {string} url
 * @property {() => Promise<void>} stop
 * @property {() => Promise<string[]>} logLines
 * @property {string} persistTo  where its data lives (a scenario may read its SQLite files after a load)
 */

/**
 * Starts `target` on `runtime` ("miniflare" or "wrangler-dev") with its data in a fresh temp dir.
 * @param {string} runtime
 * @param {TargetName} target
 * @param {Record<string, string | Error> | null} bundles
 * @param {Snapshot} snapshot
 * @param {string} [dataDir]  where its data lives (default: a fresh temp dir)
 * @returns {Promise<Server>}
 */
export async function startTarget(runtime, target, bundles, snapshot, dataDir) {
	const spec = TARGETS[target];
	const persistTo = dataDir ?? (await tempDir(`${runtime}-${target}-data`));
	if (runtime === "miniflare") {
		const bundle = bundles?.[spec.config];
		if (bundle === undefined) throw new Error(`no bundle of ${spec.config}`);
		if (bundle instanceof Error) throw bundle;
		const broker = await startLocalBroker({
			root: snapshot.dir,
			configPath: spec.config,
			scriptPath: bundle,
			token: TOKEN,
			bindings: spec.vars,
			port: 0,
			persistTo,
			quiet: true,
			captureOutput: true,
		});
		return { url: broker.url, stop: broker.dispose, logLines: async () => broker.output(), persistTo };
	}
	const logPath = join(await tempDir(`${runtime}-${target}-log`), "wrangler-dev.log");
	// No keep-warm: its request a second would be counted in the figures (the Worker's CPU, its request log).
	const server = await startWranglerDev({
		root: snapshot.dir,
		configPath: spec.config,
		token: TOKEN,
		vars: spec.vars,
		persistTo,
		logPath,
		keepWarm: false,
	});
	return {
		url: server.url,
		stop: async () => {
			await server.stop();
		},
		logLines: () => readFile(logPath, "utf8").then((text) => text.split("\n")),
		persistTo,
	};
}

/**
 * Lines of a server log that look like trouble (worker exceptions, wrangler errors).
 * @param {string[]} lines
 */
export function troubleLines(lines) {
	return lines.filter((line) => /error|uncaught|exception|✘|failed/i.test(line)).slice(0, 20);
}
