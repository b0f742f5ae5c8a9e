/**
 * @module
 * The `anonymous` principal: what a request without credentials may do. It has a key's ACL and quotas and no
 * secret; with an empty ACL (the default) a credential-less request is refused, so emptying it closes public
 * access again. `set` replaces the grant whole, `update` changes part of it. Needs the admin token or a key with `admin` on `cluster`.
 */

import type { AclEntry } from "./admin.ts";
import type { Http } from "./http.ts";

const PATH = "/v1/anonymous";

/** Anonymous's grant as `GET /v1/anonymous` answers it. */
export interface AnonymousAccess {
	readonly acl: AclEntry[];
	readonly quotas: Record<string, number>;
}

export class Anonymous {
	readonly #http: Http;
	constructor(http: Http) {
		this.#http = http;
	}

	/** The grant now: `{ acl: [], quotas: {} }` until an admin makes one. */
	get(): Promise<AnonymousAccess> {
		return this.#http.request("GET", PATH);
	}

	/**
	 * Replaces the grant whole, ACL and quotas at once (quotas left out are removed): the next credential-less
	 * request is held to it.
	 * @example await client.anonymous.set({ acl: [{ resource: "topic:news.*", operations: ["consume"] }], quotas: { requests_per_sec: 100 } })
	 * @example await client.anonymous.set({ acl: [] }) // closes public access
	 */
	set(access: { acl: readonly AclEntry[]; quotas?: Readonly<Record<string, number>> }): Promise<AnonymousAccess> {
		// A whole replacement: sending it twice changes nothing, so a retry is always safe.
		return this.#http.request("PUT", PATH, { body: access, retry: "always" });
	}

	/**
	 * Changes part of the grant, at once (a JSON Merge Patch): in `quotas` a rate sets one, `null` removes it, one not
	 * named is kept, even when another admin changes it meanwhile; `acl`, when given, replaces the whole ACL (a patch
	 * replaces an array). Answers the grant as stored now.
	 * @example await client.anonymous.update({ quotas: { requests_per_sec: 50, fetch_bytes_per_sec: null } })
	 * @example await client.anonymous.update({ acl: [] }) // closes public access, the quotas kept
	 */
	update(patch: { acl?: readonly AclEntry[]; quotas?: Readonly<Record<string, number | null>> }): Promise<AnonymousAccess> {
		// The same patch applied twice leaves the same grant, so a retry is always safe.
		return this.#http.request("PATCH", PATH, { body: patch, retry: "always" });
	}
}
