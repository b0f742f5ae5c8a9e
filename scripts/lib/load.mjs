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

/**
 * The environment variable in which a process passes its reading of the load per core to those it starts (the e2e
 * runner to its files): a bound of the runner's and one of a file's, stretched from one reading, keep their order
 * however the load moves between the runner's start and the file's.
 */
export const LOAD_READING_ENV = "TRIBUTARY_LOAD_PER_CORE";

/**
 * The load per core bounds are stretched by: the reading passed down (LOAD_READING_ENV), else the machine's now, the
 * larger of its 1- and 5-minute averages (one spike, or a busy stretch).
 */
function loadPerCore() {
	const passed = Number(process.env[LOAD_READING_ENV] ?? Number.NaN);
	if (Number.isFinite(passed) && passed >= 0) return passed;
	const [one = 0, five = 0] = loadavg();
	return Math.max(one, five) / availableParallelism();
}

/** Reads the load once, for this process and the ones it starts from now on (LOAD_READING_ENV); answers the reading. */
export function readLoadOnce() {
	const reading = loadPerCore();
	process.env[LOAD_READING_ENV] = String(reading);
	return reading;
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
