// @ts-check
/**
 * `stopTree` (scripts/lib/process-tree.mjs), which `npm test` and the e2e runner stop their suites and files with,
 * given a tree that still grows as it stops: a process that, sent the signal, starts a child and waits for it before it
 * ends (a shell's trap running a cleanup, a runner stopping what it started). That child was born after the tree was
 * read and signalled: it must be sent the signal too, not left for the SIGKILL after the whole grace.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { isAlive, signal, stopTree, waitUntil } from "../../scripts/lib/index.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";

/** How long the root takes to start, at load: a bound on a hang, not a measure. */
const STARTED_BOUND_MS = 30_000;
/** The stop's grace: long enough for the root to start its child and the child to end, at load. */
const GRACE_MS = 20_000;

const dir = tempDir("stop-tree");
const readyFile = join(dir.path, "ready");
const childFile = join(dir.path, "child");
const root = join(dir.path, "root.mjs");
writeFileSync(
	root,
	`import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
process.on("SIGTERM", () => {
	const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
	writeFileSync(${JSON.stringify(childFile)}, String(child.pid));
	child.on("exit", () => process.exit(0));
});
writeFileSync(${JSON.stringify(readyFile)}, "ready");
setInterval(() => {}, 1000);
`,
);
const child = () => (existsSync(childFile) ? [Number(readFileSync(childFile, "utf8"))] : []);

after(() => {
	for (const pid of child().filter(isAlive)) signal(pid, "SIGKILL");
	dir.remove();
});

test("a child started by the tree once signalled is sent the signal too, and the tree ends on it, not SIGKILLed", async () => {
	const started = spawn(process.execPath, [root], { detached: true, stdio: "ignore" });
	const pid = /** @type {number} */ (started.pid);
	try {
		await waitUntil(() => existsSync(readyFile), { timeoutMs: STARTED_BOUND_MS, message: "the root to start" });
		const { forced } = await stopTree(pid, "SIGTERM", GRACE_MS);
		assert.equal(child().length, 1, "the root started its child on SIGTERM");
		assert.equal(forced, false, "the child born after the tree was read was left for SIGKILL");
		assert.deepEqual([pid, ...child()].filter(isAlive), []);
	} finally {
		signal(-pid, "SIGKILL");
	}
});

test("a child started in the tree's group by a process that then exits is sent the signal too, not left for SIGKILL", async () => {
	// Signalled, the root starts a child in its own group and exits at once: the child, reparented, is no descendant
	// of the root by the time the tree is read again, and was born after the group was signalled.
	const orphanReady = join(dir.path, "orphan-ready");
	const orphanFile = join(dir.path, "orphan");
	const orphaning = join(dir.path, "orphaning.mjs");
	writeFileSync(
		orphaning,
		`import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
process.on("SIGTERM", () => {
	const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
	writeFileSync(${JSON.stringify(orphanFile)}, String(child.pid));
	process.exit(0);
});
writeFileSync(${JSON.stringify(orphanReady)}, "ready");
setInterval(() => {}, 1000);
`,
	);
	const started = spawn(process.execPath, [orphaning], { detached: true, stdio: "ignore" });
	const pid = /** @type {number} */ (started.pid);
	try {
		await waitUntil(() => existsSync(orphanReady), { timeoutMs: STARTED_BOUND_MS, message: "the root to start" });
		const { forced } = await stopTree(pid, "SIGTERM", GRACE_MS);
		assert.ok(existsSync(orphanFile), "the root started its child on SIGTERM");
		assert.equal(forced, false, "the child left in the root's group was left for SIGKILL");
	} finally {
		signal(-pid, "SIGKILL");
	}
});
