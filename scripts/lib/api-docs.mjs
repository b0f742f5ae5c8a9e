// @ts-check
/**
 * @module
 * The OpenAPI 3.1 document (`/openapi.json`) and its page (`/docs`), written as static assets by the build
 * (console/build.mjs, run by `npm run build` and so by `npm install`). They are generated from the same zod
 * schemas that validate requests (src/http/openapi/), but at build time: the generator (zod's JSON Schema
 * conversion, the response schemas, the page renderer) stays out of the Worker's bundle, which only hands the
 * files on from its assets binding (src/http/routes/api-docs.ts). `npm run dev` writes them again on start and whenever src/ changes (`watchApiDocs`), as
 * wrangler dev rebuilds the Worker.
 *
 * @example
 * await writeApiDocs("console/dist"); // → console/dist/openapi.json, console/dist/docs.html (served at /docs)
 */

import { existsSync, readFileSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { PROJECT_ROOT } from "./project.mjs";

/** How long src/ must be quiet before the documents are written again: one save often touches several files. */
const API_DOCS_SETTLE_MS = 300;

/**
 * The generator's TypeScript, bundled for Node and loaded in this process.
 * @param {string} root  the project whose src/ it is generated from
 */
async function loadGenerator(root) {
	const result = await esbuild.build({
		stdin: {
			contents: [
				'export { openApiDocument } from "./src/http/openapi/document.ts";',
				'export { docsPage } from "./src/http/openapi/docs-page.ts";',
			].join("\n"),
			resolveDir: root,
			loader: "ts",
		},
		bundle: true,
		format: "esm",
		platform: "node",
		write: false,
		logLevel: "warning",
	});
	const code = result.outputFiles[0]?.text ?? "";
	return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}

/**
 * Writes `openapi.json` and `docs.html` into `directory`, each only if its text changed (an unchanged file is left
 * alone, so a watcher of the assets does not reload for nothing); answers the document.
 * @param {string} directory
 * @param {{ root?: string }} [options]  `root`: the project directory (default this checkout)
 * @returns {Promise<Record<string, unknown>>}
 */
export async function writeApiDocs(directory, { root = PROJECT_ROOT } = {}) {
	const { openApiDocument, docsPage } = await loadGenerator(root);
	const document = openApiDocument();
	writeIfChanged(join(directory, "openapi.json"), JSON.stringify(document));
	writeIfChanged(join(directory, "docs.html"), docsPage(document));
	return document;
}

/**
 * @param {string} path
 * @param {string} text
 */
function writeIfChanged(path, text) {
	if (!existsSync(path) || readFileSync(path, "utf8") !== text) writeFileSync(path, text);
}

/**
 * Writes the documents again (`writeApiDocs`) once `root`/src has been quiet for `API_DOCS_SETTLE_MS` after a
 * change; one write at a time, and a change during a write brings one more. A failure (a syntax error mid-edit) is
 * reported to `log` and the previous documents stay.
 * @param {string} directory
 * @param {{ root?: string, log?: (line: string) => void }} [options]
 * @returns {{ close: () => void }}
 * @example
 * const watcher = watchApiDocs("console/dist"); // … watcher.close();
 */
export function watchApiDocs(directory, { root = PROJECT_ROOT, log = console.error } = {}) {
	/** @type {NodeJS.Timeout | undefined} */
	let timer;
	let writing = false;
	let again = false;
	const write = async () => {
		if (writing) {
			again = true;
			return;
		}
		writing = true;
		try {
			await writeApiDocs(directory, { root });
			log("API documents written again (openapi.json, docs.html): src/ changed");
		} catch (error) {
			log(`API documents not written: ${error instanceof Error ? error.message : String(error)}`);
		} finally {
			writing = false;
		}
		if (again) {
			again = false;
			await write();
		}
	};
	const watcher = watch(join(root, "src"), { recursive: true }, () => {
		clearTimeout(timer);
		timer = setTimeout(write, API_DOCS_SETTLE_MS);
	});
	return {
		close() {
			clearTimeout(timer);
			watcher.close();
		},
	};
}
