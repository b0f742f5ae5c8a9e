// @ts-check
/**
 * The e2e runner (scripts/lib/e2e-runner.mjs, `npm run test:e2e`) against test files of its own, two at a time, as
 * `npm run test:e2e` runs them: one whose test passes but whose process never exits, for it leaves a connection open to
 * the shared `wrangler dev` (as produce-stream's SDK channel once did: the whole run waited on it, 255 s, until killed
 * by hand); one whose test never ends, holding an instance of its own; and one that passes, started only once a hung
 * file's slot is free. Each hung file must fail, named, once its time is up, the run go on to the next file and end,
 * and no wrangler be left running: not the shared one, not the hung file's own. The two hung files wait out their
 * time together, not one after the other. Each file's time is asked for as it starts, as a bound that follows the load
 * is read then: the second is given a longer one, as on a machine whose load rose meanwhile.
 * The wranglers are stand-ins (a node server that says "Ready on" as wrangler does): this is about the runner.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { healthy, isAlive, signal, waitUntil } from "../../scripts/lib/index.mjs";
import { moduleUrl, writeRunnerFixtures } from "../e2e/lib/runner-fixtures.mjs";
import { writeStandInWrangler } from "../e2e/lib/stand-in-wrangler.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";

/** The first fixture file's time: its process's start and a stand-in's, at load. */
const FILE_TIMEOUT_MS = 12_000;
/** What each later file's time adds to the one before it. */
const FILE_TIMEOUT_RISE_MS = 1_000;
/** How long the whole run may take: two files' timeouts, three processes started, at load. */
const RUN_BOUND_MS = 90_000;

const dir = tempDir("e2e-runner");
/** Every stand-in wrangler writes its PID here as it starts. */
const pidsFile = join(dir.path, "pids");
/** The shared instance's URL, as the file that used it was given it. */
const sharedUrlFile = join(dir.path, "shared-url");
const bin = writeStandInWrangler(dir.path, { pidsFile });

/** @param {string} path from the project's root */
/** @type {Record<string, string>} the fixture files, by name */
const fixtures = {
	"leaves-connection.test.mjs": `
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { test } from "node:test";
import { plainDevToken, plainWranglerDev } from ${moduleUrl("test/e2e/lib/shared-dev.mjs")};
test("uses the shared instance, and leaves a connection to it open", async () => {
	const shared = await plainWranglerDev("leaves-connection", plainDevToken());
	writeFileSync(${JSON.stringify(sharedUrlFile)}, shared.url);
	const socket = connect(Number(new URL(shared.url).port), "127.0.0.1");
	await new Promise((resolve) => socket.once("connect", resolve));
});
`,
	"hangs-with-own.test.mjs": `
import { test } from "node:test";
import { startWranglerDev } from ${moduleUrl("scripts/lib/index.mjs")};
test("starts an instance of its own, then never ends", async () => {
	await startWranglerDev({ bin: ${JSON.stringify(bin)}, root: ${JSON.stringify(dir.path)}, persistTo: ${JSON.stringify(join(dir.path, "own"))}, token: "t", keepWarm: false });
	await new Promise(() => {});
});
`,
	"passes.test.mjs": `
import { test } from "node:test";
test("runs after the hung files", () => {});
`,
};
const { files, driver } = writeRunnerFixtures(
	dir.path,
	fixtures,
	(paths) => `let timeoutMs = ${FILE_TIMEOUT_MS - FILE_TIMEOUT_RISE_MS};
const fileTimeoutMs = () => (timeoutMs += ${FILE_TIMEOUT_RISE_MS});
const { failed, testMs } = await runTestFiles({ files: ${paths}, concurrency: 2, fileTimeoutMs, sharedDev: { bin: ${JSON.stringify(bin)} } });
console.log("timed files: " + JSON.stringify([...testMs.keys()]));
process.exitCode = failed ? 1 : 0;`,
);

/** The stand-ins' PIDs, as they wrote them. */
const standIns = () => (existsSync(pidsFile) ? readFileSync(pidsFile, "utf8").split("\n").filter(Boolean).map(Number) : []);

after(() => {
	for (const pid of standIns().filter(isAlive)) signal(pid, "SIGKILL");
	dir.remove();
});

/**
 * Runs the driver (not under this file's test runner: `run()` refuses to start files from a test file's process) in a
 * process group of its own, killed whole if it outlives RUN_BOUND_MS.
 * @returns {Promise<{ code: number | null, output: string, ended: boolean }>}
 */
function runDriver() {
	const { NODE_TEST_CONTEXT: _, ...env } = process.env;
	const child = spawn(process.execPath, [driver], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	child.stdout.on("data", (chunk) => (output += chunk));
	child.stderr.on("data", (chunk) => (output += chunk));
	return new Promise((resolve) => {
		const bound = setTimeout(() => {
			if (child.pid !== undefined) signal(-child.pid, "SIGKILL");
			resolve({ code: null, output, ended: false });
		}, RUN_BOUND_MS);
		child.once("close", (code) => {
			clearTimeout(bound);
			resolve({ code, output, ended: true });
		});
	});
}

test("a file that never ends fails, named, once its time is up; the run goes on, ends, and leaves no wrangler running", async () => {
	const { code, output, ended } = await runDriver();
	assert.ok(ended, `the run did not end within ${RUN_BOUND_MS} ms:\n${output}`);
	assert.equal(code, 1, output);
	// Started in this order, each with the time asked for as it started.
	for (const [name, timeoutMs] of [
		["leaves-connection", FILE_TIMEOUT_MS],
		["hangs-with-own", FILE_TIMEOUT_MS + FILE_TIMEOUT_RISE_MS],
	])
		assert.match(output, new RegExp(`✖ [^\\n]*${name}\\.test\\.mjs[^\\n]*\\n\\s+'test timed out after ${timeoutMs}ms'`), output);
	assert.equal(output.match(/^ℹ tests \d+$/gm)?.length, 1, `the run's totals, once\n${output}`);
	assert.match(output, /✔ runs after the hung files/, output);
	const timed = JSON.parse(/^timed files: (.*)$/m.exec(output)?.[1] ?? "[]");
	assert.ok(
		files.every((file) => timed.includes(file)),
		`every file's tests are timed: ${timed}`,
	);
	assert.ok(existsSync(sharedUrlFile), "the first file was given the shared instance");
	assert.equal(await healthy(readFileSync(sharedUrlFile, "utf8")), false, "the shared instance is stopped");
	assert.equal(standIns().length, 2, "a stand-in each: the shared instance, the hung file's own");
	await waitUntil(() => standIns().every((pid) => !isAlive(pid)), {
		timeoutMs: 5_000,
		message: () => `every stand-in wrangler to be gone (alive: ${standIns().filter(isAlive).join(", ")})`,
	});
});
