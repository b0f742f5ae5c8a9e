// @ts-check
/**
 * stopChild (scripts/lib/process-tree.mjs), how the e2e tests stop a process they started (a Kafka gateway): SIGTERM,
 * and SIGKILL once its grace is over, so a wedged process cannot keep the test file's process alive after its tests.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { stopChild } from "../../scripts/lib/index.mjs";

/** A node process that says "ready" once its SIGTERM handler is in place; `wedged`: that handler does nothing. */
async function child(/** @type {boolean} */ wedged) {
	const handler = wedged ? "() => {}" : "() => process.exit(0)";
	const code = `process.on("SIGTERM", ${handler}); setInterval(() => {}, 1000); console.log("ready");`;
	const spawned = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
	await once(spawned.stdout, "data");
	return spawned;
}

test("a process that exits on SIGTERM is stopped by it", async () => {
	const spawned = await child(false);
	assert.deepEqual(await stopChild(spawned, 30_000), { forced: false });
	assert.equal(spawned.exitCode, 0);
});

test("a process that ignores SIGTERM is killed once its grace is over", { timeout: 60_000 }, async () => {
	const spawned = await child(true);
	const stopped = await Promise.race([
		stopChild(spawned, 200),
		new Promise((resolve) => setTimeout(resolve, 20_000, "still running 20 s after its 200 ms grace")),
	]);
	if (typeof stopped === "string") spawned.kill("SIGKILL");
	assert.deepEqual(stopped, { forced: true });
	assert.equal(spawned.signalCode, "SIGKILL");
});
