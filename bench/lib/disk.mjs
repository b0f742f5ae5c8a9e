// @ts-check
/**
 * @module
 * How the disk is doing: every durable row of the bench waits for its commits, and workerd fsyncs once per SQLite
 * commit (strace of a local broker: 209 fsyncs for 200 one-record produces), so a slow disk slows those rows as
 * surely as a busy CPU, while the other-CPU check sees nothing (one earlier run: 50 % I/O wait, durable rows ±20 %
 * between minutes, none flagged). Two figures: an fsync probe (what one commit's sync costs right now) taken before
 * each measurement, and the share of the measurement in which some task stalled on I/O (Linux pressure stall
 * information), which counts the bench's own commits too and is shown, not judged.
 */

import { closeSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** fsyncs per probe; the median is taken, so one stray slow sync does not mark the disk slow. */
const DISK_PROBE_SYNCS = 7;
/** Bytes written before each probe's sync: one SQLite page, about what a small commit adds to the WAL. */
const DISK_PROBE_BYTES = 4096;
/**
 * A probe's median above which the disk counts as slow: a row measured then is marked, and the quiet wait waits.
 * On the bench machine a 4 KiB write + fsync takes 0.2–0.3 ms when the disk is quiet: four times that is slow.
 */
export const DISK_SLOW_FSYNC_MS = 1;

/**
 * The median time of DISK_PROBE_SYNCS write + fsync pairs on a scratch file in the temp directory (the same
 * filesystem as Miniflare's state on the bench machine), in ms.
 */
export function fsyncProbeMs() {
	const path = join(tmpdir(), `tributary-fsync-probe-${process.pid}`);
	const page = Buffer.alloc(DISK_PROBE_BYTES, 1);
	const timesMs = [];
	const fd = openSync(path, "w");
	try {
		for (let i = 0; i < DISK_PROBE_SYNCS; i++) {
			writeSync(fd, page, 0, page.length, 0);
			const started = process.hrtime.bigint();
			fsyncSync(fd);
			timesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
		}
	} finally {
		closeSync(fd);
		rmSync(path, { force: true });
	}
	timesMs.sort((a, b) => a - b);
	return timesMs[Math.floor(timesMs.length / 2)] ?? 0;
}

/**
 * Seconds since boot in which at least one task waited for I/O (`some total` of /proc/pressure/io, in µs); NaN
 * where the kernel does not keep pressure stall information.
 */
export function ioStallSeconds() {
	try {
		const some = readFileSync("/proc/pressure/io", "utf8").split("\n")[0] ?? "";
		const total = /total=(\d+)/.exec(some)?.[1];
		return total === undefined ? Number.NaN : Number(total) / 1e6;
	} catch {
		return Number.NaN;
	}
}
