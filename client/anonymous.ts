/**
 * @module
 * The `anonymous` principal: what a request without credentials may do. It has a key's ACL and quotas and no
 * secret; with an empty ACL (the default) a credential-less request is refused, so emptying it closes public
 * access again (`close`). `set` replaces the grant whole, `update` changes part of it, `grant`, `revoke` and `removeEntry` one
 * ACL entry. Needs the admin token or a key with `admin` on `cluster`.
 */

import { AclConflict, type AclRevocation, withGranted, withoutEntry, withRevoked } from "./acl-edit.ts";
import type { AclEntry } from "./admin.ts";
import { TributaryError } from "./errors.ts";
import { type ConditionalChange, GrantTags } from "./grant-tags.ts";
import { type Http, mayHaveLanded } from "./http.ts";

const PATH = "/v1/anonymous";

/**
 * How many times `grant`, `revoke` or `removeEntry` reads the grant, edits it and writes it If-Match the grant read,
 * before it gives up with the 412 (or the last lost answer's error): each refusal means another admin changed the
 * grant in between, which a busy minute does at most a few times.
 */
export const ACL_CHANGE_ATTEMPTS = 5;

/**
 * Whether a conditional change's `error` is a 412 (`precondition_failed`: another admin changed the grant since it was
 * read) that the `attempt`-th try (from 1) may answer by reading the grant again and deciding again, attempts
 * remaining (`ACL_CHANGE_ATTEMPTS`); false for any other error, which is the caller's to throw, as the last 412 is.
 * @example
 * for (let attempt = 1; ; attempt++) {
 *   const grant = await client.anonymous.get();
 *   try {
 *     return await client.anonymous.update(decide(grant), { ifMatch: client.anonymous.etagOf(grant) });
 *   } catch (error) {
 *     if (!preconditionRetry(error, attempt)) throw error;
 *   }
 * }
 */
export function preconditionRetry(error: unknown, attempt: number): boolean {
	return error instanceof TributaryError && error.code === "precondition_failed" && attempt < ACL_CHANGE_ATTEMPTS;
}

/** Anonymous's grant as `GET /v1/anonymous` answers it. */
export interface AnonymousAccess {
	readonly acl: AclEntry[];
	readonly quotas: Record<string, number>;
}

export class Anonymous {
	readonly #grants: GrantTags;
	constructor(http: Http) {
		this.#grants = new GrantTags(http);
	}

	/** The grant now: `{ acl: [], quotas: {} }` until an admin makes one. Its ETag: `etagOf`. */
	get(): Promise<AnonymousAccess> {
		return this.#send("GET", undefined);
	}

	/**
	 * The ETag of a grant that `get`, `set` or `update` answered, as the API sent it; undefined for any other object.
	 * @example
	 * const grant = await client.anonymous.get();
	 * await client.anonymous.update({ acl: [...grant.acl, entry] }, { ifMatch: client.anonymous.etagOf(grant) });
	 */
	etagOf(grant: object): string | undefined {
		return this.#grants.etagOf(grant);
	}

	/**
	 * Replaces the grant whole, ACL and quotas at once (quotas left out are removed): the next credential-less
	 * request is held to it. With `ifMatch`, only while the grant is still that one (see `ConditionalChange`).
	 * @example await client.anonymous.set({ acl: [{ resource: "topic:news.*", operations: ["consume"] }], quotas: { requests_per_sec: 100 } })
	 * @example await client.anonymous.set({ acl: [] }) // closes public access
	 */
	set(
		access: { acl: readonly AclEntry[]; quotas?: Readonly<Record<string, number>> },
		options: ConditionalChange = {},
	): Promise<AnonymousAccess> {
		return this.#send("PUT", access, options.ifMatch);
	}

	/**
	 * Changes part of the grant, at once (a JSON Merge Patch): in `quotas` a rate sets one, `null` removes it, one not
	 * named is kept, even when another admin changes it meanwhile; `acl`, when given, replaces the whole ACL (a patch
	 * replaces an array): send it with `ifMatch` so an entry another admin added since the read is not lost. Answers
	 * the grant as stored now.
	 * @example await client.anonymous.update({ quotas: { requests_per_sec: 50, fetch_bytes_per_sec: null } })
	 * @example await client.anonymous.update({ acl: [] }) // closes public access, the quotas kept
	 */
	update(
		patch: { acl?: readonly AclEntry[]; quotas?: Readonly<Record<string, number | null>> },
		options: ConditionalChange = {},
	): Promise<AnonymousAccess> {
		return this.#send("PATCH", patch, options.ifMatch);
	}

	/**
	 * Allows `entry`'s operations on its resource (Kafka's `kafka-acls --add`, AdminClient `createAcls`): those not
	 * granted there yet are added to the entry of that resource, or a new entry is appended; the quotas and every other
	 * entry are kept, another admin's change made meanwhile included (see `ACL_CHANGE_ATTEMPTS`). Granting what is
	 * granted writes nothing. Answers the grant as stored.
	 * @example await client.anonymous.grant({ resource: "topic:news.*", operations: ["consume"] })
	 */
	grant(entry: AclEntry): Promise<AnonymousAccess> {
		return this.#changeAcl((acl) => withGranted(acl, entry));
	}

