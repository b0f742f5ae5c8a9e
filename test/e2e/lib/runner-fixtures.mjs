// @ts-check
/**
 * @module
 * The e2e runner's own tests (test/structure/e2e-runner*.test.mjs) drive it over fixture test files of their own,
 * through a driver script run in a process of its own (`run()` refuses to start files from a test file's process):
 * one way of writing both.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../../../scripts/lib/index.mjs";

/**
 * A project file's URL as a string literal, for a fixture's `import … from`.
 * @param {string} path from the project's root
 */
export function moduleUrl(path) {
	return JSON.stringify(pathToFileURL(join(PROJECT_ROOT, path)).href);
}

/**
 * Writes `fixtures` (file name → source) into `dir` and a driver, `run.mjs`, that imports `runTestFiles` and then runs
 * `run(paths)`'s source, given the fixtures' paths as a JSON array literal.
 * @param {string} dir
 * @param {Record<string, string>} fixtures
 * @param {(paths: string) => string} run
 * @returns {{ files: string[], driver: string }}
 */
export function writeRunnerFixtures(dir, fixtures, run) {
	const files = Object.keys(fixtures).map((name) => join(dir, name));
	for (const [name, text] of Object.entries(fixtures)) writeFileSync(join(dir, name), text);
	const driver = join(dir, "run.mjs");
	writeFileSync(driver, `import { runTestFiles } from ${moduleUrl("scripts/lib/e2e-runner.mjs")};\n${run(JSON.stringify(files))}\n`);
	return { files, driver };
}
