// @ts-check
/**
 * @module
 * Ports and polling for local servers: free ports, port checks, waiting for a condition.
 */

import { connect, createServer } from "node:net";
import { DEFAULT_PORT, HOST } from "./project.mjs";

/**
 * $PORT as a port number (`DEFAULT_PORT` when unset; 0: any free one, which the kernel picks as the server binds it),
 * checked once for `npm start` and `npm run dev`.
 * @param {string | undefined} value
 */
export function parsePort(value) {
	const port = Number(value ?? DEFAULT_PORT);
	if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${JSON.stringify(value)}`);
	return port;
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: another process may take it before it is used. Where the
 * server can bind port 0 and say which port it got (wrangler dev, Miniflare, the Kafka gateway), do that instead.
 * @returns {Promise<number>}
 */
export function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.once("error", reject);
		server.listen(0, HOST, () => {
			const address = server.address();
			const port = typeof address === "object" && address !== null ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/**
 * The one line that explains a port in use (instead of workerd's stack trace), with what to do about it.
 * @param {number} port
 * @param {string} advice
 */
export function portInUse(port, advice) {
	return `port ${port} is in use (another npm start or wrangler dev?): ${advice}`;
}

/**
 * Fails with `portInUse`'s line if something already listens on `host`:`port`.
 * @param {number} port
 * @param {string} [advice]
 * @param {string} [host]
 * @returns {Promise<void>}
 */
export function assertPortFree(port, advice = "stop it, or set PORT", host = HOST) {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", (/** @type {NodeJS.ErrnoException} */ error) => {
			reject(error.code === "EADDRINUSE" ? new Error(portInUse(port, advice)) : error);
		});
		server.listen(port, host, () => server.close(() => resolve()));
	});
}

/**
 * Whether something accepts connections on 127.0.0.1:`port`.
 * @param {number} port
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>}
 */
export function isPortOpen(port, timeoutMs = 1000) {
	return new Promise((resolve) => {
		const socket = connect({ host: HOST, port });
		/** @param {boolean} open */
		const done = (open) => {
			socket.destroy();
			resolve(open);
		};
		socket.setTimeout(timeoutMs, () => done(true)); // connected-but-silent or unanswered: not closed
		socket.once("connect", () => done(true));
		socket.once("error", () => done(false));
	});
}

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
export function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` (sync or async) every `intervalMs` until it returns truthy; throws `message` after `timeoutMs`.
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {{ timeoutMs: number, intervalMs?: number, message?: string }} options
 * @returns {Promise<T>}
 */
export async function waitUntil(check, { timeoutMs, intervalMs = 100, message = "condition" }) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
		await sleep(intervalMs);
	}
}

/**
 * Resolves once nothing listens on the port any more (the socket closes with the process).
 * @param {number} port
 * @param {number} [timeoutMs]
 */
export function waitForPortClosed(port, timeoutMs = 5_000) {
	return waitUntil(async () => !(await isPortOpen(port)), { timeoutMs, message: `port ${port} to close` });
}

/**
 * Whether `url`/healthz answers 200 now (false on any failure; never throws).
 * @param {string} url
 * @returns {Promise<boolean>}
 */
export async function healthy(url) {
	try {
		const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
		await response.arrayBuffer();
		return response.status === 200;
	} catch {
		return false;
	}
}
