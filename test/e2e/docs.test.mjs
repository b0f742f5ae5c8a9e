// @ts-check
/**
 * The docs run as written: every shell block of README.md and docs/*.md, in order, in one bash session per file,
 * against a fresh broker (a real `wrangler dev` on a free port, empty state, WEBHOOK_ALLOW_PRIVATE=true as
 * `npm start -- --allow-private-webhooks` sets it). A response of 400 or more that the text does not mark, or an
 * output that contradicts a `# → …` line, fails the test. client/README.md's JavaScript blocks run too, as one
 * module on the broker of a doc named in MODULE_DOCS; one that throws or never ends fails it. Convention:
 * docs/doc-tests.md.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { generateToken, PROJECT_ROOT, startWranglerDev, stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { extractBlocks, extractShellBlocks, JS_LANGS } from "./lib/doc-blocks.mjs";
import { runModules } from "./lib/doc-module.mjs";
import { runSession } from "./lib/doc-session.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const SESSION_TIMEOUT_MS = 180_000;
const MODULE_TIMEOUT_MS = 120_000;

/**
 * What the SDK's examples (client/README.md's, README.md's at a glance) leave to their reader: a few orders to send,
 * and the consumer loop's bill(), which bills one record and then has the loop stop at its `if (shuttingDown) break`.
 */
const SDK_READER_PRELUDE = `const orders = [{ id: "order-1", sku: "A1", qty: 1 }, { id: "order-2", sku: "B2", qty: 3 }];
let shuttingDown = false;
async function bill(_value) {
	shuttingDown = true;
}`;

/**
 * Docs whose JavaScript blocks run too, as one module in order (test/e2e/lib/doc-module.mjs), each on the broker of
 * the shell session named as its key once that session is done: no wrangler dev start of its own. client/README.md
 * and observability.md must create nothing alike (observability.md makes one key, "prometheus"); README.md's blocks
 * follow its own tour, as its reader's would. `apart`: each block is a program of its own (README.md's import
 * different clients, two of them a `Kafka`), run as its own module in order.
 */
const MODULE_DOCS = new Map([
	["docs/observability.md", { file: "client/README.md", prelude: SDK_READER_PRELUDE, apart: false }],
	["README.md", { file: "README.md", prelude: SDK_READER_PRELUDE, apart: true }],
]);
const OUTPUT_TAIL_CHARS = 6_000;

const files = [
	"README.md",
	...readdirSync(join(PROJECT_ROOT, "docs"))
		.filter((name) => name.endsWith(".md"))
		.sort()
		.map((name) => `docs/${name}`),
];

after(() => stopAllWranglerDevs());

// Each file's session has a broker of its own, so the files run at once; the blocks within one file stay in order
// (a tour builds on its earlier blocks).
describe("the docs' shell blocks", { concurrency: true }, () => {
	for (const file of files) {
		const blocks = extractShellBlocks(readFileSync(join(PROJECT_ROOT, file), "utf8"), file);
		const runnable = blocks.filter((block) => block.skip === null);
		if (runnable.length === 0) continue;
		const then = MODULE_DOCS.has(file) ? `, then ${MODULE_DOCS.get(file)?.file}'s JavaScript blocks` : "";
		test(`${file}: every shell block runs as written on a fresh broker${then}`, { timeout: SESSION_TIMEOUT_MS + 90_000 }, async () => {
			const state = tempDir("docs");
			const token = generateToken();
			const dev = await startWranglerDev({ persistTo: state.path, token, vars: { WEBHOOK_ALLOW_PRIVATE: "true" } });
			try {
				const result = await runSession(runnable, {
					cwd: PROJECT_ROOT,
					env: { URL: dev.url, TOKEN: token },
					timeoutMs: SESSION_TIMEOUT_MS,
				});
				const output = `--- stderr ---\n${result.stderr.slice(-OUTPUT_TAIL_CHARS)}\n--- stdout ---\n${result.stdout.slice(-OUTPUT_TAIL_CHARS)}`;
				assert.equal(result.code, 0, `${file}: a shell block failed\n${output}`);
				// Every block ran to its end: the session announces each one before running it.
				const announced = result.stderr.split("\n").filter((/** @type {string} */ line) => line.startsWith("## ")).length;
				assert.equal(announced, runnable.length, output);
				const moduleDoc = MODULE_DOCS.get(file);
				if (moduleDoc !== undefined) await runModuleDoc(moduleDoc, { URL: dev.url, TOKEN: token });
			} finally {
				await dev.stop();
				state.remove();
			}
		});
	}
});

/**
 * Runs a doc's JavaScript blocks against the broker at `env.URL`, with its token as TRIBUTARY_URL/TRIBUTARY_TOKEN
 * (what npm start's export line sets and the SDK's examples read).
 * @param {{ file: string, prelude: string, apart: boolean }} doc
 * @param {{ URL: string, TOKEN: string }} env
 */
async function runModuleDoc({ file, prelude, apart }, env) {
	const blocks = extractBlocks(readFileSync(join(PROJECT_ROOT, file), "utf8"), file, JS_LANGS).filter((block) => block.skip === null);
	assert.ok(blocks.length > 0, `${file}: no JavaScript blocks`);
	const result = await runModules(blocks, {
		apart,
		cwd: PROJECT_ROOT,
		env: { TRIBUTARY_URL: env.URL, TRIBUTARY_TOKEN: env.TOKEN },
		prelude,
		timeoutMs: MODULE_TIMEOUT_MS,
	});
	const output = `--- stderr ---\n${result.stderr.slice(-OUTPUT_TAIL_CHARS)}\n--- stdout ---\n${result.stdout.slice(-OUTPUT_TAIL_CHARS)}`;
	assert.equal(result.code, 0, `${file}: a JavaScript block failed\n${output}`);
	const announced = result.stderr.split("\n").filter((line) => line.startsWith("## ")).length;
	assert.equal(announced, blocks.length, output);
}

test("README.md runs its API tour: most of its shell blocks are run, and each skip says why", () => {
	const blocks = extractShellBlocks(readFileSync(join(PROJECT_ROOT, "README.md"), "utf8"), "README.md");
	const skipped = blocks.filter((block) => block.skip !== null);
	assert.ok(blocks.length - skipped.length >= 6, `only ${blocks.length - skipped.length} README blocks run`);
	assert.ok(skipped.length <= blocks.length / 3, `${skipped.length} of ${blocks.length} README blocks are skipped`);
	for (const block of skipped)
		assert.ok((block.skip ?? "").trim().length >= 8, `${block.file}:${block.line}: say why the block is skipped`);
});

test("every JavaScript block of README.md and docs/*.md runs (its doc is in MODULE_DOCS) or says why not", () => {
	const run = new Set([...MODULE_DOCS.values()].map((doc) => doc.file));
	for (const file of files) {
		for (const block of extractBlocks(readFileSync(join(PROJECT_ROOT, file), "utf8"), file, JS_LANGS)) {
			if (block.skip !== null) assert.ok(block.skip.trim().length >= 8, `${file}:${block.line}: say why the block is skipped`);
			else assert.ok(run.has(file), `${file}:${block.line}: no module runs this JavaScript block (add ${file} to MODULE_DOCS)`);
		}
	}
});
