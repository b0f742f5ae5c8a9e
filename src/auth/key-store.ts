/**
 * @module
 * `KeyStore`: API keys (issue 6), in two roles of one class, so that a deleted key is refused at once, everywhere.
 *
 * - The directory, named "global": every key, for listing and the `KEYS_MAX` count. Creates and deletes run here,
 *   one at a time.
 * - One authority per key, named `key:<id>`: the single place that answers "does this key exist, and what may it
 *   do" when a request authenticates. The edge asks it on every request and caches nothing, so a delete takes
 *   effect for the next request in every isolate and location. Per-key objects keep that check off any single
 *   hot object: each key's traffic reaches only its own.
 *
 * A key exists when its authority holds it. Create writes the directory row, then installs the authority (and
 * removes the row if that fails); delete revokes the authority first, then drops the row. A crash between the
 * two steps leaves at worst a listed key that does not authenticate, which `DELETE /v1/keys/{id}` clears; never a
 * usable key that cannot be listed or deleted.
 */

import { DurableObject } from "cloudflare:workers";
import { err, ok, type Result } from "../shared/errors.ts";
import { KEYS_MAX } from "../shared/limits.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import type { AclEntry } from "./acl.ts";
import { KEY_STORE_DDL, KEY_STORE_SCHEMA_VERSION } from "./schema.ts";
import { newKeyId, newSecret, sha256Hex } from "./secret.ts";
import type { CreateKeyRequest, KeyInfo, KeyQuotas, StoredKey } from "./types.ts";

/** The directory's name. */
export const KEY_STORE_NAME = "global";

/** The name of the object that authenticates key `id`. */
export function keyAuthorityName(id: string): string {
	return `key:${id}`;
}

interface KeyRow extends Record<string, SqlStorageValue> {
	id: string;
	name: string;
	secret_sha256: string;
	acl: string;
	quotas: string;
	created_at_ms: number;
}

function toStored(row: KeyRow): StoredKey {
	return {
		id: row.id,
		name: row.name,
		acl: JSON.parse(row.acl) as AclEntry[],
		quotas: JSON.parse(row.quotas) as KeyQuotas,
		createdAtMs: row.created_at_ms,
		secretSha256: row.secret_sha256,
	};
}

function toInfo({ secretSha256: _, ...info }: StoredKey): KeyInfo {
	return info;
}

export class KeyStore extends DurableObject<Env> {
	private readonly sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		migrateSchema(ctx.storage, KEY_STORE_SCHEMA_VERSION, KEY_STORE_DDL);
	}

	/** Directory: creates a key and answers its secret, the only time the secret exists outside the caller. */
	async createKey(request: CreateKeyRequest): Promise<Result<KeyInfo & { secret: string }>> {
		return this.ctx.blockConcurrencyWhile(async () => {
			const count = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM api_keys").one().n;
			if (count >= KEYS_MAX) return err("key_limit_reached", `at most ${KEYS_MAX} keys may exist`);
			const id = newKeyId();
			const secret = newSecret(id);
			const stored: StoredKey = {
				id,
				name: request.name,
				acl: request.acl,
				quotas: request.quotas,
				createdAtMs: Date.now(),
				secretSha256: await sha256Hex(secret),
			};
			this.insert(stored);
			try {
				await this.authority(id).install(stored);
			} catch (error) {
				this.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
				throw error;
			}
			return ok({ ...toInfo(stored), secret });
		});
	}

	/** Directory: every key, without secrets. */
	listKeys(): KeyInfo[] {
		return this.sql.exec<KeyRow>("SELECT * FROM api_keys ORDER BY created_at_ms, id").toArray().map(toStored).map(toInfo);
	}

	/** Directory: revokes the key at its authority, then forgets it. */
	async deleteKey(id: string): Promise<Result<void>> {
		return this.ctx.blockConcurrencyWhile(async () => {
			const listed = this.sql.exec("SELECT id FROM api_keys WHERE id = ?", id).toArray().length > 0;
			if (!listed) return err("key_not_found", `key "${id}" does not exist`, { id });
			await this.authority(id).revoke(id);
			this.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
			return ok(undefined);
		});
	}

	/** Authority: holds `key` from now on. */
	install(key: StoredKey): void {
		this.sql.exec("DELETE FROM api_keys");
		this.insert(key);
	}

	/** Authority: the key, or null once it is revoked (or was never installed here). */
	getKey(id: string): StoredKey | null {
		const row = this.sql.exec<KeyRow>("SELECT * FROM api_keys WHERE id = ?", id).toArray()[0];
		return row === undefined ? null : toStored(row);
	}

	/** Authority: the key no longer authenticates. */
	revoke(id: string): void {
		this.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
	}

	private insert(key: StoredKey): void {
		this.sql.exec(
			"INSERT INTO api_keys (id, name, secret_sha256, acl, quotas, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
			key.id,
			key.name,
			key.secretSha256,
			JSON.stringify(key.acl),
			JSON.stringify(key.quotas),
			key.createdAtMs,
		);
	}

	private authority(id: string): DurableObjectStub<KeyStore> {
		return this.env.KEY_STORE.getByName(keyAuthorityName(id));
	}
}
