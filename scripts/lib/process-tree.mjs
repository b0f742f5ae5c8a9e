/**
 * @module
 * Process-tree helpers (Linux, via /proc): list a process's descendants and signal them by PID. Used to stop
 * `wrangler dev` cleanly and to kill its workerd children outright. Never signals anything by name.
 */

import { readdirSync, readFileSync } from "node:fs";

/**
 * Every process visible in /proc as `{ pid, ppid, pgid, name, state }`, zombies included (`state` "Z").
 * Processes that exit mid-scan are skipped.
 */
export function listProcesses() {
	const processes = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		let stat;
		try {
			stat = readFileSync(`/proc/${entry}/stat`, "utf8");
		} catch {
			continue;
		}
		// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")".
		const open = stat.indexOf("(");
		const close = stat.lastIndexOf(")");
		const fields = stat.slice(close + 2).split(" ");
		processes.push({
			pid: Number(entry),
			name: stat.slice(open + 1, close),
			state: fields[0],
			ppid: Number(fields[1]),
			pgid: Number(fields[2]),
		});
	}
	return processes;
}

/** All live descendants of `pid` (children, grandchildren, ...), parents before children. */
export function descendants(pid) {
	const processes = listProcesses().filter((p) => p.state !== "Z");
	const byParent = new Map();
	for (const p of processes) {
		const siblings = byParent.get(p.ppid);
		if (siblings === undefined) byParent.set(p.ppid, [p]);
		else siblings.push(p);
	}
	const out = [];
	const queue = [pid];
	while (queue.length > 0) {
		for (const child of byParent.get(queue.shift()) ?? []) {
			out.push(child);
			queue.push(child.pid);
		}
	}
	return out;
}

/** Live (non-zombie) processes whose process group is `pgid` (a detached child's group id is its PID). */
export function groupMembers(pgid) {
	return listProcesses().filter((p) => p.pgid === pgid && p.state !== "Z");
}

/** Whether `pid` exists (a zombie counts as gone). */
export function isAlive(pid) {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
	} catch {
		return false;
	}
}

/** Sends `signal` to `pid` (or, with a negative number, to a process group); false if it was already gone. */
export function signal(pid, sig) {
	try {
		process.kill(pid, sig);
		return true;
	} catch (error) {
		if (error.code === "ESRCH") return false;
		throw error;
	}
}

/** The argv of `pid` (empty if it is gone or a kernel thread). */
export function commandLine(pid) {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, "utf8")
			.split("\0")
			.filter((arg) => arg !== "");
	} catch {
		return [];
	}
}
