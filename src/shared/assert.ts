/**
 * @module
 * Invariant checks (TIGER_STYLE). A failed assertion is a bug in Tributary, never bad input: it throws, the
 * edge answers 500 with a request id, and the detail goes to the log only. Messages are a few words, unique enough
 * to grep for: they ship in the Worker's bundle (146 sentences were 1.2 KB of it gzipped), and the condition beside
 * each says the rest.
 */

export class AssertionError extends Error {
	override name = "AssertionError";
}

/** Throws when `condition` is false. */
export function assert(condition: unknown, message: string): asserts condition {
	if (!condition) throw new AssertionError(`invariant violated: ${message}`);
}
