import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** Tests run inside workerd with the Worker and Durable Objects of wrangler.toml; e2e tests run separately. */
export const TEST_ADMIN_TOKEN = "test-admin-token";

export default defineConfig({
	plugins: [
		cloudflareTest({
			wrangler: { configPath: "./wrangler.toml" },
			miniflare: { bindings: { ADMIN_TOKEN: TEST_ADMIN_TOKEN, SIM_SEED: process.env.SIM_SEED ?? "" } },
		}),
	],
	test: {
		// Bounds on a hung test, not measures of speed: tests share a few cores with other work, where a cold
		// Durable Object or a property test can take several seconds. Speed is measured by `npm run bench`.
		testTimeout: 60_000,
		hookTimeout: 120_000,
		// Two files at once, whatever the core count (vitest's default is one fewer than the cores: one on a 2-core CI
		// machine). Each file runs in its own workerd, and much of a file's time is spent waiting (its workerd's start,
		// module loading, Durable Object round trips), which a second file fills.
		maxWorkers: 2,
		include: ["test/**/*.test.ts"],
		// The Worker logs one JSON line per request (for `wrangler tail`); in test output they are noise.
		onConsoleLog: (log) => !log.startsWith('{"msg":"request"'),
		exclude: ["test/e2e/**", "node_modules/**"],
	},
});
