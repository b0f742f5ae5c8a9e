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
 * Given `signal` (a node:test test's `t.signal`, aborted when the test times out, fails or ends), an abort kills the
 * CLI and rejects, and a run asked for after it never starts: node:test goes on to the next test without stopping a
 * timed-out one's body, whose later commands would otherwise run on and change what the next test sees.
 * @param {string[]} args
 * @param {{ input?: string | Buffer, env?: Record<string, string | undefined>, cwd?: string, timeoutMs?: number, signal?: AbortSignal }} [options]
 * @returns {Promise<CliResult>}
 */
export function runCli(args, { input = "", env = {}, cwd = PROJECT_ROOT, timeoutMs = CLI_TIMEOUT_MS, signal } = {}) {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) {
			reject(stopped(args, signal));
			return;
		}
		const child = spawn(process.execPath, [CLI, ...args], {
			cwd,
			env: { ...process.env, TRIBUTARY_URL: "", TRIBUTARY_TOKEN: "", ...env },
			stdio: ["pipe", "pipe", "pipe"],
		});
		const output = captureOutput(child);
		const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
		const abort = () => {
			child.kill("SIGKILL");
			reject(stopped(args, /** @type {AbortSignal} */ (signal)));
		};
		signal?.addEventListener("abort", abort, { once: true });
		child.on("error", reject);
		child.on("close", (status, killedBy) => {
			clearTimeout(timer);
			signal?.removeEventListener("abort", abort);
			resolve({ status, signal: killedBy, ...output });
		});
		child.stdin.end(input);
	});
}

/**
 * Why a run was stopped, or never started: its test was aborted.
 * @param {string[]} args @param {AbortSignal} signal
 */
function stopped(args, signal) {
	return new Error(`tributary ${args.join(" ")}: not run to its end, its test was aborted`, { cause: signal.reason });
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
