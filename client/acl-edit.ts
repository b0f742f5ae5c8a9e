/**
 * @module
 * One ACL entry's grant or revocation, made to an ACL as read: pure, so the read-edit-write loop that applies it
 * (`Anonymous.grant`/`revoke`) can make the same change again to a newer ACL. Entries are matched by their resource
 * string exactly, as the API stores them (`topic:news.*` is not `topic:news.eu`). Each answers `null` when the ACL
 * already is what was asked, so that nothing is written.
 */

import type { AclEntry } from "./admin.ts";
import { invalidArgument, TributaryError } from "./errors.ts";

/** A revocation: the operations named, or with none the whole entry (every entry of that resource). */
export interface AclRevocation {
	readonly resource: string;
	readonly operations?: readonly string[] | undefined;
}

/**
 * `acl` with `entry`'s operations allowed on its resource: those it lacks are added to the first entry of that
 * resource, or a new entry is appended. `null` when every operation is granted there already.
 */
export function withGranted(acl: readonly AclEntry[], entry: AclEntry): AclEntry[] | null {
	if (entry.operations.length === 0) throw invalidArgument(`a grant on ${entry.resource} names no operation`);
	const granted = new Set(acl.filter((e) => e.resource === entry.resource).flatMap((e) => e.operations));
	const missing = [...new Set(entry.operations)].filter((operation) => !granted.has(operation));
	if (missing.length === 0) return null;
	const at = acl.findIndex((e) => e.resource === entry.resource);
	if (at === -1) return [...acl, { resource: entry.resource, operations: missing }];
	return acl.map((e, i) => (i === at ? { resource: e.resource, operations: [...e.operations, ...missing] } : e));
}

/**
 * `acl` without `revocation`'s operations on its resource (all of them when it names none); an entry left with no
 * operation is removed, as the API refuses one. `null` when none of them is granted there.
 */
export function withRevoked(acl: readonly AclEntry[], revocation: AclRevocation): AclEntry[] | null {
	const { resource, operations } = revocation;
	if (operations?.length === 0)
		throw invalidArgument(`a revocation on ${resource} names no operation: leave operations out to remove the entry`);
	const revoked = (operation: string) => operations === undefined || operations.includes(operation);
	let changed = false;
	const kept: AclEntry[] = [];
	for (const e of acl) {
		const left = e.resource === resource ? e.operations.filter((operation) => !revoked(operation)) : e.operations;
		if (left.length < e.operations.length) changed = true;
		if (left.length > 0) kept.push(left === e.operations ? e : { resource, operations: left });
	}
	return changed ? kept : null;
}

/**
 * `acl` without the first entry equal to `entry` (its resource, and the same operations in any order), any other
 * entry of that resource kept: what a list of entries' "remove" means. `null` when no entry is equal to it.
 */
export function withoutEntry(acl: readonly AclEntry[], entry: AclEntry): AclEntry[] | null {
	const operations = operationSet(entry);
	const at = acl.findIndex((e) => e.resource === entry.resource && operationSet(e) === operations);
	return at === -1 ? null : acl.filter((_, i) => i !== at);
}

/** An entry's operations as one comparable value: the same for the same operations in any order, repeats ignored. */
function operationSet(entry: AclEntry): string {
	return [...new Set(entry.operations)].sort().join();
}

/**
 * Closing public access refused (`Anonymous.close`): another admin granted anonymous an operation since the grant the
 * close was decided on was read (`added`: each entry as stored now with the operations it grants that were not granted
 * on its resource then; `removed`, those no longer granted, each entry as read). Compared by resource and operation,
 * not entry by entry: an entry only re-ordered or narrowed grants nothing new, so it does not refuse the close. A 412
 * (`precondition_failed`), as the API's refusal of a stale If-Match; `grant`: as stored now, to show and decide on
 * again. Nothing was written unless `answerLost`: a close sent before lost its answer, so it may have closed public
 * access before that change, which opened it again.
 */
export class AclConflict extends TributaryError {
	readonly added: readonly AclEntry[];
	readonly removed: readonly AclEntry[];
	/** Whether a close sent before may have landed (its answer was lost), before the change that opened access again. */
	readonly answerLost: boolean;
	/** What changed, for people: "added produce on topic:late, and removed consume on topic:news". */
	readonly changes: string;
	readonly grant: { readonly acl: readonly AclEntry[]; readonly quotas: Readonly<Record<string, number>> };
	constructor(read: readonly AclEntry[], grant: AclConflict["grant"], answerLost = false) {
		const added = ungranted(grant.acl, read);
		const removed = ungranted(read, grant.acl);
		const text = (verb: string, entries: readonly AclEntry[]) =>
			entries.length === 0 ? [] : [`${verb} ${entries.map((e) => `${e.operations.join(", ")} on ${e.resource}`).join("; ")}`];
		const changes = [...text("added", added), ...text("removed", removed)].join(", and ");
		const outcome = answerLost
			? "public access is open to it now: this close's answer was lost, so it may have closed public access before that change"
			: "public access was not closed";
		super("precondition_failed", `another admin changed the ACL since it was read: ${changes}; ${outcome}`, { status: 412 });
		this.answerLost = answerLost;
		this.changes = changes;
		this.added = added;
		this.removed = removed;
		this.grant = grant;
	}
}

/** `acl`'s entries cut to the operations `other` grants on none of their resources (each pair once), emptied ones left out. */
function ungranted(acl: readonly AclEntry[], other: readonly AclEntry[]): AclEntry[] {
	const pair = (resource: string, operation: string) => `${resource}\n${operation}`;
	const seen = new Set(other.flatMap((e) => e.operations.map((operation) => pair(e.resource, operation))));
	const cut: AclEntry[] = [];
	for (const { resource, operations } of acl) {
		const left: string[] = [];
		for (const operation of operations) {
			if (seen.has(pair(resource, operation))) continue;
			seen.add(pair(resource, operation));
			left.push(operation);
		}
		if (left.length > 0) cut.push({ resource, operations: left });
	}
	return cut;
}
