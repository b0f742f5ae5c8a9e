/**
 * @module
 * `/v1/anonymous`: what a request without credentials may do (see src/auth/anonymous.ts). `GET` shows the grant
 * (`{"acl":[],"quotas":{}}` until one is made); `PUT` replaces it, with the ACL and quota shapes of a key.
 * Needs the admin token or a key with `admin` on `cluster`. Every change is audited in `_audit`.
 *
 * @example
 * curl -X PUT -H "Authorization: Bearer $TOKEN" "$URL/v1/anonymous" \
 *   -d '{"acl":[{"resource":"topic:ds.public*","operations":["consume","describe"]}]}'
 */

import * as z from "zod/mini";
import { loadAnonymous, saveAnonymous } from "../../auth/anonymous.ts";
import type { KeyInfo } from "../../auth/types.ts";
import { KEY_ACL_ENTRIES_MAX } from "../../shared/limits.ts";
import type { AppEnv } from "../app-env.ts";
import { audit } from "../audit.ts";
import { readJson, validate } from "../body.ts";
import { Hono } from "../hono.ts";
import { AclEntryBody, QuotasBody } from "./keys.ts";
import { methodNotAllowed } from "./method-not-allowed.ts";

export const AnonymousBody = z.strictObject({
	acl: z.array(AclEntryBody).check(z.maxLength(KEY_ACL_ENTRIES_MAX)),
	quotas: z._default(z.optional(QuotasBody), {}),
});

function anonymousView(info: KeyInfo) {
	return { acl: info.acl, quotas: info.quotas };
}

export const anonymousRoutes = new Hono<AppEnv>()
	.get("/", async (c) => c.json(anonymousView(await loadAnonymous(c.env))))
	.put("/", async (c) => {
		const body = validate(AnonymousBody, await readJson(c.req.raw));
		const saved = await saveAnonymous(c.env, body.acl, body.quotas);
		await audit(c, "anonymous.update", { principal: saved.id, entries: saved.acl.length });
		return c.json(anonymousView(saved));
	})
	.all("/", methodNotAllowed);
