// @ts-check
/**
 * @module
 * A real `wrangler dev`, run in the background: started from node_modules/.bin (never npx, whose death would
 * orphan workerd) in its own process group, on a free 127.0.0.1 port, with a `--persist-to` dir. Stopped by PID:
 * SIGTERM to the group, SIGKILL if it lingers. `crash()` SIGKILLs the workerd processes (and wrangler) instead.
 *
 * Every instance is registered so `stopAllWranglerDevs()` (for `after()` hooks) and a process "exit" backstop
 * make sure no workerd outlives the process that started it.
 */

import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { basename } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { freePort, healthy, waitUntil } from "./net.mjs";
import { commandLine, descendants, groupMembers, isAlive, signal } from "./process-tree.mjs";
import { HOST, PROJECT_ROOT, WRANGLER_BIN, wranglerEnv } from "./project.mjs";

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_LINES_KEPT = 200;
/** How many [ERROR] lines a start-up failure quotes ahead of the whole output. */
const ERROR_LINES_SHOWN = 5;

/**
 * @typedef {object} WranglerDevOptions
 * @property {string} persistTo  the `--persist-to` directory (required)
 * @property {string} [token]  the ADMIN_TOKEN var (required unless `vars.ADMIN_TOKEN` is given)
 * @property {Record<string, string>} [vars]  further `--var NAME:value`s
 * @property {number} [port]  default: a free one
 * @property {string} [root]  the project directory (default this checkout)
 * @property {string} [configPath]  relative to `root` (default: wrangler's own choice, wrangler.toml)
 * @property {string} [logPath]  also write every output line to this file
 * @property {number} [readyTimeoutMs]
 */

/**
 * @typedef {object} WranglerDev
 * @property {string} url
 * @property {number} port
 * @property {number} pid
 * @property {string} persistTo
 * @property {string} token
 * @property {() => string} output  the last OUTPUT_LINES_KEPT lines wrangler printed
 * @property {() => number[]} workerdPids
 * @property {(options?: { timeoutMs?: number }) => Promise<{ forced: boolean }>} stop
 * @property {(options?: { timeoutMs?: number }) => Promise<number[]>} crash
 * @property {(options?: Partial<WranglerDevOptions>) => Promise<WranglerDev>} restart
 */

/** @type {Set<WranglerDev>} */
const live = new Set();

process.on("exit", killAllWranglerDevsSync);

/**
 * The arguments of `wrangler dev` on 127.0.0.1:`port` (for a foreground run, as `npm start --wrangler` does).
 * @param {{ port: number, persistTo: string, vars?: Record<string, string>, configPath?: string }} options
 */
export function wranglerDevArgs({ port, persistTo, vars = {}, configPath }) {
	const args = ["dev", "--ip", HOST, "--port", String(port), "--persist-to", persistTo];
	if (configPath !== undefined) args.push("--config", configPath);
	for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
	return args;
}

/**
 * Whether a process is a workerd runtime (by command name, or by its executable's name).
 * @param {import("./process-tree.mjs").ProcessInfo} p
 */
function isWorkerd(p) {
	return p.name === "workerd" || basename(commandLine(p.pid)[0] ?? "") === "workerd";
}

/**
 * Runs `wrangler <args>` in the foreground (its output on this terminal) and exits with it. Not via npx: the .bin
 * shim spawns wrangler's real CLI as a child without passing signals on, so they are delivered to the whole tree
 * by PID instead.
 * @param {string[]} args
 * @param {string} label how error lines name the caller (e.g. "npm run dev")
 */
export function runWranglerForeground(args, label) {
	const child = spawn(WRANGLER_BIN, args, { cwd: PROJECT_ROOT, env: wranglerEnv(), stdio: "inherit" });
	child.on("error", (error) => {
		console.error(`${label}: could not run ${WRANGLER_BIN}: ${error.message}`);
		process.exit(1);
	});
	child.on("exit", (code, sig) => process.exit(code ?? (sig === null ? 0 : 1)));
	const pid = child.pid;
	if (pid === undefined) return; // the "error" handler above reports it
	const forward = (/** @type {NodeJS.Signals} */ sig) => {
		for (const p of descendants(pid).reverse()) signal(p.pid, sig);
		signal(pid, sig);
	};
	process.on("SIGINT", () => forward("SIGINT"));
	process.on("SIGTERM", () => forward("SIGTERM"));
}

