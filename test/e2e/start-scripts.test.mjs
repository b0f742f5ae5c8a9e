// @ts-check
/**
 * `npm start` and `npm run dev` as a newcomer meets them: the banner prints the `export URL=… TOKEN=…
 * TRIBUTARY_URL=… TRIBUTARY_TOKEN=…` line to paste (which points the CLI at that broker), `--allow-private-webhooks`
 * lets a subscription reach a receiver on 127.0.0.1, a port in use is one line (no stack trace), and a missing
 * ADMIN_TOKEN is warned about before wrangler starts.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stripVTControlCharacters } from "node:util";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import {
	adminTokenWarning,
	assertPortFree,
	commandLine,
	descendants,
	freePort,
	generateToken,
	HOST,
	isAlive,
	PROJECT_ROOT,
	parseDevVars,
	signal,
	waitUntil,
} from "../../scripts/lib/index.mjs";
import { captureOutput } from "./lib/child-output.mjs";
import { CLI } from "./lib/cli.mjs";
import { client } from "./lib/client.mjs";
import { listenLocal } from "./lib/local-server.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Runs a script with node; resolves `{ code, stdout, stderr }` when it exits. With `stopAfterMs`, one that is still
 * running then (it started a server where it should have refused) is stopped with its whole process group and
 * resolves with code null.
 * @param {string} script
 * @param {string[]} args
 * @param {Record<string, string>} [env]
 * @param {{ stopAfterMs?: number }} [options]
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function runToExit(script, args, env = {}, { stopAfterMs } = {}) {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [join(PROJECT_ROOT, script), ...args], {
			cwd: PROJECT_ROOT,
			env: { ...process.env, ...env },
			stdio: ["ignore", "pipe", "pipe"],
			detached: stopAfterMs !== undefined,
		});
		const output = captureOutput(child);
		const exited = new Promise((done) => child.once("exit", done));
		/** @type {number | null} */
		let stopped = null;
		const timer =
			stopAfterMs === undefined
				? undefined
				: setTimeout(() => {
						stopped = stopAfterMs;
						stopTree(child.pid ?? 0, exited, true);
					}, stopAfterMs);
		child.on("close", (code) => {
			clearTimeout(timer);
			resolve({ code: stopped === null ? code : null, ...output });
		});
	});
}

/**
 * Runs `script` in bash from a clean environment (no TRIBUTARY_URL/TRIBUTARY_TOKEN of the test's own), as a line
 * pasted into a newcomer's shell runs.
 * @param {string} script
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function runPasted(script) {
	const env = { ...process.env };
	delete env.TRIBUTARY_URL;
	delete env.TRIBUTARY_TOKEN;
	return new Promise((resolve) => {
		const child = spawn("bash", ["-c", script], { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
		const output = captureOutput(child);
		child.on("close", (code) => resolve({ code, ...output }));
	});
}

/**
 * Stops a detached child by PID: SIGTERM (to it, or to its whole group), then SIGKILL to the group if it has not
 * exited after STOP_TIMEOUT_MS.
 * @param {number} pid
 * @param {Promise<unknown>} exited
 * @param {boolean} wholeGroup
 */
async function stopTree(pid, exited, wholeGroup) {
	if (pid === 0) return;
	signal(wholeGroup ? -pid : pid, "SIGTERM");
	const stopped = await Promise.race([
		exited.then(() => true),
		new Promise((resolve) => setTimeout(() => resolve(false), STOP_TIMEOUT_MS)),
	]);
	if (!stopped) signal(-pid, "SIGKILL");
}

