// @ts-check
/**
 * @module
 * A real `wrangler dev`, run in the background: started from node_modules/.bin (never npx, whose death would
 * orphan workerd) in its own process group, on 127.0.0.1 with a `--persist-to` dir. Stopped by PID: SIGTERM to the
 * group, SIGKILL if it lingers. `crash()` SIGKILLs the workerd processes (and wrangler) instead.
 *
 * Ports are never picked ahead and handed over: a port found free can be taken by another process before wrangler
 * binds it (parallel e2e files, other wrangler devs on the machine). Unless told a port, wrangler is given port 0,
 * so the kernel picks one as workerd binds it, and the port is read from wrangler's "Ready on" line; its inspector
 * gets port 0 too. A restart asks for its old port again and falls back to port 0 if that port was taken meanwhile.
 *
 * While it runs, an instance is sent KEEP_WARM_CONNECTIONS HEAD /healthz requests a second (KEEP_WARM_INTERVAL_MS says
 * why), unless told not to.
 *
 * Every instance is registered so `stopAllWranglerDevs()` (for `after()` hooks), a process "exit" backstop and a
 * signal that ends the process (`killOnEndingSignals`) make sure no workerd outlives the process that started it, and
 * so a start on the `--persist-to` of one still running is refused (`stateShared` says why).
 */

import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { basename, resolve } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { eachLine } from "./lines.mjs";
import { healthy, portInUse, waitUntil } from "./net.mjs";
import { commandLine, descendants, groupMembers, isAlive, signal } from "./process-tree.mjs";
import { HOST, PROJECT_ROOT, WRANGLER_BIN, wranglerEnv } from "./project.mjs";
import { onReaderGone } from "./reader-gone.mjs";

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;
/**
 * How long wrangler's output may still take to arrive once it exited, before it is no longer waited for: a process it
 * started may hold its pipes open after it exited (esbuild; anything orphaned in a session of its own, out of reach of
 * the group's signals), and they would then never end. `runWranglerForeground` exits without it (see
 * `exitOncePassedOn`); `startWranglerDev`'s instance counts as exited and closes its log.
 */
const OUTPUT_DRAIN_TIMEOUT_MS = 2_000;
const OUTPUT_LINES_KEPT = 200;
/** How many [ERROR] lines a start-up failure quotes ahead of the whole output. */
const ERROR_LINES_SHOWN = 5;
/** wrangler's line once its server listens: `[wrangler:info] Ready on http://127.0.0.1:40123`. */
const READY_LINE = /Ready on https?:\/\/[^\s]*:(\d+)/;
/** What wrangler prints (and exits after) when workerd cannot bind the port it was given. */
const PORT_TAKEN_LINE = /Address already in use/;

/**
 * How often a running instance is sent a HEAD /healthz of its own (`keepWarm`). wrangler dev's proxy keeps its
 * connection to the Worker's workerd alive between requests, and both ends drop it after 5 s idle (neither can be
 * configured): a request that reuses it as the Worker's end closes it fails in the proxy, which answers one other
 * than GET or HEAD with a 503 "Your worker restarted mid-request" and holds a GET or HEAD until its next forward.
 * A request every second keeps that connection from ever idling so long.
 */
export const KEEP_WARM_INTERVAL_MS = 1_000;
/**
 * How many keep-warm requests go at once: concurrent requests open as many pooled connections, and a connection
 * no keep-warm request takes idles into the same race (bursts of 6 POSTs after 4,930-4,990 ms idle: 12 of 180
 * answered the 503 with a single keep-warm request a second). Sent together, they take as many connections each
 * second; a test that opens more than this at once is not covered.
 */
export const KEEP_WARM_CONNECTIONS = 8;
/** How long one keep-warm request may take before it is dropped, so that none outlives a stopped instance for long. */
const KEEP_WARM_TIMEOUT_MS = 5_000;
/**
 * The keep-warm's request, a HEAD (no test sends one to /healthz): wrangler logs every request by method and path
 * (no query), and a line a second of these would push what explains a failure out of the lines kept, so wrangler's
 * lines for it are left out.
 */
const KEEP_WARM_METHOD = "HEAD";
const KEEP_WARM_LINE = `${KEEP_WARM_METHOD} /healthz `;

