// @ts-check
/**
 * @module
 * The process table (Linux, via /proc): list a process's descendants, signal them by PID, and count the CPU time
 * they used. Used to stop `wrangler dev` cleanly, to kill its workerd children outright, and by the bench to say
 * whether the server or the load generator was the bottleneck. Never signals anything by name.
 */

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { waitUntil } from "./net.mjs";

/**
 * @typedef {object} ProcessInfo
 * @property {number} pid
 * @property {number} ppid
 * @property {number} pgid
 * @property {string} name   the command name (`comm`)
 * @property {string} state  "R", "S", "Z" (zombie), …
 * @property {number} cpuTicks  user + system time, its reaped children's included (clock ticks)
 */

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every usual Linux). */
const TICKS_PER_SECOND = (() => {
	try {
		return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
	} catch {
		return 100;
	}
})();

/**
 * One /proc/<pid>/stat line, or null if the process is gone.
 * @param {string | number} pid
 * @returns {ProcessInfo | null}
 */
function readStat(pid) {
	let stat;
	try {
		stat = readFileSync(`/proc/${pid}/stat`, "utf8");
	} catch {
		return null;
	}
	// "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ")". After it:
	// state(0) ppid(1) pgrp(2) … utime(11) stime(12) cutime(13) cstime(14).
	const close = stat.lastIndexOf(")");
	const fields = stat.slice(close + 2).split(" ");
	const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
	return {
		pid: Number(pid),
		name: stat.slice(stat.indexOf("(") + 1, close),
		state: fields[0] ?? "",
		ppid: Number(fields[1]),
		pgid: Number(fields[2]),
		cpuTicks: ticks,
	};
}

/**
 * Every process visible in /proc, zombies included (`state` "Z"); processes that exit mid-scan are skipped.
 * Empty where there is no /proc.
 * @returns {ProcessInfo[]}
 */
export function listProcesses() {
	let entries;
	try {
		entries = readdirSync("/proc");
	} catch {
		return [];
	}
	const processes = [];
	for (const entry of entries) {
		if (!/^\d+$/.test(entry)) continue;
		const info = readStat(entry);
		if (info !== null) processes.push(info);
	}
	return processes;
}

/**
 * The descendants of `pid` within `processes`, parents before children.
 * @param {ProcessInfo[]} processes
 * @param {number} pid
 */
function descendantsIn(processes, pid) {
	/** @type {Map<number, ProcessInfo[]>} */
	const byParent = new Map();
	for (const p of processes) {
		const siblings = byParent.get(p.ppid);
		if (siblings === undefined) byParent.set(p.ppid, [p]);
		else siblings.push(p);
	}
	const out = [];
	const queue = [pid];
	for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
		for (const child of byParent.get(next) ?? []) {
			out.push(child);
			queue.push(child.pid);
		}
	}
	return out;
}

/**
 * All live descendants of `pid` (children, grandchildren, …), parents before children.
 * @param {number} pid
 */
export function descendants(pid) {
	return descendantsIn(
		listProcesses().filter((p) => p.state !== "Z"),
		pid,
	);
}

/**
 * Live (non-zombie) processes whose process group is `pgid` (a detached child's group id is its PID).
 * @param {number} pgid
 */
export function groupMembers(pgid) {
	return listProcesses().filter((p) => p.pgid === pgid && p.state !== "Z");
}

/**
 * Whether `pid` exists (a zombie counts as gone).
 * @param {number} pid
 */
export function isAlive(pid) {
	const info = readStat(pid);
	return info !== null && info.state !== "Z";
}

/**
 * Sends `sig` to `pid` (or, with a negative number, to a process group); false if it was already gone.
 * @param {number} pid
 * @param {NodeJS.Signals} sig
 */
export function signal(pid, sig) {
	try {
		process.kill(pid, sig);
		return true;
	} catch (error) {
		if (/** @type {NodeJS.ErrnoException} */ (error).code === "ESRCH") return false;
		throw error;
	}
}

/**
 * Stops a whole process tree: `rootPid` (unless it is this process) and every descendant, all at once, each sent `sig`,
 * as is each process group among them but this process's own (a detached child's: `wrangler dev`'s group, where its
 * workerd lives). The tree is read before anything is signalled, and its processes are then followed by PID: one whose
 * parent dies first is no longer a descendant, and would otherwise be missed. The tree is read again as it is waited
 * for: a process it started since (one born between the read and the signal, or started by a process on the signal,
 * as a cleanup) is sent `sig` too, once. After `graceMs`, whatever is left of it is sent SIGKILL. Resolves once all of
 * it is gone, with whether SIGKILL was needed.
 * @param {number} rootPid
 * @param {NodeJS.Signals} sig
 * @param {number} graceMs
 * @returns {Promise<{ forced: boolean }>}
 */