/**
 * Starts `wrangler dev` and waits until /healthz answers 200; fails fast on a build error (wrangler dev would
 * otherwise wait for a fix).
 * @param {WranglerDevOptions} options
 * @returns {Promise<WranglerDev>}
 * @example
 * const server = await startWranglerDev({ persistTo: dir, token });
 * await fetch(`${server.url}/healthz`);
 * await server.stop();
 */
export async function startWranglerDev(options) {
	const { persistTo, vars = {}, root = PROJECT_ROOT, configPath, logPath, readyTimeoutMs = READY_TIMEOUT_MS } = options;
	const token = options.token ?? vars.ADMIN_TOKEN;
	if (!persistTo || !token) throw new Error("startWranglerDev needs persistTo and token");
	const port = options.port ?? (await freePort());
	const args = wranglerDevArgs({ port, persistTo, vars: { ...vars, ADMIN_TOKEN: token }, configPath });
	// The inspector gets a free port too: wrangler's default (9229 and up) races with other wrangler devs on the machine.
	const inspectorPort = await freePort();
	const child = spawn(WRANGLER_BIN, [...args, "--inspector-port", String(inspectorPort), "--show-interactive-dev-session=false"], {
		cwd: root,
		env: wranglerEnv({ WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", FORCE_COLOR: "0" }),
		detached: true,
		stdio: ["ignore", "pipe", "pipe"],
	});
	const pid = child.pid;
	if (pid === undefined) throw new Error(`could not run ${WRANGLER_BIN}`);
	const output = outputKeeper(port, logPath);
	child.stdout.on("data", output.keep);
	child.stderr.on("data", output.keep);
	/** @type {{ code: number | null, signal: NodeJS.Signals | null } | null} */
	let exitInfo = null;
	/** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
	const exited = new Promise((resolve) => {
		child.once("exit", (code, sig) => {
			const info = { code, signal: sig };
			exitInfo = info;
			output.close();
			resolve(info);
		});
	});
	const spawnError = new Promise((_, reject) => child.once("error", reject));
	/** @type {WranglerDev} */
	const handle = {
		url: `http://${HOST}:${port}`,
		port,
		pid,
		persistTo,
		token,
		output: () => output.lines.join("\n"),
		workerdPids: () =>
			descendants(pid)
				.filter(isWorkerd)
				.map((p) => p.pid),
		stop: (stopOptions) => stopGracefully(handle, () => exitInfo !== null, stopOptions),
		crash: (crashOptions) => crash(handle, () => exitInfo !== null, crashOptions),
		restart: (more = {}) => startWranglerDev({ ...options, port, ...more }),
	};
	live.add(handle);
	await waitReady(handle, { spawnError, exited, lines: output.lines, readyTimeoutMs });
	return handle;
}

/**
 * Collects wrangler's output: the last lines in memory, every line in `logPath` if given.
 * @param {number} port
 * @param {string} [logPath]
 */
function outputKeeper(port, logPath) {
	/** @type {string[]} */
	const lines = [];
	const file = logPath === undefined ? null : createWriteStream(logPath);
	return {
		lines,
		/** @param {Buffer} chunk */
		keep(chunk) {
			for (const line of stripVTControlCharacters(String(chunk)).split("\n")) {
				if (line.trim() === "") continue;
				lines.push(line);
				file?.write(`${line}\n`);
				if (process.env.E2E_VERBOSE === "1") process.stderr.write(`[wrangler:${port}] ${line}\n`);
			}
			if (lines.length > OUTPUT_LINES_KEPT) lines.splice(0, lines.length - OUTPUT_LINES_KEPT);
		},
		close() {
			file?.end();
		},
	};
}

/**
 * Waits for /healthz; on failure stops the instance and throws with its output.
 * @param {WranglerDev} handle
 * @param {{ spawnError: Promise<unknown>, exited: Promise<unknown>, lines: string[], readyTimeoutMs: number }} watch
 */
async function waitReady(handle, { spawnError, exited, lines, readyTimeoutMs }) {
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
					// Only a build failure is final (wrangler dev would wait for a fix). Other [ERROR] lines can be
					// transient: workerd logs a write to a closed socket ("Broken pipe", "Connection reset by peer")
					// when wrangler's own inspector connection drops during start-up, and still becomes healthy.
					if (lines.some((line) => line.includes("Build failed"))) throw new Error("wrangler dev could not build the Worker");
					return healthy(handle.url);
				},
				{ timeoutMs: readyTimeoutMs, intervalMs: 200, message: `${handle.url}/healthz` },
			),
		]);
	} catch (error) {
		await handle.stop().catch(() => {});
		// The error lines first: a long output is cut from the end where it is shown (CI logs), and they explain it.
		const errors = lines.filter((line) => line.includes("[ERROR]")).slice(0, ERROR_LINES_SHOWN);
		const cause = errors.length === 0 ? "" : `\n--- its [ERROR] lines ---\n${errors.join("\n")}`;
		throw new Error(`${error instanceof Error ? error.message : String(error)}${cause}\n--- wrangler dev output ---\n${handle.output()}`);
	} finally {
		settled = true;
	}
}

