/**
 * @module
 * The entity tag of a grant (an ACL and its quotas), for optimistic concurrency (RFC 9110 §8.8.3, §13.1.1): a
 * digest of the grant as stored, not a version number. It needs no column of its own, it is the same for the same
 * stored grant after any restart, and any change of the ACL or a quota moves it. A 32-bit MurmurHash2 (Kafka's, which
 * the Worker already has): the chance that a change leaves the tag as it was is 2^-32.
 */

import { err, type Failure } from "../shared/errors.ts";
import { murmur2, utf8 } from "../shared/partitioner.ts";
import type { KeyInfo } from "./types.ts";

/** The grant's strong entity tag, quoted as an `ETag` header carries it. */
export function grantTag({ acl, quotas }: Pick<KeyInfo, "acl" | "quotas">): string {
	return `"${(murmur2(utf8(JSON.stringify([acl, quotas]))) >>> 0).toString(36)}"`;
}

/**
 * Null when `grant` is what an If-Match's strong tags (`ifMatch`; undefined: no condition) name, else the refusal:
 * one check for a write, made where the grant is written, and for a read.
 */
export function unmatchedGrant(grant: Pick<KeyInfo, "acl" | "quotas">, ifMatch: readonly string[] | undefined): Failure | null {
	if (ifMatch === undefined || ifMatch.includes(grantTag(grant))) return null;
	return err("precondition_failed", "the grant changed since its ETag was read: read it again");
}