export async function stopTree(rootPid, sig, graceMs) {
	const ownGroup = readStat(process.pid)?.pgid;
	const members = () => {
		const root = rootPid === process.pid ? null : readStat(rootPid);
		return [...(root === null || root.state === "Z" ? [] : [root]), ...descendants(rootPid)];
	};
	const pids = new Set();
	const groups = new Set();
	/** Follows the processes of `found` (all read before any is signalled) and their groups; sends each new one `each`. */
	const follow = (/** @type {ProcessInfo[]} */ found, /** @type {NodeJS.Signals} */ each) => {
		for (const p of found) {
			if (!pids.has(p.pid)) {
				pids.add(p.pid);
				signal(p.pid, each);
			}
			if (p.pgid !== ownGroup && !groups.has(p.pgid)) {
				groups.add(p.pgid);
				signal(-p.pgid, each);
			}
		}
		return found;
	};
	const send = (/** @type {NodeJS.Signals} */ each) => {
		for (const pid of pids) signal(pid, each);
		for (const pgid of groups) signal(-pgid, each);
	};
	// A process born into a signalled group after its signal (a child started by a handler that then exited, so no
	// longer a descendant once reparented) is found through the group and sent the signal too.
	const gone = (/** @type {NodeJS.Signals} */ each) =>
		follow([...members(), ...[...groups].flatMap((g) => groupMembers(g))], each).length === 0 && [...pids].every((pid) => !isAlive(pid));
	follow(members(), sig);
	try {
		await waitUntil(() => gone(sig), { timeoutMs: graceMs, message: `process tree of ${rootPid} to exit after ${sig}` });
		return { forced: false };
	} catch {
		send("SIGKILL");
		await waitUntil(
			() => {
				send("SIGKILL");
				return gone("SIGKILL");
			},
			{ timeoutMs: graceMs, message: `process tree of ${rootPid} to exit after SIGKILL` },
		);
		return { forced: true };
	}
}

/**
 * Stops `child` (one this process spawned): SIGTERM, then SIGKILL if it has not exited within `graceMs` (a wedged
 * process, one that ignores or never finishes handling SIGTERM, would otherwise keep its parent alive). Resolves once
 * it has exited, with whether SIGKILL was needed.
 * @param {import("node:child_process").ChildProcess} child
 * @param {number} graceMs
 * @returns {Promise<{ forced: boolean }>}
 */
export async function stopChild(child, graceMs) {
	if (child.exitCode !== null || child.signalCode !== null) return { forced: false };
	const exited = new Promise((resolve) => child.once("exit", resolve));
	child.kill("SIGTERM");
	/** @type {NodeJS.Timeout | undefined} */
	let timer;
	const graceOver = new Promise((resolve) => {
		timer = setTimeout(resolve, graceMs, "grace over");
	});
	const forced = (await Promise.race([exited, graceOver])) === "grace over";
	clearTimeout(timer);
	if (forced) child.kill("SIGKILL");
	await exited;
	return { forced };
}

/**
 * The argv of `pid` (empty if it is gone or a kernel thread).
 * @param {number} pid
 * @returns {string[]}
 */
export function commandLine(pid) {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, "utf8")
			.split("\0")
			.filter((arg) => arg !== "");
	} catch {
		return [];
	}
}

/**
 * CPU seconds of every descendant of `rootPid` (not the root itself), zombies included; NaN without /proc.
 * @param {number} [rootPid]
 */
export function descendantCpuSeconds(rootPid = process.pid) {
	const processes = listProcesses();
	if (processes.length === 0) return Number.NaN;
	return descendantsIn(processes, rootPid).reduce((sum, p) => sum + p.cpuTicks, 0) / TICKS_PER_SECOND;
}

/**
 * CPU seconds of one process and its descendants.
 * @param {number} pid
 */
export function processCpuSeconds(pid) {
	const own = readStat(pid)?.cpuTicks ?? 0;
	return own / TICKS_PER_SECOND + descendantCpuSeconds(pid);
}

/**
 * CPU seconds `pid`'s live threads have run, from the scheduler's own count (/proc/<pid>/task/<tid>/schedstat, in
 * nanoseconds), not clock ticks: at 100 ticks a second, a tick is a few µs of a few thousand requests, as much as a
 * small change saves. Threads that ended are not counted (a server's threads live as long as it does); its
 * children neither. NaN when there is no such count.
 * @param {number} pid
 */
export function threadCpuSeconds(pid) {
	let tasks;
	try {
		tasks = readdirSync(`/proc/${pid}/task`);
	} catch {
		return Number.NaN;
	}
	let nanos = 0;
	for (const tid of tasks) {
		try {
			nanos += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
		} catch {
			// The thread ended between the listing and the read.
		}
	}
	return nanos / 1e9;
}

/** CPU seconds the whole machine has spent busy (all cores, all processes) since boot, from /proc/stat; NaN without. */
export function machineBusySeconds() {
	try {
		const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
		// cpu user nice system idle iowait irq softirq steal …
		const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
		return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
	} catch {
		return Number.NaN;
	}
}
