#!/usr/bin/env node
// @ts-check
/**
 * Builds the web console into console/dist (the Worker's static assets directory, see wrangler.toml):
 * console/src/main.ts bundled for the browser by esbuild → dist/console/app.js, console/static/* copied beside it,
 * dist/_headers with the console's Content-Security-Policy, and the API documents dist/openapi.json and
 * dist/docs.html (scripts/lib/api-docs.mjs). Run by `npm run build` (and so by `npm install`).
 *
 *   node console/build.mjs            # once
 *   node console/build.mjs --watch    # rebuild on change
 */

import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { writeApiDocs } from "../scripts/lib/api-docs.mjs";
import { headersFile } from "./headers.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = join(HERE, "dist");
const OUT = join(DIST, "console");

/** @type {import("esbuild").BuildOptions} */
const options = {
	entryPoints: [join(HERE, "src", "main.ts")],
	outfile: join(OUT, "app.js"),
	bundle: true,
	format: "esm",
	target: "es2022",
	minify: true,
	sourcemap: false,
	legalComments: "none",
	logLevel: "warning",
};

function copyStatic() {
	cpSync(join(HERE, "static"), OUT, { recursive: true });
	writeFileSync(join(DIST, "_headers"), headersFile());
}

rmSync(DIST, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
copyStatic();
const apiDocument = await writeApiDocs(DIST);
console.log(`console: wrote openapi.json (${Object.keys(/** @type {object} */ (apiDocument.paths)).length} paths) and docs.html`);
if (process.argv.includes("--watch")) {
	const context = await esbuild.context({ ...options, plugins: [{ name: "static", setup: (b) => b.onEnd(copyStatic) }] });
	await context.watch();
	console.log("console: watching console/src and console/static");
} else {
	const result = await esbuild.build({ ...options, metafile: true });
	const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
	console.log(`console: built console/dist (app.js ${(bytes / 1024).toFixed(1)} KiB)`);
}
