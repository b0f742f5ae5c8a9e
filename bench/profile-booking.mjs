// @ts-check
/**
 * `node bench/profile-booking.mjs [calls]`: what the isolate's sampling profiler (bench:profile) books to a native call
 * that is cheap in itself, in a bare workerd (Miniflare, one Durable Object with SQLite, no Tributary code). One profile
 * of four kinds of call, interleaved so the machine's load falls on all alike: A writes a 100 × 1 KiB row in
 * `transactionSync` and awaits `storage.sync()`, as the partition's group commit does (`sync ← durable` in a profile of
 * produce-1c-1p); B writes it and calls `crypto.randomUUID()` last instead; C writes nothing and awaits `sync()`; D
 * writes nothing and calls `randomUUID()` last. Prints the self µs a call the profile books to `sync`, `randomUUID`,
 * `transactionSync` and `exec` within each kind's method, and the largest items outside them. Not part of `npm test`
 * or the bench.
 *
 * What it showed (three runs at load 16-21, 300 calls of each kind, 50 µs sampling; µs a call): `sync` 265, 293, 256
 * in A and 227, 141, 207 in C, where nothing was written and it has nothing to wait for; `randomUUID` 47, 9, 76 in B
 * and 155, 3, 92 in D; `transactionSync` 244, 401, 192 in A and 243, 506, 116 in B; `exec` (the INSERT) 774-1,017.
 * So what a profile books to `sync` is neither the commit's work nor sync's own: in workerd `sync()` only waits for
 * the output gate (`ActorSqlite::onNoPendingFlush`), and the COMMIT runs after the JS turn, in the task the implicit
 * transaction opened at the first write schedules (`ActorSqlite::onWrite`); awaiting it added nothing beyond the
 * noise to a call's workerd CPU (src/partition/partition-log.ts, the commit queue's `durable`). Its booking is steady
 * where `randomUUID`'s, as a call's last native call, is not: plausibly the isolate's wait for the awaited gate,
 * which the sampler, on the wall clock, books to the call that began it. `transactionSync`'s own frame runs the
 * implicit transaction's BEGIN (its `notifyWrite`), a SAVEPOINT and a RELEASE.
 */

import { startBareWorkerd } from "./lib/bare-workerd.mjs";
import { inspect } from "./lib/inspector.mjs";

const CALLS = Number(process.argv[2] ?? 300);
const INSPECTOR_PORT = 9332;
/** µs between samples: finer than bench:profile's, as the calls here are few. */
const SAMPLING_INTERVAL_US = 50;
/** A sample this much later than the one before says the process was starved of CPU: left out, as bench:profile does. */
const SAMPLE_GAP_US = 20_000;
const KINDS = ["kindA", "kindB", "kindC", "kindD"];
const SHOWN = ["sync", "randomUUID", "transactionSync", "exec"];

const script = /* js */ `
import { DurableObject } from "cloudflare:workers";
export class Log extends DurableObject {
	constructor(ctx, env) {
		super(ctx, env);
		ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, records TEXT)");
	}
	write(text) {
		const sql = this.ctx.storage.sql;
		this.ctx.storage.transactionSync(() => sql.exec("INSERT INTO batches (records) VALUES (?)", text));
	}
	async kindA(text) { this.write(text); await this.ctx.storage.sync(); return "a"; }
	async kindB(text) { this.write(text); return crypto.randomUUID(); }
	async kindC() { await this.ctx.storage.sync(); return "c"; }
	async kindD() { return crypto.randomUUID(); }
}
export default {
	async fetch(request, env) {
		const kind = new URL(request.url).pathname.slice(1);
		const text = await request.text();
		return new Response(await env.LOG.getByName(kind)[kind](text));
	},
};
`;

/**
 * @typedef {{ id: number, callFrame: { functionName: string }, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[] }} Profile
 */

/**
 * Self µs per "<kind> <function>", each sample placed in the kind whose method is on its stack ("outside" if none).
 * @param {Profile} profile
 */
function selfByKind(profile) {
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	/** @type {Map<number, number>} */
	const parent = new Map();
	for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
	/** @param {number} id */
	const kindOf = (id) => {
		for (let at = /** @type {number | undefined} */ (id); at !== undefined; at = parent.get(at)) {
			const name = byId.get(at)?.callFrame.functionName ?? "";
			if (KINDS.includes(name)) return name;
		}
		return "outside";
	};
	/** @type {Map<string, number>} */
	const micros = new Map();
	profile.samples.forEach((sample, i) => {
		const us = profile.timeDeltas[i + 1] ?? 0;
		if (us > SAMPLE_GAP_US) return;
		const key = `${kindOf(sample)} ${byId.get(sample)?.callFrame.functionName || "(anonymous)"}`;
		micros.set(key, (micros.get(key) ?? 0) + us);
	});
	return micros;
}

const { mf, base } = await startBareWorkerd(script, { LOG: { className: "Log", useSQLite: true } }, INSPECTOR_PORT);
const line = (/** @type {number} */ offset) =>
	JSON.stringify({ partition: 0, offset, timestamp: 1765000000000, key: null, value: "x".repeat(1000), headers: [] });
const body = Array.from({ length: 100 }, (_, i) => line(i)).join("\n");
/** @param {string} kind */
const call = async (kind) => {
	const response = await fetch(new URL(`/${kind}`, base), { method: "POST", body });
	if (!response.ok) throw new Error(`${kind}: ${response.status} ${await response.text()}`);
	await response.text();
};
const inspector = await inspect(INSPECTOR_PORT, (targets) => targets.find((t) => t.title.includes("core:user:")) ?? targets.at(-1));
try {
	for (let i = 0; i < 30; i++) for (const kind of KINDS) await call(kind);
	await inspector.send("Profiler.enable");
	await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
	await inspector.send("Profiler.start");
	for (let i = 0; i < CALLS; i++) for (const kind of i % 2 === 0 ? KINDS : [...KINDS].reverse()) await call(kind);
	const { profile } = await inspector.send("Profiler.stop");
	const micros = selfByKind(profile);
	console.log(`self µs a call booked within each kind's method (${CALLS} calls of each, ${SAMPLING_INTERVAL_US} µs sampling)`);
	for (const kind of KINDS) {
		console.log(kind, SHOWN.map((name) => `${name} ${((micros.get(`${kind} ${name}`) ?? 0) / CALLS).toFixed(1)}`).join("  "));
	}
	console.log("outside every kind's method, µs per call of any kind:");
	const outside = [...micros].filter(([key]) => key.startsWith("outside ")).sort((a, b) => b[1] - a[1]);
	for (const [key, us] of outside.slice(0, 8)) console.log(`${(us / (CALLS * KINDS.length)).toFixed(1).padStart(9)}  ${key.slice(8)}`);
} finally {
	inspector.close();
	await mf.dispose();
}