describe("a port in use", () => {
	let port = 0;
	/** @type {import("./lib/local-server.mjs").LocalServer | undefined} */
	let listening;
	before(async () => {
		listening = await listenLocal(createServer());
		port = listening.port;
	});
	after(() => listening?.close());

	test("is one line from npm start and from npm run dev, with what to do, and no stack trace", async () => {
		const runs = [
			await runToExit("scripts/start.mjs", [], { PORT: String(port) }),
			await runToExit("scripts/dev.mjs", ["--port", String(port)]),
		];
		for (const { code, stderr } of runs) {
			assert.equal(code, 1, stderr);
			const lines = stderr.trim().split("\n");
			assert.equal(lines.length, 1, stderr);
			assert.match(lines[0] ?? "", new RegExp(`port ${port} is in use .*pick another port`));
		}
		await assert.rejects(assertPortFree(port, "advice", HOST), /port \d+ is in use \(another npm start or wrangler dev\?\): advice/);
	});
});

test("npm run dev warns when .dev.vars holds no usable ADMIN_TOKEN", () => {
	const dir = tempDir("devvars");
	try {
		const path = join(dir.path, ".dev.vars");
		assert.match(adminTokenWarning(path) ?? "", /no ADMIN_TOKEN.*503 not_configured/);
		writeFileSync(path, "ADMIN_TOKEN=replace-with-a-long-random-token\n");
		assert.match(adminTokenWarning(path) ?? "", /Run `npm start` once/);
		writeFileSync(path, "# comment\nADMIN_TOKEN=a-real-token\n");
		assert.equal(adminTokenWarning(path), null);
	} finally {
		dir.remove();
	}
});

test("npm start prints the export line to paste, and --allow-private-webhooks lets a subscription reach 127.0.0.1", {
	timeout: START_TIMEOUT_MS + 30_000,
}, async () => {
	const state = tempDir("start");
	// npm start writes .dev.vars when there is none; a clone the test found without one is left without one.
	const devVars = join(PROJECT_ROOT, ".dev.vars");
	const hadDevVars = existsSync(devVars);
	const child = spawn(process.execPath, [join(PROJECT_ROOT, "scripts/start.mjs"), "--allow-private-webhooks"], {
		cwd: PROJECT_ROOT,
		// Port 0: the kernel picks a free port as workerd binds it (one found free beforehand could be taken first).
		env: { ...process.env, PORT: "0", PERSIST_TO: state.path },
		stdio: ["ignore", "pipe", "pipe"],
		detached: true,
	});
	let output = "";
	child.stdout.on("data", (chunk) => {
		output += chunk;
	});
	child.stderr.on("data", (chunk) => {
		output += chunk;
	});
	const exited = new Promise((resolve) => child.once("exit", resolve));
	try {
		await waitUntil(() => output.includes("Ctrl-C to stop."), {
			timeoutMs: START_TIMEOUT_MS,
			message: () => `npm start banner\n${output}`,
		});
		const token = parseDevVars(readFileSync(join(PROJECT_ROOT, ".dev.vars"), "utf8")).ADMIN_TOKEN;
		const url = /Tributary \(Miniflare\) on (http:\/\/127\.0\.0\.1:[1-9]\d*)\n/.exec(output)?.[1] ?? assert.fail(output);
		const exportLine = output.split("\n").find((line) => line.startsWith("  export ")) ?? assert.fail(output);
		// Pasted, the line serves the README's curl examples ($URL, $TOKEN) and the CLI, the SDK's examples and
		// `npm run example`, which read TRIBUTARY_URL/TRIBUTARY_TOKEN: the port npm start took need not be 8787.
		const pasted = await runPasted(`${exportLine}\necho "$URL $TOKEN"\nnode ${CLI} topics list`);
		assert.equal(pasted.code, 0, `${exportLine}\n${pasted.stderr}`);
		assert.equal(pasted.stdout.split("\n")[0], `${url} ${token}`);
		assert.match(output, /webhooks to private hosts: allowed/);
		const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
		const topic = `start-${process.pid}-${Date.now()}`;
		const created = await fetch(`${url}/v1/topics`, { method: "POST", headers, body: JSON.stringify({ name: topic }) });
		assert.equal(created.status, 201, await created.text());
		const sub = await fetch(`${url}/v1/topics/${topic}/subscriptions`, {
			method: "POST",
			headers,
			body: JSON.stringify({ url: "http://127.0.0.1:9/hooks" }),
		});
		assert.equal(sub.status, 201, await sub.text());
	} finally {
		await stopTree(child.pid ?? 0, exited, false);
		if (!hadDevVars) rmSync(devVars, { force: true });
		state.remove();
	}
});

