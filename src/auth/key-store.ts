/**
 * @module
 * `KeyStore`: one Durable Object (named "global") holding every API key (issue 6). The edge reaches it to
 * create, list and delete keys, and to look a key up by id when authenticating (cached per isolate for
 * `KEY_CACHE_TTL_MS`, positive answers only; see src/http/middleware/authenticate.ts).
 */

import { DurableObject } from "cloudflare:workers";
import { err, ok, type Result } from "../shared/errors.ts";
import { KEYS_MAX } from "../shared/limits.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import type { AclEntry } from "./acl.ts";
import { KEY_STORE_DDL, KEY_STORE_SCHEMA_VERSION } from "./schema.ts";
import { newKeyId, newSecret, sha256Hex } from "./secret.ts";
import type { CreateKeyRequest, KeyInfo, KeyQuotas, StoredKey } from "./types.ts";

/** The single key store's name. */
export const KEY_STORE_NAME = "global";

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

	/** Creates a key and answers its secret: the only time the secret exists outside the caller. */
	async createKey(request: CreateKeyRequest): Promise<Result<KeyInfo & { secret: string }>> {
		const count = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM api_keys").one().n;
		if (count >= KEYS_MAX) return err("key_limit_reached", `at most ${KEYS_MAX} keys may exist`);
		const id = newKeyId();
		const secret = newSecret(id);
		const row: KeyRow = {
			id,
			name: request.name,
			secret_sha256: await sha256Hex(secret),
			acl: JSON.stringify(request.acl),
			quotas: JSON.stringify(request.quotas),
			created_at_ms: Date.now(),
		};
		this.sql.exec(
			"INSERT INTO api_keys (id, name, secret_sha256, acl, quotas, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
			row.id,
			row.name,
			row.secret_sha256,
			row.acl,
			row.quotas,
			row.created_at_ms,
		);
		return ok({ ...toInfo(toStored(row)), secret });
	}

	listKeys(): KeyInfo[] {
		return this.sql.exec<KeyRow>("SELECT * FROM api_keys ORDER BY created_at_ms, id").toArray().map(toStored).map(toInfo);
	}

	getKey(id: string): StoredKey | null {
		const row = this.sql.exec<KeyRow>("SELECT * FROM api_keys WHERE id = ?", id).toArray()[0];
		return row === undefined ? null : toStored(row);
	}

	deleteKey(id: string): Result<void> {
		const deleted = this.sql.exec("DELETE FROM api_keys WHERE id = ?", id).rowsWritten;
		return deleted > 0 ? ok(undefined) : err("key_not_found", `key "${id}" does not exist`, { id });
	}
}
