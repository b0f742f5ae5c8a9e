/**
 * API keys made through the real admin API, credentials for a request, and a key store's storage made to fail.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import type { AclEntry } from "../../src/auth/acl.ts";
import type { KeyStore } from "../../src/auth/key-store.ts";
import type { KeyQuotas } from "../../src/auth/types.ts";
import { KEY_STORE_NAME } from "../../src/shared/stubs.ts";
import { json } from "./worker.ts";

export interface CreatedKey {
	readonly id: string;
	readonly secret: string;
}

export async function createKey(acl: readonly AclEntry[], quotas?: KeyQuotas, name = "test-key"): Promise<CreatedKey> {
	return json<CreatedKey>("POST", "/v1/keys", 201, { body: { name, acl, ...(quotas === undefined ? {} : { quotas }) } });
}

export function basic(user: string, password: string): Record<string, string> {
	return { Authorization: `Basic ${btoa(`${user}:${password}`)}` };
}

/** The key directory: every listed key, where creates, quota changes and deletes run. */
export const keyDirectory = () => env.KEY_STORE.getByName(KEY_STORE_NAME);

/** The directory's next SQL statement starting with `statement` throws, as a failing storage write would. */
export async function failDirectoryWrite(statement: string): Promise<void> {
	await runInDurableObject(keyDirectory(), (instance: KeyStore) => {
		// The directory's own handle (private): the authorities' writes go on.
		const sql = (instance as unknown as { sql: SqlStorage }).sql;
		const exec = sql.exec.bind(sql);
		vi.spyOn(sql, "exec").mockImplementation((query: string, ...bindings: unknown[]) => {
			if (query.startsWith(statement)) {
				vi.mocked(sql.exec).mockRestore();
				throw new Error("the storage write failed");
			}
			return exec(query, ...bindings);
		});
	});
}

/**
 * The `nth` statement from now (1: the next) that key store `stub` (the directory or an authority) runs starting with
 * `statement` throws, as failing storage would; the others run as before.
 */
export async function failKeyStatement(stub: DurableObjectStub<KeyStore>, statement: string, nth = 1): Promise<void> {
	await runInDurableObject(stub, (instance: KeyStore) => {
		const sql = (instance as unknown as { sql: SqlStorage }).sql;
		const exec = sql.exec.bind(sql);
		let seen = 0;
		vi.spyOn(sql, "exec").mockImplementation((query: string, ...bindings: unknown[]) => {
			if (query.startsWith(statement) && ++seen === nth) {
				vi.mocked(sql.exec).mockRestore();
				throw new Error("SQLITE_IOERR: disk I/O error");
			}
			return exec(query, ...bindings);
		});
	});
}
