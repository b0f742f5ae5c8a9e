/**
 * @module
 * The key store's SQLite schema (docs/storage-schema.md).
 */

import type { SchemaUpgrade } from "../shared/sqlite-schema.ts";

export const KEY_STORE_SCHEMA_VERSION = 6;

export const KEY_STORE_DDL: readonly string[] = [
	// One row per API key. `secret_sha256` is the hex SHA-256 of the secret, never the secret (see secret.ts).
	"CREATE TABLE IF NOT EXISTS api_keys (" +
		"id TEXT PRIMARY KEY, " +
		"name TEXT NOT NULL, " +
		"secret_sha256 TEXT NOT NULL, " +
		"acl TEXT NOT NULL, " +
		"quotas TEXT NOT NULL, " +
		"created_at_ms INTEGER NOT NULL)",
	// v4: the directory's listing order, so a page of `GET /v1/keys` starts with a seek.
	"CREATE INDEX IF NOT EXISTS api_keys_by_creation ON api_keys (created_at_ms, id)",
	// Authority only: partitions that hold (or held) a WebSocket tail opened with this key, so revoking the key can
	// close them (v2). Pruned of partitions without live tails when full.
	"CREATE TABLE IF NOT EXISTS watched_partitions (" +
		"topic_id TEXT NOT NULL, " +
		"partition INTEGER NOT NULL, " +
		"PRIMARY KEY (topic_id, partition))",
	// Directory (v3): whether every listed key has its authority. Keys made before authorities existed (v1) have
	// none; `ensureAuthorities` installs them once. A store with no keys yet needs nothing.
	"CREATE TABLE IF NOT EXISTS key_store_meta (" +
		"id INTEGER PRIMARY KEY CHECK (id = 1), " +
		"authorities_installed INTEGER NOT NULL CHECK (authorities_installed IN (0, 1)))",
	`INSERT OR IGNORE INTO key_store_meta (id, authorities_installed) VALUES (1, (SELECT COUNT(*) = 0 FROM api_keys))`,
	// Directory (v5): keys whose row a quota change may have left behind their authority's grant; the others are
	// answered from their row.
	"CREATE TABLE IF NOT EXISTS key_rows_behind (id TEXT PRIMARY KEY)",
	// Authority only (v6): the key, once revoked here, so that an install from a directory row (`ensureAuthorities`)
	// never makes it usable again.
	"CREATE TABLE IF NOT EXISTS revoked_keys (id TEXT PRIMARY KEY)",
];

export const KEY_STORE_UPGRADES: readonly SchemaUpgrade[] = [
	// Every row, once: one left behind before v5 is not known (an authority gets its own id here too, unread).
	{ version: 5, statements: ["INSERT OR IGNORE INTO key_rows_behind SELECT id FROM api_keys"] },
];
