// @ts-check
/**
 * @module
 * What the Worker weighs as uploaded: its bundle built as `wrangler deploy` builds it (wrangler.toml's `minify`
 * and `keep_names` apply), raw and gzipped, and which modules take the space. Used by the bundle budget
 * (test/structure/bundle-size.test.mjs) and by the bench's cold-start kind. Deterministic: the same sources give
 * the same bytes.
 *
 * @example
 * const { rawBytes, gzipBytes, parts } = await measureBundle();
 * // parts: [{ name: "src/http", bytes: 92000 }, { name: "zod", bytes: 31000 }, …], largest first
 */

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { bundleWorker } from "./local-broker.mjs";
import { PROJECT_ROOT } from "./project.mjs";

/**
 * The Worker's budget, gzipped (what `wrangler deploy` prints as "gzip: … KiB"). A smaller script is less to
 * fetch, parse and compile when an isolate starts cold. The target is 80 KiB: the move to zod/mini reached 77.8 KiB,
 * the produce fast path and poll-carried commits merged since brought it to 80.3 KiB, and tiered storage (offload
 * and manifest in the partition object, the edge reader of R2 segments: about 20 KiB minified, 5.9 KiB gzipped)
 * to 86.1 KiB; the group commit in the partition object and the streaming produce channel at the edge then to
 * 90.5 KiB; encoding produce records from the body's own text and cutting stored batches in place (the batch
 * produce and fetch paths: about 4.2 KiB minified, 1.5 KiB gzipped) to 92.2 KiB; the edge's per-route request counters
 * and the group coordinator's row caches to 92.7 KiB, so the budget is 93 KiB until more is taken out (see the
 * largest parts the test names).
 *
 * What the rest is made of (each package measured by bundling the Worker without it): the app's own code alone is
 * 77.4 KiB gzipped, Hono adds 7.1 KiB and zod/mini 8.1 KiB. valibot in zod's place would add about 3 KiB (the
 * functions these schemas use: 3.0 KiB gzipped on their own, zod/mini 9.3 KiB), so that move would reach about
 * 87 KiB: 80 KiB needs Hono or a feature gone. And size buys little: a gzipped KiB of script costs a start about
 * 0.15 ms of workerd CPU (the bench's cold-start kind measures it), so the 13 KiB above the target are worth about
 * 2 ms. The budget is there to catch a regression (importing zod's classic API and its locales would add
 * 83 KiB), not to chase the target. It is 95 KiB: at 93 KiB (92.9 used) measured cuts on the read and streaming
 * paths were being dropped, or assert messages shortened, to save a few dozen bytes, each worth well under 0.01 ms
 * of a cold start. Then the batch cache (hot stored batches served from memory: 1.4 KiB gzipped) and the exactly-once
 * fast path (0.4 KiB) took it to 94.9 KiB, and the lanes after them were again splitting features to fit: the budget
 * became 100 KiB, about 1 ms of a cold start above the 95. At 99.9 KiB, reading a plain streamed record from its
 * text (stream-record-text.ts: 0.7 KiB, 8–12 % less server CPU per streamed record in paired runs) and keeping unread
 * commits in spare cache room took it to 100.7 KiB, and a faster Idempotency-Key digest (20 of 187 µs per share) was
 * dropped for 23 bytes: the budget is 102 KiB, about 0.3 ms of a cold start above the 100. At 101.4 KiB, moving the
 * partition object's WebSocket tails and append watchers into their own module (followers.ts: the object's runtime
 * entry points delegating to it, 0.3 KiB) left 0.2 KiB for the work after it: the budget is 104 KiB, again about
 * 0.3 ms of a cold start above the last. At 103.7 KiB, Confluent v3's ACL listing (Kafka's ACL bindings of every key,
 * with Kafka's filters: 2.8 KiB minified, 1.0 KiB gzipped) took it to 104.7 KiB: the budget is 106 KiB. At 105.3
 * KiB, stored batches' record ends (kept per row, checked when read, sent with a poll's parts so its splice looks
 * records up instead of searching them: 1.0 KiB gzipped, about 6 % of a group poll's server CPU) took it to 106.3
 * KiB: the budget is 108 KiB. Polls laid out by partition (a group poll's records sent on as stored, about 8 % of
 * its server CPU) and an idempotent producer's plain body read from its text took it to 106.9 KiB, and a streamed
 * poll of one partition to 107.5. Idempotent producers' states kept as Kafka keeps them (a snapshot, and the batches
 * since named in their batch rows and replayed at a wake-up: 2 rows written per one-record append became 0.05) took
 * it to 108.2 KiB: the budget is 109 KiB. At 108.6 KiB, a rebalance that commits what a member on an auto-commit
 * interval confirmed (0.4 KiB gzipped) and Durable Streams reads built from the records' bytes (0.5 KiB, about a
 * third of such a read's server CPU) took it to 109.5 KiB: the budget is 110 KiB. Two fixes of lost or partly
 * written data then took it to 110.05 KiB: a produce over several partitions with exactly-once claims asks each
 * partition before any share is written (0.41 KiB), and a group's commits name their topic's incarnation, so a
 * topic created again is not read from the old one's offsets (0.16 KiB); the fixes after them (standalone commits,
 * refusing `__proto__` names, an alarm's rollback, Confluent JSON strings) to 110.4 KiB. Correctness is not traded
 * for bytes worth well under 0.1 ms of a cold start: the budget is 112 KiB. A review round's fixes then took it to
 * 112.02 KiB (from 110.4): compaction keyed on a key's bytes, Durable Streams reads refused below the log start and
 * past the tail, a dead letter cut to fit its topic, live reads charged to the fetch quota, a forgotten isolate's
 * metrics taken back, the Upstash mount's documented forms and its instances' kept settings, Confluent's config and
 * partition refusals: the budget is 114 KiB. A seek by time from R2 that walks on as the local one does, and alarm
 * times clamped to what workerd takes, then 112.19 KiB. A third review round's fixes to 113.3 KiB (115,973 bytes); a
 * fourth's to 114.3 KiB (117,042): query parameters given once, names that round-trip, the assets' paths answered by
 * the Worker (0.2 KiB); a group member's proposed id, seek and pause, new partitions read from their start (0.3 KiB);
 * remote storage kept on while R2 holds segments, config pushes retried, bounded key-row deletes, a remote segment
 * weighed as its local batches (0.6 KiB). About 0.2 ms of a cold start for the lot: the budget is 116 KiB. Then
 * DeleteRecords, request bodies in gzip, alarm retries counted across restarts and topic ids to 115.8 KiB (118,625
 * bytes), and three things Kafka users expect took it to 116.4 KiB (119,227): a consumer group's offsets expire once it
 * has been empty for Kafka's offsets.retention.minutes (0.33 KiB), the topic config message.timestamp.type with
 * LogAppendTime stamped by the partition (0.13 KiB), and WebSocket tails that follow a fetch quota set or removed
 * after they opened (0.11 KiB). About 0.5 ms of a cold start (0.83 ms a KiB, script-size-cost in the bench) for
 * features that were missing: the budget is 117 KiB. At 116.4 KiB, more that Kafka users expect took it to 117.06 KiB
 * (119,871 bytes): a key's quotas changed after creation, as AlterClientQuotas does, with live streams following the
 * change (0.24 KiB); the topic configs message.timestamp.before/after.max.ms (KIP-937, 0.21 KiB) and the produce
 * answer's append time from the partition (0.04 KiB); ListOffsets' max timestamp (0.08 KiB); and a standalone commit
 * that no longer reads every commit of its group (0.02 KiB). About 0.5 ms of a cold start again: the budget is 118 KiB.
 * Offsets of topics no member subscribes to any more expiring in a group with members (KIP-496, 0.2 KiB) then took
 * it to 117.27 KiB (120,079 bytes). Hono modules behind methods the Worker never calls, swapped for stubs that throw
 * (`app.mount()`, `c.req.parseBody()`, `c.html()` of a template: 0.99 KiB), and SQL statements written without their
 * indentation (0.22 KiB) then gave back 1.21 KiB: 116.07 KiB (118,859 bytes). Kafka members that keep their partitions
 * until they rejoin (Kafka's JoinGroup barrier, 0.34 KiB) and two compatibility refusals (a Confluent batch entry's
 * partition checked before producing, an Upstash message naming another topic than its path: 0.1 KiB) then took it to
 * 116.52 KiB (119,312 bytes). Kafka's rebalance timeout and static members that rejoin (0.18 KiB), refused records
 * named by their index in a Confluent or Upstash request (0.16 KiB) and a one-partition group poll's body built by
 * the partition (0.14 KiB) then took it to 117.00 KiB (119,812 bytes). The key directory's row marks and upgrade in
 * steps, the group coordinator's refusals of an older half of a deploy and of a rejoined member's older commits, and a
 * one-partition produce's retriable refusal then took it to 117.85 KiB (120,676 bytes, 156 under): the fixes left
 * open after them (the key directory's conditional changes and reinstalls, the group refusals that name the wrong
 * state, a produce over several topics that cannot say what was written) each need more than that. Correctness is
 * not traded for bytes: the budget is 119 KiB, at most about 0.8 ms of a cold start above the 118. At 118.61 KiB
 * (121,454 bytes), assert messages cut to a few words (146 sentences: 1,193 bytes) and class members made private
 * with `#` instead of TypeScript's `private` (esbuild renames a #member; a private one ships its name at every use:
 * 715 bytes, the group files and commit-queue.ts left for later) gave back 1.86 KiB: 116.74 KiB (119,546 bytes).
 * At 117.51 KiB (120,334 bytes) each part was weighed by what it adds to the gzipped whole (the bundle gzipped with
 * and without the part's characters, found by the source map; the figures overlap a little; `npm run bundle:weigh`): the app's own code
 * 104.4 KiB (src/http 46.3, src/partition 19.7, src/group 11.4, src/shared 8.3, src/webhook 7.3, src/topic 4.1,
 * src/metrics 3.3, src/auth 3.1), zod/mini 7.7 (its core schemas 3.0, util 1.4), Hono 4.9. No module of the app's
 * adds more than 2.7 KiB (group-rules.ts), property names 14.9 KiB and string literals 13.4 (SQL 6.2), so 80 KiB
 * still needs Hono, zod or features gone. One UTF-8 TextEncoder for every module and three module-level values
 * marked pure (only code outside the Worker read them) gave back 162 bytes: 117.36 KiB (120,172 bytes). Measured
 * and left: one shared TextDecoder for each kind (+1 byte), the error table's 49 entries built by a helper (-14),
 * the route table placed beside the route modules in the bundle (-13: gzip already finds the repeated paths),
 * `upload_source_maps = false` (-28, the source map comment, but local stack traces would lose their sources).
 * Methods only tests called (a partition's group-commit counts, a batch cache's listing: 66 bytes) and one poll
 * function for both layouts (42) then gave back 108: 118.01 KiB (120,840 bytes). Measured and left: zod's `$ZodError`,
 * built when its module loads though only `$ZodRealError` is used (zod marks its schemas' constructors pure, not
 * these two): 5 bytes (21 characters), and wrangler passes esbuild no `pure` names, so dropping it takes a copy of
 * zod's errors.js swapped in by `[alias]`, to keep in step with every zod release. At 118.95 KiB (121,801 bytes),
 * limits.ts declared before anything esbuild cannot inline and importing nothing (esbuild stops inlining a module's
 * constants at the first it cannot, and inlines none from a module with imports: 362 bytes), Hono's query parsing
 * left out as its other unused parts are (312), the error table as numbers and a set (60), zod issue messages no
 * schema raises (66), one import of the DurableObject base class (98) and a few folds gave back 1,006 bytes:
 * 118.27 KiB (121,108 bytes, with the Durable Streams fork references and CORS answers added meanwhile).
 */
