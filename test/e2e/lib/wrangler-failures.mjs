// @ts-check
/**
 * @module
 * Which test a request wrangler dev failed belongs to (its proxy's 503 or a closed connection, which the Worker may or
 * may not have served), so that only that test's failure is run again for it (the conformance suite's
 * WRANGLER_FAILED_RETRIES). Tests run at once: a request is the test's in whose run (`during`) it was sent.
 */

import { AsyncLocalStorage } from "node:async_hooks";

export function wranglerFailures() {
	/** @type {AsyncLocalStorage<object>} */
	const running = new AsyncLocalStorage();
	/** The tests whose current try met such a request. */
	const failed = new WeakSet();
	return {
		/**
		 * Runs one try of `test` (`run`), its requests counted as its own; a try starts with none.
		 * @template T @param {object} test @param {() => Promise<T>} run @returns {Promise<T>}
		 */
		during(test, run) {
			failed.delete(test);
			return running.run(test, run);
		},
		/** Notes that wrangler dev failed a request of the test in whose run it was sent (none outside a run). */
		seen() {
			const test = running.getStore();
			if (test !== undefined) failed.add(test);
		},
		/**
		 * Whether `test`, which failed, met such a request in this try (taking it), whatever its failure says: the
		 * suite's assertions often name no status ("expected false to be true" on `response.ok`), and what wrangler dev
		 * failed is what the try saw. A broker that breaks a rule fails the try run again too.
		 * @param {object} test
		 */
		take(test) {
			return failed.delete(test);
		},
	};
}
