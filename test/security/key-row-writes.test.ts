/**
 * The key directory's own writes (its listing rows) failing after, or without, a change at the key's authority: every
 * request gets a JSON 503 `unavailable` (never a 500), nothing is lost, and the listing, `GET /v1/keys/{id}` and what
 * the key's requests are held to agree again without a client's help where the change is in force. The directory
 * answers a key from its row, asking the authority only for a key whose row a change may have left behind.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AclEntry } from "../../src/auth/acl.ts";
import { KeyStore } from "../../src/auth/key-store.ts";
import { KEY_STORE_DDL, KEY_STORE_SCHEMA_VERSION, KEY_STORE_UPGRADES } from "../../src/auth/schema.ts";
import { bare } from "../../src/shared/errors.ts";
import { KEY_ROWS_CATCH_UP_MAX } from "../../src/shared/limits.ts";
import { migrateSchema } from "../../src/shared/sqlite-schema.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { type CreatedKey, createKey, keyDirectory as directory, failDirectoryWrite } from "../support/keys.ts";
import { call, expectError, json } from "../support/worker.ts";

const acl: AclEntry[] = [{ resource: "topic:orders.*", operations: ["produce", "describe"] }];

/** The quotas key `id`'s authority holds its requests to. */
async function heldTo(id: string) {
	return bare(await keyAuthority(env, id).getKey(id))?.quotas;
}

/** Key `id` as `GET /v1/keys` lists it (undefined: not listed). */
async function listed(id: string): Promise<{ quotas: unknown } | undefined> {
	const { keys } = await json<{ keys: { id: string; quotas: unknown }[] }>("GET", "/v1/keys?limit=1000", 200);
	return keys.find((key) => key.id === id);
}

async function shown(id: string): Promise<{ quotas: unknown; etag: string | null }> {
	const response = await call("GET", `/v1/keys/${id}`);
	expect(response.status).toBe(200);
	return { ...((await response.json()) as { quotas: unknown }), etag: response.headers.get("ETag") };
}

