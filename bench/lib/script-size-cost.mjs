// @ts-check
/**
 * What the size of a Worker's script alone costs a cold start, so the bundle budget has a known value: the bench's
 * ceiling Worker (a few KiB) is started as it is and with an inert copy of the Tributary Worker appended (the same
 * code, minified, inside a function nobody calls: workerd parses it and never runs it), alternately, on Miniflare.
 * Each start is timed to its first answer (medians) and workerd's CPU for it is counted (means: the kernel counts
 * CPU in 10 ms ticks); the difference between the two, divided by the gzipped KiB the copy adds, is what a KiB of
 * script costs. What a real Worker's own start-up runs (module top-level code, Durable Object classes, bindings) is
 * not a matter of size and is not in this figure.
 *
 * @example
 * const cost = await scriptSizeCost({ rounds: 7, token });
 * // { addedGzipBytes: 97000, plain: { startMs, workerdCpuMs }, padded: { … }, startMsPerGzipKiB: 0.1, workerdCpuMsPerGzipKiB: 0.1 }
 */

import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { bundleWorker, descendantCpuSeconds, PROJECT_ROOT, startLocalBroker } from "../../scripts/lib/index.mjs";
import { median, round } from "./load.mjs";

const CEILING_CONFIG = "bench/ceiling/wrangler.toml";

/** The Tributary Worker, minified as `wrangler deploy` does, as a script of its own (imports left unresolved). */
async function workerAsText() {
	const result = await esbuild.build({
		entryPoints: [join(PROJECT_ROOT, "src/index.ts")],
		bundle: true,
		format: "iife",
		minify: true,
		write: false,
		external: ["cloudflare:*", "node:*"],
		conditions: ["workerd", "worker", "browser"],
		platform: "neutral",
		mainFields: ["module", "main"],
		target: "es2022",
		logLevel: "error",
	});
	const text = result.outputFiles[0]?.text;
	if (text === undefined || text.length === 0) throw new Error("esbuild wrote no Worker");
	return text;
}

/** @param {number[]} samples */
const mean = (samples) => round(samples.reduce((sum, x) => sum + x, 0) / Math.max(1, samples.length), 1);

/** @typedef {{ name: string, scriptPath: string, gzipBytes: number, startMs: number[], cpuMs: number[] }} Variant */

/**
 * Starts `variant`'s script on Miniflare with the ceiling's configuration and times it to its first answer.
 * @param {Variant} variant
 * @param {{ token: string, dir: string }} options
 */
async function startOnce(variant, { token, dir }) {
	const cpuBefore = descendantCpuSeconds();
	const t0 = performance.now();
	const server = await startLocalBroker({
		configPath: CEILING_CONFIG,
		scriptPath: variant.scriptPath,
		token,
		port: 0,
		persistTo: join(dir, `data-${variant.name}`),
		quiet: true,
	});
	try {
		const response = await fetch(`${server.url}/healthz`);
		await response.arrayBuffer();
		if (response.status !== 200) throw new Error(`${variant.name}: GET /healthz → ${response.status}`);
		variant.startMs.push(performance.now() - t0);
		// The server is still up: its workerd process is among this process's descendants.
		variant.cpuMs.push((descendantCpuSeconds() - cpuBefore) * 1000);
	} finally {
		await server.dispose();
	}
}

/**
 * After one uncounted start of each, alternates `rounds` starts of the plain ceiling Worker and of the padded one; medians, and the cost per gzipped
 * KiB the inert copy adds.
 * @param {{ rounds: number, token: string, log?: (line: string) => void }} options
 */
export async function scriptSizeCost({ rounds, token, log = () => {} }) {
	const dir = await mkdtemp(join(tmpdir(), "script-size-cost-"));
	try {
		const plainPath = await bundleWorker({ configPath: CEILING_CONFIG, outdir: join(dir, "plain") });
		const plain = await readFile(plainPath, "utf8");
		const padded = `${plain}\nfunction __inertWorkerCopy(){${await workerAsText()}}\n`;
		await mkdir(join(dir, "padded"));
		const paddedPath = join(dir, "padded", "index.js");
		await writeFile(paddedPath, padded);
		/** @type {Variant[]} */
		const variants = [
			{ name: "plain", scriptPath: plainPath, gzipBytes: gzipSync(plain, { level: 9 }).byteLength, startMs: [], cpuMs: [] },
			{ name: "padded", scriptPath: paddedPath, gzipBytes: gzipSync(padded, { level: 9 }).byteLength, startMs: [], cpuMs: [] },
		];
		// One start of each first, not counted: the first start of a process pays for loading Miniflare and workerd.
		for (const variant of variants) await startOnce(variant, { token, dir });
		for (const variant of variants) variant.startMs.length = variant.cpuMs.length = 0;
		for (let i = 0; i < rounds; i++) {
			for (const variant of i % 2 === 0 ? variants : [...variants].reverse()) await startOnce(variant, { token, dir });
			log(
				`round ${i + 1}: ${variants.map((v) => `${v.name} ${v.startMs.at(-1)?.toFixed(0)} ms, workerd ${v.cpuMs.at(-1)?.toFixed(0)} ms CPU`).join("; ")}`,
			);
		}
		const [small, large] = variants.map((v) => ({
			gzipBytes: v.gzipBytes,
			startMs: round(median(v.startMs), 1),
			workerdCpuMs: mean(v.cpuMs),
		}));
		if (small === undefined || large === undefined) throw new Error("two variants expected");
		const addedKiB = (large.gzipBytes - small.gzipBytes) / 1024;
		return {
			addedGzipBytes: large.gzipBytes - small.gzipBytes,
			plain: small,
			padded: large,
			startMsPerGzipKiB: round((large.startMs - small.startMs) / addedKiB, 2),
			workerdCpuMsPerGzipKiB: round((large.workerdCpuMs - small.workerdCpuMs) / addedKiB, 2),
		};
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
}
