/**
 * @module
 * A real `wrangler dev` for the e2e tests: started from node_modules/.bin (never npx, whose death would orphan
 * workerd) in its own process group, on a free 127.0.0.1 port, with a temp `--persist-to` dir. Stopped by PID:
 * SIGTERM to the group, SIGKILL if it lingers. `crash()` SIGKILLs the workerd processes (and wrangler) instead.
 *
 * Every instance is registered so `stopAllWranglerDevs()` (for `after()` hooks) and a process "exit" backstop
 * can make sure no workerd outlives the test file.
 */

import { spawn } from "node:child_process";
import { basename } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { PROJECT_ROOT, WRANGLER_BIN, wranglerEnv } from "../../../scripts/lib/local-broker.mjs";
import { commandLine, descendants, groupMembers, isAlive, signal } from "../../../scripts/lib/process-tree.mjs";
import { freePort, HOST, isPortOpen, waitUntil } from "./net.mjs";

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_LINES_KEPT = 200;

const live = new Set();

process.on("exit", () => {
	// Backstop for a test file that dies with instances running: synchronous, so only signals.
	for (const instance of live) signal(-instance.pid, "SIGKILL");
});

/** Whether a process is a workerd runtime (by command name, or by its executable's name). */
function isWorkerd(p) {
	return p.name === "workerd" || basename(commandLine(p.pid)[0] ?? "") === "workerd";
}

/**
 * Starts `wrangler dev` and waits until /healthz answers 200.
 * Options: `persistTo` (required), `token` (required), `port` (default: a free one), `readyTimeoutMs`.
 * Returns a handle: `{ url, port, pid, persistTo, token, output(), stop(), crash(), restart() }`.
 */
export async function startWranglerDev({ persistTo, token, port, readyTimeoutMs = READY_TIMEOUT_MS }) {
	if (!persistTo || !token) throw new Error("startWranglerDev needs persistTo and token");
	const chosenPort = port ?? (await freePort());
	const args = ["dev", "--port", String(chosenPort), "--ip", HOST, "--var", `ADMIN_TOKEN:${token}`, "--persist-to", persistTo];
	const child = spawn(WRANGLER_BIN, args, {
		cwd: PROJECT_ROOT,
		env: wranglerEnv({ WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", FORCE_COLOR: "0" }),
		detached: true,
		stdio: ["ignore", "pipe", "pipe"],
	});
	const lines = [];
	const keep = (chunk) => {
		for (const line of stripVTControlCharacters(String(chunk)).split("\n")) {
			if (line.trim() === "") continue;
			lines.push(line);
			if (process.env.E2E_VERBOSE === "1") process.stderr.write(`[wrangler:${chosenPort}] ${line}\n`);
		}
		if (lines.length > OUTPUT_LINES_KEPT) lines.splice(0, lines.length - OUTPUT_LINES_KEPT);
	};
	child.stdout.on("data", keep);
	child.stderr.on("data", keep);
	let exitInfo = null;
	const exited = new Promise((resolve) => {
		child.once("exit", (code, sig) => {
			exitInfo = { code, signal: sig };
			resolve(exitInfo);
		});
	});
	const spawnError = new Promise((_, reject) => child.once("error", reject));

	const url = `http://${HOST}:${chosenPort}`;
	const handle = {
		url,
		port: chosenPort,
		pid: child.pid,
		persistTo,
		token,
		output: () => lines.join("\n"),
		/** The workerd processes under this wrangler, by PID. */
		workerdPids: () =>
			descendants(child.pid)
				.filter(isWorkerd)
				.map((p) => p.pid),

		/**
		 * Graceful stop: SIGTERM to the process group, SIGKILL after `timeoutMs` if anything is left.
		 * Returns `{ forced }`: whether SIGKILL was needed.
		 */
		async stop({ timeoutMs = STOP_TIMEOUT_MS } = {}) {
			const tree = [child.pid, ...descendants(child.pid).map((p) => p.pid)];
			const gone = () => exitInfo !== null && groupMembers(child.pid).length === 0 && tree.every((pid) => !isAlive(pid));
			let forced = false;
			if (!gone()) {
				signal(-child.pid, "SIGTERM");
				try {
					await waitUntil(gone, { timeoutMs, message: `wrangler dev (pid ${child.pid}) to exit after SIGTERM` });
				} catch {
					forced = true;
					for (const pid of tree) signal(pid, "SIGKILL");
					signal(-child.pid, "SIGKILL");
					await waitUntil(gone, { timeoutMs, message: `wrangler dev (pid ${child.pid}) to exit after SIGKILL` });
				}
			}
			live.delete(handle);
			return { forced };
		},

		/**
		 * Crash: SIGKILL every workerd under this wrangler first, then wrangler itself (whole group), with no chance
		 * to clean up. Returns the PIDs of the workerd processes that were killed.
		 */
		async crash({ timeoutMs = STOP_TIMEOUT_MS } = {}) {
			const all = descendants(child.pid);
			const workerds = all.filter(isWorkerd).map((p) => p.pid);
			for (const pid of workerds) signal(pid, "SIGKILL");
			for (const p of all) signal(p.pid, "SIGKILL");
			signal(-child.pid, "SIGKILL");
			const tree = [child.pid, ...all.map((p) => p.pid)];
			await waitUntil(() => exitInfo !== null && tree.every((pid) => !isAlive(pid)) && groupMembers(child.pid).length === 0, {
				timeoutMs,
				message: `wrangler dev (pid ${child.pid}) to die after SIGKILL`,
			});
			live.delete(handle);
			return workerds;
		},

		/** A new `wrangler dev` on the same persist dir, token and port (this one must be stopped first). */
		restart(options = {}) {
			return startWranglerDev({ persistTo, token, port: chosenPort, ...options });
		},
	};
	live.add(handle);

	let settled = false;
	try {
		await Promise.race([
			spawnError,
			exited.then((info) => {
				throw new Error(`wrangler dev exited before it was ready (${JSON.stringify(info)})`);
			}),
			waitUntil(
				() => {
					if (settled) throw new Error("no longer waiting"); // the race is over: stop polling
					// wrangler dev keeps running after a failed build (waiting for a fix): fail fast instead.
					if (lines.some((line) => line.includes("Build failed"))) throw new Error("wrangler dev could not build the Worker");
					return healthy(url);
				},
				{ timeoutMs: readyTimeoutMs, intervalMs: 200, message: `${url}/healthz` },
			),
		]);
	} catch (error) {
		await handle.stop().catch(() => {});
		throw new Error(`${error.message}\n--- wrangler dev output ---\n${handle.output()}`);
	} finally {
		settled = true;
	}
	return handle;
}

/** Stops every instance still running (for `after()` hooks); never throws. */
export async function stopAllWranglerDevs() {
	await Promise.all([...live].map((instance) => instance.stop().catch(() => signal(-instance.pid, "SIGKILL"))));
}

/** Whether nothing listens on the port any more (polls briefly: the socket closes with the process). */
export function waitForPortClosed(port, timeoutMs = 5_000) {
	return waitUntil(async () => !(await isPortOpen(port)), { timeoutMs, message: `port ${port} to close` });
}

async function healthy(url) {
	try {
		const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
		await response.arrayBuffer();
		return response.status === 200;
	} catch {
		return false;
	}
}
