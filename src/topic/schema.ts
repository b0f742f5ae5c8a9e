/**
 * @module
 * The registry's SQLite schema (docs/storage-schema.md).
 */

import type { SchemaUpgrade } from "../shared/sqlite-schema.ts";

export const REGISTRY_SCHEMA_VERSION = 4;

export const REGISTRY_DDL: readonly string[] = [
	"CREATE TABLE IF NOT EXISTS topics (" +
		"name TEXT PRIMARY KEY, " +
		"topic_id TEXT NOT NULL UNIQUE, " +
		"partitions INTEGER NOT NULL CHECK (partitions >= 1), " +
		"config TEXT NOT NULL, " +
		"config_version INTEGER NOT NULL CHECK (config_version >= 1), " +
		"created_at_ms INTEGER NOT NULL)",
	// Idempotent producer ids (KIP-98). A named producer (transactional_id) keeps its id; re-initialising it
	// bumps the epoch, which fences the previous instance. Since v3 only named producers have a row here: an
	// anonymous one is known by its id alone (see producer_ids).
	"CREATE TABLE IF NOT EXISTS producers (" +
		"producer_id INTEGER PRIMARY KEY AUTOINCREMENT, " +
		"transactional_id TEXT UNIQUE, " +
		"epoch INTEGER NOT NULL CHECK (epoch >= 0), " +
		"updated_at_ms INTEGER NOT NULL)",
	// The last producer id handed out, named or anonymous: ids are never handed out twice, and an id at or below
	// it without a row in producers is an anonymous producer's, at epoch 0.
	"CREATE TABLE IF NOT EXISTS producer_ids (" +
		"id INTEGER PRIMARY KEY CHECK (id = 1), " +
		"last_issued INTEGER NOT NULL CHECK (last_issued >= 0))",
	// Partitions of deleted topics whose data is not yet wiped; the alarm retries until none are left.
	"CREATE TABLE IF NOT EXISTS pending_deletions (" +
		"topic_id TEXT NOT NULL, " +
		"partition INTEGER NOT NULL, " +
		"PRIMARY KEY (topic_id, partition))",
];

/** v2: the Cloudflare location hint a topic was created with, passed when its partitions' objects are created. */
export const REGISTRY_UPGRADES: readonly SchemaUpgrade[] = [
	{ version: 2, statements: ["ALTER TABLE topics ADD COLUMN location_hint TEXT"] },
	/**
	 * v3: anonymous producers stop taking a row each. Serverless callers may create one per invocation, and rows of
	 * the one registry object grew with every producer ever initialised. The ids already handed out stay valid:
	 * the counter starts at the highest (rows were never deleted before v3, so it is the highest ever issued).
	 */
	{
		version: 3,
		statements: [
			"INSERT INTO producer_ids (id, last_issued) SELECT 1, coalesce(max(producer_id), 0) FROM producers",
			"DELETE FROM producers WHERE transactional_id IS NULL",
		],
	},
	/**
	 * v4: whether every partition has taken the topic's config version (`config_pushed`, 0 until then): the alarm
	 * pushes it again, so an idle partition converges without waiting for an append to carry the version.
	 */
	{ version: 4, statements: ["ALTER TABLE topics ADD COLUMN config_pushed INTEGER NOT NULL DEFAULT 1"] },
];
