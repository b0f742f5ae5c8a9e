// @ts-check
/**
 * `npm test`'s suites (scripts/test-all.mjs, through scripts/lib/suite.mjs) each have a bound on their whole run: one
 * that hangs past it is stopped with every process it started, and reported as failed, naming the bound, so the run
 * goes on to its summary instead of waiting for CI's own timeout. The suite here is a node process whose child hangs
 * with it, run with a bound of a few seconds.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { isAlive, signal, waitUntil, within } from "../../scripts/lib/index.mjs";
import { runSuite } from "../../scripts/lib/suite.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";

/** The fixture suite's bound: long enough for it to start its child, at load, before it is met. */
const SUITE_BOUND_MS = 8_000;
/** How long this test waits for the run to end: the bound, a stop's grace, two process starts at load. */
const RUN_BOUND_MS = 45_000;

const dir = tempDir("suite-bound");
const pidsFile = join(dir.path, "pids");
const suite = join(dir.path, "hangs.mjs");
writeFileSync(
	suite,
	`import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
writeFileSync(${JSON.stringify(pidsFile)}, process.pid + "\\n" + child.pid + "\\n");
console.log("started");
setInterval(() => {}, 1000);
`,
);
/** A suite that ends at once, leaving a child that holds the output it inherited (its stdout, kept by the run). */
const leaks = join(dir.path, "leaks.mjs");
const leakedFile = join(dir.path, "leaked");
writeFileSync(
	leaks,
	`import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "inherit" });
writeFileSync(${JSON.stringify(leakedFile)}, String(child.pid));
child.unref();
console.log("leaving");
`,
);
const leaked = () => (existsSync(leakedFile) ? [Number(readFileSync(leakedFile, "utf8"))] : []);
const started = () => (existsSync(pidsFile) ? readFileSync(pidsFile, "utf8").split("\n").filter(Boolean).map(Number) : []);

after(() => {
	for (const pid of [...started(), ...leaked()].filter(isAlive)) signal(pid, "SIGKILL");
	dir.remove();
});

test("a suite still running past its bound is stopped with its child, and reported failed with the bound named", async () => {
	let written = "";
	const out = new Writable({
		write(chunk, _encoding, done) {
			written += chunk;
			done();
		},
	});
	const run = runSuite({ name: "hangs", command: process.execPath, args: [suite], kept: true, timeoutMs: SUITE_BOUND_MS, out });
	const result = await within(run, RUN_BOUND_MS);
	try {
		assert.ok(result !== null, `the suite's run did not end within ${RUN_BOUND_MS} ms (pids ${started().join(", ")})`);
		assert.deepEqual({ ok: result.ok, timedOut: result.timedOut }, { ok: false, timedOut: true });
		assert.match(written, /> hangs \(beside vitest\)\nstarted\n/, written);
		assert.match(written, /> hangs: stopped after [\d.]+ s: over its bound of 8 s \(SUITE_TIMEOUT_MS\)\n$/, written);
		assert.equal(started().length, 2, "the suite and its child wrote their PIDs");
		await waitUntil(() => started().every((pid) => !isAlive(pid)), {
			timeoutMs: 5_000,
			message: () => `the suite and its child to be gone (alive: ${started().filter(isAlive).join(", ")})`,
		});
	} finally {
		for (const pid of started().filter(isAlive)) signal(pid, "SIGKILL");
	}
});

test("a suite that exits leaving a process that holds its kept output ends all the same, reported failed, saying so", async () => {
	let written = "";
	const out = new Writable({
		write(chunk, _encoding, done) {
			written += chunk;
			done();
		},
	});
	const run = runSuite({ name: "leaks", command: process.execPath, args: [leaks], kept: true, timeoutMs: SUITE_BOUND_MS, out });
	const result = await within(run, RUN_BOUND_MS);
	try {
		assert.ok(result !== null, `the suite's run did not end within ${RUN_BOUND_MS} ms (left: ${leaked().join(", ")})`);
		assert.deepEqual({ ok: result.ok, timedOut: result.timedOut }, { ok: false, timedOut: false });
		assert.match(written, /> leaks \(beside vitest\)\nleaving\n/, written);
		assert.match(written, /> leaks: exited 0, but left a process holding its output after [\d.]+ s\n$/, written);
	} finally {
		for (const pid of leaked().filter(isAlive)) signal(pid, "SIGKILL");
	}
});

test("a suite whose command cannot start is reported failed, saying why, and the run goes on", async () => {
	let written = "";
	const out = new Writable({
		write(chunk, _encoding, done) {
			written += chunk;
			done();
		},
	});
	const missing = join(dir.path, "no-such-command");
	const result = await runSuite({ name: "missing", command: missing, args: [], kept: true, timeoutMs: SUITE_BOUND_MS, out });
	assert.deepEqual({ ok: result.ok, timedOut: result.timedOut }, { ok: false, timedOut: false });
	assert.match(written, /> missing: could not start \(spawn .*no-such-command ENOENT\)\n$/, written);
});
