/**
 * @module
 * The partition's SQLite schema (documented in docs/storage-schema.md). Versioned as in cloudflare/agents:
 * the stored version lives in a row and idempotent DDL runs only when it is behind.
 */

export const PARTITION_SCHEMA_VERSION = 1;

export const PARTITION_DDL: readonly string[] = [
	// One row: who this partition is, its config, and the offsets that cannot be derived from the batches.
	`CREATE TABLE IF NOT EXISTS partition_state (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		status TEXT NOT NULL CHECK (status IN ('unconfigured', 'active', 'deleted')),
		topic TEXT,
		topic_id TEXT,
		partition INTEGER,
		config_version INTEGER NOT NULL DEFAULT 0,
		config TEXT,
		log_start_offset INTEGER NOT NULL DEFAULT 0 CHECK (log_start_offset >= 0),
		next_offset_floor INTEGER NOT NULL DEFAULT 0 CHECK (next_offset_floor >= 0)
	)`,
	// One row per stored batch (Kafka's record batch): a produce sub-batch, split at ~1 MiB.
	`CREATE TABLE IF NOT EXISTS batches (
		base_offset INTEGER PRIMARY KEY,
		last_offset INTEGER NOT NULL,
		record_count INTEGER NOT NULL CHECK (record_count > 0),
		max_timestamp INTEGER NOT NULL,
		timestamp_high INTEGER NOT NULL,
		bytes INTEGER NOT NULL CHECK (bytes > 0),
		records TEXT NOT NULL,
		CHECK (last_offset >= base_offset AND record_count <= last_offset - base_offset + 1)
	)`,
	`CREATE INDEX IF NOT EXISTS batches_by_timestamp_high ON batches (timestamp_high)`,
	`INSERT OR IGNORE INTO partition_state (id, status) VALUES (1, 'unconfigured')`,
];
