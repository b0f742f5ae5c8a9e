/**
 * A bare workerd for measuring one shape in isolation (bench/blob-shapes, answer-shapes, produce-shapes, metered-shapes, profile-booking): Miniflare
 * serving a script, and the workerd process's own CPU and page faults read from /proc around each pass, so what is
 * measured is the runtime's work, not this process's.
 */

import { readFileSync } from "node:fs";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

/**
 * `entry` (an ES module Worker's source, importing this checkout's files by paths from its root) bundled into one
 * script for `startBareWorkerd`: the pieces measured are the project's real code, not copies.
 * @param {string} entry
 * @returns {Promise<string>}
 */
export async function bundleEntry(entry) {
	const bundled = await build({
		stdin: { contents: entry, resolveDir: process.cwd(), loader: "js" },
		bundle: true,
		format: "esm",
		write: false,
		platform: "neutral",
		external: ["cloudflare:*"],
	});
	return bundled.outputFiles[0]?.text ?? "";
}

/**
 * The process's CPU seconds (user + system) and minor page faults so far.
 * @param {number} pid
 */
export function procStat(pid) {
	const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
	// After "pid (comm) ": state=0, ppid=1, ..., minflt=7, majflt=9, utime=11, stime=12 (0-based in this slice).
	return { minflt: Number(fields[7]), cpu: (Number(fields[11]) + Number(fields[12])) / 100 };
}

/** The workerd process Miniflare started (a child of this one). */
function workerdPid() {
	const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\s+/).map(Number);
	for (const pid of children) {
		if (readFileSync(`/proc/${pid}/comm`, "utf8").includes("workerd")) return pid;
	}
	throw new Error(`no workerd among ${children.join(", ")}`);
}

/**
 * Serves `script` (an ES module Worker) in a workerd of its own, with `durableObjects` as Miniflare takes them.
 * @param {string} script
 * @param {Record<string, { className: string, useSQLite?: boolean }>} [durableObjects]
 * @param {number} [inspectorPort]  opens workerd's DevTools inspector there (bench/profile-booking.mjs)
 * @returns {Promise<{ mf: Miniflare, base: URL, pid: number }>}
 */
export async function startBareWorkerd(script, durableObjects, inspectorPort) {
	const mf = new Miniflare({
		modules: true,
		script,
		compatibilityDate: "2026-04-20",
		compatibilityFlags: ["nodejs_compat"],
		...(durableObjects && { durableObjects }),
		...(inspectorPort !== undefined && { inspectorPort }),
	});
	const base = await mf.ready;
	return { mf, base, pid: workerdPid() };
}

/**
 * Passes of `requests` GETs of `/<shape>` for each shape, the order reversed every other pass so neither end gains
 * from a warmer runtime; pass 0 warms every shape up and is not counted. Each shape's workerd CPU seconds, minor page
 * faults and body bytes, a counted pass each. `onResponse` sees each answer before its body is read; `init`, each
 * request's (a POST's body, for one).
 * @param {{ base: URL, pid: number, shapes: readonly string[], passes: number, requests: number,
 *   onResponse?: (shape: string, response: Response) => void, init?: RequestInit }} options
 * @returns {Promise<Map<string, { cpu: number, minflt: number, bytes: number }[]>>}
 */
export async function measurePasses({ base, pid, shapes, passes, requests, onResponse, init }) {
	/** @type {Map<string, { cpu: number, minflt: number, bytes: number }[]>} */
	const results = new Map(shapes.map((s) => [s, []]));
	for (let pass = 0; pass <= passes; pass++) {
		for (const shape of pass % 2 === 0 ? shapes : [...shapes].reverse()) {
			const before = procStat(pid);
			let bytes = 0;
			for (let i = 0; i < requests; i++) {
				const response = await fetch(new URL(`/${shape}`, base), init);
				if (!response.ok) throw new Error(`${shape}: ${response.status} ${await response.text()}`);
				onResponse?.(shape, response);
				bytes += (await response.arrayBuffer()).byteLength;
			}
			const after = procStat(pid);
			if (pass > 0) results.get(shape)?.push({ cpu: after.cpu - before.cpu, minflt: after.minflt - before.minflt, bytes });
		}
	}
	return results;
}
