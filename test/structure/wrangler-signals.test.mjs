// @ts-check
/**
 * A process killed by a signal has no "exit" event, so `startWranglerDev`'s "exit" backstop never runs for it, and its
 * wrangler, in a process group of its own, gets none of the terminal's signals. So from its first instance on, a
 * process kills its instances on SIGINT, SIGHUP or SIGTERM and then ends as the signal would have ended it; one that
 * listens for the signal itself is left to its listener (the bench's Ctrl-C stops its servers gracefully). The wrangler
 * is a stand-in (a node server that says "Ready on" as wrangler does, and notes a SIGTERM it is sent).
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { isAlive, PROJECT_ROOT, signal, waitUntil } from "../../scripts/lib/index.mjs";
import { writeStandInWrangler } from "../e2e/lib/stand-in-wrangler.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";

const dir = tempDir("wrangler-signals");
/** The stand-ins' PIDs, one a line. */
const pidsFile = join(dir.path, "pids");
/** A line per SIGTERM a stand-in was sent (a graceful stop). */
const termsFile = join(dir.path, "terms");
const bin = writeStandInWrangler(dir.path, { pidsFile, termsFile });

/** @param {string} file */
const lines = (file) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

after(() => {
	for (const pid of lines(pidsFile).map(Number).filter(isAlive)) signal(pid, "SIGKILL");
	dir.remove();
});

/**
 * A node process that starts a stand-in wrangler (after `before`, code run first), says "ready", and waits for ever.
 * @param {string} name  names its state directory
 * @param {string} [before]
 */
function holder(name, before = "") {
	const script = `${before}
import { startWranglerDev } from ${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, "scripts/lib/index.mjs")).href)};
globalThis.dev = await startWranglerDev({ bin: ${JSON.stringify(bin)}, root: ${JSON.stringify(dir.path)}, persistTo: ${JSON.stringify(join(dir.path, name))}, token: "t", keepWarm: false });
console.log("ready");
setInterval(() => {}, 1_000);
`;
	const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
	const ready = new Promise((resolve) => child.stdout.on("data", (chunk) => String(chunk).includes("ready") && resolve(undefined)));
	/** @type {Promise<{ code: number | null, sig: NodeJS.Signals | null }>} */
	const exited = new Promise((resolve) => child.once("exit", (code, sig) => resolve({ code, sig })));
	return { child, ready, exited };
}

test("a process sent SIGTERM kills its wrangler first, then ends by the signal", { timeout: 60_000 }, async () => {
	const { child, ready, exited } = holder("plain");
	await ready;
	child.kill("SIGTERM");
	assert.deepEqual(await exited, { code: null, sig: "SIGTERM" });
	const [pid] = lines(pidsFile).map(Number);
	assert.ok(pid !== undefined);
	await waitUntil(() => !isAlive(pid), { timeoutMs: 5_000, message: `the stand-in wrangler (pid ${pid}) to be gone` });
});

test("a process that listens for SIGTERM itself is left to its listener: it stops its wrangler gracefully", {
	timeout: 60_000,
}, async () => {
	// Registered after startWranglerDev's, as the bench's Ctrl-C handler may be: order must not matter.
	const listens = `setTimeout(() => process.on("SIGTERM", () => globalThis.dev.stop().then(() => process.exit(7))), 0);`;
	const { child, ready, exited } = holder("listens", listens);
	await ready;
	child.kill("SIGTERM");
	assert.deepEqual(await exited, { code: 7, sig: null });
	assert.deepEqual(lines(termsFile), ["SIGTERM"], "the stand-in was sent SIGTERM (stopped), not SIGKILL");
});
