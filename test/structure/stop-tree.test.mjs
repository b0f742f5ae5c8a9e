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

/**
 * A root script that, sent SIGTERM, starts a child (its PID written to `<name>.child`) and then does `afterSpawn` (a
 * line of its source: wait for the child, or exit at once); it writes `<name>.ready` once its handler is set.
 * @param {string} name @param {string} afterSpawn
 */
function writeRoot(name, afterSpawn) {
	const ready = join(dir.path, `${name}.ready`);
	const childFile = join(dir.path, `${name}.child`);
	const script = join(dir.path, `${name}.mjs`);
	writeFileSync(
		script,
		`import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
process.on("SIGTERM", () => {
	const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
	writeFileSync(${JSON.stringify(childFile)}, String(child.pid));
	${afterSpawn}
});
writeFileSync(${JSON.stringify(ready)}, "ready");
setInterval(() => {}, 1000);
`,
	);
	const child = () => (existsSync(childFile) ? [Number(readFileSync(childFile, "utf8"))] : []);
	children.push(child);
	return { script, ready, child };
}
/** Each root's child, for the SIGKILL after the tests should a stop have failed. */
const children = [];

/**
 * Starts `root` in a group of its own and stops its tree with SIGTERM (`stopTree`, GRACE_MS): whether it had to SIGKILL,
 * and the root and child still alive after the stop.
 * @param {ReturnType<typeof writeRoot>} root
 */
async function startAndStop(root) {
	const started = spawn(process.execPath, [root.script], { detached: true, stdio: "ignore" });
	const pid = /** @type {number} */ (started.pid);
	try {
		await waitUntil(() => existsSync(root.ready), { timeoutMs: STARTED_BOUND_MS, message: "the root to start" });
		const { forced } = await stopTree(pid, "SIGTERM", GRACE_MS);
		assert.equal(root.child().length, 1, "the root started its child on SIGTERM");
		// Read before the SIGKILL that follows, which would end them either way.
		return { forced, alive: [pid, ...root.child()].filter(isAlive) };
	} finally {
		signal(-pid, "SIGKILL");
	}
}

after(() => {
	for (const pid of children.flatMap((child) => child()).filter(isAlive)) signal(pid, "SIGKILL");
	dir.remove();
});

test("a child started by the tree once signalled is sent the signal too, and the tree ends on it, not SIGKILLed", async () => {
	const root = writeRoot("waiting", `child.on("exit", () => process.exit(0));`);
	const { forced, alive } = await startAndStop(root);
	assert.equal(forced, false, "the child born after the tree was read was left for SIGKILL");
	assert.deepEqual(alive, []);
});

test("a child started in the tree's group by a process that then exits is sent the signal too, not left for SIGKILL", async () => {
	// Signalled, the root starts a child in its own group and exits at once: the child, reparented, is no descendant
	// of the root by the time the tree is read again, and was born after the group was signalled.
	const { forced } = await startAndStop(writeRoot("orphaning", "process.exit(0);"));
	assert.equal(forced, false, "the child left in the root's group was left for SIGKILL");
});
