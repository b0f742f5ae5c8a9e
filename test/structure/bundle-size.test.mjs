// @ts-check
/**
 * The Worker's bundle, as `wrangler deploy` would upload it, stays within its gzip budget
 * (`WORKER_GZIP_BYTES_MAX`), and what was taken out to get there stays out: zod's classic API (zod/mini is the
 * same engine without a method chain that keeps every schema type in the bundle), zod's locales, and the OpenAPI
 * generator (the document and /docs are static assets written at build time). Sizes are deterministic, so this is
 * a plain assertion, not a timing. Needs the built assets directory (`npm run build`, which `npm test` runs first).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { measureBundle, WORKER_GZIP_BYTES_MAX } from "../../scripts/lib/index.mjs";

const SRC = join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "src");

/** Input modules that must not be in the Worker, and why. */
const KEPT_OUT = [
	{ pattern: /node_modules\/zod\/v4\/classic\//, why: 'zod\'s classic API: import * as z from "zod/mini"' },
	{ pattern: /node_modules\/zod\/v4\/locales\//, why: "zod's locales: validation-messages.ts words every issue" },
	{
		pattern: /node_modules\/zod\/v4\/core\/(to-json-schema|json-schema-processors)\.js$/,
		why: "JSON Schema generation runs at build time",
	},
	{ pattern: /^src\/http\/openapi\//, why: "the OpenAPI document is a static asset written at build time" },
	{
		pattern: /node_modules\/hono\/dist\/router\/(reg-exp|smart|pattern)-router\//,
		why: "the app's Hono uses TrieRouter alone (src/http/hono.ts)",
	},
	{
		pattern: /node_modules\/hono\/dist\/utils\/(mount|body|buffer|html)\.js$/,
		why: "app.mount(), c.req.parseBody() and c.html() of a template are never called: wrangler.toml's [alias] swaps their modules for src/http/hono-left-out.ts (and utils/url.js, whose query parsing c.req.query() alone uses)",
	},
];

/** What src/shared/limits.ts may leave in the bundle (minified bytes): its two values esbuild cannot inline (65 bytes). */
const LIMITS_BYTES_MAX = 100;

const kib = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

test("the Worker bundle is within its gzip budget and keeps build-time code out", { timeout: 120_000 }, async () => {
	const bundle = await measureBundle();
	const largest = bundle.parts
		.slice(0, 8)
		.map((part) => `${part.name} ${kib(part.bytes)}`)
		.join(", ");
	assert.ok(
		bundle.gzipBytes <= WORKER_GZIP_BYTES_MAX,
		`bundle is ${kib(bundle.gzipBytes)} gzipped (${kib(bundle.rawBytes)} raw), over the ${kib(WORKER_GZIP_BYTES_MAX)} budget; largest parts (minified): ${largest}`,
	);
	for (const { pattern, why } of KEPT_OUT) {
		const found = bundle.modules.filter((m) => pattern.test(m.path)).map((m) => m.path);
		assert.deepEqual(found, [], `kept out of the Worker (${why}), but bundled: ${found.join(", ")}`);
	}
	// esbuild puts a constant's value in place of its name only in a module that imports nothing, and only up to its
	// first declaration it cannot inline (a list, a fraction): one of those among the limits kept every later limit a
	// variable (about 300 bytes gzipped); an import keeps all of them (1,392 minified bytes).
	const limits = bundle.modules.find((m) => m.path === "src/shared/limits.ts")?.bytes ?? 0;
	assert.ok(
		limits <= LIMITS_BYTES_MAX,
		`src/shared/limits.ts is ${limits} bytes of the bundle, over ${LIMITS_BYTES_MAX}: it must import nothing (esbuild inlines no constant of a module that imports), and declare the limits esbuild cannot inline (lists, fractions) at its end`,
	);
	// The measurement itself: a bundle this small that still holds the app is a real one.
	assert.ok(
		bundle.modules.some((m) => m.path === "src/http/app.ts"),
		"the bundle holds the app",
	);
	assert.ok(bundle.rawBytes > bundle.gzipBytes, "gzip made it smaller");
});

/** A template literal spanning lines whose text reads as SQL (a keyword starts it). */
const MULTILINE_SQL = /`\s*(?:CREATE|SELECT|INSERT|UPDATE|DELETE|WITH|ALTER|DROP)\b[^`]*\n[^`]*`/g;

test("SQL in the Worker is written as one-line strings, so the bundle carries no layout whitespace", () => {
	const files = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
	const found = files.flatMap((file) => {
		const text = readFileSync(join(SRC, file), "utf8");
		return [...text.matchAll(MULTILINE_SQL)].map((match) => `${file}:${text.slice(0, match.index).split("\n").length}`);
	});
	// Each line a string literal, joined with `+`: esbuild joins them into one string at build time, where a
	// template literal's newlines and indentation stay in the bundle (226 bytes gzipped over the schemas).
	assert.deepEqual(found, [], `multi-line SQL template literals (write them as "…" + "…"): ${found.join(", ")}`);
});

/**
 * Calls that reach the Hono modules wrangler.toml's [alias] swaps for src/http/hono-left-out.ts's throwing stubs.
 * vitest loads Hono's real modules, so only the uploaded bundle (and e2e) would show one as a 500: caught here instead.
 */
const LEFT_OUT_CALLS = /\.(?:mount|parseBody|html|query|queries)\(/g;

test("the Worker never calls a Hono method whose module the bundle leaves out (app.mount, c.req.parseBody, c.html, c.req.query)", () => {
	const files = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter(
		(file) => file.endsWith(".ts") && !file.endsWith("hono-left-out.ts"),
	);
	const found = files.flatMap((file) => {
		const text = readFileSync(join(SRC, file), "utf8");
		return [...text.matchAll(LEFT_OUT_CALLS)].map((match) => `${file}:${text.slice(0, match.index).split("\n").length} ${match[0]}`);
	});
	assert.deepEqual(found, [], `calls that would reach src/http/hono-left-out.ts in the deployed Worker: ${found.join(", ")}`);
});

/**
 * zod/mini constructors whose issues or wrappers src/http/validation-messages.ts no longer words or looks through (a
 * multipleOf's not_multiple_of, a set's or map's elements and size, a bigint's range, prefault, nonoptional, readonly
 * and catch): a schema built with one would answer its 400 "Invalid input", or lose its fields' "did you mean", with
 * no test failing. Add its case there first, then its name here.
 */
const UNWORDED_ZOD = /\bz\.(?:multipleOf|set|map|bigint|int64|uint64|prefault|nonoptional|readonly|catch)\(/g;

test("the Worker's schemas use only what validation-messages.ts words (no multipleOf, set, map, bigint, prefault, nonoptional, readonly, catch)", () => {
	const files = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
	const found = files.flatMap((file) => {
		const text = readFileSync(join(SRC, file), "utf8");
		return [...text.matchAll(UNWORDED_ZOD)].map((match) => `${file}:${text.slice(0, match.index).split("\n").length} ${match[0]}`);
	});
	assert.deepEqual(found, [], `schemas validation-messages.ts does not word (its 400 would say "Invalid input"): ${found.join(", ")}`);
});
