// @ts-check
/**
 * The e2e tests' hang bounds follow the machine's load (scripts/lib/load.mjs): a bound that held at one load is
 * stretched by how much busier the machine is now, per core, never shortened, and at most LOAD_STRETCH_MAX times
 * (past that, a test still running is taken as hung). The e2e runner reads the load once and passes that reading down
 * to its files (LOAD_READING_ENV), so its file timeout and their test bounds are stretched alike.
 */

import assert from "node:assert/strict";
import { availableParallelism, loadavg } from "node:os";
import { test } from "node:test";
import { LOAD_READING_ENV, LOAD_STRETCH_MAX, readLoadOnce, underLoad } from "../../scripts/lib/index.mjs";

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
	assert.equal(process.env[LOAD_READING_ENV], undefined, "no runner's reading is in force here");
	// A bound set at a load of `perCore` on 2 cores is twice as busy per core now: stretched 2 times.
	const stretched = underLoad(1_000, perCore);
	assert.ok(stretched >= 1_800 && stretched <= 2_200, `stretched ${stretched}, not about 2000`);
});

test("a reading passed down in LOAD_READING_ENV is used in place of the machine's load", (t) => {
	t.after(() => delete process.env[LOAD_READING_ENV]);
	process.env[LOAD_READING_ENV] = "1.5";
	// Set at load 2 on 2 cores (1 per core), now 1.5 per core: stretched 1.5 times, whatever the machine's load is.
	assert.equal(underLoad(1_000, 2), 1_500);
});

test("readLoadOnce keeps its reading for the processes started after it", (t) => {
	t.after(() => delete process.env[LOAD_READING_ENV]);
	const reading = readLoadOnce();
	assert.equal(process.env[LOAD_READING_ENV], String(reading));
	assert.equal(readLoadOnce(), reading, "a second call keeps the first reading");
	assert.equal(underLoad(1_000, 1), underLoad(1_000, 1, reading));
});

test("from one reading, the runner's file timeout stays above docs' longest test bound at any load", () => {
	// scripts/test-e2e.mjs: underLoad(600_000, 17); docs.test.mjs: a test is underLoad(180_000, 16) + underLoad(90_000, 16).
	for (const perCore of [0, 4, 8, 8.5, 12, 20, 24, 40, 100]) {
		const fileTimeout = underLoad(600_000, 17, perCore);
		const docsTest = underLoad(180_000, 16, perCore) + underLoad(90_000, 16, perCore);
		assert.ok(fileTimeout > docsTest, `at ${perCore} per core the file is cut at ${fileTimeout} ms, its test's bound is ${docsTest} ms`);
	}
});
