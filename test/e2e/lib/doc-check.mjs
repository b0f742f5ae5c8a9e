#!/usr/bin/env node
// @ts-check
/**
 * @module
 * Run by the doc test's bash session after a command that carries an expectation: checks the last curl
 * response (status and body, in the session's state directory) against it. Exit 0: it holds; 1: it does not
 * (the reason on stderr).
 *
 *   node doc-check.mjs <state dir> <base64 JSON {where, expected}>
 */

import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { checkResponse } from "./doc-blocks.mjs";

const [dir = "", encoded = ""] = process.argv.slice(2);
/** @type {import("./doc-blocks.mjs").Expectation} */
const expectation = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
const pending = join(dir, "pending");
if (!existsSync(pending)) {
	console.error(`doc test: ${expectation.where}: "# → ${expectation.expected}" follows no curl command`);
	process.exit(1);
}
const status = Number(readFileSync(join(dir, "status"), "utf8").trim());
const body = readFileSync(join(dir, "body"), "utf8");
rmSync(pending);
const problem = checkResponse(expectation, status, body);
if (problem !== null) {
	console.error(`doc test: ${expectation.where}: ${problem}`);
	process.exit(1);
}
