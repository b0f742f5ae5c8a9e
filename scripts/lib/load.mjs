// @ts-check
/**
 * @module
 * Hang bounds that follow the machine's load. The e2e files' bounds were set from their times on a 2-core machine at
 * some load (its 1-minute average, as `uptime` shows it); on a busier machine every CPU-bound step takes longer in
 * proportion, and a fixed bound fails a test that was only slow (crash's 120 s and docs' 270 s at a load above 17).
 *
 * A bound reads the load when it is set: the e2e runner's file timeout as it starts each file, a file's test bounds as
 * the file starts. Not a reading taken once at the run's start, passed down: a run that started at load 5 and rose to
 * 20 kept load 5's bounds, and restart's Miniflare test was cut off at 90 s.
 */

import { availableParallelism, loadavg } from "node:os";

/** The cores of the machine the bounds' loads were measured on. */
const MEASURED_CORES = 2;
/** A bound is stretched at most this many times: past it, a test still running is taken as hung. */
export const LOAD_STRETCH_MAX = 3;

/** The machine's load per core now: the larger of its 1- and 5-minute averages (one spike, or a busy stretch). */
function machineLoadPerCore() {
	const [one = 0, five = 0] = loadavg();
	return Math.max(one, five) / availableParallelism();
}

/** Where `underLoad` reads the load per core: the machine, or a stand-in a test sets (`useLoadSource`). */
let loadPerCore = machineLoadPerCore;

/**
 * Makes `underLoad` read the load per core from `read` (a test's stand-in for a machine whose load moves) until the
 * returned function puts the machine back.
 * @param {() => number} read
 */
export function useLoadSource(read) {
	loadPerCore = read;
	return () => {
		loadPerCore = machineLoadPerCore;
	};
}

/**
 * `ms`, a bound that held at load `atLoad` (on MEASURED_CORES cores), stretched by how much busier than that the
 * machine is per core (`perCore`, read now when not given), never shortened, at most LOAD_STRETCH_MAX times.
 * @param {number} ms @param {number} atLoad @param {number} [perCore]
 */
export function underLoad(ms, atLoad, perCore = loadPerCore()) {
	const stretch = Math.min(LOAD_STRETCH_MAX, Math.max(1, perCore / (atLoad / MEASURED_CORES)));
	return Math.round(ms * stretch);
}