/**
 * Starts `npm start` (scripts/start.mjs) with `args` in its own process group, its data in `persistTo`, its output
 * piped to this test; `exit()` is how it exited, undefined while it runs.
 * @param {string[]} args
 * @param {string} persistTo
 */
function spawnStart(args, persistTo) {
	const child = spawn(process.execPath, [join(PROJECT_ROOT, "scripts/start.mjs"), ...args], {
		cwd: PROJECT_ROOT,
		env: { ...process.env, NO_COLOR: "1", PERSIST_TO: persistTo },
		stdio: ["ignore", "pipe", "pipe"],
		detached: true,
	});
	const output = captureOutput(child);
	/** @type {{ code: number | null, signal: NodeJS.Signals | null } | undefined} */
	let exit;
	const exited = new Promise((resolve) =>
		child.once("exit", (code, sig) => {
			exit = { code, signal: sig };
			resolve(exit);
		}),
	);
	return { child, output, exited, exit: () => exit, said: () => `${output.stdout}${output.stderr}` };
}

// `npm start -- --wrangler --port 0` (and PORT=0) was refused ("needs the default runtime, not --wrangler"): its banner
// was printed before wrangler bound a port, so it could not name the one the kernel picked.
test("npm start -- --wrangler takes port 0 as the others do: the banner names the port wrangler bound, after its Ready on line", {
	timeout: START_TIMEOUT_MS + 30_000,
}, async () => {
	const state = tempDir("start-wrangler-0");
	const devVars = join(PROJECT_ROOT, ".dev.vars");
	const hadDevVars = existsSync(devVars);
	const { child, output, exited, exit, said } = spawnStart(["--wrangler", "--port", "0"], state.path);
	try {
		await waitUntil(
			() => {
				if (exit() !== undefined) throw new Error(`npm start --wrangler exited (${JSON.stringify(exit())}) before its banner\n${said()}`);
				return output.stdout.includes("Ctrl-C to stop.");
			},
			{ timeoutMs: START_TIMEOUT_MS, message: () => `npm start --wrangler's banner\n${said()}` },
		);
		const url = /Tributary \(wrangler dev\) on (http:\/\/127\.0\.0\.1:[1-9]\d*)\n/.exec(output.stdout)?.[1] ?? assert.fail(said());
		const ready = /Ready on (http:\/\/\S+)/.exec(said())?.[1] ?? assert.fail(said());
		assert.equal(url, ready, said());
		const readyAt = output.stdout.indexOf("Ready on");
		assert.ok(readyAt >= 0 && readyAt < output.stdout.indexOf("Tributary (wrangler dev) on"), said());
		const token = parseDevVars(readFileSync(devVars, "utf8")).ADMIN_TOKEN;
		await waitUntil(
			async () => {
				try {
					return (await fetch(`${url}/v1/topics`, { headers: { Authorization: `Bearer ${token}` } })).status === 200;
				} catch {
					return false;
				}
			},
			{ timeoutMs: START_TIMEOUT_MS, intervalMs: 250, message: () => `npm start --wrangler on ${url}\n${said()}` },
		);
	} finally {
		await stopTree(child.pid ?? 0, exited, true);
		if (!hadDevVars) rmSync(devVars, { force: true });
		state.remove();
	}
});

/**
 * Starts `npm start` with `args` on port 0, its output piped to this test; once its banner is out, closes the reading
 * end of its stdout (as `| head -3` does once it has its lines), and sends requests (each makes the runtime log a
 * line) until the script exits. It must exit 0, with no EPIPE stack on stderr and no process of its tree left.
 * @param {string[]} args
 * @param {string} runtime  as the banner names it
 */
