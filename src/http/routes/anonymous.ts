/**
 * @module
 * `/v1/anonymous`: what a request without credentials may do (see src/auth/anonymous.ts). `GET` shows the grant
 * (`{"acl":[],"quotas":{}}` until one is made); `PUT` replaces it, with the ACL and quota shapes of a key; `PATCH`
 * changes part of it (a JSON Merge Patch, RFC 7396: a quota named with a rate is set, with null removed, one not named
 * kept; `acl`, an array, is replaced whole when given).
 * Needs the admin token or a key with `admin` on `cluster`. Every change is audited in `_audit`.
 *
 * @example
 * curl -X PUT -H "Authorization: Bearer $TOKEN" "$URL/v1/anonymous" \
 *   -d '{"acl":[{"resource":"topic:ds.public*","operations":["consume","describe"]}]}'
 */

import type { Context } from "hono";
import * as z from "zod/mini";
import { changeAnonymous, loadAnonymous } from "../../auth/anonymous.ts";
import type { KeyInfo, KeyPatch } from "../../auth/types.ts";
import { KEY_ACL_ENTRIES_MAX } from "../../shared/limits.ts";
import type { AppEnv } from "../app-env.ts";
import { audit } from "../audit.ts";
import { readJson, validate } from "../body.ts";
import { grantAnswer, ifMatch } from "../grant-etag.ts";
import { Hono } from "../hono.ts";
import { readRouteJson } from "../route-table.ts";
import { AclEntryBody, QuotasBody, QuotasPatchBody } from "./keys.ts";

const AclBody = z.array(AclEntryBody).check(z.maxLength(KEY_ACL_ENTRIES_MAX));

export const AnonymousBody = z.strictObject({ acl: AclBody, quotas: z._default(z.optional(QuotasBody), {}) });

export const AnonymousPatchBody = z.strictObject({ acl: z.optional(AclBody), quotas: z.optional(QuotasPatchBody) });

/** The grant as the API shows it. */
function anonymousView(grant: KeyInfo) {
	return { acl: grant.acl, quotas: grant.quotas };
}

/** Changes the grant (`whole`: replaces it), audits it, and answers it as stored. */
async function change(c: Context<AppEnv>, patch: KeyPatch, whole: boolean) {
	const saved = await changeAnonymous(c.env, patch, whole, ifMatch(c));
	await audit(c, "anonymous.update", { principal: saved.id, entries: saved.acl.length });
	return grantAnswer(c, saved, anonymousView(saved));
}

export const anonymousRoutes = new Hono<AppEnv>()
	.get("/", async (c) => {
		const grant = await loadAnonymous(c.env);
		return grantAnswer(c, grant, anonymousView(grant), true);
	})
	.put("/", async (c) => change(c, validate(AnonymousBody, await readJson(c.req.raw)), true))
	.patch("/", async (c) => change(c, validate(AnonymousPatchBody, await readRouteJson(c)), false));
