// @ts-check
/**
 * @module
 * The e2e phase's runner (`npm run test:e2e`, scripts/test-e2e.mjs): test files in the order given, `concurrency` at
 * once, through `node:test`'s `run()` (one process each), reported with the spec reporter, and one `wrangler dev`
 * shared by the files that ask for it (test/e2e/lib/shared-dev.mjs), stopped at the end whatever happened.
 *
 * Each file has the time `fileTimeoutMs()` answers as it starts (a bound that follows the load is read then, not at
 * the run's start), from its process's start to its exit: one still running then (a test that never ends, or a process
 * that never exits once its tests passed, for it left a connection open to the shared instance) is sent SIGTERM and
 * fails, named, "test timed out after …ms", and the run goes on. A file's own `wrangler dev` does not outlive it
 * (scripts/lib/wrangler-dev.mjs kills its instances on such a signal). Each file is a `run()` of its own, for its own
 * timeout; its report is printed whole once it ends, and the run's totals at the end.
 *
 * SIGINT, SIGTERM or SIGHUP to the runner (Ctrl-C, CI's timeout, a closed terminal) is passed on to every process under
 * it (`stopTree`): the test files, which stop their own instances on it, their other children (a doc's bash session, a
 * Kafka gateway), in the runner's process group or not, and the shared instance. No further file starts; once all of
 * them are gone (SIGKILL after ENDING_GRACE_MS), the runner ends as the signal would have ended it, and nothing is left.
 */

import { run as runFiles } from "node:test";
import { spec } from "node:test/reporters";
import { SHARED_DEV_ENV, startSharedDev } from "../../test/e2e/lib/shared-dev.mjs";
import { stopTree } from "./process-tree.mjs";

/** The signals that end the run, passed on to everything under it. */
const ENDING_SIGNALS = /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"]);
/** How long the test files and their processes have to end on the signal before what is left is SIGKILLed. */
const ENDING_GRACE_MS = 15_000;

/**
 * @typedef {object} TestFilesRun
 * @property {string[]} files  absolute paths, started in this order
 * @property {number} concurrency  how many files run at once
 * @property {() => number} fileTimeoutMs  how long a file may run, asked as it starts
 * @property {{ bin?: string }} [sharedDev]  the shared instance's wrangler executable (a stand-in, for the runner's tests)
 */

/**
 * Runs `files`; whether a test failed, and the milliseconds of each file's top-level tests, by path (what makes a file
 * one of the longest: scripts/test-e2e.mjs starts those first).
 * @param {TestFilesRun} options
 * @returns {Promise<{ failed: boolean, testMs: Map<string, number> }>}
 */
export async function runTestFiles({ files, concurrency, fileTimeoutMs, sharedDev = {} }) {
	const shared = startSharedDev(sharedDev);
	// The test files' processes inherit this process's environment as they start.
	process.env[SHARED_DEV_ENV] = shared.env;
	const cancel = new AbortController();
	const stopOnSignal = endOnSignals(cancel, shared);
	/** @type {RunState} */
	const run = { failed: new Set(), testMs: new Map(), totals: new Map() };
	const waiting = [...files];
	const startedMs = performance.now();
	try {
		const slot = async () => {
			for (let file = waiting.shift(); file !== undefined && !cancel.signal.aborted; file = waiting.shift()) {
				process.stdout.write(await runFile(file, fileTimeoutMs(), cancel.signal, run));
			}
		};
		await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, slot));
		run.totals.set("duration_ms", performance.now() - startedMs);
		// Each file's report lists its own failures; a run's failing files are named again after them all.
		if (run.failed.size > 0) process.stdout.write(`\n✖ failing files: ${[...run.failed].join(", ")}\n`);
		for (const [name, value] of run.totals) process.stdout.write(`ℹ ${name} ${Math.round(value)}\n`);
	} finally {
		stopOnSignal.remove();
		await shared.stop();
	}
	return { failed: run.failed.size > 0, testMs: run.testMs };
}

/**
 * @typedef {object} RunState
 * @property {Set<string>} failed  the files a test failed in
 * @property {Map<string, number>} testMs  the milliseconds of each file's top-level tests
 * @property {Map<string, number>} totals  the files' totals (tests, pass, fail…), added up
 */

/**
 * Runs one file with its `timeoutMs`; its spec report. Its top-level tests' times go to `run.testMs`, a failure names
 * it in `run.failed`, and its totals (the root's diagnostics: tests, pass, fail…) are added to `run.totals` instead of
 * reported, so the run's are reported once.
 * @param {string} file @param {number} timeoutMs @param {AbortSignal} signal
 * @param {RunState} run
 */
async function runFile(file, timeoutMs, signal, run) {
	const tests = runFiles({ files: [file], timeout: timeoutMs, signal });
	/** @param {{ nesting: number, file?: string, details: { duration_ms: number } }} data */
	const timed = ({ nesting, file, details }) => {
		if (nesting === 0 && file !== undefined) run.testMs.set(file, (run.testMs.get(file) ?? 0) + details.duration_ms);
	};
	tests.on("test:pass", timed);
	tests.on("test:fail", (data) => {
		run.failed.add(file);
		timed(data);
	});
	/** @param {{ type: string, data: { nesting: number, message?: string } }} event */
	const kept = ({ type, data }) => {
		if (type !== "test:diagnostic" || data.nesting !== 0) return true;
		const [, name, value] = /^(\w+) ([\d.]+)$/.exec(data.message ?? "") ?? [];
		if (name !== undefined && name !== "duration_ms") run.totals.set(name, (run.totals.get(name) ?? 0) + Number(value));
		return false;
	};
	let report = "";
	for await (const chunk of tests.filter(kept).compose(new spec())) report += chunk;
	return report;
}

/**
 * From now until `remove()`, an ending signal stops the run: every process under this one is sent it (read before the
 * run is cancelled, whose own SIGTERM to the test files would leave their children to be reparented out of reach), no
 * further file starts (`cancel`), the shared instance is stopped once all are gone, and the signal is raised again to
 * end this process as it would have. A second signal meanwhile changes nothing.
 * @param {AbortController} cancel  the run's
 * @param {{ stop: () => Promise<void> }} shared
 */
function endOnSignals(cancel, shared) {
	let ending = false;
	/** @param {NodeJS.Signals} sig */
	const end = async (sig) => {
		if (ending) return;
		ending = true;
		process.stderr.write(`\n# ${sig}: stopping the test files and every process they started\n`);
		const stopped = stopTree(process.pid, sig, ENDING_GRACE_MS);
		cancel.abort();
		await stopped.catch(() => {});
		await shared.stop().catch(() => {});
		for (const each of ENDING_SIGNALS) process.removeAllListeners(each);
		process.kill(process.pid, sig);
	};
	for (const sig of ENDING_SIGNALS) process.on(sig, end);
	return {
		remove() {
			if (!ending) for (const sig of ENDING_SIGNALS) process.removeListener(sig, end);
		},
	};
}
