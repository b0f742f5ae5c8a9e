// @ts-check
/**
 * wrangler.toml's `run_worker_first` rules send the Worker's own mounts straight to the Worker, skipping the asset
 * lookup every request would otherwise pay first. That changes no answer only while the rules cover every mount of
 * the app (src/http/app.ts) and match no file the assets serve (console/dist, built by `npm run build`, which
 * `npm test` runs first) but on the paths the Worker answers from `ASSETS` (`ASSET_PATHS`, src/http/routes/api-docs.ts,
 * so other methods get its JSON 405): another rule that matched a console file would hide it behind the Worker's 404.
 * The local broker (`npm start`) makes the same rules Miniflare routes past its assets front: assets, API, the
 * Worker's 404 for a path no asset holds and its 405 on an asset's path answer as under `wrangler dev`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { generateToken, PROJECT_ROOT, readWranglerConfig, startLocalBroker } from "../../scripts/lib/index.mjs";
import { workerRoutes } from "../../scripts/lib/local-broker.mjs";

/** A rule as the router matches it: `*` is any run of characters, slashes included; the rest is literal. */
function ruleMatcher(/** @type {string} */ rule) {
	const pattern = rule
		.split("*")
		.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
		.join(".*");
	return new RegExp(`^${pattern}$`);
}

const config = readWranglerConfig(join(PROJECT_ROOT, "wrangler.toml"));
const rules = config.assets?.runWorkerFirst ?? [];
const matchers = rules.map(ruleMatcher);
const routedToWorker = (/** @type {string} */ path) => matchers.some((m) => m.test(path));

/** The paths the Worker answers from its assets binding, read from their source (Node cannot import TypeScript). */
function assetPaths() {
	const source = readFileSync(join(PROJECT_ROOT, "src/http/routes/api-docs.ts"), "utf8");
	const list = /export const ASSET_PATHS = \[([^\]]*)\]/.exec(source)?.[1] ?? "";
	return [...list.matchAll(/"([^"]+)"/g)].map((m) => String(m[1]));
}

/** The app's top-level mounts, from its `app.get/route/use("…")` calls; "/" (the API docs pages) is left to the assets. */
function appMounts() {
	const source = readFileSync(join(PROJECT_ROOT, "src/http/app.ts"), "utf8");
	const mounts = [...source.matchAll(/app\.(?:get|post|all|route|use)\("(\/[^"]*)"/g)].map((m) => String(m[1]));
	return [...new Set(mounts)].filter((mount) => mount !== "/");
}

test("run_worker_first covers every mount of the app", () => {
	const mounts = appMounts();
	assert.ok(mounts.length >= 5, `found the app's mounts: ${mounts.join(", ")}`);
	for (const mount of mounts) {
		const prefix = mount.replace(/\/\*$/, "");
		// A mount answers its own path (a sub-app's "/" route) or paths below it.
		assert.ok(routedToWorker(prefix) || routedToWorker(`${prefix}/x`), `no run_worker_first rule sends ${mount} to the Worker`);
	}
});

test("run_worker_first matches no file the assets serve", () => {
	assert.ok(config.assets !== null, "wrangler.toml has [assets]");
	const directory = config.assets.directory;
	const files = readdirSync(directory, { recursive: true, withFileTypes: true })
		.filter((entry) => entry.isFile())
		.map((entry) => `/${join(entry.parentPath, entry.name).slice(directory.length + 1)}`);
	assert.ok(
		files.some((file) => file.endsWith(".html")),
		`the console is built in ${directory}`,
	);
	const fromAssets = assetPaths();
	assert.deepEqual(
		fromAssets.filter((path) => !rules.includes(path)),
		[],
		"every path the Worker answers from ASSETS is a run_worker_first rule",
	);
	const servedByWorker = fromAssets.map(ruleMatcher);
	for (const file of files) {
		// html_handling serves `a.html` at /a and `d/index.html` at /d/ as well.
		const served = [file, file.replace(/\.html$/, ""), file.replace(/index\.html$/, "")];
		for (const path of served) {
			const ok = !routedToWorker(path) || servedByWorker.some((m) => m.test(path));
			assert.ok(ok, `run_worker_first would send ${path} (an asset) to the Worker, which does not answer it from ASSETS`);
		}
	}
	assert.ok(routedToWorker("/v1/topics/t/records"), "the API goes straight to the Worker");
});

// A bound on a hung broker, not a measure: the start builds the Worker and boots workerd, seconds when idle but past
// a minute once on a loaded machine; success does not wait for it.
test("the local broker routes run_worker_first paths to the Worker and the rest through the assets", { timeout: 180_000 }, async () => {
	assert.deepEqual(workerRoutes(["/healthz", "/v1/*"]), ["*/healthz", "*/v1/*"]);
	// Miniflare routes cannot say "except": with a negative rule every request goes through the assets' router.
	assert.deepEqual(workerRoutes(["/v1/*", "!/v1/static/*"]), []);
	assert.deepEqual(workerRoutes(["/a/*/b", "/v1/*"]), ["*/v1/*"]);
	const dir = await mkdtemp(join(tmpdir(), "tributary-routes-"));
	const token = generateToken();
	const broker = await startLocalBroker({ token, port: 0, persistTo: dir, outdir: join(dir, "dist"), quiet: true, captureOutput: true });
	try {
		const console = await fetch(`${broker.url}/console/`);
		assert.equal(console.status, 200);
		assert.match(await console.text(), /<!doctype html>/i);
		assert.match(console.headers.get("content-security-policy") ?? "", /script-src 'self'/, "the console's own headers");
		const posted = await fetch(`${broker.url}/console/`, { method: "POST" });
		assert.equal(posted.status, 405);
		assert.equal((await posted.json()).error.code, "method_not_allowed");
		const noFile = await fetch(`${broker.url}/console/missing.js`);
		assert.equal(noFile.status, 404);
		assert.equal((await noFile.json()).error.code, "not_found");
		const api = await fetch(`${broker.url}/v1/topics`, { headers: { Authorization: `Bearer ${token}` } });
		assert.equal(api.status, 200);
		assert.ok(api.headers.get("x-request-id"), "the Worker answered");
		// Under a console prefix but no asset: the Worker's own JSON 404, as when the assets were asked first.
		const missing = await fetch(`${broker.url}/docsx`);
		assert.equal(missing.status, 404);
		assert.equal((await missing.json()).error.code, "not_found");
	} finally {
		await broker.dispose();
		await rm(dir, { recursive: true, force: true });
	}
});

test("the local broker says to build first when the assets directory is missing", async () => {
	const dir = await mkdtemp(join(tmpdir(), "tributary-no-assets-"));
	try {
		writeFileSync(
			join(dir, "wrangler.toml"),
			['name = "no-assets"', 'main = "worker.js"', 'compatibility_date = "2026-04-20"', "[assets]", 'directory = "dist"'].join("\n"),
		);
		writeFileSync(join(dir, "worker.js"), "export default { fetch: () => new Response('ok') };");
		await assert.rejects(
			startLocalBroker({
				token: generateToken(),
				port: 0,
				root: dir,
				persistTo: join(dir, "state"),
				scriptPath: join(dir, "worker.js"),
				quiet: true,
			}),
			/dist does not exist; run `npm run build`/,
		);
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
});
