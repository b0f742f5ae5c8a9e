/**
 * @module
 * Small process-independent helpers for the e2e tests: free ports, port checks, temp dirs, polling.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const HOST = "127.0.0.1";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.once("error", reject);
		server.listen(0, HOST, () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
export function isPortOpen(port, timeoutMs = 1000) {
	return new Promise((resolve) => {
		const socket = connect({ host: HOST, port });
		const done = (open) => {
			socket.destroy();
			resolve(open);
		};
		socket.setTimeout(timeoutMs, () => done(true)); // connected-but-silent or unanswered: not closed
		socket.once("connect", () => done(true));
		socket.once("error", () => done(false));
	});
}

export function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` (sync or async) every `intervalMs` until it returns truthy; throws `message` after `timeoutMs`. */
export async function waitUntil(check, { timeoutMs, intervalMs = 100, message = "condition" }) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
		await sleep(intervalMs);
	}
}

/** A fresh temp dir, and a function that deletes it (kept when E2E_KEEP=1, for post-mortems). */
export function tempDir(prefix) {
	const path = mkdtempSync(join(tmpdir(), `tributary-e2e-${prefix}-`));
	return {
		path,
		remove() {
			if (process.env.E2E_KEEP === "1") console.log(`# kept ${path}`);
			else rmSync(path, { recursive: true, force: true });
		},
	};
}
