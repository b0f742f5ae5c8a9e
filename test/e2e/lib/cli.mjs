// @ts-check
/**
 * @module
 * Runs the built `tributary` CLI (dist/cli/main.js, built by `npm install`'s prepare script) as a child process:
 * arguments, stdin text and environment in; exit status, stdout and stderr out.
 */

import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../../scripts/lib/index.mjs";
import { captureOutput } from "./child-output.mjs";

export const CLI = join(PROJECT_ROOT, "dist", "cli", "main.js");
const CLI_TIMEOUT_MS = 60_000;

/** @typedef {{ status: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }} CliResult */

/**
 * `tributary …args` (stdin text or bytes); resolves `{ status, stdout, stderr }` (never rejects on a non-zero status).
 * TRIBUTARY_URL and TRIBUTARY_TOKEN are empty unless `env` names them; a variable `env` sets to undefined is unset.
 * @param {string[]} args
 * @param {{ input?: string | Buffer, env?: Record<string, string | undefined>, cwd?: string, timeoutMs?: number }} [options]
 * @returns {Promise<CliResult>}
 */
export function runCli(args, { input = "", env = {}, cwd = PROJECT_ROOT, timeoutMs = CLI_TIMEOUT_MS } = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [CLI, ...args], {
			cwd,
			env: { ...process.env, TRIBUTARY_URL: "", TRIBUTARY_TOKEN: "", ...env },
			stdio: ["pipe", "pipe", "pipe"],
		});
		const output = captureOutput(child);
		const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
		child.on("error", reject);
		child.on("close", (status, signal) => {
			clearTimeout(timer);
			resolve({ status, signal, ...output });
		});
		child.stdin.end(input);
	});
}

/**
 * JSON lines of stdout, parsed.
 * @param {string} stdout
 * @returns {any[]}
 */
export function jsonLines(stdout) {
	return stdout
		.split("\n")
		.filter((line) => line.trim() !== "")
		.map((line) => JSON.parse(line));
}
