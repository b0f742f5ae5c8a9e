/**
 * @module
 * The registry's SQLite schema (docs/storage-schema.md).
 */

import type { SchemaUpgrade } from "../shared/sqlite-schema.ts";

export const REGISTRY_SCHEMA_VERSION = 2;

export const REGISTRY_DDL: readonly string[] = [
	`CREATE TABLE IF NOT EXISTS topics (
		name TEXT PRIMARY KEY,
		topic_id TEXT NOT NULL UNIQUE,
		partitions INTEGER NOT NULL CHECK (partitions >= 1),
		config TEXT NOT NULL,
		config_version INTEGER NOT NULL CHECK (config_version >= 1),
		created_at_ms INTEGER NOT NULL
	)`,
	// Idempotent producer ids (KIP-98). A named producer (transactional_id) keeps its id; re-initialising it
	// bumps the epoch, which fences the previous instance.
	`CREATE TABLE IF NOT EXISTS producers (
		producer_id INTEGER PRIMARY KEY AUTOINCREMENT,
		transactional_id TEXT UNIQUE,
		epoch INTEGER NOT NULL CHECK (epoch >= 0),
		updated_at_ms INTEGER NOT NULL
	)`,
	// Partitions of deleted topics whose data is not yet wiped; the alarm retries until none are left.
	`CREATE TABLE IF NOT EXISTS pending_deletions (
		topic_id TEXT NOT NULL,
		partition INTEGER NOT NULL,
		PRIMARY KEY (topic_id, partition)
	)`,
];

/** v2: the Cloudflare location hint a topic was created with, passed when its partitions' objects are created. */
export const REGISTRY_UPGRADES: readonly SchemaUpgrade[] = [
	{ version: 2, statements: ["ALTER TABLE topics ADD COLUMN location_hint TEXT"] },
];
