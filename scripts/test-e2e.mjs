#!/usr/bin/env node
// @ts-check
/**
 * @module
 * `npm run test:e2e`: every test/e2e file, E2E_CONCURRENCY at once (default 2), the longest first, through
 * `node:test`'s `run()` (scripts/lib/e2e-runner.mjs): the `node --test` command sorts its files by name whatever order
 * they are given in, and name order left the longest (start-scripts, about 160 s under load) among the last to start,
 * one worker busy with it while the other had nothing left. One `wrangler dev` is started for the whole run and shared
 * by the files that can share one (test/e2e/lib/shared-dev.mjs), instead of a start each. A file still running after
 * E2E_FILE_TIMEOUT_MS (default 10 minutes, more on a machine busier than load 17 on 2 cores as the file starts) fails, named, and the run goes on. Reports with the spec reporter; exits 1
 * if a test failed. Ctrl-C or a SIGTERM (CI's timeout) stops every file and every process they started, then ends the
 * run by that signal (scripts/lib/e2e-runner.mjs). One file alone: `node --test test/e2e/<file>.test.mjs`.
 */

import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { runTestFiles } from "./lib/e2e-runner.mjs";
import { underLoad } from "./lib/load.mjs";
import { PROJECT_ROOT } from "./lib/project.mjs";

const E2E_DIR = "test/e2e";
const CONCURRENCY_DEFAULT = 2;
/**
 * How long one file may run, from its process's start to its exit: twice the longest's time at load 15-19
 * (start-scripts, 294 s), so that only a file that hangs (a test that never ends, a process that never exits) meets it;
 * stretched above that load, as the files' own test bounds are (`underLoad`), by the load as each file starts, as the
 * file's own bounds read it as it starts.
 */
const FILE_TIMEOUT_MS_DEFAULT = 600_000;
/** The load FILE_TIMEOUT_MS_DEFAULT was set at (2 cores). */
const FILE_TIMEOUT_LOAD = 17;
/**
 * The longest files, longest first (seconds of their tests, one whole run at load 15-19 on 2 cores); every other file
 * follows, in name order. An old entry is harmless but refused, so the list stays true to the directory. Each run
 * ends with the LONGEST_SHOWN longest, measured so.
 */
const LONGEST_FIRST = [
	"start-scripts", // 294 s
	"docs", // 270: README.md's session and the docs', one suite
	"cli", // 259
	"crash", // 178 (its first test timed out in that run, at 120 s)
	"console", // 166
	"kafka-group-join", // 134
	"kafka-groups", // 132
	"tiered-crash", // 111
	"restart", // 101
	"console-anonymous", // 98
	"ports", // 75
	"kafka-gateway", // 67
	"kafka-broker-parity", // 63
].map((name) => `${E2E_DIR}/${name}.test.mjs`);
const LONGEST_SHOWN = 15;

const names = readdirSync(join(PROJECT_ROOT, E2E_DIR))
	.filter((name) => name.endsWith(".test.mjs"))
	.sort()
	.map((name) => `${E2E_DIR}/${name}`);
for (const file of LONGEST_FIRST) if (!names.includes(file)) throw new Error(`${file} is listed in LONGEST_FIRST but missing`);
const files = [...LONGEST_FIRST, ...names.filter((file) => !LONGEST_FIRST.includes(file))].map((file) => join(PROJECT_ROOT, file));
const concurrency = positiveInteger("E2E_CONCURRENCY", CONCURRENCY_DEFAULT);
const fixedTimeoutMs = process.env.E2E_FILE_TIMEOUT_MS === undefined ? null : positiveInteger("E2E_FILE_TIMEOUT_MS", 1);
const fileTimeoutMs = () => fixedTimeoutMs ?? underLoad(FILE_TIMEOUT_MS_DEFAULT, FILE_TIMEOUT_LOAD);

const { failed, testMs } = await runTestFiles({ files, concurrency, fileTimeoutMs });
if (failed) process.exitCode = 1;
const longest = [...testMs].sort(([, a], [, b]) => b - a).slice(0, LONGEST_SHOWN);
const seconds = longest.map(([file, ms]) => `${basename(file, ".test.mjs")} ${Math.round(ms / 1000)}`);
console.log(`# seconds of each file's tests, the longest first (LONGEST_FIRST's measure): ${seconds.join(", ")}`);

/**
 * The environment variable `name` as a positive integer, `fallback` when unset.
 * @param {string} name @param {number} fallback
 */
function positiveInteger(name, fallback) {
	const value = Number(process.env[name] ?? fallback);
	if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${process.env[name]}`);
	return value;
}
