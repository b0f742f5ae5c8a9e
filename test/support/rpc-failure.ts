/**
 * What a Durable Object's RPC method answers for an expected failure it threw inside: a failure `Result`, never a
 * rejected promise (workerd reports every rejection crossing RPC "Uncaught (in promise)" even when the edge catches
 * it, and a rejection loses the typed error). A storage failure is 503 `service_unavailable`, the edge's answer for
 * an object's call that threw; a bug 500 `internal`.
 */

import { expect } from "vitest";
import { expectError } from "./worker.ts";

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

/**
 * Asserts the edge's answer to a Durable Object's call that failed inside it: 503 `service_unavailable`, retriable,
 * naming the request (README: as a 500 does).
 */
export async function expectPlatformFailure(method: string, path: string, body?: unknown): Promise<void> {
	const error = await expectError(method, path, 503, "service_unavailable", { body });
	expect(error.retriable).toBe(true);
	expect(error.request_id, "the request's id").toMatch(/^[\w-]{8,}$/);
}

/** A storage statement's failure, as workerd throws it. */
const STORAGE_ERROR = "SQLITE_IOERR: disk I/O error";

/**
 * What each of `calls` answers when `breakNext` has made the object's next step throw: first a storage failure, then
 * `bug`. Keyed `"<name> storage"` and `"<name> bug"`, as `failureResults` expects them.
 */
export async function answersWhenBroken(
	calls: readonly (readonly [string, () => Promise<unknown>])[],
	breakNext: (name: string, thrown: string | Error) => Promise<void>,
	bug: Error,
): Promise<Record<string, unknown>> {
	const answers: Record<string, unknown> = {};
	for (const [name, call] of calls) {
		for (const thrown of [STORAGE_ERROR, bug]) {
			await breakNext(name, thrown);
			answers[`${name} ${thrown === bug ? "bug" : "storage"}`] = await settled(call());
		}
	}
	return answers;
}

/** What `answersWhenBroken` should answer for the calls named: the storage failure's Result and the bug's. */
export function failureResults(names: readonly string[]): Record<string, unknown> {
	return Object.fromEntries(
		names.flatMap((name) => [
			[`${name} storage`, STORAGE_FAILED],
			[`${name} bug`, BUG],
		]),
	);
}
