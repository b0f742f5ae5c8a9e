import { defineConfig } from "vitest/config";

const CONFORMANCE_TESTS_AT_ONCE = 4;

/**
 * Tests that run in Node rather than workerd: the Durable Streams conformance suite, which drives a real
 * `wrangler dev` over HTTP (and opens a webhook receiver of its own). `npm run test:conformance`.
 */
export default defineConfig({
	test: {
		include: ["test/conformance/**/*.test.mjs"],
		// A bound on a hung test, not a measure of speed (as in vitest.config.ts): with tests at once on a loaded
		// machine the suite's property tests (fast-check, dozens of runs each) take several times their time alone,
		// 40–60 s at a load of 21 (three of them cut off at 60 s in one run).
		testTimeout: 180_000,
		hookTimeout: 120_000,
		// The conformance tests each work on streams of their own (unique paths), and most of their time is spent
		// waiting on the broker (long-polls held for DS_LONG_POLL_MS, SSE reads, TTL expiries), so they run
		// CONFORMANCE_TESTS_AT_ONCE at a time, overlapping those waits, instead of one after another.
		sequence: { concurrent: true },
		maxConcurrency: CONFORMANCE_TESTS_AT_ONCE,
	},
});
