/**
 * Upgrading a key store made before per-key authorities (schema v1): its keys are only listed in the directory.
 * The first request with such a key has the directory install every authority, once; the key then works, and a
 * key deleted before that upgrade step is not brought back. An install from a row never goes over an authority that
 * holds the key or revoked it: a change whose row write failed stays in force, and a DELETE whose row delete failed
 * stays revoked. (Own file: the edge remembers per isolate that the step has run.)
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KeyStore } from "../../src/auth/key-store.ts";
import { newKeyId, newSecret, sha256Hex } from "../../src/auth/secret.ts";
import type { StoredKey } from "../../src/auth/types.ts";
import { bare } from "../../src/shared/errors.ts";
import { KEY_ROWS_CATCH_UP_MAX } from "../../src/shared/limits.ts";
import { KEY_STORE_NAME, keyAuthority } from "../../src/shared/stubs.ts";
import { failDirectoryWrite, keyDirectory } from "../support/keys.ts";
import { call, expectError, json } from "../support/worker.ts";

/** Writes a key as schema v1 did: a directory row only, and marks the directory as not upgraded yet. */
async function v1Key(): Promise<{ id: string; secret: string }> {
	const id = newKeyId();
	const secret = newSecret(id);
	const hash = await sha256Hex(secret);
	await runInDurableObject(env.KEY_STORE.getByName(KEY_STORE_NAME), (_, state) => {
		state.storage.sql.exec(
			"INSERT INTO api_keys (id, name, secret_sha256, acl, quotas, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
			id,
			"from-v1",
			hash,
			JSON.stringify([{ resource: "topic:*", operations: ["describe"] }]),
			"{}",
			Date.now(),
		);
		state.storage.sql.exec("UPDATE key_store_meta SET authorities_installed = 0 WHERE id = 1");
	});
	return { id, secret };
}

