// @ts-check
/**
 * @module
 * The pure parts of the same-load A/B comparison (bench/ab.mjs): which builds its arguments name, and what its
 * rounds add up to. A round measures both builds at once, so its difference is the figure; the spread of those
 * differences (and of an A/A run, the same build twice) says how much of it is noise.
 */

import { median, round } from "./load.mjs";

/** The working tree as it is now, uncommitted edits included. */
export const WORKING_TREE = ".";
export const DEFAULT_BASE = "main";

/**
 * The two builds `npm run bench:ab -- [A] [B]` compares: each a git ref or `.` (the working tree). Default: main
 * against the working tree; the same one twice is an A/A run, the noise floor.
 * @param {string[]} args
 * @returns {{ a: string, b: string, sameBuild: boolean }}
 */
export function abBuilds(args) {
	const named = args.filter((arg) => arg !== "");
	if (named.length > 2) throw new Error(`bench:ab compares two builds, not ${named.length}: [A] [B], each a git ref or "."`);
	const a = named[0] ?? DEFAULT_BASE;
	const b = named[1] ?? WORKING_TREE;
	return { a, b, sameBuild: a === b };
}

/**
 * One step that sends request `i` of `client` to every build at once and answers when all have: each build sees
 * the same requests at the same moments, so their CPU per request is taken at one rate and one concurrency (two
 * loads side by side drift apart: whichever the scheduler favours runs faster, and a faster partition
 * group-commits more per commit). Its outcome is the first failure, if any, else the first build's.
 * @param {import("./load.mjs").Step[]} steps
 * @returns {import("./load.mjs").Step}
 */
export function pairSteps(steps) {
	if (steps.length === 0) throw new Error("pairSteps needs at least one step");
	return async (client, i) => {
		const outcomes = await Promise.all(steps.map((step) => step(client, i)));
		const failed = outcomes.find((o) => o.error !== undefined || o.status < 200 || o.status >= 300);
		return /** @type {import("./load.mjs").Outcome} */ (failed ?? outcomes[0]);
	};
}

/**
 * Server CPU per request in µs: `cpuSeconds` over `requests`; null when there is no figure.
 * @param {number} cpuSeconds
 * @param {number} requests
 */
export function cpuMicrosPerRequest(cpuSeconds, requests) {
	if (!Number.isFinite(cpuSeconds) || !(requests > 0)) return null;
	return round((cpuSeconds / requests) * 1e6, 1);
}

/**
 * @typedef {object} AbRound
 * @property {number} a  build A's server CPU µs per request in this round
 * @property {number} b  build B's, measured over the same seconds
 */

/**
 * What the rounds say: each build's median, and B − A per round (median, min, max; the spread is what one round's
 * difference can be off by on this machine). `percent` is the median difference against A's median.
 * @param {AbRound[]} rounds
 */
export function summarize(rounds) {
	if (rounds.length === 0) throw new Error("no rounds to summarize");
	const diffs = rounds.map((r) => r.b - r.a);
	const a = median(rounds.map((r) => r.a));
	const b = median(rounds.map((r) => r.b));
	const diff = median(diffs);
	return {
		rounds: rounds.length,
		a: round(a, 1),
		b: round(b, 1),
		diff: round(diff, 1),
		diffMin: round(Math.min(...diffs), 1),
		diffMax: round(Math.max(...diffs), 1),
		percent: a > 0 ? round((diff / a) * 100, 1) : null,
		/** Rounds in which B used less CPU per request than A. */
		bLower: diffs.filter((d) => d < 0).length,
		/** Whether every round put B on the same side of A: short of that, the median is not told apart from noise. */
		signsAgree: diffs.every((d) => d < 0) || diffs.every((d) => d > 0),
	};
}
