// @ts-check
/**
 * `npm run dev` keeps `/openapi.json` and `/docs` (static assets the build writes) in step with src/: it writes them
 * on start and again whenever src/ changes (`watchApiDocs`), as wrangler dev rebuilds the Worker. Driven on a copy
 * of src/ (a test must not edit the checkout other tests bundle), with this checkout's node_modules.
 */

import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PROJECT_ROOT, waitUntil, watchApiDocs, writeApiDocs } from "../../scripts/lib/index.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const DOCUMENT = join("src", "http", "openapi", "document.ts");

test("the API documents are written again when src/ changes, and left alone while an edit does not compile", {
	timeout: 60_000,
}, async () => {
	const dir = tempDir("api-docs");
	const root = join(dir.path, "project");
	const dist = join(dir.path, "dist");
	cpSync(join(PROJECT_ROOT, "src"), join(root, "src"), { recursive: true });
	symlinkSync(join(PROJECT_ROOT, "node_modules"), join(root, "node_modules"));
	mkdirSync(dist);
	/** @type {string[]} */
	const logged = [];
	const watcher = watchApiDocs(dist, { root, log: (line) => logged.push(line) });
	try {
		await writeApiDocs(dist, { root });
		const title = () => JSON.parse(readFileSync(join(dist, "openapi.json"), "utf8")).info.title;
		assert.equal(title(), "Tributary");

		const source = readFileSync(join(root, DOCUMENT), "utf8");
		assert.ok(source.includes('title: "Tributary"'), "the title this test edits is still where it was");
		writeFileSync(join(root, DOCUMENT), source.replace('title: "Tributary"', 'title: "Tributary, edited"'));
		await waitUntil(() => title() === "Tributary, edited", { timeoutMs: 30_000, message: "openapi.json with the edited title" });
		assert.match(readFileSync(join(dist, "docs.html"), "utf8"), /Tributary, edited/);

		const written = logged.length;
		writeFileSync(join(root, DOCUMENT), `${source}\nexport const broken = ;\n`);
		await waitUntil(() => logged.length > written, { timeoutMs: 30_000, message: "the failed write reported" });
		assert.match(logged.at(-1) ?? "", /^API documents not written: /);
		assert.equal(title(), "Tributary, edited", "the previous documents stay");
	} finally {
		watcher.close();
		dir.remove();
	}
});
