/**
 * The anonymous principal's grant is one for the whole Worker, kept in storage that the files of a test/ directory
 * share (vitest.config.ts): a grant a failing test left behind reached the next file's tests ("expected { acl: [ {
 * …(2) } ], quotas: { …(2) } } to deeply equal { acl: [], quotas: { …(1) } }" in merge-patch-media, after a websocket
 * test failed while anonymous was granted). So a test that grants it closes it again when it ends, pass or fail, and a
 * test that reads it whole starts from it closed, whatever ran before: one way for every file, never a `finally` or
 * an `afterEach` of its own. A test that grants calls `closeAnonymousAtTestEnd()` first; a file or `describe` block
 * whose every test reads, patches or replaces the grant calls `anonymousClosedAroundEach()` once.
 */

import { afterEach, beforeEach, onTestFinished } from "vitest";
import type { AclEntry } from "../../src/auth/acl.ts";
import type { KeyQuotas } from "../../src/auth/types.ts";
import { json } from "./worker.ts";

/** Gives anonymous `acl` and `quotas` (none when left out) whole, as `PUT /v1/anonymous` does, by the admin token. */
export async function grantAnonymous(acl: readonly AclEntry[], quotas: KeyQuotas = {}): Promise<void> {
	await json("PUT", "/v1/anonymous", 200, { body: { acl, quotas } });
}

/** Takes every right and quota from anonymous (a credential-less request is a 401 again), as before any grant. */
export async function closeAnonymous(): Promise<void> {
	await grantAnonymous([]);
}

/** Closes anonymous when the running test ends, pass or fail: called by a test before it grants anything. */
export function closeAnonymousAtTestEnd(): void {
	onTestFinished(closeAnonymous);
}

/** Closes anonymous before and after each test of the file or `describe` block it is called in. */
export function anonymousClosedAroundEach(): void {
	beforeEach(closeAnonymous);
	afterEach(closeAnonymous);
}
