// @ts-check
/**
 * The same-load A/B comparison's pure parts (bench/lib/ab.mjs): which builds its arguments name, how a paired step
 * reports, and what its rounds sum up to; and the thread CPU count it reads a server's cost from.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { abBuilds, cpuMicrosPerRequest, pairSteps, summarize } from "../../bench/lib/ab.mjs";
import { threadCpuSeconds } from "../../scripts/lib/index.mjs";

test("bench:ab compares main with the working tree unless told, and knows an A/A run", () => {
	assert.deepEqual(abBuilds([]), { a: "main", b: ".", sameBuild: false });
	assert.deepEqual(abBuilds(["HEAD~1"]), { a: "HEAD~1", b: ".", sameBuild: false });
	assert.deepEqual(abBuilds([".", "."]), { a: ".", b: ".", sameBuild: true });
	assert.throws(() => abBuilds(["a", "b", "c"]), /two builds/);
});

test("a paired step sends the request to every build and reports the first failure", async () => {
	/** @type {string[]} */
	const sent = [];
	/** @param {string} name @param {number} status */
	const step = (name, status) => async (/** @type {number} */ client, /** @type {number} */ i) => {
		sent.push(`${name}:${client}:${i}`);
		return { status, records: 1 };
	};
	assert.deepEqual(await pairSteps([step("A", 200), step("B", 200)])(3, 7), { status: 200, records: 1 });
	assert.deepEqual(sent.sort(), ["A:3:7", "B:3:7"]);
	assert.equal((await pairSteps([step("A", 200), step("B", 503)])(0, 0)).status, 503);
});

test("CPU per request is seconds over requests, in µs; no figure without both", () => {
	assert.equal(cpuMicrosPerRequest(0.5, 1_000), 500);
	assert.equal(cpuMicrosPerRequest(Number.NaN, 1_000), null);
	assert.equal(cpuMicrosPerRequest(0.5, 0), null);
});

test("a summary gives each build's median, the per-round differences' median and spread, and whether they agree in sign", () => {
	const s = summarize([
		{ a: 500, b: 490 },
		{ a: 520, b: 505 },
		{ a: 480, b: 485 },
	]);
	assert.deepEqual(s, { rounds: 3, a: 500, b: 490, diff: -10, diffMin: -15, diffMax: 5, percent: -2, bLower: 2, signsAgree: false });
	assert.equal(summarize([{ a: 500, b: 490 }]).signsAgree, true);
	assert.equal(summarize([{ a: 500, b: 500 }]).signsAgree, false);
	assert.throws(() => summarize([]), /no rounds/);
});

test("a process's thread CPU grows as it works, counted finer than clock ticks", () => {
	const before = threadCpuSeconds(process.pid);
	// Spin until the process has run 30 ms by Node's own count (getrusage), not for 30 ms of wall time: on a loaded
	// machine 30 ms of wall time held only 6.5 ms of CPU, and the check failed 2 runs in 7.
	const start = process.cpuUsage();
	for (let used = process.cpuUsage(start); used.user + used.system < 30_000; used = process.cpuUsage(start)) {
		// spin
	}
	const spent = threadCpuSeconds(process.pid) - before;
	assert.ok(spent >= 0.02 && spent < 1, `spent ${spent} s`);
	assert.notEqual(Math.round(threadCpuSeconds(process.pid) * 1e9) % 10_000_000, 0, "a count in whole ticks");
	assert.ok(Number.isNaN(threadCpuSeconds(2 ** 30)));
});