async function stopsQuietlyWhenReaderGoes(args, runtime) {
	const state = tempDir("start-epipe");
	const devVars = join(PROJECT_ROOT, ".dev.vars");
	const hadDevVars = existsSync(devVars);
	const { child, output, exited, exit, said } = spawnStart([...args, "--port", "0"], state.path);
	/** @type {number[]} */
	let tree = [];
	let passed = false;
	try {
		await waitUntil(() => output.stdout.includes("Ctrl-C to stop."), {
			timeoutMs: START_TIMEOUT_MS,
			message: () => `npm start's banner\n${said()}`,
		});
		const bannerLine = new RegExp(`Tributary \\(${runtime}\\) on (http://127\\.0\\.0\\.1:[1-9]\\d*)\n`);
		const url = bannerLine.exec(output.stdout)?.[1] ?? assert.fail(said());
		const processes = descendants(child.pid ?? 0);
		assert.ok(
			processes.some((p) => p.name === "workerd"),
			processes.map((p) => `${p.pid} ${p.name}`).join("\n"),
		);
		tree = processes.map((p) => p.pid);
		child.stdout.destroy();
		// Each request makes the runtime log a line, which npm start writes to the pipe nobody reads any more.
		await waitUntil(
			async () => {
				if (exit() !== undefined) return true;
				await fetch(`${url}/healthz`).catch(() => {});
				return false;
			},
			{ timeoutMs: STOP_TIMEOUT_MS, intervalMs: 250, message: () => `npm start to exit once its reader went away\n${said()}` },
		);
		await waitUntil(() => tree.every((pid) => !isAlive(pid)), {
			timeoutMs: STOP_TIMEOUT_MS,
			message: () =>
				`${runtime}'s tree gone after npm start exited (${JSON.stringify(exit())}); left: ${tree.filter(isAlive).join(" ")}\n${output.stderr}`,
		});
		assert.doesNotMatch(output.stderr, /EPIPE|Unhandled|^\s+at /m, output.stderr);
		assert.deepEqual(exit(), { code: 0, signal: null }, output.stderr);
		passed = true;
	} finally {
		await stopTree(child.pid ?? 0, exited, true);
		// Only what a failure left behind, and only while it lives: a PID found gone may be another process's by now.
		if (!passed) for (const pid of tree.filter(isAlive)) signal(pid, "SIGKILL");
		if (!hadDevVars) rmSync(devVars, { force: true });
		state.remove();
	}
}

// With wrangler's output passed on through npm start (port 0), a reader that went away (`npm start -- --wrangler |
// head -3`) made the next line written on throw EPIPE: the script died with that stack, leaving wrangler and workerd
// running with nobody to stop them.
test(
	"npm start -- --wrangler on port 0 stops quietly when its reader goes away, and stops wrangler dev's whole tree",
	{
		timeout: START_TIMEOUT_MS + 3 * STOP_TIMEOUT_MS,
	},
	() => stopsQuietlyWhenReaderGoes(["--wrangler"], "wrangler dev"),
);

// On Miniflare (the default), Miniflare's request log (or the banner) written to a reader that went away
// (`npm start | head -3`) threw EPIPE: the script died with that stack and status 1, without disposing of Miniflare.
test(
	"npm start (Miniflare) stops quietly when its reader goes away: Miniflare disposed, status 0",
	{
		timeout: START_TIMEOUT_MS + 3 * STOP_TIMEOUT_MS,
	},
	() => stopsQuietlyWhenReaderGoes([], "Miniflare"),
);

