// @ts-check
/**
 * @module
 * The e2e phase's runner (`npm run test:e2e`, scripts/test-e2e.mjs): test files in the order given, `concurrency` at
 * once, through `node:test`'s `run()` (one process each), reported with the spec reporter, and one `wrangler dev`
 * shared by the files that ask for it (test/e2e/lib/shared-dev.mjs), stopped at the end whatever happened.
 *
 * Each file has `fileTimeoutMs`, from its process's start to its exit: one still running then (a test that never
 * ends, or a process that never exits once its tests passed, for it left a connection open to the shared instance) is
 * sent SIGTERM and fails, named, "test timed out after …ms", and the run goes on. A file's own `wrangler dev` does not
 * outlive it (scripts/lib/wrangler-dev.mjs kills its instances on such a signal).
 */

import { finished } from "node:stream/promises";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { SHARED_DEV_ENV, startSharedDev } from "../../test/e2e/lib/shared-dev.mjs";

/**
 * @typedef {object} TestFilesRun
 * @property {string[]} files  absolute paths, started in this order
 * @property {number} concurrency  how many files run at once
 * @property {number} fileTimeoutMs  how long one file may run
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
	let failed = false;
	/** @type {Map<string, number>} */
	const testMs = new Map();
	/** @param {{ nesting: number, file?: string, details: { duration_ms: number } }} data */
	const timed = ({ nesting, file, details }) => {
		if (nesting === 0 && file !== undefined) testMs.set(file, (testMs.get(file) ?? 0) + details.duration_ms);
	};
	try {
		const tests = run({ files, concurrency, timeout: fileTimeoutMs });
		tests.on("test:pass", timed);
		tests.on("test:fail", (data) => {
			failed = true;
			timed(data);
		});
		const reported = tests.compose(new spec());
		reported.pipe(process.stdout);
		await finished(reported);
	} finally {
		await shared.stop();
	}
	return { failed, testMs };
}
