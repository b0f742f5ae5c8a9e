/**
 * The key store's methods answer their storage failing, or a bug, inside them as a failure Result
 * (test/support/rpc-failure.ts), not a rejection crossing RPC; each caller answers it 503 as the rejection was
 * answered: `service_unavailable` where a request reads a key (authentication that cannot read the key is no 401),
 * the directory's `unavailable` for a key's change.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AclEntry } from "../../src/auth/acl.ts";
import { KeyStore } from "../../src/auth/key-store.ts";
import type { StoredKey } from "../../src/auth/types.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { createKey, failKeyStatement, keyDirectory } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { answersWhenBroken, failureResults } from "../support/rpc-failure.ts";
import { openSse } from "../support/sse.ts";
import { throwOnce } from "../support/throw-once.ts";
import { call, createTopic, expectError, produce } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

/** The SQL handle of a key store (a directory or an authority), whose statements a test makes fail. */
function sqlOf(instance: KeyStore): SqlStorage {
	return (instance as unknown as { sql: SqlStorage }).sql;
}

const READ_KEY = "SELECT * FROM api_keys WHERE id";

describe("the key store's methods", () => {
	it("answer a storage failure or a bug as a failure Result", async () => {
		const id = "0123456789abcdef0123";
		const authority = keyAuthority(env, id);
		const directory = keyDirectory();
		const key: StoredKey = { id, name: "k", acl: [], quotas: {}, createdAtMs: 1, secretSha256: "" };
		const calls: [string, () => Promise<unknown>][] = [
			["getKey", () => authority.getKey(id)],
			["chargeQuotas", () => authority.chargeQuotas(id, [{ quota: "requests_per_sec", amount: 1 }])],
			["chargeEach", () => authority.chargeEach(id, [[{ quota: "requests_per_sec", amount: 1 }]])],
			["changeKey", () => authority.changeKey(key, {}, true)],
			["replaceQuotas", () => authority.replaceQuotas(id, {})],
			["install", () => authority.install(key)],
			["revoke", () => authority.revoke(id)],
			["watchTail", () => authority.watchTail(id, crypto.randomUUID(), 0)],
			["ensureAuthorities", () => directory.ensureAuthorities()],
			["listKeys", () => directory.listKeys({ after: null, limit: 10 })],
		];
		const ofDirectory = new Set(["ensureAuthorities", "listKeys"]);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(
			calls,
			(name, thrown) =>
				runInDurableObject(ofDirectory.has(name) ? directory : authority, (instance: KeyStore) =>
					throwOnce(sqlOf(instance), "exec", thrown),
				),
			new TypeError("x is not a function"),
		);
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});
});

describe("a request whose key store failed", () => {
	const acl: AclEntry[] = [{ resource: "topic:*", operations: ["describe", "produce"] }];

	it("is 503 service_unavailable, not 401, when the key's authority cannot read the key, and the repeat is served", async () => {
		const key = await createKey(acl);
		await failKeyStatement(keyAuthority(env, key.id), READ_KEY);
		const error = await expectError("GET", "/v1/topics", 503, "service_unavailable", { token: key.secret });
		expect(error.request_id, "the request's id").toMatch(/^[\w-]{8,}$/);
		expect((await call("GET", "/v1/topics", { token: key.secret })).status).toBe(200);
	});

	it("is 503 service_unavailable, not 401, without credentials when anonymous's grant cannot be read", async () => {
		await failKeyStatement(keyAuthority(env, "anonymous"), READ_KEY);
		await expectError("GET", "/v1/topics", 503, "service_unavailable", { token: null });
	});

	it("is 503 service_unavailable, not let through, when the key's quota cannot be charged", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		// The first read is authentication's; the second, the charge's.
		await failKeyStatement(keyAuthority(env, key.id), READ_KEY, 2);
		await expectError("GET", "/v1/topics", 503, "service_unavailable", { token: key.secret });
	});

	it("ends a key's SSE stream with an error event saying 503 service_unavailable when its re-check cannot read the key", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records?offset=0`, {}, key.secret);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		// The stream's read waits at the tail; once "a" comes, the key is read again before it is written.
		await failKeyStatement(keyAuthority(env, key.id), READ_KEY);
		await produce(topic, [{ value: "a" }]);
		let ended = await sse.next();
		while (ended.comment !== undefined) ended = await sse.next();
		expect([ended.event, JSON.parse(ended.data ?? "{}").error?.code]).toEqual(["error", "service_unavailable"]);
	});

	it("is 503 service_unavailable for a listing of keys, and for a change of anonymous's grant", async () => {
		await failKeyStatement(keyDirectory(), "SELECT api_keys.*");
		await expectError("GET", "/v1/keys", 503, "service_unavailable");
		await failKeyStatement(keyAuthority(env, "anonymous"), READ_KEY);
		await expectError("PATCH", "/v1/anonymous", 503, "service_unavailable", {
			body: { acl: [] },
			headers: { "Content-Type": "application/merge-patch+json" },
		});
	});

	it("is 503 unavailable for a key's create, quota change and delete whose authority failed, and each repeat is served", async () => {
		const key = await createKey(acl);
		await failKeyStatement(keyAuthority(env, key.id), "UPDATE api_keys SET quotas");
		const quotas = { requests_per_sec: 5 };
		await expectError("PUT", `/v1/keys/${key.id}/quotas`, 503, "unavailable", { body: quotas });
		expect((await call("PUT", `/v1/keys/${key.id}/quotas`, { body: quotas })).status).toBe(200);
		await failKeyStatement(keyAuthority(env, key.id), "INSERT OR IGNORE INTO revoked_keys");
		await expectError("DELETE", `/v1/keys/${key.id}`, 503, "unavailable");
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		// A create's authority is an object named by an id not known before: its storage fails as the call reaches it.
		const install = KeyStore.prototype.install;
		vi.spyOn(KeyStore.prototype, "install").mockImplementationOnce(function (this: KeyStore, ...args) {
			throwOnce(sqlOf(this), "exec");
			return install.apply(this, args);
		});
		const body = { name: "created", acl };
		await expectError("POST", "/v1/keys", 503, "unavailable", { body });
		expect((await call("POST", "/v1/keys", { body })).status).toBe(201);
	});
});
