// @ts-check
/**
 * @module
 * Hang bounds that follow the machine's load. The e2e files' bounds were set from their times on a 2-core machine at
 * some load (its 1-minute average, as `uptime` shows it); on a busier machine every CPU-bound step takes longer in
 * proportion, and a fixed bound fails a test that was only slow (crash's 120 s and docs' 270 s at a load above 17).
 */

import { availableParallelism, loadavg } from "node:os";

/** The cores of the machine the bounds' loads were measured on. */
const MEASURED_CORES = 2;
/** A bound is stretched at most this many times: past it, a test still running is taken as hung. */
export const LOAD_STRETCH_MAX = 3;

/** This machine's load per core now: the larger of its 1- and 5-minute averages (one spike, or a busy stretch). */
function loadPerCore() {
	const [one = 0, five = 0] = loadavg();
	return Math.max(one, five) / availableParallelism();
}

/**
 * `ms`, a bound that held at load `atLoad` (on MEASURED_CORES cores), stretched by how much busier than that the
 * machine is per core (`perCore`, read when not given), never shortened, at most LOAD_STRETCH_MAX times.
 * @param {number} ms @param {number} atLoad @param {number} [perCore]
 */
export function underLoad(ms, atLoad, perCore = loadPerCore()) {
	const stretch = Math.min(LOAD_STRETCH_MAX, Math.max(1, perCore / (atLoad / MEASURED_CORES)));
	return Math.round(ms * stretch);
}
