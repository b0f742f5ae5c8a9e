/**
 * What a Durable Object's RPC method answers for an expected failure it threw inside: a failure `Result`, never a
 * rejected promise (workerd reports every rejection crossing RPC "Uncaught (in promise)" even when the edge catches
 * it, and a rejection loses the typed error). A storage failure is 503 `service_unavailable`, the edge's answer for
 * an object's call that threw; a bug 500 `internal`.
 */

export const STORAGE_FAILED = {
	ok: false,
	error: { code: "service_unavailable", message: "a Durable Object failed; the request may be partly done" },
};
export const BUG = { ok: false, error: { code: "internal", message: "internal error" } };

/** What a call answered, or "rejected: …" when it rejected. */
export function settled(call: Promise<unknown>): Promise<unknown> {
	return call.then(
		(answer) => answer,
		(cause: unknown) => `rejected: ${String(cause)}`,
	);
}
