#!/usr/bin/env node
// @ts-check
/**
 * @module
 * `npm test`: every check and suite of package.json, as the one `&&` chain did, but the light suites beside the
 * heavy one, on a 2-core machine. In order:
 *
 * 1. The static checks and the build, one after another (`FIRST`): cheap, and the first failure stops the run before
 *    anything long starts.
 * 2. `vitest run` (the tests in workerd: about two cores' work for minutes) with, beside it, one after another, the
 *    suites that mostly wait (`BESIDE_UNIT`): structure (child processes, stand-ins), the Kafka gateway's (against
 *    stand-ins) and Durable Streams' conformance (its long polls against one `wrangler dev`). Their output is printed
 *    whole as each ends, so it never interleaves with vitest's.
 * 3. The e2e phase (`LAST`) alone, once all of those passed: the heaviest after vitest, and its hang bounds follow the
 *    load it reads as each file starts (scripts/lib/load.mjs), which another suite beside it would raise after that.
 *
 * A failure in a step lets that step's other suites end, then stops the run (exit 1); a suite still running after
 * SUITE_TIMEOUT_MS is stopped and fails so. Ctrl-C or a SIGTERM (CI's timeout) stops the suites under way and every
 * process they started, then ends the run by that signal (scripts/lib/suite.mjs, `endOnSignals`). Each suite's wall
 * time is printed at the end, the measure of where `npm test`'s time goes. One suite alone: `npm run <script>`.
 */

import { endOnSignals, runSuite } from "./lib/suite.mjs";

const FIRST = ["types:check", "build", "typecheck:rest", "lint"];
const UNIT = "test:unit";
const BESIDE_UNIT = ["test:structure", "test:gateway", "test:conformance"];
const LAST = ["test:e2e"];
/**
 * How long one suite's whole run may take before it is stopped, with every process it started, and reported failed:
 * each suite bounds its tests (and e2e its files), but one that hangs past those (a process that never exits, a wait
 * nothing bounds) would hold the run until CI's own timeout (90 minutes), with no summary. Generous: the longest,
 * vitest, takes about 12 minutes at load 20; the suites beside it about one each.
 */
const SUITE_TIMEOUT_MS = 30 * 60_000;

/** @type {{ script: string, seconds: number, ok: boolean, beside?: boolean }[]} */
const timed = [];

/**
 * Runs `npm run <script>` (scripts/lib/suite.mjs): its output straight through, or kept and printed whole once it ends
 * (`kept`); stopped whole past SUITE_TIMEOUT_MS.
 * @param {string} script @param {{ kept?: boolean }} [options]
 * @returns {Promise<boolean>} whether it passed
 */
async function run(script, { kept = false } = {}) {
	const { ok, seconds } = await runSuite({
		name: `npm run ${script}`,
		command: "npm",
		args: ["run", "-s", script],
		kept,
		timeoutMs: SUITE_TIMEOUT_MS,
	});
	timed.push({ script, seconds, ok, beside: kept });
	return ok;
}

/** Runs `scripts` one after another, stopping at the first that fails. @param {string[]} scripts @param {{ kept?: boolean }} [options] */
async function inTurn(scripts, options) {
	for (const script of scripts) if (!(await run(script, options))) return false;
	return true;
}

function summary() {
	const lines = timed.map(
		({ script, seconds, ok, beside }) =>
			`#   ${script.padEnd(17)} ${seconds.toFixed(1).padStart(6)} s${beside ? " (beside vitest)" : ""}${ok ? "" : " FAILED"}`,
	);
	process.stdout.write(`\n# npm test: each suite's wall time\n${lines.join("\n")}\n`);
}

endOnSignals();
const passed =
	(await inTurn(FIRST)) && (await Promise.all([run(UNIT), inTurn(BESIDE_UNIT, { kept: true })])).every(Boolean) && (await inTurn(LAST));
summary();
process.exitCode = passed ? 0 : 1;