/**
 * Graceful stop: SIGTERM to the process group, SIGKILL after `timeoutMs` if anything is left.
 * Returns `{ forced }`: whether SIGKILL was needed.
 * @param {WranglerDev} handle
 * @param {() => boolean} hasExited
 * @param {{ timeoutMs?: number }} [options]
 */
async function stopGracefully(handle, hasExited, { timeoutMs = STOP_TIMEOUT_MS } = {}) {
	const { pid } = handle;
	const tree = [pid, ...descendants(pid).map((p) => p.pid)];
	const gone = () => hasExited() && groupMembers(pid).length === 0 && tree.every((p) => !isAlive(p));
	let forced = false;
	if (!gone()) {
		signal(-pid, "SIGTERM");
		try {
			await waitUntil(gone, { timeoutMs, message: `wrangler dev (pid ${pid}) to exit after SIGTERM` });
		} catch {
			forced = true;
			for (const p of tree) signal(p, "SIGKILL");
			signal(-pid, "SIGKILL");
			await waitUntil(gone, { timeoutMs, message: `wrangler dev (pid ${pid}) to exit after SIGKILL` });
		}
	}
	live.delete(handle);
	return { forced };
}

/**
 * Crash: SIGKILL every workerd under this wrangler first, then wrangler itself (whole group), with no chance to
 * clean up. Returns the PIDs of the workerd processes that were killed.
 * @param {WranglerDev} handle
 * @param {() => boolean} hasExited
 * @param {{ timeoutMs?: number }} [options]
 */
async function crash(handle, hasExited, { timeoutMs = STOP_TIMEOUT_MS } = {}) {
	const { pid } = handle;
	const all = descendants(pid);
	const workerds = all.filter(isWorkerd).map((p) => p.pid);
	for (const p of workerds) signal(p, "SIGKILL");
	for (const p of all) signal(p.pid, "SIGKILL");
	signal(-pid, "SIGKILL");
	const tree = [pid, ...all.map((p) => p.pid)];
	await waitUntil(() => hasExited() && tree.every((p) => !isAlive(p)) && groupMembers(pid).length === 0, {
		timeoutMs,
		message: `wrangler dev (pid ${pid}) to die after SIGKILL`,
	});
	live.delete(handle);
	return workerds;
}

/** Stops every instance still running (for `after()` hooks); never throws. */
export async function stopAllWranglerDevs() {
	await Promise.all(
		[...live].map((instance) =>
			instance.stop().catch(() => {
				signal(-instance.pid, "SIGKILL");
			}),
		),
	);
}

/** Synchronous last resort (for "exit" handlers): SIGKILL to every instance's process group. */
export function killAllWranglerDevsSync() {
	for (const instance of live) signal(-instance.pid, "SIGKILL");
	live.clear();
}
