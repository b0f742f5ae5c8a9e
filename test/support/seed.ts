/**
 * Seeds for simulation and fuzz tests: mulberry32 (small, fast, the same on every platform), so a printed seed
 * replays a run exactly; SIM_SEED=<seed> on the command line replays one (vitest.config.ts passes it through as a
 * binding).
 */

import { env } from "cloudflare:workers";

/** The seed given as SIM_SEED, or null when none (or not a positive integer) was given. */
export function replaySeed(): number | null {
	const seed = Number((env as unknown as { SIM_SEED?: string }).SIM_SEED || Number.NaN);
	return Number.isSafeInteger(seed) && seed > 0 ? seed : null;
}

/** The seeds to run: SIM_SEED alone when given, `defaults` otherwise. */
export function seedsToRun(defaults: readonly number[]): number[] {
	const seed = replaySeed();
	return seed === null ? [...defaults] : [seed];
}

/** A random number generator in [0, 1) that replays exactly from `seed`. */
export function seededRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}
