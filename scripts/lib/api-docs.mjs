// @ts-check
/**
 * @module
 * The OpenAPI 3.1 document (`/openapi.json`) and its page (`/docs`), written as static assets by the build
 * (console/build.mjs, run by `npm run build` and so by `npm install`). They are generated from the same zod
 * schemas that validate requests (src/http/openapi/), but at build time: the generator (zod's JSON Schema
 * conversion, the response schemas, the page renderer) stays out of the Worker's bundle, and the files are served
 * without running the Worker.
 *
 * @example
 * await writeApiDocs("console/dist"); // → console/dist/openapi.json, console/dist/docs.html (served at /docs)
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { PROJECT_ROOT } from "./project.mjs";

/** The generator's TypeScript, bundled for Node and loaded in this process. */
async function loadGenerator() {
	const result = await esbuild.build({
		stdin: {
			contents: [
				'export { openApiDocument } from "./src/http/openapi/document.ts";',
				'export { docsPage } from "./src/http/openapi/docs-page.ts";',
			].join("\n"),
			resolveDir: PROJECT_ROOT,
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
 * Writes `openapi.json` and `docs.html` into `directory`; answers the document.
 * @param {string} directory
 * @returns {Promise<Record<string, unknown>>}
 */
export async function writeApiDocs(directory) {
	const { openApiDocument, docsPage } = await loadGenerator();
	const document = openApiDocument();
	writeFileSync(join(directory, "openapi.json"), JSON.stringify(document));
	writeFileSync(join(directory, "docs.html"), docsPage(document));
	return document;
}
