import { readdirSync, readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

/** Tests run inside workerd with the Worker and Durable Objects of wrangler.toml; e2e tests run separately. */
export const TEST_ADMIN_TOKEN = "test-admin-token";

/**
 * Files that need a workerd of their own, as every file had before directories shared one: each counts or replaces
 * something the whole isolate shares, which the files run before it would have left behind.
 */
const OWN_WORKERD_FILES = [
	// Counts every setTimeout of the isolate: timers still armed by an earlier file's Durable Objects add to it.
	"test/partition/commit-queue.test.ts",
	// Upgrades the key store from v1, once per isolate: an earlier file's keys have already brought it to v2.
	"test/security/key-upgrade.test.ts",
	// Lists every route of the app module, which an earlier file's vi.mock would have replaced.
	"test/http/route-table.test.ts",
	// Takes `stopWaiting` from PartitionLog's prototype while its streams run, so an earlier file's read still releasing
	// its wait then is refused ("The RPC receiver does not implement stopWaiting"), and asserts that nothing in the
	// isolate logs an error meanwhile, which an earlier file's background work (an alarm, a webhook lane) may do.
	"test/http/sse-client-gone.test.ts",
];
/** vi.mock replaces a module for the file that asks, which only a module graph of its own can do. */
const MOCKS_MODULES = /\bvi\.(mock|doMock)\(/;
/**
 * test/support/sql-rows.ts counts the rows of every SQL statement the isolate runs while a test's work does: in a
 * shared workerd the alarms of an earlier file's objects run statements too (counted: "expected 25 to be 13"), and
 * reading the counters of another object's cursor throws ("Cannot perform I/O on behalf of a different Durable Object").
 */
const COUNTS_ISOLATE_SQL = /support\/sql-rows\.ts/;
/** Every workerd test file runs alone, each in a fresh workerd, as before: to tell a test's fault from a neighbour's. */
const ISOLATE_EVERY_FILE = process.env.VITEST_ISOLATE_EVERY_FILE === "1";

const TEST_ROOT = "test";
const NOT_WORKERD = new Set(["e2e", "gateway", "structure", "conformance", "support"]);

/** Whether a file's text says it cannot share its workerd (`MOCKS_MODULES`, `COUNTS_ISOLATE_SQL`). */
const sharesNothing = (text: string): boolean => MOCKS_MODULES.test(text) || COUNTS_ISOLATE_SQL.test(text);

/** The workerd test files of each directory under test/, and those of them that need a workerd of their own. */
function testFiles(): { byDirectory: Map<string, string[]>; ownWorkerd: string[] } {
	const byDirectory = new Map<string, string[]>();
	const ownWorkerd: string[] = [];
	for (const directory of readdirSync(TEST_ROOT, { withFileTypes: true })) {
		if (!directory.isDirectory() || NOT_WORKERD.has(directory.name)) continue;
		const files = readdirSync(`${TEST_ROOT}/${directory.name}`, { recursive: true, encoding: "utf8" })
			.filter((name) => name.endsWith(".test.ts"))
			.map((name) => `${TEST_ROOT}/${directory.name}/${name}`);
		const shared: string[] = [];
		for (const file of files) {
			const own = ISOLATE_EVERY_FILE || OWN_WORKERD_FILES.includes(file) || sharesNothing(readFileSync(file, "utf8"));
			(own ? ownWorkerd : shared).push(file);
		}
		if (shared.length > 0) byDirectory.set(directory.name, shared);
	}
	return { byDirectory, ownWorkerd };
}

/**
 * One project per directory of test/, whose files run one after another in a workerd kept for the next file
 * (`maxWorkers` runners, each with a workerd of its own, so which files share one changes from run to run),
 * instead of a fresh workerd and a fresh load of the Worker's modules per file: that start cost about 2.4 s a file,
 * most of the suite's time. The files that share a workerd share its Durable Objects' storage and module state, so
 * a test works on topics, groups and keys of its own names (test/support/names.ts), and what a file changes for the
 * whole isolate (spies, fake timers) is undone at its end (test/support/file-boundary.ts);
 * state stays within a directory, not the whole suite (the fuzz test of the API slowed from 19 s to 267 s over the
 * topics of all 142 files). A file that cannot share is run alone (OWN_WORKERD_FILES, `sharesNothing`).
 */
function projects(): TestProjectInlineConfiguration[] {
	const { byDirectory, ownWorkerd } = testFiles();
	const shared: TestProjectInlineConfiguration[] = [...byDirectory].map(([name, include]) => ({
		extends: true,
		test: { name, include, isolate: false },
	}));
	return [...shared, { extends: true, test: { name: "own-workerd", include: ownWorkerd, isolate: true } }];
}

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
		// machine). Much of a file's time is spent waiting (Durable Object round trips, module loading), which a
		// second file fills.
		maxWorkers: 2,
		// Undoes at each file's end what a file changed for the whole isolate, which the next files of its directory share.
		setupFiles: ["test/support/file-boundary.ts"],
		projects: projects(),
		// Console output goes straight to workerd's stdout, not through vitest's onUserConsoleLog RPC: a line logged by a
		// Durable Object in its own I/O context is sent from the runner's context later, and a file's end waits for every
		// such call's answer with no bound (rpcDone): one never sent left the whole run idle after its last file reported.
		// The Worker's request lines are dropped in the isolate instead (test/support/file-boundary.ts).
		disableConsoleIntercept: true,
		exclude: ["test/e2e/**", "node_modules/**"],
	},
});
