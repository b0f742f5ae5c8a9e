// @ts-check
/**
 * The shape of `src/`, checked on its text: no import circles between modules (type-only imports aside, since
 * they vanish at build time), data flowing one way (only the edge imports the edge), and every file small: the
 * Worker's and those of every other program the repository ships (SDK, CLI, console, gateway, scripts, bench,
 * examples), since a long file grows wherever the check does not look.
 * Runs under `node --test`: it reads files, which the workerd test pool cannot.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SRC = join(ROOT, "src");
const SOURCE_LINES_MAX = 600;
/** Every folder holding code we write; build output, dependencies and Kafka's message definitions (JSON) stay out. */
const CODE_ROOTS = ["src", "client", "cli", "console/src", "console/build.mjs", "gateway", "scripts", "bench", "examples"];
const CODE_FILE = /\.(?:ts|mjs|js)$/;
const NOT_OURS = new Set(["node_modules", "dist"]);

/** @param {string} dir @param {RegExp} [pattern] @returns {string[]} */
function sourceFiles(dir, pattern = /\.ts$/) {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return NOT_OURS.has(entry.name) ? [] : sourceFiles(path, pattern);
		return pattern.test(entry.name) ? [path] : [];
	});
}

const IMPORT = /^(?:import|export)\s+(type\s+)?(?:(\{[^}]*\})|[^"';]*?)\s*from\s+"(\.[^"]+)";?/gm;

/**
 * The relative modules a file needs at run time: `import type …` and `import { type A, type B } …` are left out.
 * @param {string} file @returns {string[]}
 */
function runtimeImports(file) {
	const text = readFileSync(file, "utf8");
	const found = [];
	for (const match of text.matchAll(IMPORT)) {
		const [, typeOnly, braces, specifier] = match;
		if (typeOnly !== undefined) continue;
		if (braces !== undefined) {
			const names = braces
				.slice(1, -1)
				.split(",")
				.map((n) => n.trim())
				.filter((n) => n !== "");
			if (names.length > 0 && names.every((n) => n.startsWith("type "))) continue;
		}
		found.push(resolve(dirname(file), /** @type {string} */ (specifier)));
	}
	return found;
}

/** @param {Map<string, string[]>} graph @returns {string[][]} every cycle found by a depth-first walk */
function cycles(graph) {
	const found = [];
	const state = new Map();
	/** @param {string} node @param {string[]} path */
	const visit = (node, path) => {
		state.set(node, "open");
		for (const next of graph.get(node) ?? []) {
			if (state.get(next) === "open") found.push([...path.slice(path.indexOf(next)), next]);
			else if (!state.has(next)) visit(next, [...path, next]);
		}
		state.set(node, "done");
	};
	for (const node of graph.keys()) if (!state.has(node)) visit(node, [node]);
	return found;
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, runtimeImports(f)]));
const name = (/** @type {string} */ f) => relative(ROOT, f);

test("the cycle finder finds a circle and passes a chain", () => {
	assert.deepEqual(
		cycles(
			new Map([
				["a", ["b"]],
				["b", ["c"]],
				["c", ["a"]],
			]),
		),
		[["a", "b", "c", "a"]],
	);
	assert.deepEqual(
		cycles(
			new Map([
				["a", ["b"]],
				["b", ["c"]],
				["c", []],
			]),
		),
		[],
	);
});

test("the import reader skips type-only imports and keeps value imports", () => {
	const self = runtimeImports(join(SRC, "shared/stubs.ts")).map(name);
	assert.deepEqual(self, ["src/topic/types.ts"]);
});

test("no import circles between files in src/", () => {
	assert.ok(files.length > 50, `found only ${files.length} source files`);
	for (const [file, imports] of graph) {
		for (const target of imports) assert.ok(graph.has(target), `${name(file)} imports ${name(target)}, which is not a source file`);
	}
	assert.deepEqual(
		cycles(graph).map((c) => c.map(name).join(" → ")),
		[],
	);
});

test("only the edge imports the edge: no Durable Object or pure module imports src/http/", () => {
	const http = join(SRC, "http");
	const outside = files.filter((f) => !f.startsWith(http) && f !== join(SRC, "index.ts"));
	const offenders = outside.flatMap((f) => (graph.get(f) ?? []).filter((t) => t.startsWith(http)).map((t) => `${name(f)} → ${name(t)}`));
	assert.deepEqual(offenders, []);
});

test("the edge takes no value from the partition's modules: pure rules both sides use live in src/shared/", () => {
	const http = join(SRC, "http");
	const partition = join(SRC, "partition");
	const edge = files.filter((f) => f.startsWith(http));
	const offenders = edge.flatMap((f) => (graph.get(f) ?? []).filter((t) => t.startsWith(partition)).map((t) => `${name(f)} → ${name(t)}`));
	assert.deepEqual(offenders, []);
});

/** @param {string} root @returns {string[]} */
const codeFiles = (root) => (CODE_FILE.test(root) ? [join(ROOT, root)] : sourceFiles(join(ROOT, root), CODE_FILE));

test(`no file of ours is over ${SOURCE_LINES_MAX} lines`, () => {
	const all = CODE_ROOTS.flatMap(codeFiles);
	for (const root of ["client", "cli", "console/src", "gateway"]) {
		assert.ok(
			all.some((f) => f.startsWith(join(ROOT, root, "/"))),
			`found no code under ${root}/`,
		);
	}
	const long = all.map((f) => [name(f), readFileSync(f, "utf8").split("\n").length - 1]).filter(([, n]) => Number(n) > SOURCE_LINES_MAX);
	assert.deepEqual(long, []);
});
