// @ts-check
/**
 * The e2e runner (scripts/lib/e2e-runner.mjs, `npm run test:e2e`) sent SIGTERM, as CI's timeout or a `kill` sends it
 * (Ctrl-C's SIGINT is handled alike): it must pass the signal on to its test files and to everything they started,
 * wait for them, start no further file, and end as the signal ends a process, leaving nothing running. Its files here:
 * one holding an instance of its own, one using the shared instance, one whose plain child process (no wrangler, in
 * the runner's process group) would outlive it, each never ending; and one that must never start. The wranglers are
 * stand-ins (a node server that says "Ready on" as wrangler does): this is about the runner.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { groupMembers, isAlive, signal, waitUntil, within } from "../../scripts/lib/index.mjs";
import { moduleUrl, writeRunnerFixtures } from "../e2e/lib/runner-fixtures.mjs";
import { writeStandInWrangler } from "../e2e/lib/stand-in-wrangler.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";

/** How long the files and their processes take to start, at load: a bound on a hang, not a measure. */
const STARTED_BOUND_MS = 60_000;
/** How long the runner may take to end once signalled: its grace for the files, and their stops, at load. */
const ENDED_BOUND_MS = 60_000;

const dir = tempDir("e2e-runner-signals");
/** Every stand-in wrangler writes its PID here as it starts. */
const pidsFile = join(dir.path, "pids");
/** The plain child's PID. */
const childFile = join(dir.path, "child");
/** Written by the file that must never start, if it does. */
const laterFile = join(dir.path, "later");
const bin = writeStandInWrangler(dir.path, { pidsFile });

/** @param {string} path from the project's root */
const hang = "await new Promise(() => {});";
/** @type {Record<string, string>} the fixture files, by name */
const fixtures = {
	"own.test.mjs": `
import { test } from "node:test";
import { startWranglerDev } from ${moduleUrl("scripts/lib/index.mjs")};
test("holds an instance of its own", async () => {
	await startWranglerDev({ bin: ${JSON.stringify(bin)}, root: ${JSON.stringify(dir.path)}, persistTo: ${JSON.stringify(join(dir.path, "own"))}, token: "t", keepWarm: false });
	${hang}
});
`,
	"shared.test.mjs": `
import { test } from "node:test";
import { plainDevToken, plainWranglerDev } from ${moduleUrl("test/e2e/lib/shared-dev.mjs")};
test("uses the shared instance", async () => {
	await plainWranglerDev("shared", plainDevToken());
	${hang}
});
`,
	"child.test.mjs": `
import { spawn } from "node:child_process";
import { test } from "node:test";
test("starts a plain child process", async () => {
	const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
	(await import("node:fs")).writeFileSync(${JSON.stringify(childFile)}, String(child.pid));
	${hang}
});
`,
	"later.test.mjs": `
import { writeFileSync } from "node:fs";
import { test } from "node:test";
test("must not start once the run was signalled", () => writeFileSync(${JSON.stringify(laterFile)}, "started"));
`,
};
const { driver } = writeRunnerFixtures(
	dir.path,
	fixtures,
	(paths) =>
		`await runTestFiles({ files: ${paths}, concurrency: 3, fileTimeoutMs: () => 600_000, sharedDev: { bin: ${JSON.stringify(bin)} } });`,
);

/** The stand-ins' PIDs, as they wrote them. */
const standIns = () => (existsSync(pidsFile) ? readFileSync(pidsFile, "utf8").split("\n").filter(Boolean).map(Number) : []);
/** The plain child's PID, once written. */
const plainChild = () => (existsSync(childFile) ? [Number(readFileSync(childFile, "utf8"))] : []);

after(() => {
	for (const pid of [...standIns(), ...plainChild()].filter(isAlive)) signal(pid, "SIGKILL");
	dir.remove();
});

test("SIGTERM to the runner stops its test files and every process they started, starts no other file, and ends it by the signal", async () => {
	// Not under this file's test runner (`run()` refuses to start files from a test file's process); in a process group
	// of its own, so that what is left of it can be found, and killed, afterwards.
	const { NODE_TEST_CONTEXT: _, ...env } = process.env;
	const runner = spawn(process.execPath, [driver], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
	const pid = /** @type {number} */ (runner.pid);
	let output = "";
	runner.stdout.on("data", (chunk) => (output += chunk));
	runner.stderr.on("data", (chunk) => (output += chunk));
	/** @type {Promise<{ code: number | null, sig: NodeJS.Signals | null }>} */
	const closed = new Promise((resolve) => runner.once("close", (code, sig) => resolve({ code, sig })));
	try {
		await waitUntil(() => standIns().length === 2 && plainChild().length === 1, {
			timeoutMs: STARTED_BOUND_MS,
			message: () => `both stand-ins and the plain child to start\n${output}`,
		});
		signal(pid, "SIGTERM");
		const ended = await within(closed, ENDED_BOUND_MS);
		assert.ok(ended !== null, `the runner did not end within ${ENDED_BOUND_MS} ms of SIGTERM\n${output}`);
		assert.deepEqual(ended, { code: null, sig: "SIGTERM" }, output);
		const left = [...standIns(), ...plainChild()].filter(isAlive);
		assert.deepEqual(left, [], `left running: ${left.join(", ")}\n${output}`);
		assert.deepEqual(groupMembers(pid), [], `left in the runner's process group\n${output}`);
		assert.equal(existsSync(laterFile), false, "a file started after the signal");
	} finally {
		signal(-pid, "SIGKILL");
	}
});
