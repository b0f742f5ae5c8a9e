import { defineConfig } from "vitest/config";

/**
 * Tests that run in Node rather than workerd: the Durable Streams conformance suite, which drives a real
 * `wrangler dev` over HTTP (and opens a webhook receiver of its own). `npm run test:conformance`.
 */
export default defineConfig({
	test: {
		include: ["test/conformance/**/*.test.mjs"],
		testTimeout: 30_000,
		hookTimeout: 120_000,
	},
});
