// @ts-check
/**
 * A wrangler whose pipes outlive it: a process it started in a session of its own (out of reach of the group's
 * signals) inherits its stdout and stderr, so "close" never comes while that process lives. `startWranglerDev` must
 * not wait for "close" to know wrangler is gone. Regression: it did, in its stop, crash and failed-start paths, so
 * with such a process `stop()` threw after 20 s, `crash()` after 10 s, and a start on a taken port timed out at
 * readyTimeoutMs without its EADDRINUSE code. The stand-in wrangler here is a script of the test's own (workerd
 * cannot be made to leave such a process behind on purpose).
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, test } from "node:test";
import { generateToken, HOST, isAlive, signal, waitUntil } from "../../scripts/lib/index.mjs";
import { outputKeeper, startWranglerDev } from "../../scripts/lib/wrangler-dev.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";

const dir = tempDir("wrangler-orphan");
const pidFile = join(dir.path, "orphans");
const bin = join(dir.path, "wrangler");
// Serves /healthz on --port (0: any) and says "Ready on" as wrangler does, or exits 1 with wrangler's line if the port
// is taken; first starts the orphan with its stdout and stderr, in a session of its own, through a shell that exits at
// once (so it is no descendant of wrangler's either), and notes the orphan's PID.
writeFileSync(
	bin,
	`#!${process.execPath}
const { spawn } = require("node:child_process");
const { createServer } = require("node:http");
spawn("sh", ["-c", "setsid sleep 60 & echo $! >> " + ${JSON.stringify(JSON.stringify(pidFile))}], { stdio: ["ignore", "inherit", "inherit"] });
const args = process.argv.slice(2);
const server = createServer((_request, response) => response.end("ok"));
server.on("error", () => {
	console.error("[ERROR] Address already in use");
	process.exit(1);
});
server.listen(Number(args[args.indexOf("--port") + 1]), "127.0.0.1", () => {
	console.log("[wrangler:info] Ready on http://127.0.0.1:" + server.address().port);
});
process.on("SIGTERM", () => process.exit(0));
`,
);
chmodSync(bin, 0o755);
const options = () => ({ bin, root: dir.path, persistTo: join(dir.path, "state"), token: generateToken(), keepWarm: false });

after(() => {
	const orphans = existsSync(pidFile) ? readFileSync(pidFile, "utf8").split("\n").filter(Boolean).map(Number) : [];
	for (const pid of orphans.filter(isAlive)) signal(pid, "SIGKILL");
	dir.remove();
});

test("stop() and crash() take wrangler's exit, not its pipes' end, as its end", { timeout: 60_000 }, async () => {
	const stopped = await startWranglerDev(options());
	assert.deepEqual(await stopped.stop(), { forced: false });
	const crashed = await startWranglerDev(options());
	assert.deepEqual(await crashed.crash(), [], "no workerd under the stand-in");
});

// Two workerd processes on one --persist-to would open the same SQLite files (produce-stream's tests once each
// started one there while the one before still ran).
test("a start on the --persist-to of an instance still running is refused, and goes once that one stopped", {
	timeout: 60_000,
}, async () => {
	const first = await startWranglerDev(options());
	try {
		// A second start that went through is stopped here, or it would keep this file's process alive.
		const second = await startWranglerDev(options()).then(
			async (started) => `started (pid ${started.pid}): ${JSON.stringify(await started.stop())}`,
			(/** @type {Error} */ error) => error.message,
		);
		assert.match(second, /already runs on --persist-to/);
	} finally {
		await first.stop();
	}
	const next = await startWranglerDev(options());
	assert.deepEqual(await next.stop(), { forced: false });
});

test("a start on a taken port fails with EADDRINUSE though the pipes stay open", { timeout: 60_000 }, async () => {
	const taken = createServer();
	await new Promise((resolve) => taken.listen(0, HOST, () => resolve(undefined)));
	const { port } = /** @type {import("node:net").AddressInfo} */ (taken.address());
	try {
		await assert.rejects(startWranglerDev({ ...options(), port, readyTimeoutMs: 30_000 }), (/** @type {NodeJS.ErrnoException} */ error) => {
			assert.equal(error.code, "EADDRINUSE", error.message);
			return true;
		});
	} finally {
		taken.close();
	}
});

test("outputKeeper's close() may come twice, and a line read after it goes to memory, not the closed log", async () => {
	const logPath = join(dir.path, "closed.log");
	const output = outputKeeper(process.pid, logPath);
	const stream = new PassThrough();
	output.read(stream);
	stream.write("before\n");
	await new Promise((resolve) => setImmediate(resolve));
	output.close();
	output.close();
	// Written to the ended log, it would be an "error" event nobody handles, which fails this test.
	stream.end("after\n");
	await new Promise((resolve) => stream.once("end", resolve));
	assert.deepEqual(output.lines, ["before", "after"]);
	// The log is opened asynchronously (createWriteStream): until it exists there is nothing to read yet.
	const logged = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : null);
	await waitUntil(() => logged() === "before\n", { timeoutMs: 5_000, message: () => `the log holds ${JSON.stringify(logged())}` });
});
