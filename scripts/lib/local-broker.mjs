/**
 * @module
 * A local Tributary broker on workerd through Miniflare's API: bundle the Worker with wrangler (exactly what
 * `wrangler deploy` would upload), then serve it from one Miniflare instance. Compared with `wrangler dev` this
 * skips wrangler's proxy worker and file watcher, so requests take one hop instead of two.
 *
 * State lives where `wrangler dev --persist-to <dir>` keeps it (`<dir>/v3/do/<worker>-<Class>/<id>.sqlite`),
 * under the same Worker name, so `npm start` and `wrangler dev` read and write the same Durable Objects.
 */

import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readWranglerConfig } from "./wrangler-config.mjs";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WRANGLER_BIN = join(PROJECT_ROOT, "node_modules", ".bin", "wrangler");
export const DEFAULT_PERSIST_TO = join(PROJECT_ROOT, ".wrangler", "state");
export const DEFAULT_OUTDIR = join(PROJECT_ROOT, ".wrangler", "dist");

/** Environment for wrangler child processes: no telemetry, no network look-ups for `request.cf`. */
export function wranglerEnv(extra = {}) {
	return { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...extra };
}

/** Runs a command to completion, collecting its output; rejects with that output if it fails. */
function run(command, args, options) {
	return new Promise((resolvePromise, reject) => {
		const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		child.stdout.on("data", (chunk) => {
			output += chunk;
		});
		child.stderr.on("data", (chunk) => {
			output += chunk;
		});
		child.on("error", reject);
		child.on("close", (code, sig) => {
			if (code === 0) resolvePromise(output);
			else reject(new Error(`${command} ${args.join(" ")} failed (${sig ?? `exit ${code}`}):\n${output}`));
		});
	});
}

/**
 * Bundles the Worker with `wrangler deploy --dry-run --outdir <outdir>` and returns the path of its entry module.
 * Takes about 2 s.
 */
export async function bundleWorker({ outdir = DEFAULT_OUTDIR, configPath = join(PROJECT_ROOT, "wrangler.toml") } = {}) {
	const started = Date.now();
	const absoluteOutdir = resolve(outdir);
	await run(WRANGLER_BIN, ["deploy", "--dry-run", "--config", configPath, "--outdir", absoluteOutdir], {
		cwd: PROJECT_ROOT,
		env: wranglerEnv({ WRANGLER_HIDE_BANNER: "true" }),
	});
	// wrangler names the bundle after the entry point (src/index.ts → index.js).
	const candidates = existsSync(absoluteOutdir)
		? readdirSync(absoluteOutdir).filter((file) => file.endsWith(".js") && statSync(join(absoluteOutdir, file)).mtimeMs >= started - 1000)
		: [];
	const entry = candidates.includes("index.js") ? "index.js" : candidates[0];
	if (entry === undefined) throw new Error(`wrangler deploy --dry-run wrote no fresh .js module to ${absoluteOutdir}`);
	return join(absoluteOutdir, entry);
}

/**
 * Starts the broker. Options (all optional):
 * - `token`: the ADMIN_TOKEN binding (required unless `bindings.ADMIN_TOKEN` is given)
 * - `bindings`: further plain-text bindings (e.g. the rest of .dev.vars); wrangler.toml `[vars]` are included
 * - `host` (127.0.0.1), `port` (8787; 0 picks a free one)
 * - `persistTo`: the directory `wrangler dev --persist-to` would be given (default `.wrangler/state`)
 * - `outdir`: where the bundle goes (default `.wrangler/dist`); `scriptPath`: serve an existing bundle instead
 * - `quiet`: no Miniflare log lines (request log, "Ready on")
 *
 * Returns `{ url, port, persistRoot, scriptPath, miniflare, dispose }`; `url` has no trailing slash.
 */
export async function startLocalBroker(options = {}) {
	const {
		token,
		bindings = {},
		host = "127.0.0.1",
		port = 8787,
		persistTo = DEFAULT_PERSIST_TO,
		outdir = DEFAULT_OUTDIR,
		quiet = false,
		configPath = join(PROJECT_ROOT, "wrangler.toml"),
	} = options;
	const adminToken = token ?? bindings.ADMIN_TOKEN;
	if (typeof adminToken !== "string" || adminToken === "") throw new Error("startLocalBroker needs a token");
	const config = readWranglerConfig(configPath);
	const scriptPath = options.scriptPath ?? (await bundleWorker({ outdir, configPath }));
	const persistRoot = join(resolve(persistTo), "v3");
	// Imported here, not at the top: loading miniflare takes ~1 s, and the wrangler-dev paths never need it.
	const { Log, LogLevel, Miniflare, NoOpLog } = await import("miniflare");
	const miniflare = new Miniflare({
		host,
		port,
		cf: false,
		log: quiet ? new NoOpLog() : new Log(LogLevel.INFO),
		defaultPersistRoot: persistRoot,
		workers: [
			{
				name: config.name,
				modules: true,
				scriptPath,
				// Module names are paths relative to this root; workerd refuses ".." in them, so anchor it at the bundle.
				modulesRoot: dirname(scriptPath),
				compatibilityDate: config.compatibilityDate,
				compatibilityFlags: config.compatibilityFlags,
				bindings: { ...config.vars, ...bindings, ADMIN_TOKEN: adminToken },
				durableObjects: config.durableObjects,
			},
		],
	});
	let ready;
	try {
		ready = await miniflare.ready;
	} catch (error) {
		await miniflare.dispose().catch(() => {});
		throw error;
	}
	let disposed;
	return {
		url: ready.origin,
		port: Number(ready.port),
		persistRoot,
		scriptPath,
		miniflare,
		dispose() {
			disposed ??= miniflare.dispose();
			return disposed;
		},
	};
}
