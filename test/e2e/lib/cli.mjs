// @ts-check
/**
 * @module
 * Runs the built `tributary` CLI (dist/cli/main.js, built by `npm install`'s prepare script) as a child process, or
 * in a worker thread of this process: arguments, stdin text and environment in; exit status, stdout and stderr out.
 */

import { spawn } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { PROJECT_ROOT } from "../../../scripts/lib/index.mjs";
import { captureOutput } from "./child-output.mjs";

export const CLI = join(PROJECT_ROOT, "dist", "cli", "main.js");
/** What a thread of `runCli(…, { inThread: true })` runs. */
const CLI_THREAD = new URL("./cli-thread.mjs", import.meta.url);
const CLI_TIMEOUT_MS = 60_000;

/** @typedef {{ status: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }} CliResult */

/**
 * A started run of the CLI, as a process or a thread, its input given: its output, how to kill it, and its end.
 * @typedef {object} CliRun
 * @property {import("node:stream").Readable} stdout
 * @property {import("node:stream").Readable} stderr
 * @property {() => void} kill
 * @property {Promise<{ status: number | null, signal: NodeJS.Signals | null, uncaught?: unknown }>} ended  once its output is all read
 */

/**
 * `tributary …args` (stdin text or bytes); resolves `{ status, stdout, stderr }` (never rejects on a non-zero status).
 * TRIBUTARY_URL and TRIBUTARY_TOKEN are empty unless `env` names them; a variable `env` sets to undefined is unset.
 * Given `signal` (a node:test test's `t.signal`, aborted when the test times out, fails or ends), an abort kills the
 * CLI and rejects, and a run asked for after it never starts: node:test goes on to the next test without stopping a
 * timed-out one's body, whose later commands would otherwise run on and change what the next test sees.
 *
 * `inThread` runs the same dist/cli/main.js in a worker thread of this process instead of a process of its own, for
 * a test about what the CLI does rather than about its process: no node start (about half a run's CPU, and
 * several times less wall time on a loaded machine: a test of 20 runs spent most of its time starting them). The
 * thread has its own process.argv, process.env, stdin, stdout, stderr and exit status (process.exitCode, or
 * process.exit's, which ends the thread alone); an error the CLI leaves uncaught ends it with status 1 and the
 * error's stack on stderr, as node prints it for a process, so "no stack trace" is still checked. Not with `cwd`: a
 * thread has its process's. A kill (timeout, abort) ends the thread as SIGKILL would the process.
 * @param {string[]} args
 * @param {{ input?: string | Buffer, env?: Record<string, string | undefined>, cwd?: string, timeoutMs?: number, signal?: AbortSignal, inThread?: boolean }} [options]
 * @returns {Promise<CliResult>}
 */
export function runCli(args, { input = "", env = {}, cwd, timeoutMs = CLI_TIMEOUT_MS, signal, inThread = false } = {}) {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) {
			reject(stopped(args, signal));
			return;
		}
		const environment = { ...process.env, TRIBUTARY_URL: "", TRIBUTARY_TOKEN: "", ...env };
		if (inThread && cwd !== undefined) throw new Error("runCli: a thread runs in this process's directory; run a process for cwd");
		const cli = inThread ? startThread(args, environment, input) : startProcess(args, environment, cwd ?? PROJECT_ROOT, input);
		const output = captureOutput(cli);
		const timer = setTimeout(cli.kill, timeoutMs);
		const abort = () => {
			cli.kill();
			reject(stopped(args, /** @type {AbortSignal} */ (signal)));
		};
		signal?.addEventListener("abort", abort, { once: true });
		cli.ended.then(({ status, signal: killedBy, uncaught }) => {
			clearTimeout(timer);
			signal?.removeEventListener("abort", abort);
			if (uncaught !== undefined) output.stderr += `${uncaught instanceof Error ? uncaught.stack : String(uncaught)}\n`;
			resolve({ status, signal: killedBy, ...output });
		}, reject);
	});
}

/**
 * The CLI as a child process.
 * @param {string[]} args @param {Record<string, string | undefined>} env @param {string} cwd @param {string | Buffer} input
 * @returns {CliRun}
 */
function startProcess(args, env, cwd, input) {
	const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
	child.stdin.end(input);
	return {
		stdout: child.stdout,
		stderr: child.stderr,
		kill: () => child.kill("SIGKILL"),
		ended: new Promise((resolve, reject) => {
			child.on("error", reject);
			child.on("close", (status, signal) => resolve({ status, signal }));
		}),
	};
}

/**
 * The CLI in a worker thread (cli-thread.mjs, which gives it `input` as its stdin): `env`'s unset variables left out
 * (a thread's env takes strings only), no node options of this process's (a process of its own has none either).
 * @param {string[]} args @param {Record<string, string | undefined>} env @param {string | Buffer} input
 * @returns {CliRun}
 */
function startThread(args, env, input) {
	const defined = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
	const workerData = { main: pathToFileURL(CLI).href, input: Buffer.from(input) };
	const worker = new Worker(CLI_THREAD, { argv: args, env: defined, execArgv: [], workerData, stdout: true, stderr: true });
	let killed = false;
	/** @type {unknown} */
	let uncaught;
	worker.on("error", (error) => {
		uncaught = error;
	});
	const stdout = /** @type {import("node:stream").Readable} */ (worker.stdout);
	const stderr = /** @type {import("node:stream").Readable} */ (worker.stderr);
	return {
		stdout,
		stderr,
		kill: () => {
			killed = true;
			void worker.terminate();
		},
		ended: new Promise((resolve) => {
			worker.on("exit", async (code) => {
				// Whatever the thread wrote before it ended is read before its end is told, as a process's "close" waits.
				await Promise.all(
					[stdout, stderr].map((stream) => (stream.readableEnded ? null : new Promise((done) => stream.once("end", done)))),
				);
				resolve(killed ? { status: null, signal: "SIGKILL" } : { status: code, signal: null, uncaught });
			});
		}),
	};
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
