/**
 * Serving a Worker with `wrangler dev` (the local binary, never npx): spawned detached in its own process group
 * so that it, its esbuild and its workerd children can be stopped together by the group's id.
 */

import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { stripVTControlCharacters } from "node:util";

const live = new Set();

/** Starts `wrangler dev` on 127.0.0.1:`port`; resolves once GET /healthz answers 200. */
export async function startWranglerDev({
	root,
	wranglerBin,
	configPath,
	port,
	vars,
	persistDir,
	logPath,
	extraArgs = [],
	readyTimeoutMs = 90_000,
}) {
	const args = ["dev", "--config", configPath, "--port", String(port), "--ip", "127.0.0.1", "--persist-to", persistDir];
	for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
	args.push("--show-interactive-dev-session=false", ...extraArgs);
	const log = createWriteStream(logPath);
	const child = spawn(wranglerBin, args, {
		cwd: root,
		detached: true,
		stdio: ["ignore", "pipe", "pipe"],
		env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
	});
	child.stdout.pipe(log);
	child.stderr.pipe(log);
	// The start of the output, kept to fail fast on a build error (wrangler dev would otherwise wait for a fix).
	let head = "";
	const keepHead = (chunk) => {
		if (head.length < 64 * 1024) head += stripVTControlCharacters(chunk.toString("utf8"));
	};
	child.stdout.on("data", keepHead);
	child.stderr.on("data", keepHead);
	let exited = null;
	const exit = new Promise((resolve) =>
		child.once("exit", (code, signal) => {
			exited = { code, signal };
			resolve(exited);
		}),
	);
	const server = {
		url: `http://127.0.0.1:${port}`,
		pid: child.pid,
		logPath,
		async stop() {
			live.delete(server);
			if (exited === null) {
				killGroup(child.pid, "SIGTERM");
				const done = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)]);
				if (!done) killGroup(child.pid, "SIGKILL");
				await Promise.race([exit, sleep(2_000)]);
			}
			// Children may outlive wrangler's own exit; the group goes regardless.
			killGroup(child.pid, "SIGKILL");
			log.end();
		},
	};
	live.add(server);
	const deadline = Date.now() + readyTimeoutMs;
	while (Date.now() < deadline) {
		if (exited !== null) throw new Error(`wrangler dev exited early (${JSON.stringify(exited)}): ${errorLines(head)}`);
		if (/\[ERROR\]/.test(head)) {
			await sleep(500);
			await server.stop();
			throw new Error(`wrangler dev failed to build: ${errorLines(head)}`);
		}
		try {
			const response = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2_000) });
			await response.arrayBuffer();
			if (response.ok) return server;
		} catch {
			// not listening yet
		}
		await sleep(250);
	}
	await server.stop();
	throw new Error(`wrangler dev did not answer /healthz within ${readyTimeoutMs} ms; see ${logPath}`);
}

function errorLines(text) {
	const lines = text.split("\n").filter((line) => /ERROR|✘|\.ts:\d+/.test(line));
	return (lines.length > 0 ? lines : text.split("\n").slice(-5)).slice(0, 8).join("\n");
}

function killGroup(pid, signal) {
	try {
		process.kill(-pid, signal);
	} catch {
		// already gone
	}
}

/** Synchronous last-resort stop of every wrangler dev still running (for process exit handlers). */
export function killAllWranglerDevSync() {
	for (const server of live) killGroup(server.pid, "SIGKILL");
	live.clear();
}
