/**
 * @module
 * Grants (a key's, anonymous's: an ACL and its quotas) read and changed with their ETags (RFC 9110 §8.8.3, §13.1.1):
 * one way for `Keys` and `Anonymous`, so each answer's tag is kept and a conditional change is sent and retried alike.
 */

import type { Http } from "./http.ts";

/**
 * A conditional change (RFC 9110 §13.1.1): `ifMatch`, a grant's ETag (`etagOf`), applies it only while the grant is
 * still that one; otherwise it is refused with a `TributaryError` whose `code` is `"precondition_failed"` (412), and
 * the caller reads the grant again and decides. Left out: the change applies whatever the grant is now.
 */
export interface ConditionalChange {
	readonly ifMatch?: string | undefined;
}

/** Requests that answer a grant, and the ETag of each grant answered, by the object that answered it (so its shape stays as it was). */
export class GrantTags {
	readonly #http: Http;
	readonly #tags = new WeakMap<object, string>();
	constructor(http: Http) {
		this.#http = http;
	}

	/** The ETag of a grant `send` answered, as the API sent it; undefined for any other object. */
	etagOf(grant: object): string | undefined {
		return this.#tags.get(grant);
	}

	/** `method` on `path`, If-Match `ifMatch` when given; the grant answered, its ETag kept for `etagOf`. */
	async send<T extends object>(method: "GET" | "PUT" | "PATCH", path: string, body: unknown, ifMatch?: string): Promise<T> {
		let tag: string | null = null;
		const grant = await this.#http.request<T>(method, path, {
			body,
			headers: ifMatch === undefined ? {} : { "If-Match": ifMatch },
			// Unconditional, the same replacement or patch twice leaves the same grant: a retry is always safe. A
			// conditional one too, as the server answers a change in force 200; but a repeat's 412 after a lost answer may
			// follow the first's landing, so it is thrown as that lost answer (`conditional`), not as a refusal.
			retry: ifMatch === undefined ? "always" : "conditional",
			onHeaders: (headers) => {
				tag = headers.get("ETag");
			},
		});
		if (tag !== null) this.#tags.set(grant, tag);
		return grant;
	}
}
