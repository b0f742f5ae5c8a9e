// @ts-check
/**
 * @module
 * A Worker on workerd through Miniflare's API: bundle it with wrangler (exactly what `wrangler deploy` would
 * upload), then serve it from one Miniflare instance configured from its wrangler.toml. Compared with
 * `wrangler dev` this skips wrangler's proxy worker and file watcher, so requests take one hop instead of two, and
 * API requests skip the static assets' router too (see `assetsFront`).
 *
 * State lives where `wrangler dev --persist-to <dir>` keeps it (`<dir>/v3/do/<worker>-<Class>/<id>.sqlite`),
 * under the same Worker name, so `npm start` and `wrangler dev` read and write the same Durable Objects.
 */

import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { miniflareHeaderRules } from "../../console/headers.mjs";
import { eachLine } from "./lines.mjs";
import { DEFAULT_OUTDIR, DEFAULT_PERSIST_TO, DEFAULT_PORT, HOST, PROJECT_ROOT, WRANGLER_BIN, wranglerEnv } from "./project.mjs";
import { readWranglerConfig } from "./wrangler-config.mjs";

/** Runtime output lines kept by a broker started with `captureOutput`: the last ones, which explain a failure. */
export const OUTPUT_LINES_KEPT = 1_000;

/**
 * Runs a command to completion, collecting its output; rejects with the lines that say what went wrong.
 * @param {string} command
 * @param {string[]} args
 * @param {import("node:child_process").SpawnOptions} options
 * @returns {Promise<string>}
 */
function run(command, args, options) {
	return new Promise((resolvePromise, reject) => {
		const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		child.stdout?.on("data", (chunk) => {
			output += chunk;
		});
		child.stderr?.on("data", (chunk) => {
			output += chunk;
		});
		child.on("error", reject);
		child.on("close", (code, sig) => {
			if (code === 0) resolvePromise(output);
			else reject(new Error(`${command} ${args.join(" ")} failed (${sig ?? `exit ${code}`}):\n${errorLines(output)}`));
		});
	});
}

/**
 * What wrangler said about a failure (esbuild errors and their locations), not the whole dump.
 * @param {string} output
 */
export function errorLines(output) {
	const said = stripVTControlCharacters(output).split("\n");
	const lines = said.map((line) => line.trimEnd()).filter((line) => /ERROR|✘|error|\.ts:\d+|╵|│/.test(line));
	return (lines.length > 0 ? lines : said.slice(-12)).slice(0, 12).join("\n");
}

/**
 * Bundles a Worker with `wrangler deploy --dry-run --outdir <outdir>`; returns the path of its entry module.
 * Takes about 2 s.
 * @param {{ root?: string, configPath?: string, outdir?: string, metafile?: string, minify?: boolean }} [options]
 *   `root`: the project directory (default this checkout); `configPath`: relative to it (default wrangler.toml);
 *   `metafile`: where esbuild's metafile goes (what each input module weighs in the bundle), if anywhere;
 *   `minify`: false keeps names and lines readable (for CPU profiles); default: as wrangler.toml says
 * @returns {Promise<string>}
 */