/**
 * wrangler's dev registry, off (an empty path: wrangler 4.86's miniflare then registers nothing, watches nothing and
 * opens no debug port). Tributary binds no other Worker; with it, every instance started here, all named "tributary",
 * wrote the one entry of the user's ~/.config/.wrangler/registry, one stopping unlinked the entry of another still
 * running, and another project's `wrangler dev` bound to "tributary" would reach whichever instance wrote it last.
 * (It reloads nothing: an instance of wrangler 4.86 serves on, unreloaded, while others start and stop beside it.)
 */
const NO_DEV_REGISTRY = { WRANGLER_REGISTRY_PATH: "" };

/**
 * @typedef {object} WranglerDevOptions
 * @property {string} persistTo  the `--persist-to` directory (required)
 * @property {string} [token]  the ADMIN_TOKEN var (required unless `vars.ADMIN_TOKEN` is given)
 * @property {Record<string, string>} [vars]  further `--var NAME:value`s
 * @property {number} [port]  default 0: the kernel picks a free one as workerd binds it (`port` on the handle says which)
 * @property {boolean} [anyPortIfTaken]  if `port` turns out taken, start on a free one instead (restarts do)
 * @property {string} [root]  the project directory (default this checkout)
 * @property {string} [bin]  the wrangler executable (default WRANGLER_BIN: this checkout's, whatever `root` is)
 * @property {string} [configPath]  relative to `root` (default: wrangler's own choice, wrangler.toml)
 * @property {string} [logPath]  also write every output line to this file
 * @property {number} [readyTimeoutMs]
 * @property {boolean} [keepWarm]  send KEEP_WARM_CONNECTIONS HEAD /healthz every KEEP_WARM_INTERVAL_MS while it runs
 *   (default true)
 * @property {number} [keepWarmIntervalMs]  another interval for the keep-warm (scripts/wrangler-idle-race.mjs measures one)
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
 * @property {(options?: Partial<WranglerDevOptions>) => Promise<WranglerDev>} restart  on the same port if it is
 *   still free, else on a fresh one (read `url` from the new handle)
 */

/** @type {Set<WranglerDev>} */
const live = new Set();

process.on("exit", killAllWranglerDevsSync);

/**
 * The signals that end a process that does not listen for them: Ctrl-C's, a closed terminal's, `kill`'s (the e2e
 * runner's at a file's timeout).
 */
const ENDING_SIGNALS = /** @type {const} */ (["SIGINT", "SIGHUP", "SIGTERM"]);
let endingSignalsHeard = false;

/**
 * From the first instance on, a signal that would end this process kills every instance first: a death by signal has
 * no "exit" event, so the backstop above never runs, and wrangler, in a process group of its own, gets none of the
 * terminal's signals: its workerd would be left running. The signal is then raised again, to end the process as it
 * would have. A process that listens for the signal itself (the bench's Ctrl-C stops its servers gracefully) is left
 * to its listener, as before.
 */
function killOnEndingSignals() {
	if (endingSignalsHeard) return;
	endingSignalsHeard = true;
	/** @param {NodeJS.Signals} sig */
	const kill = (sig) => {
		if (process.listenerCount(sig) > 1) return;
		killAllWranglerDevsSync();
		for (const each of ENDING_SIGNALS) process.removeListener(each, kill);
		endingSignalsHeard = false;
		process.kill(process.pid, sig);
	};
	for (const sig of ENDING_SIGNALS) process.on(sig, kill);
}

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
 * by PID instead. With `onReady`, its output is passed on through pipes and read for the "Ready on" line, and
 * `onReady` is called once with the port it names (the one bound, given port 0); wrangler's interactive session (its
 * key shortcuts) needs its output on a terminal, so it is off then. Passed on, the output is all written before
 * this process exits; and if the reader of this process's output goes away (`npm start | head -3`), wrangler is
 * stopped as by SIGTERM and this process exits quietly, with status 0, once it has.
 * @param {string[]} args
 * @param {string} label how error lines name the caller (e.g. "npm run dev")
 * @param {{ onReady?: (port: number) => void }} [options]
 */
