// @ts-check
/**
 * The console's copy of a wire shape it cannot import: `Lane` (console/src/api.ts) is the Worker's `LaneView`
 * (src/webhook/types.ts), whose module imports the Workers runtime's types, which the console's build does not have.
 * Read as text, comments and white space aside: a field changed on one side only would show the console's webhook
 * page a lane the Worker no longer sends.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The body of `export interface <name> { … }` in `file`, its comments and white space taken out.
 * @param {string} file
 * @param {string} name
 */
function interfaceBody(file, name) {
	const source = readFileSync(join(ROOT, file), "utf8");
	const match = new RegExp(`^export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`, "m").exec(source);
	assert.ok(match?.[1] !== undefined, `${file} has no interface ${name}`);
	return match[1]
		.replace(/\/\*[\s\S]*?\*\//g, "")
		.replace(/\/\/.*$/gm, "")
		.replace(/\s+/g, "");
}

test("the console's Lane is the Worker's LaneView, field for field", () => {
	const page = interfaceBody("console/src/api.ts", "Lane");
	assert.match(page, /next_offset:number/);
	assert.equal(page, interfaceBody("src/webhook/types.ts", "LaneView"));
});
