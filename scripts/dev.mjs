#!/usr/bin/env node
// @ts-check
/**
 * `npm run dev`: plain `wrangler dev` (reload on change, dev tools), with what it needs to run quietly offline:
 * no request.cf look-up (whose failure prints an ENOTFOUND stack trace without network) and no telemetry. Before
 * starting it warns when .dev.vars has no ADMIN_TOKEN, and explains a port in use in one line. The API documents
 * (`/openapi.json`, `/docs`: static assets the build writes) are written again on start and whenever src/ changes,
 * while wrangler rebuilds the Worker. Arguments are passed on to wrangler: `npm run dev -- --port 8788`.
 */

import { join } from "node:path";
import {
	adminTokenWarning,
	assertPortFree,
	PROJECT_ROOT,
	readWranglerConfig,
	runWranglerForeground,
	watchApiDocs,
	writeApiDocs,
} from "./lib/index.mjs";

const args = process.argv.slice(2);

/**
 * The value of `--name value` or `--name=value` among the arguments, if given.
 * @param {string} name
 * @returns {string | undefined}
 */
function option(name) {
	const at = args.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
	if (at < 0) return undefined;
	const arg = args[at] ?? "";
	return arg.includes("=") ? arg.slice(name.length + 1) : args[at + 1];
}

async function main() {
	const { dev, assets } = readWranglerConfig(join(PROJECT_ROOT, "wrangler.toml"));
	const port = Number(option("--port") ?? dev.port ?? 8787);
	const host = option("--ip") ?? dev.ip ?? "127.0.0.1";
	await assertPortFree(port, `stop it, or pick another port: npm run dev -- --port ${port + 1}`, host);
	const explicitToken = args.some((arg, i) => args[i - 1] === "--var" && arg.startsWith("ADMIN_TOKEN:"));
	const warning = explicitToken ? null : adminTokenWarning(join(PROJECT_ROOT, ".dev.vars"));
	if (warning !== null) console.error(warning);
	if (assets !== null) {
		await writeApiDocs(assets.directory);
		watchApiDocs(assets.directory, { log: (line) => console.error(`npm run dev: ${line}`) });
	}
	runWranglerForeground(["dev", ...args], "npm run dev");
}

main().catch((error) => {
	console.error(`npm run dev: ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
});