export const WORKER_GZIP_BYTES_TARGET = 80 * 1024;
export const WORKER_GZIP_BYTES_MAX = 119 * 1024;

/**
 * @typedef {object} BundleSize
 * @property {number} rawBytes  the modules wrangler would upload (.js/.mjs/.wasm), summed
 * @property {number} gzipBytes  the same, each gzipped at level 9
 * @property {{ name: string, bytes: number }[]} parts  bytes in the bundle by package (node_modules) or src folder
 * @property {{ path: string, bytes: number }[]} modules  bytes in the bundle by input module, largest first
 */

/**
 * A package name for a node_modules path, else the first two path segments (`src/http`).
 * @param {string} path
 */
export function partOf(path) {
	const packaged = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
	return packaged?.[1] ?? path.split("/").slice(0, 2).join("/");
}

/**
 * Bundles the Worker of `configPath` (in `root`) into a temp directory and weighs it. Takes about 2 s.
 * @param {{ root?: string, configPath?: string }} [options]
 * @returns {Promise<BundleSize>}
 */
export async function measureBundle({ root = PROJECT_ROOT, configPath = "wrangler.toml" } = {}) {
	const dir = await mkdtemp(join(tmpdir(), "tributary-bundle-"));
	try {
		const outdir = join(dir, "out");
		const metafile = join(dir, "meta.json");
		await bundleWorker({ root, configPath, outdir, metafile });
		let rawBytes = 0;
		let gzipBytes = 0;
		for (const file of await readdir(outdir)) {
			if (!/\.(m?js|wasm)$/.test(file)) continue;
			const bytes = await readFile(join(outdir, file));
			rawBytes += bytes.byteLength;
			gzipBytes += gzipSync(bytes, { level: 9 }).byteLength;
		}
		/** @type {{ outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> }} */
		const meta = JSON.parse(await readFile(metafile, "utf8"));
		/** @type {Map<string, number>} */
		const byModule = new Map();
		for (const output of Object.values(meta.outputs)) {
			for (const [path, input] of Object.entries(output.inputs)) byModule.set(path, (byModule.get(path) ?? 0) + input.bytesInOutput);
		}
		/** @type {Map<string, number>} */
		const byPart = new Map();
		for (const [path, bytes] of byModule) byPart.set(partOf(path), (byPart.get(partOf(path)) ?? 0) + bytes);
		const largestFirst = (/** @type {{ bytes: number }} */ a, /** @type {{ bytes: number }} */ b) => b.bytes - a.bytes;
		return {
			rawBytes,
			gzipBytes,
			parts: [...byPart].map(([name, bytes]) => ({ name, bytes })).sort(largestFirst),
			modules: [...byModule].map(([path, bytes]) => ({ path, bytes })).sort(largestFirst),
		};
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
}
