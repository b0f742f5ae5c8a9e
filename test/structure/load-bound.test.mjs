// @ts-check
/**
 * The e2e tests' hang bounds follow the machine's load (scripts/lib/load.mjs): a bound that held at one load is
 * stretched by how much busier the machine is now, per core, never shortened, and at most LOAD_STRETCH_MAX times
 * (past that, a test still running is taken as hung).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { LOAD_STRETCH_MAX, underLoad } from "../../scripts/lib/index.mjs";

test("a bound set at a load is kept at or below it, stretched above it, and stretched at most LOAD_STRETCH_MAX times", () => {
	// Set at load 16 on the 2 cores it was measured on: 8 per core.
	assert.equal(underLoad(120_000, 16, 4), 120_000);
	assert.equal(underLoad(120_000, 16, 8), 120_000);
	assert.equal(underLoad(120_000, 16, 12), 180_000);
	assert.equal(underLoad(120_000, 16, 100), 120_000 * LOAD_STRETCH_MAX);
});

test("without a load given, the machine's own is read", () => {
	assert.ok(underLoad(1_000, 1_000_000) === 1_000, "a bound set at a load no machine reaches is kept");
	assert.ok(underLoad(1_000, 0.001) >= 1_000);
});
