/**
 * API keys made through the real admin API, and credentials for a request.
 */

import type { AclEntry } from "../../src/auth/acl.ts";
import type { KeyQuotas } from "../../src/auth/types.ts";
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
