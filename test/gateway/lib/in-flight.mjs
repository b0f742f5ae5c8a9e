// @ts-check
/**
 * @module
 * Counts a stand-in's calls in flight: each answered on a later turn, as over HTTP, so calls a handler begins
 * meanwhile are in flight together and `max` is the most it had unsettled at once.
 */

/** @example const calls = inFlight(); const tributary = { produce: (t, b) => calls.answer(() => ok(t, b)) }; */
export function inFlight() {
	const counts = { now: 0, max: 0 };
	return {
		counts,
		/**
		 * `answer()`, a turn after the call begins.
		 * @template T @param {() => T} answer @returns {Promise<T>}
		 */
		async answer(answer) {
			counts.now++;
			counts.max = Math.max(counts.max, counts.now);
			await new Promise((resolve) => setImmediate(resolve));
			counts.now--;
			return answer();
		},
	};
}
