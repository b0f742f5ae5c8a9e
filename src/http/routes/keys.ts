/**
 * @module
 * `/v1/keys`: API keys. Create (the secret is in this answer and nowhere else, ever), list and show one (no
 * secrets), replace a key's quotas (`PUT`) or change some of them (`PATCH`, a JSON Merge Patch: as Kafka's
 * AlterClientQuotas, its next request is held to them), delete (refused by the next request everywhere; see
 * src/auth/key-store.ts). One key and its quota changes answer the key's grant's `ETag`; a change sent `If-Match`
 * applies only while the grant is still that one, as anonymous's (src/http/grant-etag.ts).
 * Needs the admin token or a key with `admin` on `cluster`. Every change is audited in `_audit`.
 *
 * @example
 * curl -X POST -H "Authorization: Bearer $ADMIN_TOKEN" "$URL/v1/keys" \
 *   -d '{"name":"orders-writer","acl":[{"resource":"topic:orders.*","operations":["produce","describe"]}]}'
 */

import * as z from "zod/mini";
import { OPERATIONS, RESOURCE_PATTERN } from "../../auth/acl.ts";
import { KEY_ID_PATTERN } from "../../auth/secret.ts";
import type { KeyInfo } from "../../auth/types.ts";
import { bare, unwrap } from "../../shared/errors.ts";
import { KEY_ACL_ENTRIES_MAX, KEY_NAME_LENGTH_MAX, QUOTA_RATE_MAX, TOPIC_NAME_LENGTH_MAX } from "../../shared/limits.ts";
import { keyStore } from "../../shared/stubs.ts";
import type { AppEnv } from "../app-env.ts";
import { audit } from "../audit.ts";
import { queryOf, readJson, validate } from "../body.ts";
import { grantAnswer, ifMatch } from "../grant-etag.ts";
import { Hono } from "../hono.ts";
import { readRouteJson } from "../route-table.ts";
import { count, listQuery, nextCursor, plainName } from "../schemas.ts";

export const AclEntryBody = z.strictObject({
	resource: z
		.string()
		.check(
			z.maxLength(TOPIC_NAME_LENGTH_MAX + "topic:*".length),
			z.regex(RESOURCE_PATTERN, "resources are cluster, topic:<name>, topic:<prefix>*, group:<name> or group:<prefix>*"),
		),
	operations: z.array(z.enum(OPERATIONS)).check(z.minLength(1), z.maxLength(OPERATIONS.length)),
});

export const QuotasBody = z.strictObject({
	produce_bytes_per_sec: z.optional(count(1, QUOTA_RATE_MAX)),
	fetch_bytes_per_sec: z.optional(count(1, QUOTA_RATE_MAX)),
	requests_per_sec: z.optional(count(1, QUOTA_RATE_MAX)),
});

/** `PATCH …/quotas` (RFC 7396): a rate sets a quota, null removes it, one not named is kept. */
export const QuotasPatchBody = z.strictObject({
	produce_bytes_per_sec: z.optional(z.nullable(count(1, QUOTA_RATE_MAX))),
	fetch_bytes_per_sec: z.optional(z.nullable(count(1, QUOTA_RATE_MAX))),
	requests_per_sec: z.optional(z.nullable(count(1, QUOTA_RATE_MAX))),
});

export const CreateKeyBody = z.strictObject({
	name: plainName(KEY_NAME_LENGTH_MAX),
	acl: z.array(AclEntryBody).check(z.maxLength(KEY_ACL_ENTRIES_MAX)),
	quotas: z._default(z.optional(QuotasBody), {}),
});

/** Keys are listed oldest first: a cursor is the last key's creation time and id. */
export const KeysQuery = listQuery(["number", "string"]);

export const KeyPath = z.object({ id: z.string().check(z.regex(KEY_ID_PATTERN, "key ids are 20 hex digits")) });

function keyView(key: KeyInfo) {
	return { id: key.id, name: key.name, acl: key.acl, quotas: key.quotas, created_at_ms: key.createdAtMs };
}

export const keyRoutes = new Hono<AppEnv>()
	.post("/", async (c) => {
		const body = validate(CreateKeyBody, await readJson(c.req.raw));
		const created = unwrap(await keyStore(c.env).createKey(body));
		await audit(c, "key.create", { key_id: created.id, name: created.name });
		return c.json({ ...keyView(created), secret: created.secret }, 201);
	})
	.get("/", async (c) => {
		const page = bare(await keyStore(c.env).listKeys(validate(KeysQuery, queryOf(c.req.url))));
		return c.json({ keys: page.items.map(keyView), ...nextCursor(page) });
	})
	.get("/:id", async (c) => {
		const { id } = validate(KeyPath, c.req.param());
		const key = unwrap(await keyStore(c.env).describeKey(id));
		return grantAnswer(c, key, keyView(key), true);
	})
	.delete("/:id", async (c) => {
		const { id } = validate(KeyPath, c.req.param());
		unwrap(await keyStore(c.env).deleteKey(id));
		await audit(c, "key.delete", { key_id: id });
		return c.body(null, 204);
	})
	.put("/:id/quotas", async (c) => {
		const { id } = validate(KeyPath, c.req.param());
		const quotas = validate(QuotasBody, await readJson(c.req.raw));
		const changed = unwrap(await keyStore(c.env).setQuotas(id, quotas, false, ifMatch(c)));
		await audit(c, "key.quotas", { key_id: id, ...quotas });
		return grantAnswer(c, changed, keyView(changed));
	})
	.patch("/:id/quotas", async (c) => {
		const { id } = validate(KeyPath, c.req.param());
		const patch = validate(QuotasPatchBody, await readRouteJson(c));
		const changed = unwrap(await keyStore(c.env).setQuotas(id, patch, true, ifMatch(c)));
		await audit(c, "key.quotas", { key_id: id, ...patch });
		return grantAnswer(c, changed, keyView(changed));
	});
