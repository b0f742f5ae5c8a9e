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

type Grant = Pick<KeyInfo, "acl" | "quotas">;

const grantText = ({ acl, quotas }: Grant): string => JSON.stringify([acl, quotas]);

/** The grant's strong entity tag, quoted as an `ETag` header carries it. */
export function grantTag(grant: Grant): string {
	return `"${(murmur2(utf8(grantText(grant))) >>> 0).toString(36)}"`;
}

/**
 * Null when `grant` is what an If-Match's strong tags (`ifMatch`; undefined: no condition) name, or, for a write, when
 * `next`, the grant it asks for, is `grant` already (RFC 9110 §13.1.1: a 2xx for a change in force, such as the repeat
 * of one whose answer was lost); else the refusal: one check for a write, made where the grant is written, and for a read.
 */
export function unmatchedGrant(grant: Grant, ifMatch: readonly string[] | undefined, next?: Grant): Failure | null {
	if (ifMatch === undefined || ifMatch.includes(grantTag(grant)) || (next && grantText(next) === grantText(grant))) return null;
	return err("precondition_failed", "the grant changed since its ETag was read: read it again");
}

/**
 * The strong tags an If-Match field lists: undefined without one or with `*` (a grant always exists), no condition.
 * Read by its grammar (RFC 9110 §13.1.1: `#entity-tag`; §8.8.3: an optional `W/` and a quoted string of etagc, a
 * comma among them), empty elements ignored (§5.6.1.2). Weak tags are dropped: If-Match compares strongly, so one
 * never names an exact grant. Null for anything else, or a list of none (a pasted bare digest, most likely): refused
 * rather than taken as a tag that cannot match.
 */
export function ifMatchTags(field: string | undefined): string[] | null | undefined {
	if (field === undefined || field.trim() === "*") return undefined;
	const tags: string[] = [];
	// Sticky: each element is read where the previous one's comma ended, so nothing between them goes unread.
	const element = /[ \t]*((?:W\/)?"[!#-~\x80-\xff]*")?[ \t]*(,|$)/y;
	let read: RegExpExecArray | null;
	do {
		read = element.exec(field);
		if (read === null) return null;
		if (read[1] !== undefined) tags.push(read[1]);
	} while (read[2] !== "");
	return tags.length === 0 ? null : tags.filter((tag) => tag[0] === '"');
}