describe("key store upgrade from v1", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("shows, lists and changes a key made before authorities from its row, and installs it with the change", async () => {
		const key = await v1Key();
		const shown = await json<{ quotas: unknown }>("GET", `/v1/keys/${key.id}`, 200);
		expect(shown.quotas).toEqual({});
		await json("PATCH", `/v1/keys/${key.id}/quotas`, 200, { body: { requests_per_sec: 9 } });
		expect(await keyAuthority(env, key.id).getKey(key.id), "not installed yet").toBeNull();
		expect((await json<{ quotas: unknown }>("GET", `/v1/keys/${key.id}`, 200)).quotas).toEqual({ requests_per_sec: 9 });
		const { keys } = await json<{ keys: { id: string; quotas: unknown }[] }>("GET", "/v1/keys?limit=1000", 200);
		expect(keys.find((listed) => listed.id === key.id)?.quotas).toEqual({ requests_per_sec: 9 });
		// Not through a request: the edge remembers per isolate that it asked for this step, and the next test needs it.
		expect(await env.KEY_STORE.getByName(KEY_STORE_NAME).ensureAuthorities()).toBe(true);
		expect(bare(await keyAuthority(env, key.id).getKey(key.id))?.quotas).toEqual({ requests_per_sec: 9 });
	});

	it("installs the authorities of keys made before them, once, on the first request that misses", async () => {
		const kept = await v1Key();
		const deleted = await v1Key();
		expect(await keyAuthority(env, kept.id).getKey(kept.id)).toBeNull();
		// Deleted through the API before any request used it: listed, never installed, so never brought back.
		expect((await call("DELETE", `/v1/keys/${deleted.id}`)).status).toBe(204);

		await json("GET", "/v1/topics", 200, { token: kept.secret });
		expect(bare(await keyAuthority(env, kept.id).getKey(kept.id))?.name).toBe("from-v1");
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: deleted.secret });
		expect(await keyAuthority(env, deleted.id).getKey(deleted.id)).toBeNull();
		const done = await runInDurableObject(env.KEY_STORE.getByName(KEY_STORE_NAME), (_, state) =>
			state.storage.sql.exec<{ done: number }>("SELECT authorities_installed AS done FROM key_store_meta").one(),
		);
		expect(done.done).toBe(1);
	});

	it("installs many keys in steps of KEY_ROWS_CATCH_UP_MAX, none holding the directory for them all", async () => {
		const keys = [];
		for (let i = 0; i < 2 * KEY_ROWS_CATCH_UP_MAX + 1; i++) keys.push(await v1Key());
		const installs = vi.spyOn(KeyStore.prototype, "install");
		// blockConcurrencyWhile past 30 s resets the object: one call installing 1,000 keys did, and every miss tried again.
		const perHold = await runInDurableObject(env.KEY_STORE.getByName(KEY_STORE_NAME), async (instance: KeyStore, state) => {
			const held: number[] = [];
			const hold = state.blockConcurrencyWhile.bind(state);
			const spy = vi.spyOn(state, "blockConcurrencyWhile").mockImplementation(async (callback) => {
				const before = installs.mock.calls.length;
				try {
					return await hold(callback);
				} finally {
					held.push(installs.mock.calls.length - before);
				}
			});
			try {
				expect(await instance.ensureAuthorities()).toBe(true);
			} finally {
				spy.mockRestore();
			}
			return held;
		});
		installs.mockRestore();
		expect(Math.max(...perHold), `installs per hold: ${perHold}`).toBeLessThanOrEqual(KEY_ROWS_CATCH_UP_MAX);
		for (const key of keys) expect(bare(await keyAuthority(env, key.id).getKey(key.id))?.name).toBe("from-v1");
	});

	it("a key deleted after a failed step is not brought back by that step's install still in flight", async () => {
		const a = await v1Key();
		const b = await v1Key();
		const order = await runInDurableObject(env.KEY_STORE.getByName(KEY_STORE_NAME), (_, state) =>
			state.storage.sql
				.exec<{ id: string }>("SELECT id FROM api_keys ORDER BY created_at_ms, id")
				.toArray()
				.map((r) => r.id),
		);
		const [first, second] = order.filter((id) => id === a.id || id === b.id);
		const original = KeyStore.prototype.install;
		let release!: () => void;
		const held = new Promise<void>((r) => (release = r));
		let landed!: () => void;
		const done = new Promise<void>((r) => (landed = r));
		let secondSent = false;
		const spy = vi.spyOn(KeyStore.prototype, "install").mockImplementation(async function (this: KeyStore, key: StoredKey) {
			if (key.id === first) throw new Error("authority failed");
			if (key.id === second) {
				secondSent = true;
				await held;
				original.call(this, key);
				landed();
				return;
			}
			original.call(this, key);
		} as never);
		try {
			expect(await env.KEY_STORE.getByName(KEY_STORE_NAME).ensureAuthorities()).toBe(false);
			expect((await call("DELETE", `/v1/keys/${second}`)).status).toBe(204);
			if (secondSent) {
				release();
				await done;
			}
		} finally {
			spy.mockRestore();
		}
		expect(await keyAuthority(env, second as string).getKey(second as string), "deleted key held by its authority").toBeNull();
		expect(await env.KEY_STORE.getByName(KEY_STORE_NAME).ensureAuthorities(), "the next miss finishes the job").toBe(true);
		expect(bare(await keyAuthority(env, first as string).getKey(first as string))?.name).toBe("from-v1");
		expect(await keyAuthority(env, second as string).getKey(second as string), "still not brought back").toBeNull();
	});

	it("a step tried again keeps the quotas an authority holds: a change in force whose row write failed is not undone", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const key = await v1Key();
		// The step installs the key, then its own write fails: the next miss tries the upgrade again from the start.
		await failDirectoryWrite("UPDATE key_store_meta");
		expect(await keyDirectory().ensureAuthorities()).toBe(false);
		expect(await keyAuthority(env, key.id).getKey(key.id), "installed").not.toBeNull();
		await failDirectoryWrite("UPDATE api_keys SET quotas");
		await expectError("PATCH", `/v1/keys/${key.id}/quotas`, 503, "unavailable", { body: { requests_per_sec: 3 } });
		expect(bare(await keyAuthority(env, key.id).getKey(key.id))?.quotas, "in force").toEqual({ requests_per_sec: 3 });
		expect(await keyDirectory().ensureAuthorities()).toBe(true);
		expect(bare(await keyAuthority(env, key.id).getKey(key.id))?.quotas, "still in force").toEqual({ requests_per_sec: 3 });
		expect((await json<{ quotas: unknown }>("GET", `/v1/keys/${key.id}`, 200)).quotas).toEqual({ requests_per_sec: 3 });
	});

	it("a key whose DELETE revoked it and failed to drop its row stays revoked through the upgrade, and a retried DELETE finishes", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const key = await v1Key();
		await failDirectoryWrite("DELETE FROM api_keys");
		await expectError("DELETE", `/v1/keys/${key.id}`, 503, "unavailable");
		expect(await keyDirectory().ensureAuthorities()).toBe(true);
		expect(await keyAuthority(env, key.id).getKey(key.id), "revoked, not installed again").toBeNull();
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: key.secret });
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		await expectError("GET", `/v1/keys/${key.id}`, 404, "key_not_found");
	});

	it("refuses a quota change to a key revoked by such a DELETE before the upgrade installed it: not found, not a 200 in force nowhere", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const key = await v1Key();
		await failDirectoryWrite("DELETE FROM api_keys");
		await expectError("DELETE", `/v1/keys/${key.id}`, 503, "unavailable");
		await expectError("PUT", `/v1/keys/${key.id}/quotas`, 404, "key_not_found", { body: { requests_per_sec: 9 } });
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: key.secret });
	});
});