export function runWranglerForeground(args, label, { onReady } = {}) {
	/** @type {import("node:child_process").StdioOptions} */
	const stdio = onReady === undefined ? "inherit" : ["inherit", "pipe", "pipe"];
	const child = spawn(WRANGLER_BIN, args, { cwd: PROJECT_ROOT, env: wranglerEnv(), stdio });
	child.on("error", (error) => {
		console.error(`${label}: could not run ${WRANGLER_BIN}: ${error.message}`);
		process.exit(1);
	});
	const pid = child.pid;
	if (pid === undefined) return; // the "error" handler above reports it
	const forward = (/** @type {NodeJS.Signals} */ sig) => {
		for (const p of descendants(pid).reverse()) signal(p.pid, sig);
		signal(pid, sig);
	};
	process.on("SIGINT", () => forward("SIGINT"));
	process.on("SIGTERM", () => forward("SIGTERM"));
	if (onReady === undefined) {
		child.on("exit", (code, sig) => process.exit(exitStatus(code, sig)));
		return;
	}
	let readerGone = false;
	passOnUntilReady(child, onReady, () => {
		if (readerGone) return;
		readerGone = true;
		forward("SIGTERM");
	});
	exitOncePassedOn(child, () => readerGone);
}

/**
 * This process's exit status for a child's.
 * @param {number | null} code @param {NodeJS.Signals | null} sig
 */
function exitStatus(code, sig) {
	return code ?? (sig === null ? 0 : 1);
}

/**
 * Exits with `child`'s status once its output is all passed on: on "close" (its pipes ended), not "exit", which can
 * come while what it wrote last is still in them. A process it started may hold the pipes open after it exited
 * (esbuild, which inherits wrangler's stderr): OUTPUT_DRAIN_TIMEOUT_MS after "exit", this process exits without
 * waiting for that. Status 0 once the reader went away (`readerGone()`): wrangler was stopped because nobody reads.
 * @param {import("node:child_process").ChildProcess} child
 * @param {() => boolean} readerGone
 */
function exitOncePassedOn(child, readerGone) {
	whenOutputEnds(child, (code, sig) => process.exit(readerGone() ? 0 : exitStatus(code, sig)));
}

/**
 * Calls `fn` once with `child`'s exit status, once its output is all read ("close": its pipes ended, which can come
 * after "exit" while what it wrote last is still in them), or OUTPUT_DRAIN_TIMEOUT_MS after "exit" if another process
 * still holds the pipes (esbuild, which inherits wrangler's stderr), whichever comes first.
 * @param {import("node:child_process").ChildProcess} child
 * @param {(code: number | null, sig: NodeJS.Signals | null) => void} fn
 */
function whenOutputEnds(child, fn) {
	let ended = false;
	/** @type {NodeJS.Timeout | undefined} */
	let drain;
	const end = (/** @type {number | null} */ code, /** @type {NodeJS.Signals | null} */ sig) => {
		if (ended) return;
		ended = true;
		clearTimeout(drain);
		fn(code, sig);
	};
	child.once("close", end);
	child.once("exit", (code, sig) => {
		if (!ended) drain = setTimeout(() => end(code, sig), OUTPUT_DRAIN_TIMEOUT_MS);
	});
}

/**
 * Writes `child`'s stdout and stderr on to this process's, and calls `onReady` with the port of the first "Ready on"
 * line either prints (after that line is written on). A write that fails (`onReaderGone`: the reader of this
 * process's output went away) stops the writes to that stream and calls `readerWentAway`, instead of an unhandled
 * "error" that would kill this process and leave wrangler and workerd running.
 * @param {import("node:child_process").ChildProcess} child
 * @param {(port: number) => void} onReady
 * @param {() => void} readerWentAway
 */
function passOnUntilReady(child, onReady, readerWentAway) {
	let ready = false;
	for (const [from, to] of /** @type {const} */ ([
		[child.stdout, process.stdout],
		[child.stderr, process.stderr],
	])) {
		if (from === null) continue;
		let open = true;
		onReaderGone(to, () => {
			open = false;
			readerWentAway();
		});
		// The line reader's listener comes second, so the "Ready on" line is written on before `onReady` runs.
		from.on("data", (/** @type {string} */ chunk) => {
			if (open) to.write(chunk);
		});
		eachLine(from, (line) => {
			const match = ready ? null : READY_LINE.exec(stripVTControlCharacters(line));
			if (match === null) return;
			ready = true;
			onReady(Number(match[1]));
		});
	}
}

/**
 * Starts `wrangler dev` and waits until /healthz answers 200; fails fast on a build error (wrangler dev would
 * otherwise wait for a fix). A `port` that is taken fails with `code: "EADDRINUSE"` and `portInUse`'s line, unless
 * `anyPortIfTaken` lets it start on a free port instead.
 * @param {WranglerDevOptions} options
 * @returns {Promise<WranglerDev>}
 * @example
 * const server = await startWranglerDev({ persistTo: dir, token });
 * await fetch(`${server.url}/healthz`);
 * await server.stop();
 */
