// @ts-check
/**
 * @module
 * Running a peer broker's server for comparison (redis-server, nats-server): spawned detached in its own process
 * group on 127.0.0.1, waited for on its port, stopped by the group's id.
 */

import { execFileSync, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { isPortOpen, signal, waitUntil } from "../../scripts/lib/index.mjs";

/** @type {Set<{ pid: number, stop(): Promise<void> }>} */
const live = new Set();

/**
 * The path of `name` on PATH, or null.
 * @param {string} name
 */
export function which(name) {
	try {
		return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || null;
	} catch {
		return null;
	}
}

/**
 * The first line `bin args` prints (its version), or "unknown".
 * @param {string} bin
 * @param {string[]} args
 */
export function versionOf(bin, args) {
	try {
		return execFileSync(bin, args, { encoding: "utf8", timeout: 5_000 }).trim().split("\n")[0] ?? "unknown";
	} catch {
		return "unknown";
	}
}

/**
 * Resolves once something listens on `port`; throws if `child` exits first or after `timeoutMs`.
 * @param {number} port
 * @param {import("node:child_process").ChildProcess} child
 * @param {number} timeoutMs
 */
function waitForPort(port, child, timeoutMs) {
	return waitUntil(
		() => {
			if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with ${child.exitCode}`);
			return isPortOpen(port);
		},
		{ timeoutMs, message: `${child.spawnfile} to listen on ${port}` },
	);
}

/**
 * Spawns `bin args` detached (own process group), logs to `logPath`, waits for `port`.
 * @param {{ bin: string, args: string[], port: number, logPath: string }} options
 */
export async function startPeer({ bin, args, port, logPath }) {
	const log = createWriteStream(logPath);
	const child = spawn(bin, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
	child.stdout.pipe(log);
	child.stderr.pipe(log);
	const pid = child.pid;
	if (pid === undefined) throw new Error(`could not run ${bin}`);
	const exit = new Promise((resolve) => child.once("exit", resolve));
	const peer = {
		pid,
		async stop() {
			live.delete(peer);
			if (child.exitCode === null && child.signalCode === null) {
				signal(-pid, "SIGTERM");
				const done = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)]);
				if (!done) signal(-pid, "SIGKILL");
			}
			log.end();
		},
	};
	live.add(peer);
	try {
		await waitForPort(port, child, 15_000);
	} catch (error) {
		await peer.stop();
		throw error;
	}
	return peer;
}

/** Synchronous last resort (for "exit" handlers): SIGKILL to every peer's process group. */
export function killAllPeersSync() {
	for (const peer of live) signal(-peer.pid, "SIGKILL");
	live.clear();
}
