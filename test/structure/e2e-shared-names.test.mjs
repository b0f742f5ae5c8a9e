// @ts-check
/**
 * The e2e files that share one `wrangler dev` under `npm run test:e2e` (test/e2e/lib/shared-dev.mjs: those that ask
 * for `plainWranglerDev`, and every Kafka file through `kafkaE2eSetup`) must not name the same topic or group: two
 * files creating one topic would meet a 409, two committing in one group would move each other's offsets. This reads
 * the names as these files spell them (a topic created, produced to or read, a group joined or described, a key
 * created) and fails on a name two sharers write. A name built at run time is not seen; a sharer should not build one
 * another could.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PROJECT_ROOT } from "../../scripts/lib/index.mjs";

const E2E_DIR = join(PROJECT_ROOT, "test", "e2e");
/** How a sharer asks for the shared instance. */
const SHARER = /\b(plainWranglerDev|kafkaE2eSetup)\(/;
const NAME = `"([A-Za-z0-9._-]+)"`;
/** Where these files write a topic's or a group's name. */
const NAMED = [
	String.raw`createTopic\(${NAME}`,
	String.raw`\b(?:topic|topic_name|groupId|consumerGroupId|group)\s*[:=]\s*${NAME}`,
	String.raw`\bconst (?:topic|group|groupId)\s*=\s*${NAME}`,
	String.raw`\bname: ${NAME}, partitions`,
	// A key's: console-quotas finds its keys' rows by name on the console's keys page, which lists every sharer's keys.
	String.raw`\bname: ${NAME},\s*acl\b`,
	String.raw`\btopics: \[${NAME}`,
	`"-[tG]", ${NAME}`,
	String.raw`startMember\([^,]+, ${NAME}`,
	`/(?:v1/groups|v1/topics|consumer-groups|clusters/tributary/topics)/([A-Za-z0-9._-]+)`,
].map((source) => new RegExp(source, "g"));

/** @param {string} text */
function namesIn(text) {
	const names = new Set();
	for (const pattern of NAMED) for (const match of text.matchAll(pattern)) names.add(match[1] ?? "");
	names.delete("");
	return names;
}

test("the e2e files that share a wrangler dev name no topic or group in common", () => {
	const sharers = readdirSync(E2E_DIR)
		.filter((name) => name.endsWith(".test.mjs"))
		.map((name) => ({ name, text: readFileSync(join(E2E_DIR, name), "utf8") }))
		.filter(({ text }) => SHARER.test(text));
	assert.ok(sharers.length >= 10, `found ${sharers.length} sharers`);
	/** @type {Map<string, string[]>} */
	const byName = new Map();
	for (const { name, text } of sharers) {
		for (const named of namesIn(text)) byName.set(named, [...(byName.get(named) ?? []), name]);
	}
	const shared = [...byName].filter(([, files]) => files.length > 1).map(([named, files]) => `${named}: ${files.join(", ")}`);
	assert.deepEqual(shared, []);
});

test("the names are read as the sharers spell them", () => {
	const text = [
		'await setup.api.createTopic("a", 1);',
		'const topic = "b";',
		'consumer.subscribe({ topic: "c" });',
		'await kcat(["-t", "d", "-G", "e"]);',
		'await api.expect(200, "GET", "/v1/groups/f");',
		'startMember(gateways[0], "g", topic, "a");',
		'{ name: "h", partitions: 1 }',
		'{ name: "i", acl: [] }',
	].join("\n");
	assert.deepEqual([...namesIn(text)].sort(), ["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
});
