// @ts-check
/**
 * @module
 * What each part of the Worker adds to its gzipped bundle: the bundle built as `wrangler deploy` builds it, each
 * character given to the module its source map names, and each module (and each package or src folder) weighed by
 * the bundle gzipped without its characters: `gzipBytes` is what the whole loses when they go, `chars` how many they
 * are. Gzip finds repeats across modules, so the parts' figures overlap a little and do not add up to the whole.
 * `npm run bundle:weigh` prints them (scripts/bundle-weigh.mjs); `measureBundle` (bundle-size.mjs) is the budget's
 * measure, this is where to look for what to take out.
 *
 * @example
 * const { gzipBytes, parts, modules } = await weighBundle();
 * // parts: [{ name: "src/http", chars: 150000, gzipBytes: 47000 }, …], most gzipped bytes first
 */

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { decode } from "@jridgewell/sourcemap-codec";
import { partOf } from "./bundle-size.mjs";
import { bundleWorker } from "./local-broker.mjs";
import { PROJECT_ROOT } from "./project.mjs";

/** The characters a source map gives to no module (esbuild's own glue): a part of their own. */
export const UNMAPPED = "(unmapped)";

/**
 * @typedef {object} Weight
 * @property {string} name  a module's path (relative to the project), a package or src folder, or `UNMAPPED`
 * @property {number} chars  the bundle's characters that are its
 * @property {number} gzipBytes  what the gzipped bundle loses without them
 */

/**
 * @typedef {object} BundleWeights
 * @property {number} chars  the bundle's characters
 * @property {number} gzipBytes  the bundle gzipped at level 9
 * @property {Weight[]} parts  by package (node_modules) or src folder, and `UNMAPPED`; most gzipped bytes first
 * @property {Weight[]} modules  by input module; most gzipped bytes first
 */

/** @param {string} text */
const gzipped = (text) => gzipSync(text, { level: 9 }).byteLength;

/**
 * The runs of `code` each source owns, by source index (-1: unmapped), from a source map's decoded mappings: a
 * segment owns the characters from its column to the next segment's, or to its line's end.
 * @param {string} code
 * @param {readonly (readonly (readonly number[])[])[]} lines  `decode(map.mappings)`: each line's segments
 * @returns {Map<number, [number, number][]>}  [start, end) offsets in `code`, in order
 */
export function runsBySource(code, lines) {
	/** @type {Map<number, [number, number][]>} */
	const runs = new Map();
	const add = (/** @type {number} */ source, /** @type {number} */ start, /** @type {number} */ end) => {
		if (end <= start) return;
		const own = runs.get(source) ?? [];
		const last = own.at(-1);
		if (last !== undefined && last[1] === start) last[1] = end;
		else own.push([start, end]);
		runs.set(source, own);
	};
	let lineStart = 0;
	for (const [line, text] of code.split("\n").entries()) {
		const segments = lines[line] ?? [];
		let at = 0;
		for (const [i, segment] of segments.entries()) {
			const column = /** @type {number} */ (segment[0]);
			add(-1, lineStart + at, lineStart + column);
			const end = segments[i + 1]?.[0] ?? text.length;
			add(segment.length > 1 ? /** @type {number} */ (segment[1]) : -1, lineStart + column, lineStart + end);
			at = end;
		}
		// The line's end, and its newline if it has one.
		add(-1, lineStart + at, Math.min(code.length, lineStart + text.length + 1));
		lineStart += text.length + 1;
	}
	return runs;
}

/**
 * `code` without the characters of `runs` (each in order, from one or more sources).
 * @param {string} code @param {readonly [number, number][]} runs
 */
export function without(code, runs) {
	const sorted = [...runs].sort((a, b) => a[0] - b[0]);
	const kept = [];
	let at = 0;
	for (const [start, end] of sorted) {
		kept.push(code.slice(at, start));
		at = end;
	}
	kept.push(code.slice(at));
	return kept.join("");
}

/**
 * Weighs `code` by the modules `map` names: each module, and each part (`partOf` its path).
 * @param {string} code  the bundle
 * @param {{ sources: readonly string[], sourceRoot?: string, mappings: string }} map  its source map
 * @param {{ root: string, mapDir: string, modules?: readonly string[] }} where  the project (module paths are given
 *   relative to it) and the directory the map was read from (its sources are relative to its `sourceRoot`, else to
 *   that); `modules`: weigh only these (each module costs a gzip of the whole bundle), default every one
 * @returns {BundleWeights}
 */
export function weighCode(code, map, { root, mapDir, modules }) {
	const whole = gzipped(code);
	const runs = runsBySource(code, decode(map.mappings));
	const base = resolve(mapDir, map.sourceRoot ?? "");
	const names = map.sources.map((source) => relative(root, resolve(base, source)));
	/** @param {string} name @param {number[]} sources */
	const weigh = (name, sources) => {
		const own = sources.flatMap((source) => runs.get(source) ?? []);
		const chars = own.reduce((n, [start, end]) => n + end - start, 0);
		return { name, chars, gzipBytes: whole - gzipped(without(code, own)) };
	};
	/** @type {Map<string, number[]>} */
	const byPart = new Map([[UNMAPPED, [-1]]]);
	for (const [i, name] of names.entries()) byPart.set(partOf(name), [...(byPart.get(partOf(name)) ?? []), i]);
	const mostFirst = (/** @type {Weight} */ a, /** @type {Weight} */ b) => b.gzipBytes - a.gzipBytes || b.chars - a.chars;
	return {
		chars: code.length,
		gzipBytes: whole,
		parts: [...byPart].map(([name, sources]) => weigh(name, sources)).sort(mostFirst),
		modules: names
			.flatMap((name, i) => (modules === undefined || modules.includes(name) ? [weigh(name, [i])] : []))
			.filter((module) => module.chars > 0)
			.sort(mostFirst),
	};
}

/**
 * Bundles the Worker of `configPath` (in `root`) into a temp directory and weighs its entry module (`modules`: only
 * these modules, besides the parts; default every one). Takes a few seconds: the bundle is gzipped once for each
 * part and module weighed.
 * @param {{ root?: string, configPath?: string, modules?: readonly string[] }} [options]
 * @returns {Promise<BundleWeights>}
 */
export async function weighBundle({ root = PROJECT_ROOT, configPath = "wrangler.toml", modules } = {}) {
	const dir = await mkdtemp(join(tmpdir(), "tributary-weigh-"));
	try {
		const entry = await bundleWorker({ root, configPath, outdir: join(dir, "out") });
		const code = await readFile(entry, "utf8");
		const map = JSON.parse(await readFile(`${entry}.map`, "utf8"));
		return weighCode(code, map, { root, mapDir: dirname(entry), modules });
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
}

/**
 * The report's lines: the whole, each part, then the `top` modules that weigh most.
 * @param {BundleWeights} weights @param {number} top
 * @returns {string[]}
 */
export function weightReport(weights, top) {
	const row = (/** @type {Weight} */ w) => `${String(w.gzipBytes).padStart(8)} ${String(w.chars).padStart(9)}  ${w.name}`;
	const heading = `${"gzip B".padStart(8)} ${"chars".padStart(9)}`;
	return [
		`the Worker: ${weights.gzipBytes} bytes gzipped, ${weights.chars} characters`,
		"",
		`by part (what the gzipped whole loses without it; the figures overlap a little):`,
		heading,
		...weights.parts.map(row),
		"",
		`the ${Math.min(top, weights.modules.length)} modules that weigh most, of ${weights.modules.length}:`,
		heading,
		...weights.modules.slice(0, top).map(row),
	];
}
