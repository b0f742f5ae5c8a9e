import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KEY_SECRET_PATTERN } from "../../src/auth/secret.ts";
import { app } from "../../src/http/app.ts";
import { bare } from "../../src/shared/errors.ts";
import { AUDIT_RETENTION_MS, LIST_PAGE_LIMIT_MAX } from "../../src/shared/limits.ts";
import { KEY_STORE_NAME, keyAuthority } from "../../src/shared/stubs.ts";
import { basic, createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, BASE, call, createTopic, expectError, fetchRecords, json } from "../support/worker.ts";

describe("API keys", () => {
	it("creates a key whose secret is shown once and never listed", async () => {
		const created = await json<Record<string, unknown>>("POST", "/v1/keys", 201, {
			body: { name: "writer", acl: [{ resource: "topic:orders.*", operations: ["produce"] }], quotas: { requests_per_sec: 10 } },
		});
		expect(created.secret).toMatch(KEY_SECRET_PATTERN);
		expect(String(created.secret)).toContain(`trb_${created.id}_`);
		expect(created).toMatchObject({ name: "writer", quotas: { requests_per_sec: 10 } });
		const { keys } = await json<{ keys: Record<string, unknown>[] }>("GET", "/v1/keys", 200);
		const listed = keys.find((k) => k.id === created.id);
		expect(listed).toMatchObject({ id: created.id, name: "writer", acl: [{ resource: "topic:orders.*", operations: ["produce"] }] });
		expect(JSON.stringify(keys)).not.toContain(String(created.secret));
		expect(Object.keys(listed ?? {})).not.toContain("secret");
	});

	it.each([
		["an unknown resource kind", { name: "k", acl: [{ resource: "user:x", operations: ["produce"] }] }],
		["a wildcard inside a name", { name: "k", acl: [{ resource: "topic:a*b", operations: ["produce"] }] }],
		["an unknown operation", { name: "k", acl: [{ resource: "topic:a", operations: ["write"] }] }],
		["no operations", { name: "k", acl: [{ resource: "topic:a", operations: [] }] }],
		["an empty name", { name: "", acl: [] }],
		["a control character in the name", { name: "a\nb", acl: [] }],
		["a negative quota", { name: "k", acl: [], quotas: { requests_per_sec: -1 } }],
		["an unknown quota", { name: "k", acl: [], quotas: { bytes: 1 } }],
	])("refuses a key with %s (400)", async (_, body) => {
		await expectError("POST", "/v1/keys", 400, "invalid_request", { body });
	});

	it("accepts the secret as Bearer and as Basic id:secret; refuses a mismatched id", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["describe"] }]);
		await json("GET", `/v1/topics/${topic}`, 200, { token: key.secret });
		await json("GET", `/v1/topics/${topic}`, 200, { token: null, headers: basic(key.id, key.secret) });
		const other = await createKey([]);
		await expectError("GET", `/v1/topics/${topic}`, 401, "unauthorized", { token: null, headers: basic(other.id, key.secret) });
		await expectError("GET", `/v1/topics/${topic}`, 401, "unauthorized", { token: null, headers: basic(key.id, `${key.secret}x`) });
		// One character changed (never to itself: that made this test fail 1 run in 64).
		const changed = `${key.secret.slice(0, -1)}${key.secret.endsWith("A") ? "B" : "A"}`;
		await expectError("GET", `/v1/topics/${topic}`, 401, "unauthorized", { token: changed });
	});

	it("accepts the admin token as Basic admin:<token> and as Bearer, unchanged", async () => {
		await json("GET", "/v1/topics", 200, { token: null, headers: basic("admin", ADMIN_TOKEN) });
		await json("GET", "/v1/topics", 200, { token: ADMIN_TOKEN });
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: null, headers: basic("admin", `${ADMIN_TOKEN}x`) });
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: null, headers: { Authorization: "Basic !!!" } });
	});

	it("refuses a token that was the admin token at the next request once ADMIN_TOKEN changes", async () => {
		const send = async (token: string, adminToken: string) => {
			const ctx = createExecutionContext();
			const request = new Request(`${BASE}/v1/topics`, { headers: { Authorization: `Bearer ${token}` } });
			const response = await app.fetch(request, { ...env, ADMIN_TOKEN: adminToken }, ctx);
			await waitOnExecutionContext(ctx);
			await response.arrayBuffer();
			return response.status;
		};
		const rotated = `rotated-${crypto.randomUUID()}`;
		// Verified twice, so this isolate has kept its digest.
		expect(await send(ADMIN_TOKEN, ADMIN_TOKEN)).toBe(200);
		expect(await send(ADMIN_TOKEN, ADMIN_TOKEN)).toBe(200);
		expect(await send(ADMIN_TOKEN, rotated)).toBe(401);
		expect(await send(rotated, rotated)).toBe(200);
		expect(await send(rotated, ADMIN_TOKEN)).toBe(401);
		expect(await send(ADMIN_TOKEN, ADMIN_TOKEN)).toBe(200);
	});

	it("refuses a deleted key at once (401), and 404s deleting it again", async () => {
		const key = await createKey([{ resource: "topic:*", operations: ["describe"] }]);
		await json("GET", "/v1/topics", 200, { token: key.secret });
		const deleted = await call("DELETE", `/v1/keys/${key.id}`);
		expect(deleted.status).toBe(204);
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: key.secret });
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: null, headers: basic(key.id, key.secret) });
		await expectError("DELETE", `/v1/keys/${key.id}`, 404, "key_not_found");
		await expectError("DELETE", "/v1/keys/not-an-id", 400, "invalid_request");
	});

	it("shows one key as the listing does (GET /v1/keys/{id}), never its secret; 404 once deleted, 403 to a key without admin", async () => {
		const key = await createKey([{ resource: "topic:shown.*", operations: ["describe"] }], { fetch_bytes_per_sec: 4096 }, "shown");
		const shown = await json<Record<string, unknown>>("GET", `/v1/keys/${key.id}`, 200);
		const { keys } = await json<{ keys: Record<string, unknown>[] }>("GET", "/v1/keys?limit=1000", 200);
		expect(shown).toEqual(keys.find((k) => k.id === key.id));
		expect(shown).toMatchObject({ id: key.id, name: "shown", quotas: { fetch_bytes_per_sec: 4096 } });
		expect(JSON.stringify(shown)).not.toContain(key.secret);
		await expectError("GET", `/v1/keys/${key.id}`, 403, "forbidden", { token: key.secret });
		await expectError("GET", "/v1/keys/not-an-id", 400, "invalid_request");
		const unknown = await expectError("GET", "/v1/keys/0123456789abcdef0123", 404, "key_not_found");
		expect(unknown.message).toContain("0123456789abcdef0123");
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		await expectError("GET", `/v1/keys/${key.id}`, 404, "key_not_found");
	});

	it("refuses a key deleted elsewhere at the next request: no isolate keeps a copy", async () => {
		const key = await createKey([{ resource: "topic:*", operations: ["describe"] }]);
		await json("GET", "/v1/topics", 200, { token: key.secret }); // this isolate has now seen the key
		// Deleted straight in the key store, as another isolate's DELETE /v1/keys/{id} would: this isolate hears nothing.
		const directory = env.KEY_STORE.getByName(KEY_STORE_NAME);
		expect((await directory.deleteKey(key.id)).ok).toBe(true);
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: key.secret });
		expect(bare(await directory.listKeys({ after: null, limit: LIST_PAGE_LIMIT_MAX })).items.map((k) => k.id)).not.toContain(key.id);
		const authority = keyAuthority(env, key.id);
		expect(await authority.getKey(key.id)).toBeNull();
	});

	it("keeps each key's authority apart from the directory and from other keys", async () => {
		const a = await createKey([]);
		const b = await createKey([]);
		const stored = bare(await keyAuthority(env, a.id).getKey(a.id));
		expect(stored?.id).toBe(a.id);
		expect(stored?.secretSha256).toMatch(/^[0-9a-f]{64}$/);
		expect(JSON.stringify(stored)).not.toContain(a.secret);
		expect(await keyAuthority(env, a.id).getKey(b.id)).toBeNull();
	});

	it("lets a key with admin on cluster manage keys, and no other key", async () => {
		const admin = await createKey([{ resource: "cluster", operations: ["admin"] }]);
		const made = await json<{ id: string }>("POST", "/v1/keys", 201, { token: admin.secret, body: { name: "child", acl: [] } });
		const everything = await createKey([{ resource: "topic:*", operations: ["produce", "consume", "describe", "admin"] }]);
		await expectError("GET", "/v1/keys", 403, "forbidden", { token: everything.secret });
		await expectError("DELETE", `/v1/keys/${made.id}`, 403, "forbidden", { token: everything.secret });
		expect((await call("DELETE", `/v1/keys/${made.id}`, { token: admin.secret })).status).toBe(204);
	});

	it("filters GET /v1/topics and GET /v1/groups to what the key may describe", async () => {
		const prefix = uniqueTopic("vis");
		await createTopic(`${prefix}.a`);
		await createTopic(`${prefix}.b`);
		const hidden = uniqueTopic("hidden");
		await createTopic(hidden);
		await json("POST", `/v1/groups/${prefix}.g/members`, 200, { body: { topics: [`${prefix}.a`] } });
		await json("POST", `/v1/groups/${hidden}/members`, 200, { body: { topics: [hidden] } });
		const key = await createKey([
			{ resource: `topic:${prefix}.*`, operations: ["consume"] },
			{ resource: `group:${prefix}.*`, operations: ["describe"] },
		]);
		const { topics } = await json<{ topics: { name: string }[] }>("GET", "/v1/topics", 200, { token: key.secret });
		expect(topics.map((t) => t.name).sort()).toEqual([`${prefix}.a`, `${prefix}.b`]);
		const { groups } = await json<{ groups: { group: string }[] }>("GET", "/v1/groups", 200, { token: key.secret });
		expect(groups.map((g) => g.group)).toEqual([`${prefix}.g`]);
	});

	it("shows a key describing a group only the topics it may describe (members, assignment, offsets)", async () => {
		const group = uniqueTopic("shared-g");
		const seen = uniqueTopic("seen");
		const secret = uniqueTopic("secret");
		await createTopic(seen);
		await createTopic(secret);
		await json("POST", `/v1/groups/${group}/members`, 200, { body: { topics: [seen, secret] } });
		const asAdmin = await json<{ members: { topics: string[]; assignment: { topic: string }[] }[]; offsets: { topic: string }[] }>(
			"GET",
			`/v1/groups/${group}`,
			200,
		);
		expect(new Set(asAdmin.offsets.map((o) => o.topic))).toEqual(new Set([seen, secret]));
		const key = await createKey([
			{ resource: `group:${group}`, operations: ["describe"] },
			{ resource: `topic:${seen}`, operations: ["describe"] },
		]);
		const asKey = await json<typeof asAdmin>("GET", `/v1/groups/${group}`, 200, { token: key.secret });
		expect(asKey.offsets.map((o) => o.topic)).toEqual([seen]);
		expect(asKey.members[0]?.topics).toEqual([seen]);
		expect(asKey.members[0]?.assignment.map((tp) => tp.topic)).toEqual([seen]);
		expect(JSON.stringify(asKey)).not.toContain(secret);
	});

	it("answers the same 403 for a topic the key may not describe, whether it exists or not", async () => {
		const existing = uniqueTopic();
		await createTopic(existing);
		const missing = uniqueTopic();
		const key = await createKey([{ resource: "topic:someone-else", operations: ["describe"] }]);
		for (const [method, suffix] of [
			["GET", ""],
			["GET", "/partitions/0/records"],
			["POST", "/records"],
		] as const) {
			const body = method === "POST" ? { records: [{ value: 1 }] } : undefined;
			const a = await call(method, `/v1/topics/${existing}${suffix}`, { token: key.secret, body });
			const b = await call(method, `/v1/topics/${missing}${suffix}`, { token: key.secret, body });
			expect([a.status, b.status]).toEqual([403, 403]);
			const [ea, eb] = [(await a.json()) as { error: Record<string, string> }, (await b.json()) as { error: Record<string, string> }];
			expect(String(eb.error.message).replace(missing, existing)).toBe(ea.error.message);
			expect(Object.keys(ea.error)).toEqual(Object.keys(eb.error));
		}
	});

	it("writes key and topic changes to _audit, without secrets; nobody may write or delete _audit", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { partitions: 2 } });
		const key = await createKey([], undefined, "audited");
		await call("DELETE", `/v1/keys/${key.id}`);
		await call("DELETE", `/v1/topics/${topic}`);
		const { records } = await fetchRecords("_audit", 0, "offset=0&max_records=10000");
		const mine = records.map((r) => r.value as Record<string, unknown>).filter((v) => v.topic === topic || v.key_id === key.id);
		expect(mine.map((v) => v.action)).toEqual(["topic.create", "topic.update", "key.create", "key.delete", "topic.delete"]);
		expect(mine.every((v) => v.actor === "admin" && typeof v.request_id === "string")).toBe(true);
		expect(JSON.stringify(records)).not.toContain(key.secret);
		await expectError("POST", "/v1/topics/_audit/records", 403, "forbidden", { body: { records: [{ value: 1 }] } });
		await expectError("DELETE", "/v1/topics/_audit", 403, "forbidden");
		await expectError("PATCH", "/v1/topics/_audit", 403, "forbidden", { body: { partitions: 3 } });
		const described = await json<{ config: Record<string, unknown> }>("GET", "/v1/topics/_audit", 200);
		expect(described.config["retention.ms"]).toBe(AUDIT_RETENTION_MS);
	});
});
