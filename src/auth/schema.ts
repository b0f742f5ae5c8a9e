/**
 * @module
 * The key store's SQLite schema (docs/storage-schema.md).
 */

export const KEY_STORE_SCHEMA_VERSION = 2;

export const KEY_STORE_DDL: readonly string[] = [
	// One row per API key. `secret_sha256` is the hex SHA-256 of the secret, never the secret (see secret.ts).
	`CREATE TABLE IF NOT EXISTS api_keys (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		secret_sha256 TEXT NOT NULL,
		acl TEXT NOT NULL,
		quotas TEXT NOT NULL,
		created_at_ms INTEGER NOT NULL
	)`,
	// Authority only: partitions that hold (or held) a WebSocket tail opened with this key, so revoking the key can
	// close them (v2). Pruned of partitions without live tails when full.
	`CREATE TABLE IF NOT EXISTS watched_partitions (
		topic_id TEXT NOT NULL,
		partition INTEGER NOT NULL,
		PRIMARY KEY (topic_id, partition)
	)`,
];
