/**
 * @module
 * A grant's ETag and If-Match at the edge, one way for every route that shows or changes a grant (an ACL and its
 * quotas: a key's, anonymous's): the answer carries the grant's tag (`grantTag`), and a request's If-Match is read
 * by its grammar (`ifMatchTags`) and held to the grant as stored (`unmatchedGrant`, src/auth/grant-tag.ts).
 *
 * @example
 * .get("/:id", async (c) => grantAnswer(c, key, keyView(key), true))
 */

import type { Context } from "hono";
import { grantTag, ifMatchTags, unmatchedGrant } from "../auth/grant-tag.ts";
import type { KeyInfo } from "../auth/types.ts";
import { ApiError } from "../shared/errors.ts";
import type { AppEnv } from "./app-env.ts";

/** The strong tags of the request's If-Match (undefined: no condition), or a 400 when it is not one (`ifMatchTags`). */
export function ifMatch(c: Context<AppEnv>): string[] | undefined {
	const tags = ifMatchTags(c.req.header("If-Match"));
	if (tags === null) throw new ApiError("invalid_request", "If-Match takes * or quoted ETags");
	return tags;
}

/**
 * `view` answered for `grant`, its tag in the `ETag` header. A read (`read`) is held to its If-Match as a write is
 * (RFC 9110 §13.1.1): a stale tag is told with a 412, not answered over.
 */
export function grantAnswer<T extends object>(c: Context<AppEnv>, grant: Pick<KeyInfo, "acl" | "quotas">, view: T, read = false) {
	const refused = read ? unmatchedGrant(grant, ifMatch(c)) : null;
	if (refused !== null) throw ApiError.from(refused.error);
	c.header("ETag", grantTag(grant));
	return c.json(view);
}