// Passed on through npm start (port 0), wrangler's output goes through pipes, and npm start now exits on their end
// ("close", or a while after "exit"). This checks that path's exit status and that wrangler's last error line is
// passed on; it does not prove the drain: it passed as well when npm start exited on "exit" (wrangler's last line
// came through before then here).
test("npm start -- --wrangler on port 0 that wrangler dev refuses exits 1 with wrangler's last [ERROR] line passed on", {
	timeout: START_TIMEOUT_MS + 30_000,
}, async () => {
	const dir = tempDir("start-wrangler-refused");
	const devVars = join(PROJECT_ROOT, ".dev.vars");
	const hadDevVars = existsSync(devVars);
	// A file where the data directory should be: wrangler dev cannot create its state under it, says so, and exits.
	const file = join(dir.path, "a-file");
	writeFileSync(file, "");
	try {
		const { code, stderr } = await runToExit(
			"scripts/start.mjs",
			["--wrangler", "--port", "0"],
			{ NO_COLOR: "1", PERSIST_TO: join(file, "state") },
			{ stopAfterMs: START_TIMEOUT_MS },
		);
		assert.equal(code, 1, stderr);
		// wrangler colours its [ERROR] tag whatever NO_COLOR says.
		assert.match(stripVTControlCharacters(stderr), /\[ERROR\] ENOTDIR: not a directory, mkdir '[^']*a-file\/state/, stderr);
	} finally {
		if (!hadDevVars) rmSync(devVars, { force: true });
		dir.remove();
	}
});

/**
 * Runs `npm run dev` (scripts/dev.mjs) with `args` in its own process group, and waits until the Worker answers an
 * authenticated /v1/topics with 200 (wrangler's "Ready on" line says which port it bound, given `--port 0`).
 * @param {string[]} args
 * @param {string} token  the ADMIN_TOKEN the Worker will have
 * @param {Record<string, string>} [env]  more environment (PORT: the port instead of `--port 0`)
 */
async function startDev(args, token, env = {}) {
	// Port 0 (any free one) unless the test names the port through PORT.
	const port = env.PORT === undefined ? ["--port", "0"] : [];
	const child = spawn(process.execPath, [join(PROJECT_ROOT, "scripts/dev.mjs"), ...port, ...args], {
		cwd: PROJECT_ROOT,
		env: { ...process.env, NO_COLOR: "1", ...env },
		stdio: ["ignore", "pipe", "pipe"],
		detached: true,
	});
	let output = "";
	child.stdout.on("data", (chunk) => {
		output += chunk;
	});
	child.stderr.on("data", (chunk) => {
		output += chunk;
	});
	/** @type {number | null | undefined} */
	let exitCode;
	const exited = new Promise((resolve) =>
		child.once("exit", (code) => {
			exitCode = code;
			resolve(code);
		}),
	);
	const pid = child.pid ?? 0;
	const dev = { pid, output: () => output, stop: () => stopTree(pid, exited, true), url: "" };
	try {
		// waitUntil resolves only with a truthy value: the matched URL. A script that exits instead (it refused) fails
		// the wait at once, with what it said.
		dev.url = String(
			await waitUntil(
				() => {
					if (exitCode !== undefined) throw new Error(`npm run dev exited (${exitCode}) before its "Ready on" line\n${output}`);
					return /Ready on (http:\/\/\S+)/.exec(output)?.[1];
				},
				{ timeoutMs: START_TIMEOUT_MS, message: () => `npm run dev's "Ready on" line\n${output}` },
			),
		);
		await waitUntil(
			async () => {
				try {
					return (await fetch(`${dev.url}/v1/topics`, { headers: { Authorization: `Bearer ${token}` } })).status === 200;
				} catch {
					return false;
				}
			},
			{ timeoutMs: START_TIMEOUT_MS, intervalMs: 250, message: () => `npm run dev on ${dev.url}\n${output}` },
		);
	} catch (error) {
		await dev.stop();
		throw error;
	}
	return dev;
}

