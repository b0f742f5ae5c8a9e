// @ts-check
/**
 * @module
 * Folds the write-ahead logs of every SQLite database under a directory into their databases, with the Debian
 * `sqlite3` CLI, while no server has them open. workerd leaves a Durable Object's WAL in place when it stops, and
 * the next start replays it (up to SQLite's auto-checkpoint size, ~4 MB): a cost of local storage that depends on
 * how recently an object was written, not on how much it holds.
 */

import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Checkpoints every Durable Object database under `persistDir`; returns how many were folded.
 * @param {string} persistDir
 * @param {string} sqlite3Bin
 */
export async function checkpointSqlite(persistDir, sqlite3Bin) {
	const files = (await readdir(persistDir, { recursive: true })).filter((f) => f.endsWith(".sqlite") && !f.endsWith("metadata.sqlite"));
	for (const file of files) {
		await run(sqlite3Bin, [join(persistDir, file), "PRAGMA wal_checkpoint(TRUNCATE);"], { timeout: 60_000 });
	}
	return files.length;
}