	/**
	 * Takes back the operations named on a resource, or with `operations` left out the whole entry (Kafka's
	 * `kafka-acls --remove`, AdminClient `deleteAcls`); an entry left with none is removed. Any operation left still
	 * implies `describe`. Kept as `grant` keeps; revoking what is not granted writes nothing. Answers the grant as stored.
	 * @example await client.anonymous.revoke({ resource: "topic:news.*" })
	 */
	revoke(revocation: AclRevocation): Promise<AnonymousAccess> {
		return this.#changeAcl((acl) => withRevoked(acl, revocation));
	}

	/**
	 * Removes one entry exactly: the first equal to `entry` (its resource, and the same operations in any order), any
	 * other entry of that resource kept, as a console row's Remove; `revoke` instead takes a right away from every entry
	 * of its resource. Kept as `grant` keeps; an entry not there writes nothing. Answers the grant as stored.
	 * @example await client.anonymous.removeEntry({ resource: "topic:news.*", operations: ["consume"] })
	 */
	removeEntry(entry: AclEntry): Promise<AnonymousAccess> {
		return this.#changeAcl((acl) => withoutEntry(acl, entry));
	}

	/**
	 * Closes public access (the ACL emptied, the quotas kept: the console's "Close public access"), decided on `read`
	 * (a grant `get`, `set` or `update` answered; read now when left out): sent If-Match its ETag, so an entry another
	 * admin granted since is not removed unseen. On a 412, or an answer lost (`answerLost`: the close may have
	 * landed), the grant is read again: an entry added since is an `AclConflict` (a 412; `answerLost` when a close sent
	 * here may have landed before that change); any other change (a quota, entries removed) is kept and the close sent
	 * again If-Match the grant read, up to `ACL_CHANGE_ATTEMPTS` times; an ACL already empty is the answer. A `read`
	 * without an ETag (not a grant this client was answered) is `invalid_argument`; a grant read here that the server
	 * answered without one (a Worker from before grant tags) is `unexpected_response`, as `grant`'s.
	 * @example await client.anonymous.close(shown) // the grant a page showed
	 */
	async close(read?: { readonly acl: readonly AclEntry[] }): Promise<AnonymousAccess> {
		const decided = read ?? (await this.get());
		let grant: { readonly acl: readonly AclEntry[] } = decided;
		/** Whether a close sent here may have landed unseen (its answer lost). */
		let lost = false;
		for (let attempt = 1; ; attempt++) {
			const ifMatch = this.etagOf(grant);
			if (ifMatch === undefined && grant === read)
				throw new TributaryError(
					"invalid_argument",
					"close() decides on a grant this client read (get, set or update): its ETag makes the close conditional",
				);
			if (ifMatch === undefined) throw untagged("public access cannot be closed safely");
			try {
				return await this.update({ acl: [] }, { ifMatch });
			} catch (error) {
				const lostNow = answerLost(error);
				if (!preconditionRetry(error, attempt) && !(lostNow && attempt < ACL_CHANGE_ATTEMPTS)) throw error;
				lost ||= lostNow;
			}
			const now = await this.get();
			if (now.acl.length === 0) return now;
			const conflict = new AclConflict(decided.acl, now, lost);
			if (conflict.added.length > 0) throw conflict;
			grant = now;
		}
	}

	/**
	 * A merge patch replaces an array whole (RFC 7396), so one entry's change sends the whole ACL, edited from the grant
	 * read, If-Match its ETag: an ACL another admin changed since is refused (412), not overwritten, and read again. A
	 * write whose outcome is unknown (`answerLost`: no answer, an answer not the API's or a 5xx, retries spent, or its repeat refused 412 after
	 * a lost answer) is read again too: the edit finds its change made, or makes it, so it is never written twice nor
	 * reported failed when it landed.
	 */
	async #changeAcl(edit: (acl: readonly AclEntry[]) => AclEntry[] | null): Promise<AnonymousAccess> {
		for (let attempt = 1; ; attempt++) {
			const read = await this.get();
			const acl = edit(read.acl);
			if (acl === null) return read;
			const ifMatch = this.etagOf(read);
			if (ifMatch === undefined) throw untagged("one entry cannot be changed safely");
			try {
				return await this.update({ acl }, { ifMatch });
			} catch (error) {
				const readAgain = answerLost(error) || (error instanceof TributaryError && error.code === "precondition_failed");
				if (attempt >= ACL_CHANGE_ATTEMPTS || !readAgain) throw error;
			}
		}
	}

	#send(method: "GET" | "PUT" | "PATCH", body: unknown, ifMatch?: string): Promise<AnonymousAccess> {
		return this.#grants.send(method, PATH, body, ifMatch);
	}
}

/**
 * Whether `error` may follow a change that landed: the SDK's one rule (`mayHaveLanded`: no answer, an answer not the
 * API's, a 5xx that does not prove nothing was done). Not `retriable`: a bug's 500 is not, yet may come after the write.
 */
function answerLost(error: unknown): boolean {
	return error instanceof TributaryError && mayHaveLanded(error);
}

/** A grant this client read came without an ETag (a Worker from before grant tags): the server's fault, not the caller's. */
function untagged(consequence: string): TributaryError {
	return new TributaryError("unexpected_response", `GET /v1/anonymous answered no ETag: ${consequence}`);
}