test("npm run dev starts wrangler dev without request.cf look-ups (no ENOTFOUND trace offline)", {
	timeout: START_TIMEOUT_MS + 30_000,
}, async () => {
	const state = tempDir("dev");
	let dev;
	try {
		dev = await startDev(["--persist-to", state.path, "--var", "ADMIN_TOKEN:dev-test"], "dev-test");
		assert.doesNotMatch(dev.output(), /ENOTFOUND|Request\.cf|request\.cf/, dev.output());
		assert.doesNotMatch(dev.output(), /no ADMIN_TOKEN/, "a token given with --var needs no warning");
	} finally {
		await dev?.stop();
		state.remove();
	}
});

test("npm run dev takes its port from PORT, as npm start does", { timeout: START_TIMEOUT_MS + 30_000 }, async () => {
	const state = tempDir("dev-port");
	// A port nothing listens on: bound by the kernel, then released.
	const port = await freePort();
	let dev;
	try {
		dev = await startDev(["--persist-to", state.path, "--var", "ADMIN_TOKEN:dev-test"], "dev-test", { PORT: String(port) });
		assert.equal(new URL(dev.url).port, String(port), dev.output());
	} finally {
		await dev?.stop();
		state.remove();
	}
});

test("npm start and npm run dev check PORT by one rule: not a port number is one line naming it", async () => {
	for (const script of ["scripts/start.mjs", "scripts/dev.mjs"]) {
		const { code, stderr } = await runToExit(script, [], { PORT: "abc" });
		assert.equal(code, 1, stderr);
		assert.match(stderr, /^npm (start|run dev): PORT must be a port number, got "abc"\n$/, script);
	}
});

// `npm run dev -- --port 0` was taken (this file's startDev uses it) while `PORT=0 npm run dev` was refused ("needs npm
// start"): one rule now, 0 being any free port, which wrangler dev binds and names on its "Ready on" line.
test("npm run dev takes PORT=0 as it takes --port 0: any free port, the real one on its Ready on line", {
	timeout: START_TIMEOUT_MS + 30_000,
}, async () => {
	const state = tempDir("dev-port-0");
	let dev;
	try {
		dev = await startDev(["--persist-to", state.path, "--var", "ADMIN_TOKEN:dev-test"], "dev-test", { PORT: "0" });
		assert.match(new URL(dev.url).port, /^[1-9]\d*$/, dev.output());
	} finally {
		await dev?.stop();
		state.remove();
	}
});

// The message was built before the wait: startDev's timeout on wrangler's "Ready on" line printed the output as it was
// when the wait began (none), not what wrangler had said by the time it gave up.
test("waitUntil builds its failure message when the wait fails, from what happened during it", async () => {
	/** @type {string[]} */
	const seen = [];
	await assert.rejects(
		waitUntil(
			() => {
				seen.push(`check ${seen.length + 1}`);
				return false;
			},
			{ timeoutMs: 30, intervalMs: 10, message: () => `the line, after ${seen.join(", ")}` },
		),
		(/** @type {Error} */ error) => {
			// Built before the wait, it would name no check ("after "): the checks it names are those made during it.
			assert.equal(error.message, `timed out after 30 ms waiting for the line, after ${seen.join(", ")}`);
			return true;
		},
	);
	await assert.rejects(
		waitUntil(() => false, { timeoutMs: 0, message: "a string" }),
		/^Error: timed out after 0 ms waiting for a string$/,
	);
});

