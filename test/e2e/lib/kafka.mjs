// @ts-check
/**
 * @module
 * Kafka-side helpers for the gateway e2e tests: the gateway as its own process (the `kafka-gateway` command,
 * listening on port 0 so the kernel picks a free port as it binds, read back from its "listening on" line; stopped
 * by PID), Debian's kcat, and a raw TCP client for frames no well-behaved client sends.
 */

import { spawn, spawnSync } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { HOST, PROJECT_ROOT, waitUntil } from "../../../scripts/lib/index.mjs";

/** The `tributary` CLI as npm installs it; the documented way to run the gateway is `tributary kafka-gateway`. */
const CLI_MAIN = join(PROJECT_ROOT, "dist", "cli", "main.js");
const KCAT_TIMEOUT_MS = 30_000;
/** The gateway's line once it listens: `kafka-gateway: listening on 127.0.0.1:40123 (advertised …)`. */
const LISTENING_LINE = /listening on \S*:(\d+) /;

/**
 * Starts `kafka-gateway --listen 127.0.0.1:<port> --url <url> [--token]` and waits until it listens.
 * @param {{ url: string, token?: string | null, port?: number }} options  `port`: default 0 (any free one)
 */
export async function startGatewayProcess({ url, token = null, port = 0 }) {
	// Through `tributary kafka-gateway … --url … [--token …]`, as the README shows it.
	const args = [CLI_MAIN, "kafka-gateway", "--listen", `${HOST}:${port}`, "--url", url, ...(token ? ["--token", token] : [])];
	const child = spawn(process.execPath, args, {
		cwd: PROJECT_ROOT,
		stdio: ["ignore", "pipe", "pipe"],
		env: { ...process.env, TRIBUTARY_TOKEN: "" },
	});
	/** @type {string[]} */
	const lines = [];
	child.stderr.on("data", (chunk) => lines.push(...String(chunk).split("\n").filter(Boolean)));
	child.stdout.on("data", (chunk) => lines.push(...String(chunk).split("\n").filter(Boolean)));
	let exited = false;
	child.once("exit", () => {
		exited = true;
	});
	const chosen = await waitUntil(
		() => {
			if (exited) throw new Error(`kafka-gateway exited:\n${lines.join("\n")}`);
			const listening = lines.map((line) => LISTENING_LINE.exec(line)).find((match) => match !== null);
			return listening === undefined ? null : Number(listening[1]);
		},
		{ timeoutMs: 15_000, message: "kafka-gateway to listen" },
	);
	return {
		port: chosen,
		bootstrap: `${HOST}:${chosen}`,
		pid: child.pid,
		output: () => lines.join("\n"),
		async stop() {
			if (exited) return;
			const gone = new Promise((resolve) => child.once("exit", resolve));
			child.kill("SIGTERM");
			await gone;
		},
	};
}

/**
 * Runs kcat with `args` (and `input` on stdin); returns `{ status, stdout, stderr }`.
 * @param {string[]} args
 */
export function kcat(args, input = "") {
	const result = spawnSync("kcat", args, { input, encoding: "utf8", timeout: KCAT_TIMEOUT_MS });
	if (result.error) throw result.error;
	return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Sends raw bytes to the gateway and resolves with everything it answers until it closes the connection
 * (or `idleMs` passes without it closing: then `closed` is false).
 * @param {number} port @param {Buffer} bytes
 */
export function rawExchange(port, bytes, idleMs = 3_000) {
	return new Promise((resolve, reject) => {
		const socket = connect({ host: HOST, port });
		/** @type {Buffer[]} */
		const chunks = [];
		const timer = setTimeout(() => {
			socket.destroy();
			resolve({ closed: false, answer: Buffer.concat(chunks) });
		}, idleMs);
		socket.on("connect", () => socket.write(bytes));
		socket.on("data", (chunk) => chunks.push(chunk));
		socket.on("error", (error) => {
			clearTimeout(timer);
			if (/** @type {any} */ (error).code === "ECONNRESET") resolve({ closed: true, answer: Buffer.concat(chunks) });
			else reject(error);
		});
		socket.on("close", () => {
			clearTimeout(timer);
			resolve({ closed: true, answer: Buffer.concat(chunks) });
		});
	});
}
