// @ts-check
/**
 * The Kafka gateway's copies of Tributary's limits (gateway/limits.js: plain JS, which cannot import src/) against
 * the originals in src/shared/limits.ts, read as text: a limit changed on one side only would have the gateway
 * clamp to, or refuse at, a bound the Worker no longer has.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as gateway from "../../gateway/limits.js";
import { TOPIC_CONFIG_DEFAULTS } from "../../gateway/topic-config.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SHARED_LIMITS = readFileSync(join(ROOT, "src", "shared", "limits.ts"), "utf8");
const TOPIC_CONFIG = readFileSync(join(ROOT, "src", "shared", "topic-config.ts"), "utf8");

/**
 * A numeric constant of src/shared/limits.ts: its initialiser, digits, `_` and `*` only, evaluated.
 * @param {string} name
 */
function shared(name) {
	const match = new RegExp(`^export const ${name} = ([0-9_ *]+);`, "m").exec(SHARED_LIMITS);
	assert.ok(match?.[1] !== undefined, `src/shared/limits.ts has no numeric ${name}`);
	return match[1]
		.split("*")
		.map((factor) => Number(factor.trim().replaceAll("_", "")))
		.reduce((product, factor) => product * factor, 1);
}

test("every limit the gateway mirrors equals Tributary's", () => {
	/** @type {[string, number, number][]} gateway name, its value, Tributary's */
	const mirrors = [
		["FETCH_WAIT_MS_MAX", gateway.FETCH_WAIT_MS_MAX, shared("FETCH_WAIT_MS_MAX")],
		["FETCH_RECORDS_MAX", gateway.FETCH_RECORDS_MAX, shared("FETCH_RECORDS_MAX")],
		["FETCH_BYTES_MAX", gateway.FETCH_BYTES_MAX, shared("FETCH_BYTES_MAX")],
		["PRODUCE_RECORDS_MAX", gateway.PRODUCE_RECORDS_MAX, shared("PRODUCE_RECORDS_MAX")],
		["COMMIT_METADATA_BYTES_MAX", gateway.COMMIT_METADATA_BYTES_MAX, shared("COMMIT_METADATA_BYTES_MAX")],
		["TIMESTAMP_MS_MAX", gateway.TIMESTAMP_MS_MAX, shared("TIMESTAMP_MS_MAX")],
		["MEMBER_ID_LENGTH_MAX", gateway.MEMBER_ID_LENGTH_MAX, shared("MEMBER_ID_LENGTH_MAX")],
		["SESSION_TIMEOUT_MS_MIN", gateway.SESSION_TIMEOUT_MS_MIN, shared("SESSION_TIMEOUT_MS_MIN")],
		["SESSION_TIMEOUT_MS_MAX", gateway.SESSION_TIMEOUT_MS_MAX, shared("SESSION_TIMEOUT_MS_MAX")],
		["TOPIC_PARTITIONS_MAX", gateway.TOPIC_PARTITIONS_MAX, shared("PARTITIONS_MAX")],
		["TOPIC_NAME_LENGTH_MAX", gateway.TOPIC_NAME_LENGTH_MAX, shared("TOPIC_NAME_LENGTH_MAX")],
		["TOPIC_PAGE_LIMIT", gateway.TOPIC_PAGE_LIMIT, shared("LIST_PAGE_LIMIT_MAX")],
		["TOPIC_PAGES_MAX", gateway.TOPIC_PAGES_MAX, Math.ceil(shared("TOPICS_MAX") / shared("LIST_PAGE_LIMIT_MAX")) + 1],
	];
	for (const [name, mine, theirs] of mirrors) assert.equal(mine, theirs, `gateway/limits.js ${name}`);
});

/**
 * An initialiser of src/shared/topic-config.ts's DEFAULT_TOPIC_CONFIG: a string, a boolean, a product of integers,
 * Number.MAX_SAFE_INTEGER, or a constant of topic-config.ts or limits.ts holding one of those.
 * @param {string} text
 * @returns {string | number | boolean}
 */
function initialiser(text) {
	if (/^"[^"]*"$/.test(text)) return text.slice(1, -1);
	if (text === "true" || text === "false") return text === "true";
	if (text === "Number.MAX_SAFE_INTEGER") return Number.MAX_SAFE_INTEGER;
	if (/^-?[0-9_ *]+$/.test(text))
		return text
			.split("*")
			.map((factor) => Number(factor.trim().replaceAll("_", "")))
			.reduce((product, factor) => product * factor, 1);
	const constant = new RegExp(`^export const ${text}(?:: \\w+)? = (.+);`, "m").exec(TOPIC_CONFIG + SHARED_LIMITS);
	assert.ok(constant?.[1] !== undefined, `no constant ${text} in src/shared/topic-config.ts or limits.ts`);
	return initialiser(constant[1].trim());
}

test("the gateway's topic config defaults (a CreateTopics dry run's configs) equal Tributary's DEFAULT_TOPIC_CONFIG", () => {
	const body = /export const DEFAULT_TOPIC_CONFIG: TopicConfig = \{\n([^}]*)\};/.exec(TOPIC_CONFIG)?.[1];
	assert.ok(body !== undefined, "src/shared/topic-config.ts has no DEFAULT_TOPIC_CONFIG literal");
	const entries = body
		.split("\n")
		.map((line) => line.trim())
		.filter((line) => line !== "")
		.map((line) => {
			const entry = /^"([^"]+)": (.+),$/.exec(line);
			assert.ok(entry !== null, `DEFAULT_TOPIC_CONFIG line not read: ${line}`);
			return [entry[1], initialiser(entry[2])];
		});
	assert.deepEqual(Object.entries(TOPIC_CONFIG_DEFAULTS), entries);
});
