// @ts-check
/**
 * A local broker started with `captureOutput` keeps what the Worker printed last: the lines someone debugging a
 * failure needs are the ones just before it. Regression: it kept the first OUTPUT_LINES_KEPT lines and dropped the rest.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { generateToken, startLocalBroker, waitUntil } from "../../scripts/lib/index.mjs";
import { OUTPUT_LINES_KEPT } from "../../scripts/lib/local-broker.mjs";

const PRINTED = 2 * OUTPUT_LINES_KEPT + 345;

test("captureOutput keeps the Worker's last OUTPUT_LINES_KEPT lines", { timeout: 60_000 }, async () => {
	const dir = await mkdtemp(join(tmpdir(), "tributary-output-"));
	writeFileSync(join(dir, "wrangler.toml"), ['name = "chatty"', 'main = "worker.js"', 'compatibility_date = "2026-04-20"'].join("\n"));
	// Each request prints `lines` numbered lines.
	writeFileSync(
		join(dir, "worker.js"),
		`export default { fetch(request) {
			const { searchParams } = new URL(request.url);
			const from = Number(searchParams.get("from")), lines = Number(searchParams.get("lines"));
			for (let i = from; i < from + lines; i++) console.log("line " + i);
			return new Response("ok");
		} };`,
	);
	const broker = await startLocalBroker({
		token: generateToken(),
		port: 0,
		root: dir,
		persistTo: join(dir, "state"),
		scriptPath: join(dir, "worker.js"),
		quiet: true,
		captureOutput: true,
	});
	try {
		const batch = 500;
		for (let from = 0; from < PRINTED; from += batch) {
			const response = await fetch(`${broker.url}/?from=${from}&lines=${Math.min(batch, PRINTED - from)}`);
			assert.equal(await response.text(), "ok");
		}
		const last = `line ${PRINTED - 1}`;
		const output = await waitUntil(() => (broker.output().at(-1) === last ? broker.output() : null), {
			timeoutMs: 10_000,
			message: `"${last}" in the captured output`,
		});
		assert.equal(output.length, OUTPUT_LINES_KEPT);
		assert.deepEqual(
			output,
			Array.from({ length: OUTPUT_LINES_KEPT }, (_, i) => `line ${PRINTED - OUTPUT_LINES_KEPT + i}`),
		);
	} finally {
		await broker.dispose();
		await rm(dir, { recursive: true, force: true });
	}
});