// `npm run dev -- --port abc` was Node's "options.port should be >= 0 and < 65536. Received type number (NaN).", and
// `--port` with no value started wrangler dev on its default port; npm start took no --port at all ("unknown argument
// --port"), and PORT=0x1F90 was taken as 8080.
test("npm start and npm run dev check --port by PORT's rule, before starting anything: a bad or missing value is one line naming it", async () => {
	/** @type {[string, string[], Record<string, string>, RegExp][]} */
	const cases = [
		["scripts/dev.mjs", ["--port", "abc"], {}, /^npm run dev: --port must be a port number, got "abc"\n$/],
		["scripts/dev.mjs", ["--port=99999"], {}, /^npm run dev: --port must be a port number, got "99999"\n$/],
		["scripts/dev.mjs", ["--port"], {}, /^npm run dev: --port needs a value\n$/],
		["scripts/start.mjs", ["--port", "99999"], {}, /^npm start: --port must be a port number, got "99999"\n$/],
		["scripts/start.mjs", ["--port"], {}, /^npm start: --port needs a value\n$/],
		["scripts/start.mjs", [], { PORT: "0x1F90" }, /^npm start: PORT must be a port number, got "0x1F90"\n$/],
		["scripts/dev.mjs", [], { PORT: "8e3" }, /^npm run dev: PORT must be a port number, got "8e3"\n$/],
	];
	for (const [script, args, env, expected] of cases) {
		const { code, stdout, stderr } = await runToExit(script, args, env, { stopAfterMs: 20_000 });
		assert.equal(code, 1, `${script} ${args.join(" ")}: ${stderr}`);
		assert.match(stderr, expected, `${script} ${args.join(" ")}`);
		assert.equal(stdout, "", `${script} ${args.join(" ")} printed before refusing`);
	}
});

// Regression: wrangler.toml's `[secrets] required = ["ADMIN_TOKEN"]` makes wrangler dev load only ADMIN_TOKEN from
// .dev.vars and silently drop every other line, so the WEBHOOK_ALLOW_PRIVATE=true line the README and the Worker's
// own refusal recommend did nothing under `npm run dev`: the subscription below was refused 400 invalid_webhook_url.
test("npm run dev applies every .dev.vars line: WEBHOOK_ALLOW_PRIVATE=true lets a subscription reach 127.0.0.1", {
	timeout: START_TIMEOUT_MS + 30_000,
}, async () => {
	const dir = tempDir("dev-vars");
	// The project's wrangler.toml, copied next to a .dev.vars of the test's own (wrangler reads the .dev.vars beside
	// the config it is given), so a developer's own .dev.vars is never touched; its relative paths made absolute.
	const config = /** @type {Record<string, any>} */ (parseToml(readFileSync(join(PROJECT_ROOT, "wrangler.toml"), "utf8")));
	config.main = join(PROJECT_ROOT, config.main);
	config.assets.directory = join(PROJECT_ROOT, config.assets.directory);
	// The [alias] targets are paths from the config's folder too (the Hono modules swapped for stubs).
	for (const [from, to] of Object.entries(config.alias ?? {})) config.alias[from] = join(PROJECT_ROOT, to);
	assert.deepEqual(config.secrets?.required, ["ADMIN_TOKEN"], "the case this test pins: a [secrets] block");
	assert.equal(config.vars.WEBHOOK_ALLOW_PRIVATE, "false");
	writeFileSync(join(dir.path, "wrangler.toml"), stringifyToml(config));
	const token = generateToken();
	writeFileSync(join(dir.path, ".dev.vars"), `ADMIN_TOKEN=${token}\nWEBHOOK_ALLOW_PRIVATE=true\n`);
	let dev;
	try {
		dev = await startDev(["--config", join(dir.path, "wrangler.toml"), "--persist-to", join(dir.path, "state")], token);
		const api = client(dev.url, token);
		await api.expect(201, "POST", "/v1/topics", { body: { name: "hooks" } });
		await api.expect(201, "POST", "/v1/topics/hooks/subscriptions", { body: { url: "http://127.0.0.1:9/hooks" } });
		// Passed on as a --var; ADMIN_TOKEN stays wrangler's to load as a secret, off every command line (ps shows them).
		const commandLines = descendants(dev.pid).map((p) => commandLine(p.pid).join(" "));
		assert.ok(
			commandLines.some((line) => line.includes("--var WEBHOOK_ALLOW_PRIVATE:true")),
			commandLines.join("\n"),
		);
		assert.ok(!commandLines.some((line) => line.includes(token)), commandLines.join("\n"));
	} finally {
		await dev?.stop();
		dir.remove();
	}
});
