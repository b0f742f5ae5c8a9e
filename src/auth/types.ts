/**
 * @module
 * API keys as the key store hands them out. The secret itself is never stored: see `secret.ts`.
 */

import type { AclEntry } from "./acl.ts";

/** Token-bucket rates of one key; a missing rate is unlimited. */
export interface KeyQuotas {
	readonly produce_bytes_per_sec?: number;
	readonly fetch_bytes_per_sec?: number;
	readonly requests_per_sec?: number;
}

export type Quota = keyof KeyQuotas;

/** A change to some of a key's quotas (JSON Merge Patch, RFC 7396): a rate sets one, null removes it. */
export type QuotasPatch = { readonly [Q in Quota]?: number | null };

/** A change to part of a grant (JSON Merge Patch, RFC 7396): `acl` replaces the ACL when given, `quotas` is merged. */
export interface KeyPatch {
	readonly acl?: readonly AclEntry[];
	readonly quotas?: QuotasPatch;
}

/** One quota a request draws on: `amount` is charged after the check (0: check only, charged later). */
export interface QuotaCharge {
	readonly quota: Quota;
	readonly amount: number;
}

/** A request over quota: which one, and how long until the key is out of debt. */
export interface QuotaRefusal {
	readonly quota: Quota;
	readonly waitMs: number;
}

/** A key as `GET /v1/keys` lists it: everything but the secret. */
export interface KeyInfo {
	readonly id: string;
	readonly name: string;
	readonly acl: readonly AclEntry[];
	readonly quotas: KeyQuotas;
	readonly createdAtMs: number;
}

/** A key as the edge needs it to authenticate: with the SHA-256 digest of its secret, as hex. */
export interface StoredKey extends KeyInfo {
	readonly secretSha256: string;
}

/** The key without the digest of its secret, as it is shown. */
export function toInfo({ secretSha256: _, ...info }: StoredKey): KeyInfo {
	return info;
}

export interface CreateKeyRequest {
	readonly name: string;
	readonly acl: readonly AclEntry[];
	readonly quotas: KeyQuotas;
}
