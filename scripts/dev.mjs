#!/usr/bin/env node
// @ts-check
/**
 * `npm run dev`: plain `wrangler dev` (reload on change, dev tools), with what it needs to run quietly offline:
 * no request.cf look-up (whose failure prints an ENOTFOUND stack trace without network) and no telemetry. Before
 * starting it warns when .dev.vars has no ADMIN_TOKEN, and explains a port in use in one line. Every other .dev.vars
 * line is passed on as a `--var`: wrangler.toml's `[secrets]` block makes wrangler load only ADMIN_TOKEN from
 * .dev.vars, and the README's WEBHOOK_ALLOW_PRIVATE=true or REQUEST_LOG=all lines would do nothing. The API documents
 * (`/openapi.json`, `/docs`: static assets the build writes) are written again on start and whenever src/ changes,
 * while wrangler rebuilds the Worker. Arguments are passed on to wrangler: `npm run dev -- --port 8788`; PORT=8788 as
 * `npm start` takes it does the same (0, either way: any free port, named on wrangler's "Ready on" line).
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
	adminTokenWarning,
	assertPortFree,
	DEFAULT_PORT,
	optionAt,
	PROJECT_ROOT,
	parseDevVars,
	parsePort,
	portOption,
	readWranglerConfig,
	runWranglerForeground,
	varsWranglerDevDrops,
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
	return optionAt(args, name).value;
}

/**
 * The names given with `--var NAME:value` (wrangler takes several after one `--var`) or `--var=NAME:value`.
 * @returns {Set<string>}
 */
function explicitVars() {
	const names = new Set();
	let inVar = false;
	for (const arg of args) {
		if (arg === "--var") inVar = true;
		else if (arg.startsWith("--var=")) names.add(arg.slice("--var=".length).split(":")[0]);
		else if (arg.startsWith("-")) inVar = false;
		else if (inVar) names.add(arg.split(":")[0]);
	}
	return names;
}

/**
 * The .dev.vars lines wrangler would drop, as `--var` arguments; the names given on the command line win. None
 * with `--env-file`, since wrangler then reads those files instead of .dev.vars.
 * @param {string} devVarsPath
 * @param {{ required: string[] } | null} secrets
 */
function droppedVarArgs(devVarsPath, secrets) {
	if (option("--env-file") !== undefined || !existsSync(devVarsPath)) return [];
	const given = explicitVars();
	const dropped = varsWranglerDevDrops(parseDevVars(readFileSync(devVarsPath, "utf8")), secrets);
	return Object.entries(dropped)
		.filter(([name]) => !given.has(name))
		.flatMap(([name, value]) => ["--var", `${name}:${value}`]);
}

async function main() {
	// wrangler runs in PROJECT_ROOT and reads the .dev.vars beside the config it is given.
	const configPath = resolve(PROJECT_ROOT, option("--config") ?? option("-c") ?? "wrangler.toml");
	const devVarsPath = join(dirname(configPath), ".dev.vars");
	const { dev, assets, secrets } = readWranglerConfig(configPath);
	// --port, checked here: wrangler would take a bad one as NaN and a missing one as its default. PORT as npm start
	// takes it (the README's `PORT=8788 npm start`), by the same rule; --port wins. 0 is any free port either way:
	// wrangler dev binds it and names the port it got on its "Ready on" line (the e2e helpers read it there).
	const flagPort = portOption(args);
	const envPort = flagPort === undefined && process.env.PORT ? parsePort(process.env.PORT) : undefined;
	const port = flagPort ?? envPort ?? dev.port ?? DEFAULT_PORT;
	const host = option("--ip") ?? dev.ip ?? "127.0.0.1";
	await assertPortFree(port, `stop it, or pick another port: npm run dev -- --port ${port + 1}`, host);
	const warning = explicitVars().has("ADMIN_TOKEN") ? null : adminTokenWarning(devVarsPath);
	if (warning !== null) console.error(warning);
	if (assets !== null) {
		await writeApiDocs(assets.directory);
		watchApiDocs(assets.directory, { log: (line) => console.error(`npm run dev: ${line}`) });
	}
	// Appended: an array option such as `--var` would take a positional argument that followed it as a value.
	const portArgs = envPort === undefined ? [] : ["--port", String(envPort)];
	runWranglerForeground(["dev", ...args, ...portArgs, ...droppedVarArgs(devVarsPath, secrets)], "npm run dev");
}

main().catch((error) => {
	console.error(`npm run dev: ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
});
