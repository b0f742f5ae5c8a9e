// @ts-check
/**
 * The local broker's URL is one fact: the SDK's LOCAL_URL, the address `npm start` serves (scripts/lib's HOST and
 * DEFAULT_PORT), which the CLI and the Kafka gateway default to. Code in client/, cli/ and gateway/ does not write it
 * again (an example in a comment may), so a change of port cannot leave one of them pointing at the old one.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as sdk from "tributary/client";
import { DEFAULT_PORT, HOST } from "../../scripts/lib/index.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The folders whose programs connect to a local broker by default, and the one file that names it. */
const CONNECTING_ROOTS = ["client", "cli", "gateway"];
const THE_ONE_PLACE = "client/http.ts";
const NOT_OURS = new Set(["node_modules", "dist"]);

/** @param {string} dir @returns {string[]} */
function codeFiles(dir) {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return NOT_OURS.has(entry.name) ? [] : codeFiles(path);
		return /\.(?:ts|mjs|js)$/.test(entry.name) ? [path] : [];
	});
}

test("the SDK exports the local broker's URL, the address npm start serves", () => {
	assert.equal(sdk.LOCAL_URL, `http://${HOST}:${DEFAULT_PORT}`);
});

test("code in client/, cli/ and gateway/ writes the local broker's URL once, as the SDK's LOCAL_URL", () => {
	const url = `http://${HOST}:${DEFAULT_PORT}`;
	const writers = CONNECTING_ROOTS.flatMap((root) => codeFiles(join(ROOT, root))).flatMap((path) =>
		readFileSync(path, "utf8")
			.split("\n")
			// A comment's example may show it (JSDoc lines start with `/**` or `*`, others with `//`).
			.filter((line) => line.includes(url) && !/^\s*(?:\/?\*|\/\/)/.test(line))
			.map((line) => `${relative(ROOT, path)}: ${line.trim()}`),
	);
	assert.deepEqual(writers, [`${THE_ONE_PLACE}: export const LOCAL_URL = "${url}";`]);
});
