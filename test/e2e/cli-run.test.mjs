// @ts-check
/**
 * The e2e tests' CLI runner (test/e2e/lib/cli.mjs) stopped with its test: an abort of the signal it is given (a
 * node:test test's `t.signal`, aborted as the test times out, fails or ends) kills a CLI still running and rejects,
 * and a run asked for after the abort never starts. Against a stand-in on loopback that holds every request
 * unanswered, so the CLI is mid-run when the abort comes. Run in a thread (`inThread`), the CLI answers as its process
 * does: the same status, stdout and stderr, and a kill is the process's SIGKILL.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { runCli } from "./lib/cli.mjs";
import { listenLocal } from "./lib/local-server.mjs";

/** Longer than the test waits for the abort's effect: a runner that ignored the abort would resolve only then. */
const HELD_CLI_TIMEOUT_MS = 20_000;

/**
 * A broker that never answers: `asked` settles when the first request arrives, `gone` when its connection closes.
 * @returns {Promise<{ url: string, asked: Promise<void>, gone: Promise<void>, close: () => Promise<void> }>}
 */
function holdingBroker() {
	/** @type {() => void} */
	let onAsked = () => {};
	/** @type {() => void} */
	let onGone = () => {};
	const asked = new Promise((resolve) => {
		onAsked = () => resolve(undefined);
	});
	const gone = new Promise((resolve) => {
		onGone = () => resolve(undefined);
	});
	const server = createServer((req) => {
		req.socket.on("close", onGone);
		onAsked();
	});
	return listenLocal(server).then(({ url, close }) => ({ url, asked, gone, close }));
}

for (const inThread of [false, true]) {
	const how = inThread ? "in a thread" : "as a process";
	test(`runCli ${how}: an abort kills the CLI mid-run and rejects; a run asked for after the abort never starts`, {
		timeout: 30_000,
	}, async () => {
		const broker = await holdingBroker();
		try {
			const stop = new AbortController();
			const env = { TRIBUTARY_URL: broker.url, TRIBUTARY_TOKEN: "t" };
			const running = runCli(["topics", "list"], { env, signal: stop.signal, timeoutMs: HELD_CLI_TIMEOUT_MS, inThread });
			await broker.asked;
			stop.abort();
			await assert.rejects(running, /^Error: tributary topics list: not run to its end, its test was aborted$/);
			await broker.gone;
			// --help needs no broker: a runner that started it would resolve with its usage, status 0.
			await assert.rejects(runCli(["--help"], { env, signal: stop.signal, inThread }), /^Error: tributary --help: not run to its end/);
		} finally {
			await broker.close();
		}
	});
}

/**
 * `result` without the figures of time that differ from run to run (produce's summary: "in 0.1 s: 0 records/s, …").
 * @param {import("./lib/cli.mjs").CliResult} result
 */
function untimed(result) {
	return { ...result, stderr: result.stderr.replace(/in [\d.]+ s: [\d.]+ records\/s, [\d.]+ MB\/s/g, "in … s") };
}

test("runCli in a thread answers as the process does: status, stdout and stderr; a timeout kills it as SIGKILL", {
	timeout: 60_000,
}, async () => {
	const broker = await holdingBroker();
	try {
		const unreachable = { TRIBUTARY_URL: "http://127.0.0.1:9", TRIBUTARY_TOKEN: "x" };
		/** @type {[string[], Parameters<typeof runCli>[1]][]} */
		const runs = [
			[["--help"], {}],
			[[], {}],
			[["topics", "frobnicate"], { env: unreachable }],
			[["topics", "list"], { env: unreachable }],
			[["produce", "t", "--json"], { env: { TRIBUTARY_URL: "", TRIBUTARY_TOKEN: "" }, input: "{}\n" }],
			[["produce", "t", "--json"], { env: unreachable, input: "{}\nnot json\n" }],
			[["topics", "list"], { env: { TRIBUTARY_URL: broker.url, TRIBUTARY_TOKEN: "t" }, timeoutMs: 3_000 }],
		];
		for (const [args, options] of runs) {
			const [alone, threaded] = await Promise.all([runCli(args, options), runCli(args, { ...options, inThread: true })]);
			assert.deepEqual(untimed(threaded), untimed(alone), `tributary ${args.join(" ")}`);
		}
		const killed = await runCli(["topics", "list"], {
			env: { TRIBUTARY_URL: broker.url, TRIBUTARY_TOKEN: "t" },
			timeoutMs: 1_000,
			inThread: true,
		});
		assert.deepEqual([killed.status, killed.signal], [null, "SIGKILL"]);
	} finally {
		await broker.close();
	}
});