export async function startWranglerDev(options) {
	const { anyPortIfTaken = false, ...rest } = options;
	try {
		return await launch(rest);
	} catch (error) {
		const taken = /** @type {NodeJS.ErrnoException} */ (error).code === "EADDRINUSE";
		if (!anyPortIfTaken || !taken || !rest.port) throw error;
		return launch({ ...rest, port: 0 });
	}
}

/**
 * One `wrangler dev` process, on `options.port` (0: any free port).
 * @param {WranglerDevOptions} options
 * @returns {Promise<WranglerDev>}
 */
async function launch(options) {
	const { persistTo, vars = {}, root = PROJECT_ROOT, configPath, logPath, readyTimeoutMs = READY_TIMEOUT_MS, port = 0 } = options;
	const { keepWarm: warm = true, keepWarmIntervalMs = KEEP_WARM_INTERVAL_MS, bin = WRANGLER_BIN } = options;
	const token = options.token ?? vars.ADMIN_TOKEN;
	if (!persistTo || !token) throw new Error("startWranglerDev needs persistTo and token");
	const sharer = [...live].find((other) => resolve(other.persistTo) === resolve(persistTo));
	if (sharer !== undefined) throw new Error(stateShared(persistTo, sharer.pid));
	const args = wranglerDevArgs({ port, persistTo, vars: { ...vars, ADMIN_TOKEN: token }, configPath });
	const child = spawn(bin, [...args, "--inspector-port", "0", "--show-interactive-dev-session=false"], {
		cwd: root,
		env: wranglerEnv({ WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", FORCE_COLOR: "0", ...NO_DEV_REGISTRY }),
		detached: true,
		stdio: ["ignore", "pipe", "pipe"],
	});
	const pid = child.pid;
	if (pid === undefined) throw new Error(`could not run ${bin}`);
	const output = outputKeeper(pid, logPath);
	output.read(child.stdout);
	output.read(child.stderr);
	/** @type {{ code: number | null, signal: NodeJS.Signals | null } | null} */
	let exitInfo = null;
	child.once("exit", (code, sig) => {
		exitInfo = { code, signal: sig };
	});
	// Once wrangler has exited and its output is all read ("close": the pipes ended), so the lines that say why it
	// exited ("Address already in use") are kept before anyone looks; or OUTPUT_DRAIN_TIMEOUT_MS after "exit" if
	// something else still holds the pipes (whichever comes first).
	/** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
	const exited = new Promise((resolve) => {
		whenOutputEnds(child, (code, sig) => {
			output.close();
			resolve({ code, signal: sig });
		});
	});
	const spawnError = new Promise((_, reject) => child.once("error", reject));
	let stopKeepingWarm = () => {};
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
		stop: (stopOptions) => {
			stopKeepingWarm();
			return stopGracefully(handle, () => exitInfo !== null, stopOptions);
		},
		crash: (crashOptions) => {
			stopKeepingWarm();
			return crash(handle, () => exitInfo !== null, crashOptions);
		},
		restart: (more = {}) => startWranglerDev({ ...options, port: handle.port, anyPortIfTaken: more.port === undefined, ...more }),
	};
	live.add(handle);
	killOnEndingSignals();
	await waitReady(handle, { spawnError, exited, output, readyTimeoutMs });
	if (warm) stopKeepingWarm = keepWarm(handle.url, keepWarmIntervalMs);
	return handle;
}

/**
 * Sends KEEP_WARM_CONNECTIONS HEAD /healthz at once to `url` every `intervalMs` (KEEP_WARM_INTERVAL_MS says why) until
 * the returned function is called. Unanswered requests are not waited for: each has its own timeout, and one held by
 * the proxy is released by the next. The timer is unref'd, so it never keeps the process alive.
 * @param {string} url
 * @param {number} intervalMs
 */
function keepWarm(url, intervalMs) {
	const stopped = new AbortController();
	const timer = setInterval(() => {
		const abort = AbortSignal.any([stopped.signal, AbortSignal.timeout(KEEP_WARM_TIMEOUT_MS)]);
		for (let i = 0; i < KEEP_WARM_CONNECTIONS; i++) {
			fetch(`${url}/healthz`, { method: KEEP_WARM_METHOD, signal: abort })
				.then((response) => response.arrayBuffer())
				.catch(() => {});
		}
	}, intervalMs);
	timer.unref();
	return () => {
		clearInterval(timer);
		stopped.abort();
	};
}

/**
 * Collects wrangler's output, read as whole lines from the streams given to `read`: the last lines in memory, every
 * line in `logPath` if given, and the port of the first "Ready on" line (kept apart: the line itself may be pushed
 * out of the kept lines).
 * @param {number} pid  names the lines echoed with E2E_VERBOSE=1
 * @param {string} [logPath]
 */
export function outputKeeper(pid, logPath) {
	/** @type {string[]} */
	const lines = [];
	const file = logPath === undefined ? null : createWriteStream(logPath);
	let closed = false;
	/** @param {string} raw */
	const keepLine = (raw) => {
		const line = stripVTControlCharacters(raw);
		if (line.trim() === "" || line.includes(KEEP_WARM_LINE)) return;
		lines.push(line);
		const ready = keeper.readyPort === null ? READY_LINE.exec(line) : null;
		if (ready !== null) keeper.readyPort = Number(ready[1]);
		if (!closed) file?.write(`${line}\n`);
		if (process.env.E2E_VERBOSE === "1") process.stderr.write(`[wrangler:${pid}] ${line}\n`);
		if (lines.length > OUTPUT_LINES_KEPT) lines.splice(0, lines.length - OUTPUT_LINES_KEPT);
	};
	const keeper = {
		lines,
		/** @type {number | null} */
		readyPort: null,
		/** @param {import("node:stream").Readable} stream */
		read(stream) {
			eachLine(stream, keepLine);
		},
		/** Ends the log file (once, however often called): lines read after it are kept in memory only. */
		close() {
			if (closed) return;
			closed = true;
			file?.end();
		},
	};
	return keeper;
}

/**
 * Waits for /healthz (given port 0, first for the "Ready on" line that says which port); on failure stops the
 * instance and throws with its output (with `code: "EADDRINUSE"` if the port was taken).
 * @param {WranglerDev} handle
 * @param {{ spawnError: Promise<unknown>, exited: Promise<unknown>, output: ReturnType<typeof outputKeeper>, readyTimeoutMs: number }} watch
 */
async function waitReady(handle, { spawnError, exited, output, readyTimeoutMs }) {
	const { lines } = output;
	let settled = false;
	try {
		await Promise.race([
			spawnError,
			exited.then((info) => {
				if (lines.some((line) => PORT_TAKEN_LINE.test(line))) throw portTaken(handle.port);
				throw new Error(`wrangler dev exited before it was ready (${JSON.stringify(info)})`);
			}),
			waitUntil(
				() => {
					if (settled) throw new Error("no longer waiting"); // the race is over: stop polling
					// Only a build failure is final (wrangler dev would wait for a fix). Other [ERROR] lines can be
					// transient: workerd logs a write to a closed socket ("Broken pipe", "Connection reset by peer")
					// when wrangler's own inspector connection drops during start-up, and still becomes healthy.
					if (lines.some((line) => line.includes("Build failed"))) throw new Error("wrangler dev could not build the Worker");
					if (handle.port === 0) {
						if (output.readyPort === null) return false;
						handle.port = output.readyPort;
						handle.url = `http://${HOST}:${handle.port}`;
					}
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
		const failure = new Error(
			`${error instanceof Error ? error.message : String(error)}${cause}\n--- wrangler dev output ---\n${handle.output()}`,
		);
		throw Object.assign(failure, { code: /** @type {NodeJS.ErrnoException} */ (error).code });
	} finally {
		settled = true;
	}
}

/**
 * The error of a start on a `--persist-to` directory an instance started here still runs on: two workerd processes
 * would open the same SQLite files (the registry's, every Durable Object's both touch), and what either wrote could be
 * lost or read half-written by the other. Stop (or crash) that instance first, as `restart()` needs.
 * @param {string} persistTo @param {number} pid
 */
function stateShared(persistTo, pid) {
	return `wrangler dev (pid ${pid}) already runs on --persist-to ${persistTo}: stop it first, or give this one a directory of its own`;
}

/**
 * The error of a start on a port something else holds.
 * @param {number} port
 */
function portTaken(port) {
	return Object.assign(new Error(portInUse(port, "start without a port to get a free one")), { code: "EADDRINUSE" });
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
