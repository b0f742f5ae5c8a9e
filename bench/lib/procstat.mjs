/**
 * CPU seconds used by processes, from /proc (Linux): lets the report say whether the server or the load
 * generator was the bottleneck on a small machine.
 */

import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";

let ticksPerSecond = 100;
try {
	ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
} catch {
	// keep the usual 100
}

async function processTable() {
	const table = new Map();
	let names = [];
	try {
		names = await readdir("/proc");
	} catch {
		return table;
	}
	await Promise.all(
		names
			.filter((name) => /^\d+$/.test(name))
			.map(async (name) => {
				try {
					const stat = await readFile(`/proc/${name}/stat`, "utf8");
					// Fields after the parenthesised command: state ppid pgrp ... utime(14) stime(15) cutime(16) cstime(17).
					const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
					table.set(Number(name), {
						ppid: Number(rest[1]),
						ticks: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]),
					});
				} catch {
					// the process ended meanwhile
				}
			}),
	);
	return table;
}

/** CPU seconds of every live descendant of `rootPid` (not the root itself); NaN where /proc is unavailable. */
export async function descendantCpuSeconds(rootPid = process.pid) {
	const table = await processTable();
	if (table.size === 0) return Number.NaN;
	const children = new Map();
	for (const [pid, { ppid }] of table) {
		const list = children.get(ppid);
		if (list === undefined) children.set(ppid, [pid]);
		else list.push(pid);
	}
	let ticks = 0;
	const stack = [...(children.get(rootPid) ?? [])];
	while (stack.length > 0) {
		const pid = stack.pop();
		ticks += table.get(pid)?.ticks ?? 0;
		stack.push(...(children.get(pid) ?? []));
	}
	return ticks / ticksPerSecond;
}

/** CPU seconds of one process and its descendants. */
export async function processCpuSeconds(pid) {
	const table = await processTable();
	const own = table.get(pid)?.ticks ?? 0;
	return own / ticksPerSecond + (await descendantCpuSeconds(pid));
}

/** CPU seconds the whole machine has spent busy (all cores, all processes) since boot, from /proc/stat. */
export async function machineBusySeconds() {
	try {
		const line = (await readFile("/proc/stat", "utf8")).split("\n")[0];
		// cpu user nice system idle iowait irq softirq steal …
		const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
		return (user + nice + system + irq + softirq + (steal || 0)) / ticksPerSecond;
	} catch {
		return Number.NaN;
	}
}
