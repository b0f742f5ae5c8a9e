/**
 * @module
 * The `anonymous` principal: who a request without credentials acts as. It has no rights until an admin grants
 * some (`PUT` or `PATCH /v1/anonymous`), with the same ACL shape and quotas as a key, so public streams and topics
 * need no secret while deny-by-default stays: with an empty ACL a credential-less request is refused with 401 as
 * before.
 *
 * Stored like a key, in the key store authority named `key:anonymous` (a key id is 20 hex digits, so no key can
 * collide with it): one place answers what anonymous may do and holds its quota buckets, uncached, so taking
 * rights away applies to the next request everywhere.
 *
 * @example
 * curl -X PUT -H "Authorization: Bearer $TOKEN" "$URL/v1/anonymous" \
 *   -d '{"acl":[{"resource":"topic:ds.public*","operations":["consume"]}]}'
 */

import { bare } from "../shared/errors.ts";
import { keyAuthority } from "../shared/stubs.ts";
import { type KeyInfo, type KeyPatch, toInfo } from "./types.ts";

/** The principal's id, in the key store and in audit records (`anonymous`, never `key:…`). */
export const ANONYMOUS_ID = "anonymous";

/** What anonymous may do before any grant: nothing. */
export const ANONYMOUS_DEFAULT: KeyInfo = { id: ANONYMOUS_ID, name: ANONYMOUS_ID, acl: [], quotas: {}, createdAtMs: 0 };

/** Anonymous's rights and quotas as stored; the default when none were ever granted. */
export async function loadAnonymous(env: Env): Promise<KeyInfo> {
	const stored = bare(await keyAuthority(env, ANONYMOUS_ID).getKey(ANONYMOUS_ID));
	return stored === null ? ANONYMOUS_DEFAULT : toInfo(stored);
}

/**
 * Changes anonymous's grant where it is stored: with `whole` (`PUT`) `change` replaces it; otherwise (`PATCH`) it is
 * merged into the grant as stored then, so a change another admin made meanwhile is kept, not overwritten with what
 * this one last read. With `ifMatch` (an If-Match's strong tags), only while the stored grant's tag is one of them:
 * checked there too, so no change lands between the check and the write. It has no secret: the empty digest matches
 * none (see secret.ts).
 */
export async function changeAnonymous(env: Env, change: KeyPatch, whole: boolean, ifMatch?: readonly string[]): Promise<KeyInfo> {
	const fresh = { ...ANONYMOUS_DEFAULT, createdAtMs: Date.now(), secretSha256: "" };
	return toInfo(bare(await keyAuthority(env, ANONYMOUS_ID).changeKey(fresh, change, whole, ifMatch)));
}

/** Whether anonymous holds any right at all: without one, a credential-less request is a plain 401. */
export function hasAnyRight(info: KeyInfo): boolean {
	return info.acl.some((entry) => entry.operations.length > 0);
}
