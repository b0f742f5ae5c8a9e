// @ts-check
/**
 * `.ci/run` runs exactly the README's commands on a clean clone: the install and the test command of its "Two commands"
 * block, and no other npm command (apt for the Debian packages the tests drive is its own business). A README that
 * names another command, or a CI that runs one more, would let the two drift: a newcomer's `npm test` would not be
 * what CI proved.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The npm commands of the README's "Two commands" block (its first sh block after that heading), each `a && b` split,
 * comments dropped.
 * @param {string} readme
 */
function readmeCommands(readme) {
	const section = readme.split(/^## Two commands$/m)[1];
	assert.ok(section !== undefined, 'README.md has no "## Two commands" section');
	const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
	assert.ok(block !== undefined, "the Two commands section has no sh block");
	return block
		.split("\n")
		.map((line) => line.replace(/#.*$/, "").trim())
		.flatMap((line) => line.split("&&").map((part) => part.trim()))
		.filter((command) => command.startsWith("npm "));
}

/**
 * The npm commands `.ci/run` runs: its lines that are an npm command, comments and `echo`ed text aside.
 * @param {string} script
 */
function ciCommands(script) {
	return script
		.split("\n")
		.map((line) => line.replace(/#.*$/, "").trim())
		.filter((line) => /^npm\s/.test(line));
}

test("the README's two commands are an install, a start and a test", () => {
	assert.deepEqual(readmeCommands(readFileSync(join(ROOT, "README.md"), "utf8")), ["npm install", "npm start", "npm test"]);
});

test(".ci/run runs the README's install and test commands, in that order, and no other npm command", () => {
	const readme = readmeCommands(readFileSync(join(ROOT, "README.md"), "utf8")).filter((command) => command !== "npm start");
	assert.deepEqual(ciCommands(readFileSync(join(ROOT, ".ci", "run"), "utf8")), readme);
});

test("a CI script with one more npm command, or one missing, is told apart", () => {
	const readme = ["npm install", "npm test"];
	assert.notDeepEqual(ciCommands("npm install\nnpm run build\nnpm test\n"), readme);
	assert.notDeepEqual(ciCommands("npm ci\nnpm test\n"), readme);
	assert.deepEqual(ciCommands('# npm run lint\necho "npm test took 1s"\nnpm install\nnpm test\n'), readme);
});
