// @ts-check
/**
 * wrangler dev's proxy's 503 text is one fact: the SDK's WRANGLER_PROXY_RETRY_TEXT (client/errors.ts), by which it
 * tells that proxy's answer from the Worker's. The e2e tests' client, their stand-ins for the proxy and the scripts
 * that drive wrangler dev import it, so a wrangler that rewords it is followed by one change, not missed by a copy.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { WRANGLER_PROXY_RETRY_TEXT } from "tributary/client";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SEARCHED = ["bench", "cli", "client", "gateway", "scripts", "src", "test"];
const NOT_OURS = new Set(["node_modules", "dist"]);
const THE_ONE_PLACE = "client/errors.ts";

/** @param {string} dir @returns {string[]} */
function codeFiles(dir) {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return NOT_OURS.has(entry.name) ? [] : codeFiles(path);
		return /\.(?:ts|mjs|js)$/.test(entry.name) ? [path] : [];
	});
}

test("the proxy's text is written once, as the SDK's WRANGLER_PROXY_RETRY_TEXT", () => {
	// The part no message of the project's own quotes: a test may match the text's start in an error it expects.
	const tail = WRANGLER_PROXY_RETRY_TEXT.slice(WRANGLER_PROXY_RETRY_TEXT.indexOf("Please"));
	const writers = SEARCHED.flatMap((root) => codeFiles(join(ROOT, root)))
		.filter((path) => readFileSync(path, "utf8").includes(tail))
		.map((path) => relative(ROOT, path));
	assert.deepEqual(writers, [THE_ONE_PLACE]);
});