describe("the key directory's row writes", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("answers 503 for a quota change whose row write fails after its authority applied it, and every read shows the change", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		const before = await shown(key.id);
		await failDirectoryWrite("UPDATE api_keys SET quotas");
		const error = await expectError("PATCH", `/v1/keys/${key.id}/quotas`, 503, "unavailable", { body: { requests_per_sec: 5 } });
		expect(error.message).toContain("retry the PATCH");
		expect(await heldTo(key.id), "the change is in force").toEqual({ requests_per_sec: 5 });
		expect((await listed(key.id))?.quotas, "the listing shows the grant in force").toEqual({ requests_per_sec: 5 });
		const after = await shown(key.id);
		expect(after.quotas).toEqual({ requests_per_sec: 5 });
		expect(after.etag).not.toBe(before.etag);
		// The retry the 503 asks for finishes the job: it applies the same change again.
		expect((await call("PATCH", `/v1/keys/${key.id}/quotas`, { body: { requests_per_sec: 5 } })).status).toBe(200);
		expect(await shown(key.id)).toEqual(after);
	});

	it("lists the grant in force after a quota change whose answer was lost between the authority's write and the row's", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		const replaceQuotas = KeyStore.prototype.replaceQuotas;
		vi.spyOn(KeyStore.prototype, "replaceQuotas").mockImplementationOnce(function (this: KeyStore, id, quotas) {
			replaceQuotas.call(this, id, quotas);
			throw new Error("the answer was lost");
		});
		await expectError("PUT", `/v1/keys/${key.id}/quotas`, 503, "unavailable", { body: { fetch_bytes_per_sec: 4096 } });
		expect(await heldTo(key.id)).toEqual({ fetch_bytes_per_sec: 4096 });
		expect((await listed(key.id))?.quotas, "GET /v1/keys shows what the key's requests are held to").toEqual({
			fetch_bytes_per_sec: 4096,
		});
		// Repaired in the row: a listing after that asks no authority.
		const getKey = vi.spyOn(KeyStore.prototype, "getKey");
		expect((await listed(key.id))?.quotas).toEqual({ fetch_bytes_per_sec: 4096 });
		expect((await shown(key.id)).quotas).toEqual({ fetch_bytes_per_sec: 4096 });
		expect(getKey, "a key whose row is in step is answered from its row").not.toHaveBeenCalled();
	});

	it("shows a key from its row, asking its authority only while a change may have left the row behind", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		// (An authority reads its key through getKey while it changes it too: only reads are watched.)
		const getKey = vi.spyOn(KeyStore.prototype, "getKey");
		expect((await shown(key.id)).quotas).toEqual({ requests_per_sec: 100 });
		expect(getKey, "no authority call for a GET").not.toHaveBeenCalled();
		await json("PATCH", `/v1/keys/${key.id}/quotas`, 200, { body: { requests_per_sec: 7 } });
		getKey.mockClear();
		expect((await shown(key.id)).quotas).toEqual({ requests_per_sec: 7 });
		expect((await listed(key.id))?.quotas).toEqual({ requests_per_sec: 7 });
		expect(getKey, "none after a change that completed either").not.toHaveBeenCalled();
	});

	it("answers 503 for a GET of a key whose row may be behind while its authority does not answer, and the key once it does", async () => {
		const key = await createKey(acl);
		vi.spyOn(KeyStore.prototype, "replaceQuotas").mockImplementationOnce(() => {
			throw new Error("the authority is unreachable");
		});
		await expectError("PATCH", `/v1/keys/${key.id}/quotas`, 503, "unavailable", { body: { requests_per_sec: 1 } });
		vi.spyOn(KeyStore.prototype, "getKey").mockImplementationOnce(() => {
			throw new Error("the authority is unreachable");
		});
		const error = await expectError("GET", `/v1/keys/${key.id}`, 503, "unavailable");
		expect(error.message).toContain("retry the GET");
		expect((await shown(key.id)).quotas, "the change never reached the authority").toEqual({});
	});

	it("answers 503 for a DELETE whose row delete fails after the key was revoked; the key is refused and a retry finishes", async () => {
		const key = await createKey(acl);
		await failDirectoryWrite("DELETE FROM api_keys");
		const error = await expectError("DELETE", `/v1/keys/${key.id}`, 503, "unavailable");
		expect(error.message).toContain("retry the DELETE");
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: key.secret });
		expect(await listed(key.id), "listed until the DELETE is retried").toBeDefined();
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		expect(await listed(key.id)).toBeUndefined();
		await expectError("GET", `/v1/keys/${key.id}`, 404, "key_not_found");
	});

	it("answers 503 for a POST whose row insert fails, and creates nothing", async () => {
		const count = async () => (await json<{ keys: unknown[] }>("GET", "/v1/keys?limit=1000", 200)).keys.length;
		const keys = await count();
		await failDirectoryWrite("INSERT INTO api_keys");
		const error = await expectError("POST", "/v1/keys", 503, "unavailable", { body: { name: "n", acl } });
		expect(error.message).toContain("retry the POST");
		expect(await count()).toBe(keys);
		expect((await call("POST", "/v1/keys", { body: { name: "n", acl } })).status).toBe(201);
	});

	it("answers 503 for a POST whose authority failed and whose row could not be removed; a DELETE of that id clears it", async () => {
		vi.spyOn(KeyStore.prototype, "install").mockImplementationOnce(() => {
			throw new Error("the authority is unreachable");
		});
		await failDirectoryWrite("DELETE FROM api_keys");
		const error = await expectError("POST", "/v1/keys", 503, "unavailable", { body: { name: "left", acl } });
		const id = error.id as string;
		expect((await shown(id)).quotas, "a listed key that does not authenticate").toEqual({});
		expect((await call("DELETE", `/v1/keys/${id}`)).status).toBe(204);
		expect(await listed(id)).toBeUndefined();
	});

	it("takes every row as possibly behind on the upgrade that starts answering from rows, and catches each up once", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		// A change whose answer was lost before this version: in force at the authority, the row behind, unmarked.
		await keyAuthority(env, key.id).replaceQuotas(key.id, { requests_per_sec: 3 });
		await runInDurableObject(directory(), (_, state) => {
			state.storage.sql.exec("DELETE FROM key_rows_behind");
			state.storage.sql.exec("UPDATE schema_version SET version = 4");
			migrateSchema(state.storage, KEY_STORE_SCHEMA_VERSION, KEY_STORE_DDL, KEY_STORE_UPGRADES);
		});
		expect((await shown(key.id)).quotas).toEqual({ requests_per_sec: 3 });
		// A page catches up a bounded number of rows (blockConcurrencyWhile's 30 s), and each once.
		const getKey = vi.spyOn(KeyStore.prototype, "getKey");
		expect((await listed(key.id))?.quotas).toEqual({ requests_per_sec: 3 });
		const first = getKey.mock.calls.length;
		expect(first).toBeLessThanOrEqual(KEY_ROWS_CATCH_UP_MAX);
		getKey.mockClear();
		await listed(key.id);
		expect(getKey.mock.calls.map(([id]) => id)).not.toContain(key.id);
	});

	it("marks no row on a later upgrade: those of v5 were marked then", async () => {
		await createKey(acl, { requests_per_sec: 100 });
		const marked = await runInDurableObject(directory(), (_, state) => {
			state.storage.sql.exec("DELETE FROM key_rows_behind");
			state.storage.sql.exec("UPDATE schema_version SET version = 5");
			migrateSchema(state.storage, KEY_STORE_SCHEMA_VERSION, KEY_STORE_DDL, KEY_STORE_UPGRADES);
			return state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM key_rows_behind").one().n;
		});
		expect(marked).toBe(0);
	});

	it("catches up at most KEY_ROWS_CATCH_UP_MAX marked rows per listing page, the rest on the next", async () => {
		const keys: CreatedKey[] = [];
		for (let i = 0; i <= KEY_ROWS_CATCH_UP_MAX; i++) keys.push(await createKey(acl, {}));
		// This test's keys (and any mark an earlier test left): not every row, as the directory holds the keys of every
		// file sharing this workerd, and catching all of them up timed the test out (60 s) on a loaded machine.
		const marked = await runInDurableObject(directory(), (_, state) => {
			for (const key of keys) state.storage.sql.exec("INSERT OR IGNORE INTO key_rows_behind (id) VALUES (?)", key.id);
			return state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM key_rows_behind").one().n;
		});
		expect(marked).toBeGreaterThan(KEY_ROWS_CATCH_UP_MAX);
		const getKey = vi.spyOn(KeyStore.prototype, "getKey");
		const calls: number[] = [];
		for (let page = 0; page < 1 + marked / KEY_ROWS_CATCH_UP_MAX; page++) {
			getKey.mockClear();
			await json("GET", "/v1/keys?limit=1000", 200);
			calls.push(getKey.mock.calls.length);
		}
		// Each listing of the one page catches up the bound's worth, until none is left.
		const expected = Array.from({ length: calls.length }, (_, i) =>
			Math.max(0, Math.min(KEY_ROWS_CATCH_UP_MAX, marked - i * KEY_ROWS_CATCH_UP_MAX)),
		);
		expect(calls).toEqual(expected);
	});

	it("reads a listing page's marks with the page, in one statement, however many rows it has", async () => {
		for (let i = 0; i < 3; i++) await createKey(acl, {});
		const statements = await runInDurableObject(directory(), async (instance: KeyStore) => {
			const sql = (instance as unknown as { sql: SqlStorage }).sql;
			sql.exec("DELETE FROM key_rows_behind"); // none to catch up: those are read one by one
			const exec = vi.spyOn(sql, "exec");
			try {
				const page = bare(await instance.listKeys({ after: null, limit: 1000 }));
				expect(page.items.length).toBeGreaterThanOrEqual(3);
				return exec.mock.calls.map(([query]) => query);
			} finally {
				exec.mockRestore();
			}
		});
		expect(statements.filter((query) => query.includes("key_rows_behind"))).toHaveLength(1);
	});

	it("forgets a deleted key's mark with its row", async () => {
		const key = await createKey(acl, {});
		await runInDurableObject(directory(), (_, state) => {
			state.storage.sql.exec("INSERT OR IGNORE INTO key_rows_behind (id) VALUES (?)", key.id);
		});
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		const marks = await runInDurableObject(directory(), (_, state) =>
			state.storage.sql.exec("SELECT id FROM key_rows_behind WHERE id = ?", key.id).toArray(),
		);
		expect(marks).toEqual([]);
	});
});
