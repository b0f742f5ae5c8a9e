// @ts-check
/**
 * `npm test` (scripts/test-all.mjs) sent SIGTERM, as CI's timeout or a `kill` sends it (Ctrl-C's SIGINT is handled
 * alike): it must pass the signal on to the suite under way and to everything it started, wait for them, start no
 * further suite, and end as the signal ends a process, leaving nothing running. Its `npm` here is a stand-in first on
 * the PATH: each script it is asked to run starts a child and never ends, as a hung vitest or e2e runner would.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { after, test } from "node:test";
import { groupMembers, isAlive, PROJECT_ROOT, signal, waitUntil, within } from "../../scripts/lib/index.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";

/** How long the stand-in suite takes to start its child, at load: a bound on a hang, not a measure. */
const STARTED_BOUND_MS = 60_000;
/** How long the run may take to end once signalled: its grace for the suites, at load. */
const ENDED_BOUND_MS = 60_000;

const dir = tempDir("test-all-signals");
const bin = join(dir.path, "bin");
mkdirSync(bin);
/** Each stand-in npm writes the script it was asked for, its PID and its child's here as it starts. */
const startsFile = join(dir.path, "starts");
writeFileSync(
	join(bin, "npm"),
	`#!${process.execPath}
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
appendFileSync(${JSON.stringify(startsFile)}, JSON.stringify({ script: process.argv.at(-1), pids: [process.pid, child.pid] }) + "\\n");
setInterval(() => {}, 1000);
`,
);
chmodSync(join(bin, "npm"), 0o755);

/** @returns {{ script: string, pids: number[] }[]} the stand-in suites started, in order */
const starts = () =>
	existsSync(startsFile)
		? readFileSync(startsFile, "utf8")
				.split("\n")
				.filter(Boolean)
				.map((line) => JSON.parse(line))
		: [];
const startedPids = () => starts().flatMap((s) => s.pids);

after(() => {
	for (const pid of startedPids().filter(isAlive)) signal(pid, "SIGKILL");
	dir.remove();
});

test("SIGTERM to npm test stops the suite under way and every process it started, starts no other suite, and ends it by the signal", async () => {
	// In a process group of its own, so that what is left of it can be found, and killed, afterwards.
	const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` };
	const run = spawn(process.execPath, [join(PROJECT_ROOT, "scripts/test-all.mjs")], {
		cwd: PROJECT_ROOT,
		env,
		detached: true,
		stdio: ["ignore", "pipe", "pipe"],
	});
	const pid = /** @type {number} */ (run.pid);
	let output = "";
	run.stdout.on("data", (chunk) => (output += chunk));
	run.stderr.on("data", (chunk) => (output += chunk));
	// Its exit, not its pipes' close: a suite left running holds the stdout it inherited.
	/** @type {Promise<{ code: number | null, sig: NodeJS.Signals | null }>} */
	const exited = new Promise((resolve) => run.once("exit", (code, sig) => resolve({ code, sig })));
	try {
		await waitUntil(() => starts().length === 1, {
			timeoutMs: STARTED_BOUND_MS,
			message: () => `the first suite to start\n${output}`,
		});
		signal(pid, "SIGTERM");
		const ended = await within(exited, ENDED_BOUND_MS);
		assert.ok(ended !== null, `npm test did not end within ${ENDED_BOUND_MS} ms of SIGTERM\n${output}`);
		assert.deepEqual(ended, { code: null, sig: "SIGTERM" }, output);
		const left = startedPids().filter(isAlive);
		assert.deepEqual(left, [], `left running: ${left.join(", ")}\n${output}`);
		assert.deepEqual(groupMembers(pid), [], `left in npm test's process group\n${output}`);
		assert.deepEqual(
			starts().map((s) => s.script),
			["types:check"],
			"no suite starts after the signal",
		);
	} finally {
		signal(-pid, "SIGKILL");
	}
});
