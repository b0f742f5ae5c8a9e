// @ts-check
/**
 * The e2e tests' hang bounds follow the machine's load (scripts/lib/load.mjs): a bound that held at one load is
 * stretched by how much busier the machine is now, per core, never shortened, and at most LOAD_STRETCH_MAX times
 * (past that, a test still running is taken as hung). A bound reads the load when it is set (the runner's file
 * timeout as it starts the file, the file's test bounds as it starts), not a reading from the run's start.
 */

import assert from "node:assert/strict";
import { availableParallelism, loadavg } from "node:os";
import { test } from "node:test";
import { LOAD_STRETCH_MAX, underLoad, useLoadSource } from "../../scripts/lib/index.mjs";

test("a bound set at a load is kept at or below it, stretched above it, and stretched at most LOAD_STRETCH_MAX times", () => {
	// Set at load 16 on the 2 cores it was measured on: 8 per core.
	assert.equal(underLoad(120_000, 16, 4), 120_000);
	assert.equal(underLoad(120_000, 16, 8), 120_000);
	assert.equal(underLoad(120_000, 16, 12), 180_000);
	assert.equal(underLoad(120_000, 16, 100), 120_000 * LOAD_STRETCH_MAX);
});

test("without a load given, the machine's own (per core, the larger average) stretches the bound", (t) => {
	const [one = 0, five = 0] = loadavg();
	const perCore = Math.max(one, five) / availableParallelism();
	if (perCore === 0) return t.skip("no load average on this platform");
	// A bound set at a load of `perCore` on 2 cores is twice as busy per core now: stretched 2 times.
	const stretched = underLoad(1_000, perCore);
	assert.ok(stretched >= 1_800 && stretched <= 2_200, `stretched ${stretched}, not about 2000`);
});

test("a bound reads the load when it is set: one set after the load rose is stretched by the risen load", (t) => {
	let perCore = 2.5; // load 5 on 2 cores
	t.after(useLoadSource(() => perCore));
	// restart.test.mjs: underLoad(90_000, 16). Set at a run's start at load 5, and once the load rose to 20.
	assert.equal(underLoad(90_000, 16), 90_000);
	perCore = 10;
	assert.equal(underLoad(90_000, 16), 112_500);
});

test("from one reading, the runner's file timeout stays above docs' longest test bound at any load", () => {
	// scripts/test-e2e.mjs: underLoad(600_000, 17); docs.test.mjs: a test is underLoad(180_000, 16) + underLoad(90_000, 16).
	for (const perCore of [0, 4, 8, 8.5, 12, 20, 24, 40, 100]) {
		const fileTimeout = underLoad(600_000, 17, perCore);
		const docsTest = underLoad(180_000, 16, perCore) + underLoad(90_000, 16, perCore);
		assert.ok(fileTimeout > docsTest, `at ${perCore} per core the file is cut at ${fileTimeout} ms, its test's bound is ${docsTest} ms`);
	}
});

test("read apart (the runner's as it starts a file, the file's as it starts), the file timeout stays above docs' longest test bound unless the load per core nearly doubled between them", () => {
	for (const perCore of [0, 4, 8, 8.5, 12, 20, 24, 40, 100]) {
		const fileTimeout = underLoad(600_000, 17, perCore);
		const docsTest = underLoad(180_000, 16, perCore * 1.9) + underLoad(90_000, 16, perCore * 1.9);
		assert.ok(
			fileTimeout > docsTest,
			`at ${perCore} per core, then 1.9 times that, the file is cut at ${fileTimeout} ms, its test's bound is ${docsTest} ms`,
		);
	}
});
