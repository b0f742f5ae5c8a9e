// @ts-check
/**
 * `npm run bundle:weigh` (scripts/lib/bundle-weight.mjs): each character of the bundle given to the module its source
 * map names, once; a part weighed by the bundle gzipped without its characters; and, on the Worker as built, every
 * character counted once and the app's folders among the parts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { encode } from "@jridgewell/sourcemap-codec";
import { runsBySource, UNMAPPED, weighBundle, weighCode, weightReport, without } from "../../scripts/lib/bundle-weight.mjs";

// Two lines: `glue` unmapped, then a.ts's and zod's characters in turn; on the second line, b.ts's, then a.ts's.
const CODE = 'glue;var a=1;var z="zzzz";var a2=2;\nvar b=3;a(b)';
const MAPPINGS = encode([
	[
		[5, 0, 0, 0],
		[13, 1, 0, 0],
		[26, 0, 1, 0],
	],
	[
		[0, 2, 0, 0],
		[8, 0, 2, 0],
	],
]);
const MAP = {
	sourceRoot: "/repo/out",
	sources: ["../src/http/a.ts", "../node_modules/zod/v4/core/schemas.js", "../src/group/b.ts"],
	mappings: MAPPINGS,
};

test("each character goes to the module whose segment holds it, and the rest (with the newlines) to none", () => {
	const runs = runsBySource(CODE, [
		[
			[5, 0, 0, 0],
			[13, 1, 0, 0],
			[26, 0, 1, 0],
		],
		[
			[0, 2, 0, 0],
			[8, 0, 2, 0],
		],
	]);
	const text = (/** @type {number} */ source) => (runs.get(source) ?? []).map(([start, end]) => CODE.slice(start, end));
	assert.deepEqual(text(-1), ["glue;", "\n"]);
	assert.deepEqual(text(0), ["var a=1;", "var a2=2;", "a(b)"]);
	assert.deepEqual(text(1), ['var z="zzzz";']);
	assert.deepEqual(text(2), ["var b=3;"]);
	const counted = [...runs.values()].flat().reduce((n, [start, end]) => n + end - start, 0);
	assert.equal(counted, CODE.length);
});

test("a module's weight is the gzipped bundle's loss without its characters; a part's, its modules' together", () => {
	const weights = weighCode(CODE, MAP, { root: "/repo", mapDir: "/elsewhere" });
	const gzipped = (/** @type {string} */ text) => gzipSync(text, { level: 9 }).byteLength;
	assert.equal(weights.gzipBytes, gzipped(CODE));
	assert.equal(weights.chars, CODE.length);
	const module = (/** @type {string} */ name) => weights.modules.find((m) => m.name === name);
	const withoutA = 'glue;var z="zzzz";\nvar b=3;';
	assert.deepEqual(module("src/http/a.ts"), { name: "src/http/a.ts", chars: 21, gzipBytes: gzipped(CODE) - gzipped(withoutA) });
	assert.equal(module("node_modules/zod/v4/core/schemas.js")?.chars, 13);
	const parts = Object.fromEntries(weights.parts.map((p) => [p.name, p.chars]));
	assert.deepEqual(parts, { "src/http": 21, zod: 13, "src/group": 8, [UNMAPPED]: 6 });
	assert.deepEqual(
		weights.parts.map((p) => p.gzipBytes),
		[...weights.parts.map((p) => p.gzipBytes)].sort((a, b) => b - a),
		"most gzipped bytes first",
	);
	assert.equal(
		without("abcdef", [
			[4, 5],
			[0, 2],
		]),
		"cdf",
	);
});

test("the report names the whole, every part and only the modules asked for", () => {
	const weights = weighCode(CODE, MAP, { root: "/repo", mapDir: "/elsewhere" });
	const lines = weightReport(weights, 1);
	assert.match(lines[0] ?? "", new RegExp(`^the Worker: ${weights.gzipBytes} bytes gzipped, ${CODE.length} characters$`));
	for (const part of weights.parts)
		assert.ok(
			lines.some((line) => line.endsWith(`  ${part.name}`)),
			part.name,
		);
	const modules = lines.filter((line) => / {2}(src|node_modules)\/.*\.(ts|js)$/.test(line));
	assert.deepEqual(modules.length, 1);
	assert.ok(modules[0]?.endsWith(weights.modules[0]?.name ?? "?"));
});

test("weighing only some modules weighs those and every part, as weighing all does", () => {
	const all = weighCode(CODE, MAP, { root: "/repo", mapDir: "/elsewhere" });
	const some = weighCode(CODE, MAP, { root: "/repo", mapDir: "/elsewhere", modules: ["src/group/b.ts"] });
	assert.deepEqual(some.parts, all.parts);
	assert.deepEqual(
		some.modules,
		all.modules.filter((m) => m.name === "src/group/b.ts"),
	);
});

test("the Worker as built: every character counted once, the app's folders and its packages among the parts", {
	timeout: 300_000,
}, async () => {
	// Two modules weighed, not the 190 or so of the whole report (each a gzip of the bundle: about 17 s under load).
	const weighed = ["src/http/app.ts", "src/shared/topic-config.ts"];
	const weights = await weighBundle({ modules: weighed });
	assert.equal(
		weights.parts.reduce((n, p) => n + p.chars, 0),
		weights.chars,
	);
	const names = weights.parts.map((p) => p.name);
	for (const part of ["src/http", "src/partition", "zod", "hono"]) assert.ok(names.includes(part), `${part} among ${names.join(", ")}`);
	assert.deepEqual(weights.modules.map((m) => m.name).sort(), weighed);
	for (const w of [...weights.parts, ...weights.modules]) {
		assert.ok(w.gzipBytes < weights.gzipBytes && w.chars > 0, `${w.name}: ${w.gzipBytes} B gzipped, ${w.chars} characters`);
	}
	const http = weights.parts.find((p) => p.name === "src/http")?.chars ?? 0;
	const app = weights.modules.find((m) => m.name === "src/http/app.ts")?.chars ?? 0;
	assert.ok(app < http, `src/http/app.ts (${app} characters) is a share of src/http (${http})`);
});
