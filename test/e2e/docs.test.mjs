// @ts-check
/**
 * The docs run as written: every shell block of README.md and docs/*.md, in order, in one bash session per file,
 * against a fresh broker (a real `wrangler dev` on a free port, empty state, WEBHOOK_ALLOW_PRIVATE=true as
 * `npm start -- --allow-private-webhooks` sets it). A response of 400 or more that the text does not mark, or an
 * output that contradicts a `# → …` line, fails the test. Convention: docs/doc-tests.md.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { generateToken, PROJECT_ROOT, startWranglerDev, stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { extractShellBlocks } from "./lib/doc-blocks.mjs";
import { runSession } from "./lib/doc-session.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const SESSION_TIMEOUT_MS = 180_000;
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
		test(`${file}: every shell block runs as written on a fresh broker`, { timeout: SESSION_TIMEOUT_MS + 90_000 }, async () => {
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
			} finally {
				await dev.stop();
				state.remove();
			}
		});
	}
});

test("README.md runs its API tour: most of its shell blocks are run, and each skip says why", () => {
	const blocks = extractShellBlocks(readFileSync(join(PROJECT_ROOT, "README.md"), "utf8"), "README.md");
	const skipped = blocks.filter((block) => block.skip !== null);
	assert.ok(blocks.length - skipped.length >= 6, `only ${blocks.length - skipped.length} README blocks run`);
	assert.ok(skipped.length <= blocks.length / 3, `${skipped.length} of ${blocks.length} README blocks are skipped`);
	for (const block of skipped)
		assert.ok((block.skip ?? "").trim().length >= 8, `${block.file}:${block.line}: say why the block is skipped`);
});
