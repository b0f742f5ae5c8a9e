// @ts-check
/**
 * @module
 * One suite of `npm test` (scripts/test-all.mjs), run as a child process in the project's root, its output passed
 * straight through or kept and printed whole once it ends, and its wall time measured. A suite still running after its
 * `timeoutMs` (one that hangs: its own per-test limits bound each test, nothing bounded the whole run) is stopped whole,
 * with every process it started (`stopTree`), and reported as failed, named, with the bound it exceeded; one whose kept
 * output is still held open OUTPUT_GRACE_MS after it exited (by a process it left running) ends then, failed so.
 * SIGINT, SIGTERM or SIGHUP to the run (Ctrl-C, CI's timeout, a closed terminal) is passed on to every process under it
 * (`endOnSignals`): no further suite starts, and once all are gone the run ends as the signal would have ended it.
 */

import { spawn } from "node:child_process";
import { stopTree } from "./process-tree.mjs";
import { PROJECT_ROOT } from "./project.mjs";

/** How long a suite stopped for its bound has to end on SIGTERM before what is left of it is SIGKILLed. */
const STOP_GRACE_MS = 10_000;
/**
 * How long a kept suite's output may stay open once its process exited: what still holds it then is a process the
 * suite left running (reparented, out of `stopTree`'s reach), which would otherwise hold the run for good.
 */
const OUTPUT_GRACE_MS = 5_000;
/** The signals that end the run, passed on to everything under it. */
const ENDING_SIGNALS = /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"]);
/**
 * How long the suites have to end on such a signal before what is left of them is SIGKILLed: more than the e2e
 * runner's own grace for its files (scripts/lib/e2e-runner.mjs), so that it ends them itself.
 */
const ENDING_GRACE_MS = 20_000;

/** The ending signal this process got (`endOnSignals`), once it got one: no suite starts after it. */
let endingBy = /** @type {NodeJS.Signals | null} */ (null);

/**
 * From now on an ending signal ends the run: every process under this one (the suites under way and all they started)
 * is sent it (`stopTree`, which reads the tree before anything dies: a suite ending first would leave its children
 * reparented out of reach), no further suite starts (`runSuite` answers failed at once), and once all are gone (SIGKILL
 * after ENDING_GRACE_MS) the signal is raised again to end this process as it would have. A second signal meanwhile
 * changes nothing. Without this, the signal ended this process alone, and a suite (vitest, the e2e runner, their
 * workerd and wrangler processes) ran on.
 */
export function endOnSignals() {
	/** @param {NodeJS.Signals} sig */
	const end = async (sig) => {
		if (endingBy !== null) return;
		endingBy = sig;
		process.stderr.write(`\n# ${sig}: stopping the suites and every process they started\n`);
		await stopTree(process.pid, sig, ENDING_GRACE_MS).catch(() => {});
		for (const each of ENDING_SIGNALS) process.removeAllListeners(each);
		process.kill(process.pid, sig);
	};
	for (const sig of ENDING_SIGNALS) process.on(sig, end);
}

/**
 * @typedef {object} SuiteRun
 * @property {string} name  how its lines name it ("npm run test:gateway")
 * @property {string} command
 * @property {string[]} args
 * @property {boolean} [kept]  keep its output and print it whole once it ends (a suite beside another)
 * @property {number} timeoutMs  how long its whole run may take
 * @property {NodeJS.WritableStream} [out]  where its kept output and the closing line go (default stdout)
 */

/**
 * Runs one suite; resolves once it ended (or was stopped for its bound and is gone), with whether it passed, its wall
 * time and whether it was stopped for its bound.
 * @param {SuiteRun} suite
 * @returns {Promise<{ ok: boolean, seconds: number, timedOut: boolean }>}
 */
export function runSuite({ name, command, args, kept = false, timeoutMs, out = process.stdout }) {
	if (endingBy !== null) return Promise.resolve({ ok: false, seconds: 0, timedOut: false });
	const started = Date.now();
	const child = spawn(command, args, {
		cwd: PROJECT_ROOT,
		stdio: ["ignore", kept ? "pipe" : "inherit", kept ? "pipe" : "inherit"],
	});
	/** @type {Buffer[]} */
	const output = [];
	child.stdout?.on("data", (chunk) => output.push(chunk));
	child.stderr?.on("data", (chunk) => output.push(chunk));
	let timedOut = false;
	/** @type {Promise<unknown>} */
	let stopped = Promise.resolve();
	const bound = setTimeout(() => {
		timedOut = true;
		if (child.pid !== undefined) stopped = stopTree(child.pid, "SIGTERM", STOP_GRACE_MS).catch(() => {});
	}, timeoutMs);
	// A command that cannot start (ENOENT) is an 'error' event, then 'close': unheard, the event would end the whole run.
	/** @type {string | null} */
	let startFailure = null;
	child.once("error", (error) => {
		startFailure = error.message;
	});
	let heldOpen = false;
	/** @type {NodeJS.Timeout | undefined} */
	let held;
	child.once("exit", () => {
		held = setTimeout(() => {
			heldOpen = true;
			child.stdout?.destroy();
			child.stderr?.destroy();
		}, OUTPUT_GRACE_MS);
	});
	return new Promise((resolve) => {
		child.once("close", async (code, signal) => {
			clearTimeout(bound);
			clearTimeout(held);
			await stopped;
			const ok = code === 0 && !timedOut && !heldOpen;
			const seconds = (Date.now() - started) / 1000;
			if (kept) {
				out.write(`\n> ${name} (beside vitest)\n`);
				out.write(Buffer.concat(output));
			}
			const failure = timedOut
				? `stopped after ${seconds.toFixed(1)} s: over its bound of ${timeoutMs / 1000} s (SUITE_TIMEOUT_MS)`
				: startFailure !== null
					? `could not start (${startFailure})`
					: heldOpen
						? `${signal ?? `exited ${code}`}, but left a process holding its output after ${seconds.toFixed(1)} s`
						: `failed (${signal ?? `exit ${code}`}) in ${seconds.toFixed(1)} s`;
			out.write(`\n> ${name}: ${ok ? `passed in ${seconds.toFixed(1)} s` : failure}\n`);
			resolve({ ok, seconds, timedOut });
		});
	});
}
