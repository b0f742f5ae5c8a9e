// @ts-check
/**
 * The Kafka gateway's ACL enums (gateway/handlers/acls.js: plain JS, which cannot import src/) against the Worker's
 * (src/http/compat/confluent/acls.ts), read as text. The gateway turns a DescribeAcls filter's wire values into these
 * names for the Worker's `GET …/acls` and its bindings' names back into wire values by their place: a name on one
 * side only would be refused by the Worker, or answered to a Kafka client as another value.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GATEWAY = readFileSync(join(ROOT, "gateway", "handlers", "acls.js"), "utf8");
const WORKER = readFileSync(join(ROOT, "src", "http", "compat", "confluent", "acls.ts"), "utf8");

/**
 * The strings of the array constant `name` in `source` (`const NAME = ["A", "B", …]`, over lines or not).
 * @param {string} source
 * @param {string} name
 * @param {string} file
 */
function names(source, name, file) {
	const match = new RegExp(`^const ${name} = \\[([^\\]]*)\\]`, "m").exec(source);
	assert.ok(match?.[1] !== undefined, `${file} has no array ${name}`);
	return [...match[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}

test("the gateway's ACL enums are the Worker's, in Kafka's wire order", () => {
	/** @type {[string, string][]} the gateway's constant, the Worker's */
	const mirrors = [
		["RESOURCE_TYPES", "RESOURCE_TYPES"],
		["PATTERN_TYPES", "PATTERN_TYPES"],
		["OPERATIONS", "KAFKA_OPERATIONS_ALL"],
		["PERMISSIONS", "PERMISSIONS"],
	];
	for (const [mine, theirs] of mirrors) {
		const gateway = names(GATEWAY, mine, "gateway/handlers/acls.js");
		assert.ok(gateway.length > 2, `gateway/handlers/acls.js ${mine} read`);
		assert.deepEqual(gateway, names(WORKER, theirs, "src/http/compat/confluent/acls.ts"), `gateway/handlers/acls.js ${mine}`);
	}
});