export async function bundleWorker({ root = PROJECT_ROOT, configPath = "wrangler.toml", outdir = DEFAULT_OUTDIR, metafile, minify } = {}) {
	const started = Date.now();
	// wrangler refuses a config whose assets directory is missing with a message about the config; a checkout
	// installed without scripts (`npm ci --ignore-scripts`) never built the console there, so say what to run.
	const assets = readWranglerConfig(resolve(root, configPath)).assets;
	if (assets !== null && !existsSync(assets.directory)) {
		throw new Error(`the Worker's static assets directory ${assets.directory} does not exist: run \`npm run build\` (npm install runs it)`);
	}
	const absoluteOutdir = resolve(root, outdir);
	const metafileArgs = metafile === undefined ? [] : ["--metafile", resolve(root, metafile)];
	const minifyArgs = minify === undefined ? [] : [`--minify=${minify}`];
	await run(WRANGLER_BIN, ["deploy", "--dry-run", "--config", configPath, "--outdir", absoluteOutdir, ...metafileArgs, ...minifyArgs], {
		cwd: root,
		env: wranglerEnv({ WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", FORCE_COLOR: "0" }),
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
 * @typedef {object} LocalBrokerOptions
 * @property {string} [token]  the ADMIN_TOKEN binding (required unless `bindings.ADMIN_TOKEN` is given)
 * @property {Record<string, string>} [bindings]  further plain-text bindings; wrangler.toml `[vars]` are included
 * @property {string} [host]  default 127.0.0.1
 * @property {number} [port]  default 8787; 0 picks a free one
 * @property {string} [persistTo]  the directory `wrangler dev --persist-to` would be given (default .wrangler/state)
 * @property {string} [root]  the project directory (default this checkout)
 * @property {string} [configPath]  relative to `root` (default wrangler.toml)
 * @property {string} [outdir]  where the bundle goes (default .wrangler/dist)
 * @property {string} [scriptPath]  serve an existing bundle (from `bundleWorker`) instead of bundling
 * @property {boolean} [quiet]  no Miniflare log lines (request log, "Ready on"); warnings still show
 * @property {boolean} [captureOutput]  keep the last OUTPUT_LINES_KEPT lines the Worker prints in `output()` instead
 *   of printing them
 * @property {number} [inspectorPort]  open workerd's DevTools inspector on this port (for CPU profiles); 0 picks
 *   a free one as it binds (the broker's `inspectorPort` says which): a port found free beforehand can be taken first
 */

/**
 * @typedef {object} LocalBroker
 * @property {string} url  no trailing slash
 * @property {number} port
 * @property {string} persistRoot
 * @property {string} scriptPath
 * @property {import("miniflare").Miniflare} miniflare
 * @property {number | null} inspectorPort  where the DevTools inspector listens (null without `inspectorPort`)
 * @property {() => string[]} output  the Worker's last output lines (with `captureOutput`; empty otherwise)
 * @property {() => Promise<void>} dispose
 */

/**
 * Starts a Worker on Miniflare, configured from its wrangler.toml (name, compatibility date and flags, Durable
 * Objects, R2 buckets, vars, static assets).
 * @param {LocalBrokerOptions} [options]
 * @returns {Promise<LocalBroker>}
 * @example
 * const broker = await startLocalBroker({ token, port: 0, persistTo: tempDir, quiet: true });
 * await fetch(`${broker.url}/healthz`);
 * await broker.dispose();
 */
export async function startLocalBroker(options = {}) {
	const { bindings = {}, host = HOST, port = DEFAULT_PORT, persistTo = DEFAULT_PERSIST_TO, root = PROJECT_ROOT } = options;
	const { configPath = "wrangler.toml", outdir = DEFAULT_OUTDIR, quiet = false, captureOutput = false } = options;
	const adminToken = options.token ?? bindings.ADMIN_TOKEN;
	if (typeof adminToken !== "string" || adminToken === "") throw new Error("startLocalBroker needs a token");
	const config = readWranglerConfig(resolve(root, configPath));
	const scriptPath = options.scriptPath ?? (await bundleWorker({ root, configPath, outdir }));
	const persistRoot = join(resolve(persistTo), "v3");
	/** @type {string[]} */
	const lines = [];
	// Imported here, not at the top: loading miniflare takes ~1 s, and the wrangler-dev paths never need it.
	const { Log, LogLevel, Miniflare } = await import("miniflare");
	const miniflare = new Miniflare({
		host,
		port,
		cf: false,
		...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
		log: new Log(quiet ? LogLevel.WARN : LogLevel.INFO),
		defaultPersistRoot: persistRoot,
		...(captureOutput
			? {
					handleRuntimeStdio: (
						/** @type {import("node:stream").Readable} */ stdout,
						/** @type {import("node:stream").Readable} */ stderr,
					) => keepLines([stdout, stderr], lines),
				}
			: {}),
		// With assets, the front (see `assetsFront`) comes first: Miniflare's fallback Worker, the one its router serves.
		workers: [
			...(config.assets === null ? [] : [assetsFront(config.name, config.compatibilityDate, config.assets)]),
			...(config.assets?.binding ? [assetFiles(config.name, config.compatibilityDate, config.assets)] : []),
			{
				name: config.name,
				...workerModules(scriptPath),
				// Module names are paths relative to this root; workerd refuses ".." in them, so anchor it at the bundle.
				modulesRoot: dirname(scriptPath),
				compatibilityDate: config.compatibilityDate,
				compatibilityFlags: config.compatibilityFlags,
				bindings: { ...config.vars, ...bindings, ADMIN_TOKEN: adminToken },
				durableObjects: config.durableObjects,
				r2Buckets: config.r2Buckets,
				...(config.assets?.binding ? { serviceBindings: { [config.assets.binding]: assetFilesName(config.name) } } : {}),
				...(config.assets === null ? {} : { routes: workerRoutes(config.assets.runWorkerFirst) }),
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
	const inspectorPort = options.inspectorPort === undefined ? null : Number((await miniflare.getInspectorURL()).port);
	/** @type {Promise<void> | undefined} */
	let disposed;
	return {
		url: ready.origin,
		port: Number(ready.port),
		inspectorPort,
		persistRoot,
		scriptPath,
		miniflare,
		output: () => lines.slice(-OUTPUT_LINES_KEPT),
		dispose() {
			disposed ??= miniflare.dispose();
			return disposed;
		},
	};
}

/**
 * The Worker's code for Miniflare. A bundle of one file is handed over as that one module: given a `scriptPath`
 * alone, Miniflare parses the whole script with acorn on every start to find its imports, which costs this process
 * about 1.5 ms of CPU per KiB of script (440 ms for the 304 KiB Worker on a busy 2-core machine), time workerd never spends in
 * production and that hid what the script's size costs workerd itself. A bundle with further modules beside it
 * (chunks, wasm) is still walked by Miniflare.
 * @param {string} scriptPath
 */
function workerModules(scriptPath) {
	const others = readdirSync(dirname(scriptPath)).filter((file) => /\.(m?js|wasm)$/.test(file) && file !== basename(scriptPath));
	if (others.length > 0) return { modules: true, scriptPath };
	return { modules: [{ type: /** @type {const} */ ("ESModule"), path: scriptPath }] };
}

/**
 * The static assets (the web console), as a Worker of their own in front of the Worker. Deployed, and under
 * `wrangler dev`, the assets are the Worker's own and the platform's router asks them first except on
 * `run_worker_first` paths; on workerd that router is a Worker of its own that every request crosses, at about as
 * much CPU as an API request itself. Here the `run_worker_first` paths (the API) are Miniflare routes straight to the
 * Worker, and every other request goes to this front, which answers as `wrangler dev` would: an asset if one matches
 * (same `html_handling`, `_headers` and `run_worker_first` rules), else the Worker, through a service binding.
 * @param {string} workerName
 * @param {string} compatibilityDate
 * @param {{ directory: string, runWorkerFirst: string[] }} assets
 */
function assetsFront(workerName, compatibilityDate, assets) {
	return {
		name: `${workerName}-assets`,
		modules: true,
		script: "export default { fetch: (request, env) => env.WORKER.fetch(request) };",
		compatibilityDate,
		serviceBindings: { WORKER: workerName },
		assets: consoleAssets(assets),
	};
}

/** @param {string} workerName */
const assetFilesName = (workerName) => `${workerName}-asset-files`;

/**
 * The assets again, as the Worker's `[assets] binding` reaches them: the front cannot serve that binding, since its
 * router sends `run_worker_first` paths back to the Worker. This one applies no rules: a file, or a 404.
 * @param {string} workerName
 * @param {string} compatibilityDate
 * @param {{ directory: string, runWorkerFirst: string[] }} assets
 */
function assetFiles(workerName, compatibilityDate, assets) {
	return {
		name: assetFilesName(workerName),
		modules: true,
		script: "export default { fetch: (request, env) => env.FILES.fetch(request) };",
		compatibilityDate,
		assets: { ...consoleAssets({ ...assets, runWorkerFirst: [] }), binding: "FILES" },
	};
}

/**
 * Miniflare routes (any host) for `run_worker_first` rules: `/v1/*` becomes `*\/v1/*`, `/healthz` matches that path
 * exactly. Miniflare routes have no negation and no infix wildcard: with a `!/…` rule none are made, and a rule with
 * an infix `*` is left to the front's router (which applies every rule), so nothing is routed differently.
 * @param {string[]} rules
 */
export function workerRoutes(rules) {
	if (rules.some((rule) => rule.startsWith("!"))) return [];
	return rules.filter((rule) => rule.startsWith("/") && !rule.slice(0, -1).includes("*")).map((rule) => `*${rule}`);
}

/**
 * Static assets as `wrangler dev` serves them: matched paths never reach the Worker, and the `_headers` rules
 * wrangler would compile from the build's file come from the module that wrote that file. Paths matching a
 * `run_worker_first` rule go straight to the Worker (`!/…` rules straight to the assets), as wrangler turns the same
 * rules into the router's `static_routing`.
 * @param {{ directory: string, runWorkerFirst: string[] }} assets
 */
function consoleAssets({ directory, runWorkerFirst }) {
	if (!existsSync(directory)) throw new Error(`${directory} does not exist; run \`npm run build\` (npm install runs it)`);
	const toAssets = runWorkerFirst.filter((rule) => rule.startsWith("!/")).map((rule) => rule.slice(1));
	const toWorker = runWorkerFirst.filter((rule) => rule.startsWith("/"));
	return {
		directory,
		routerConfig: {
			has_user_worker: true,
			...(runWorkerFirst.length === 0 ? {} : { static_routing: { user_worker: toWorker, asset_worker: toAssets } }),
		},
		assetConfig: {
			html_handling: /** @type {const} */ ("auto-trailing-slash"),
			not_found_handling: /** @type {const} */ ("none"),
			headers: miniflareHeaderRules(),
		},
	};
}

/**
 * Keeps the last OUTPUT_LINES_KEPT non-empty lines of `streams` in `sink` (read it with `slice(-OUTPUT_LINES_KEPT)`):
 * it is cut back once it holds twice that many, so a chatty Worker costs one copy per OUTPUT_LINES_KEPT lines.
 * @param {import("node:stream").Readable[]} streams
 * @param {string[]} sink
 */
function keepLines(streams, sink) {
	for (const stream of streams) {
		eachLine(stream, (line) => {
			if (line.trim() !== "") sink.push(line);
			if (sink.length >= 2 * OUTPUT_LINES_KEPT) sink.splice(0, sink.length - OUTPUT_LINES_KEPT);
		});
	}
}
