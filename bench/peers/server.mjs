// @ts-check
/**
 * @module
 * Running a peer broker's server for comparison (redis-server, nats-server): spawned detached in its own process
 * group on 127.0.0.1, waited for on its port, stopped by the group's id.
 */

import { execFileSync, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

const live = new Set();

/** The path of `name` on PATH, or null. */
export function which(name) {
	try {
		return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || null;
	} catch {
		return null;
	}
}

export function versionOf(bin, args) {
	try {
		return execFileSync(bin, args, { encoding: "utf8", timeout: 5_000 }).trim().split("\n")[0];
	} catch {
		return "unknown";
	}
}

async function waitForPort(port, child, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with ${child.exitCode}`);
		const open = await new Promise((resolve) => {
			const socket = net.connect({ host: "127.0.0.1", port });
			socket.once("connect", () => {
				socket.destroy();
				resolve(true);
			});
			socket.once("error", () => resolve(false));
		});
		if (open) return;
		await sleep(100);
	}
	throw new Error(`${child.spawnfile} did not listen on ${port} within ${timeoutMs} ms`);
}

/** Spawns `bin args` detached (own process group), logs to `logPath`, waits for `port`. */
export async function startPeer({ bin, args, port, logPath }) {
	const log = createWriteStream(logPath);
	const child = spawn(bin, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
	child.stdout.pipe(log);
	child.stderr.pipe(log);
	const exit = new Promise((resolve) => child.once("exit", resolve));
	const peer = {
		pid: child.pid,
		async stop() {
			live.delete(peer);
			if (child.exitCode === null && child.signalCode === null) {
				kill(child.pid, "SIGTERM");
				const done = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)]);
				if (!done) kill(child.pid, "SIGKILL");
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

function kill(pid, signal) {
	try {
		process.kill(-pid, signal);
	} catch {
		// gone
	}
}

export function killAllPeersSync() {
	for (const peer of live) kill(peer.pid, "SIGKILL");
	live.clear();
}
