// @ts-check
/**
 * @module
 * Ports and polling for local servers: free ports, port checks, waiting for a condition.
 */

import { connect, createServer } from "node:net";
import { DEFAULT_PORT, HOST } from "./project.mjs";

/** The highest TCP port. */
const PORT_MAX = 65_535;
/** Decimal digits only: Number() alone would take "0x1F90" as 8080, "8e3" as 8000 and " " as 0. */
const PORT_DIGITS = /^\d+$/;

/**
 * $PORT, or the value of the flag `name`, as a port number (`DEFAULT_PORT` when unset or empty, as PERSIST_TO; 0: any
 * free one, which the kernel picks as the server binds it), checked by one rule for `npm start` and `npm run dev`.
 * @param {string | undefined} value
 * @param {string} [name]  what the error names: `PORT` or `--port`
 */
export function parsePort(value, name = "PORT") {
	if (value === undefined || value === "") return DEFAULT_PORT;
	const port = Number(value);
	if (!PORT_DIGITS.test(value) || port > PORT_MAX) throw new Error(`${name} must be a port number, got ${JSON.stringify(value)}`);
	return port;
}

/**
 * Where the option `name` (`--name value` or `--name=value`) is among a script's arguments (`at`, -1 when absent),
 * and its value: what follows '=', else the next argument (undefined when it is the last).
 * @param {string[]} args @param {string} name
 * @returns {{ at: number, value: string | undefined }}
 */
export function optionAt(args, name) {
	const at = args.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
	if (at < 0) return { at, value: undefined };
	const arg = args[at] ?? "";
	return { at, value: arg === name ? args[at + 1] : arg.slice(name.length + 1) };
}

/**
 * `--port N` or `--port=N` among a script's arguments, checked as `parsePort` checks $PORT; undefined when absent. A
 * `--port` without a value (the last argument, or one followed by another flag) is refused, not read as the default.
 * @param {string[]} args
 * @returns {number | undefined}
 */
export function portOption(args) {
	const { at, value } = optionAt(args, "--port");
	if (at < 0) return undefined;
	if (value === undefined || value === "" || value.startsWith("-")) throw new Error("--port needs a value");
	return parsePort(value, "--port");
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
 * What `promise` settles to, or null if it has not within `timeoutMs` (its timer then cleared either way): a bound on a
 * wait whose end is an event, such as a process's exit, rather than a state to poll.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} timeoutMs
 * @returns {Promise<T | null>}
 */
export async function within(promise, timeoutMs) {
	/** @type {NodeJS.Timeout | undefined} */
	let bound;
	try {
		return await Promise.race([promise, new Promise((resolve) => (bound = setTimeout(resolve, timeoutMs, null)))]);
	} finally {
		clearTimeout(bound);
	}
}

/**
 * Polls `check` (sync or async) every `intervalMs` until it returns truthy; throws `message` after `timeoutMs`. A
 * function `message` is called only then, so it can tell what happened during the wait (a server's output so far).
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {{ timeoutMs: number, intervalMs?: number, message?: string | (() => string) }} options
 * @returns {Promise<T>}
 */
export async function waitUntil(check, { timeoutMs, intervalMs = 100, message = "condition" }) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof message === "function" ? message() : message}`);
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
