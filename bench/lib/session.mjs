// @ts-check
/**
 * @module
 * What one bench run holds and must let go of: every server it starts is stopped on the way out (errors and
 * Ctrl-C included), and its temp dirs are removed unless BENCH_KEEP_TMP=1.
 */

import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { killAllWranglerDevsSync } from "../../scripts/lib/index.mjs";
import { killAllPeersSync } from "../peers/server.mjs";
import { KEEP_TMP } from "../settings.mjs";

/** @type {Set<() => Promise<void>>} */
const stoppers = new Set();
/** @type {string[]} */
const tempDirs = [];
let interrupted = false;

/** Whether Ctrl-C (or SIGTERM) asked the run to stop: loops check it between scenarios. */
export function isInterrupted() {
	return interrupted;
}

/**
 * A fresh temp dir, removed at the end of the run.
 * @param {string} prefix
 */
export async function tempDir(prefix) {
	const dir = await mkdtemp(join(os.tmpdir(), `tributary-bench-${prefix}-`));
	tempDirs.push(dir);
	return dir;
}

/**
 * Removes `dir` at the end of the run (a directory made by someone else for this run).
 * @param {string} dir
 */
export function removeAtEnd(dir) {
	tempDirs.push(dir);
}

/**
 * Registers a server's `stop` so it runs on the way out (also on Ctrl-C); `release()` stops it now.
 * @param {() => Promise<void>} stop
 */
export function holdServer(stop) {
	stoppers.add(stop);
	return {
		async release() {
			stoppers.delete(stop);
			await stop();
		},
	};
}

async function stopAll() {
	for (const stop of [...stoppers]) {
		stoppers.delete(stop);
		await stop().catch(() => {});
	}
}

function killAllSync() {
	killAllWranglerDevsSync();
	killAllPeersSync();
}

/** Installs the Ctrl-C and exit handlers; call once at start. */
export function installHandlers() {
	for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
		process.on(sig, () => {
			if (interrupted) process.exit(130);
			interrupted = true;
			console.error(`\n${sig}: stopping servers…`);
			const force = setTimeout(() => {
				killAllSync();
				process.exit(130);
			}, 5_000);
			stopAll().finally(() => {
				clearTimeout(force);
				killAllSync();
				process.exit(130);
			});
		});
	}
	process.on("exit", () => {
		killAllSync();
		if (!KEEP_TMP) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
	});
}

/** Stops what is left and removes the temp dirs (or says where they are). */
export async function endSession() {
	await stopAll();
	killAllSync();
	if (!KEEP_TMP) for (const dir of tempDirs) await rm(dir, { recursive: true, force: true }).catch(() => {});
	else console.error(`kept temp dirs:\n  ${tempDirs.join("\n  ")}`);
}

/**
 * Runs a bench entry point's `main` in a session: handlers installed first, a failure printed and the exit code
 * set, and whatever it started stopped at the end either way.
 * @param {() => Promise<void>} main
 */
export async function runSession(main) {
	installHandlers();
	try {
		await main();
	} catch (error) {
		console.error(error);
		process.exitCode = 1;
	} finally {
		await endSession();
	}
}
