/**
 * @module
 * The partition's SQLite schema (documented in docs/storage-schema.md). Versioned as in cloudflare/agents:
 * the stored version lives in a row and idempotent DDL runs only when it is behind.
 */

import { compactionKeyId, RECORD_SEPARATOR, type ValueEncoding } from "../shared/record-codec.ts";
import type { SchemaUpgrade } from "../shared/sqlite-schema.ts";

export const PARTITION_SCHEMA_VERSION = 12;

export const PARTITION_DDL: readonly string[] = [
	// One row: who this partition is, its config, and the offsets that cannot be derived from the batches.
	"CREATE TABLE IF NOT EXISTS partition_state (" +
		"id INTEGER PRIMARY KEY CHECK (id = 1), " +
		"status TEXT NOT NULL CHECK (status IN ('unconfigured', 'active', 'deleted')), " +
		"topic TEXT, " +
		"topic_id TEXT, " +
		"partition INTEGER, " +
		"config_version INTEGER NOT NULL DEFAULT 0, " +
		"config TEXT, " +
		"log_start_offset INTEGER NOT NULL DEFAULT 0 CHECK (log_start_offset >= 0), " +
		"next_offset_floor INTEGER NOT NULL DEFAULT 0 CHECK (next_offset_floor >= 0), " +
		"compaction_due_ms INTEGER, " +
		"compaction_cursor INTEGER NOT NULL DEFAULT 0)",
	// One row per stored batch (Kafka's record batch): a produce sub-batch, split at ~1 MiB. Compaction may
	// leave fewer records than the offset range holds, never more.
	"CREATE TABLE IF NOT EXISTS batches (" +
		"base_offset INTEGER PRIMARY KEY, " +
		"last_offset INTEGER NOT NULL, " +
		"record_count INTEGER NOT NULL CHECK (record_count > 0), " +
		"max_timestamp INTEGER NOT NULL, " +
		"timestamp_high INTEGER NOT NULL, " +
		"bytes INTEGER NOT NULL CHECK (bytes > 0), " +
		"records TEXT NOT NULL, " +
		"CHECK (last_offset >= base_offset AND record_count <= last_offset - base_offset + 1))",
	// Idempotent producers: epoch, last sequence and the last few batches (JSON) per producer id, as of the last
	// snapshot (v8: see PARTITION_UPGRADES).
	"CREATE TABLE IF NOT EXISTS producer_state (" +
		"producer_id INTEGER PRIMARY KEY, " +
		"epoch INTEGER NOT NULL CHECK (epoch >= 0), " +
		"last_sequence INTEGER NOT NULL, " +
		"recent TEXT NOT NULL, " +
		"updated_at_ms INTEGER NOT NULL)",
	`CREATE INDEX IF NOT EXISTS producer_state_by_time ON producer_state (updated_at_ms)`,
	// Idempotency-Key header: this partition's share of a request, remembered for IDEMPOTENCY_WINDOW_MS.
	"CREATE TABLE IF NOT EXISTS idempotency_keys (" +
		"key TEXT PRIMARY KEY, " +
		"request_hash TEXT NOT NULL, " +
		"base_offset INTEGER NOT NULL, " +
		"record_count INTEGER NOT NULL, " +
		"append_time_ms INTEGER NOT NULL, " +
		"created_at_ms INTEGER NOT NULL)",
	`CREATE INDEX IF NOT EXISTS idempotency_keys_by_time ON idempotency_keys (created_at_ms)`,
	// Compacted topics: the newest record of each key, so compaction knows what is superseded.
	"CREATE TABLE IF NOT EXISTS record_keys (" +
		"key_id TEXT PRIMARY KEY, " +
		"offset INTEGER NOT NULL, " +
		"tombstone INTEGER NOT NULL CHECK (tombstone IN (0, 1)), " +
		"appended_at_ms INTEGER NOT NULL)",
	`CREATE INDEX IF NOT EXISTS record_keys_tombstones ON record_keys (appended_at_ms) WHERE tombstone = 1`,
	// v3: retention forgets the keys whose newest record it deleted by a range of this index, not a scan.
	`CREATE INDEX IF NOT EXISTS record_keys_by_offset ON record_keys (offset)`,
	`INSERT OR IGNORE INTO partition_state (id, status) VALUES (1, 'unconfigured')`,
	// v2: objects to poke once the log grows past `from_offset` (a topic's idle WebhookDispatcher), so they can
	// sleep instead of polling. A row stays until its poke succeeded.
	"CREATE TABLE IF NOT EXISTS append_watchers (watcher TEXT PRIMARY KEY, from_offset INTEGER NOT NULL)",
	// v4, Durable Streams (stream-side.ts): the protocol's state of a stream, as one JSON row (see StreamMeta), and
	// its idempotent producers, by the client's Producer-Id. Empty in partitions of ordinary topics.
	"CREATE TABLE IF NOT EXISTS stream_meta (id INTEGER PRIMARY KEY CHECK (id = 1), meta TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS stream_producers (" +
		"producer_id TEXT PRIMARY KEY, " +
		"epoch INTEGER NOT NULL CHECK (epoch >= 0), " +
		"last_seq INTEGER NOT NULL CHECK (last_seq >= 0), " +
		"updated_at_ms INTEGER NOT NULL)",
	`CREATE INDEX IF NOT EXISTS stream_producers_by_time ON stream_producers (updated_at_ms)`,
	// v5, tiered storage (tiering/): the manifest of segments offloaded to R2, one row per object, in offset order.
	// Rows cover [log_start_offset, local_log_start_offset) without gaps. `bytes` is the object's size;
	// `batch_index` is the segment's SegmentIndexEntry[] as JSON (tiering/segment.ts), so a reader fetches only
	// the byte ranges it needs.
	"CREATE TABLE IF NOT EXISTS remote_segments (" +
		"base_offset INTEGER PRIMARY KEY, " +
		"last_offset INTEGER NOT NULL, " +
		"object_key TEXT NOT NULL, " +
		"bytes INTEGER NOT NULL CHECK (bytes >= 0), " +
		"record_count INTEGER NOT NULL CHECK (record_count > 0), " +
		"timestamp_high INTEGER NOT NULL, " +
		"batch_index TEXT NOT NULL, " +
		"created_at_ms INTEGER NOT NULL, " +
		"CHECK (last_offset >= base_offset))",
	// A seek by time below the local log start: one seek on the segments' running maximum timestamp.
	`CREATE INDEX IF NOT EXISTS remote_segments_by_timestamp_high ON remote_segments (timestamp_high)`,
];

/**
 * v12: the first offset whose `record_keys` rows compaction trusts (`record_keys_from`): a topic that compacts again
 * no longer deletes every key row in one statement; the rows below are ignored and deleted a step per alarm run.
 *
 * v11: a remote segment weighs what its batches weighed locally (`batches.bytes`: each text and its last
 * separator), no longer its object's size, which left out one separator per batch: an offload shrank the log's
 * bytes across tiers, so `retention.bytes` kept more than it allows. Existing rows gain their batches' separators.
 *
 * v10: the records of the remote segments (`remote_records`, the sum of `remote_segments.record_count`), kept beside
 * `remote_bytes` by the same transactions, so a description counts the records held in both tiers without reading
 * the manifest. A partition offloaded before sums its manifest once, here.
 *
 * v9: `record_keys` rows name a key by its bytes (`compactionKeyId`), no longer by how it was sent. Rows of string
 * keys are already in that form (`j:` and the JSON string); the others are read back to their key and named again,
 * a key sent several ways keeping its newest offset. A string key holding a lone surrogate keeps its old id: its
 * records are compacted once the key is written again.
 *
 * v8: idempotent producers' batches are named in the batch rows that hold them (`producers`, JSON, NULL in rows
 * with none; see producer-store.ts), and `producer_state` is a snapshot, saved every `PRODUCER_SNAPSHOT_ROWS` rows
 * (or `PRODUCER_SNAPSHOT_BYTES`) and before any batch row is deleted. `producers_replay_from` is the first offset
 * whose rows may name batches the snapshot lacks (NULL: none do): the first group after a wake-up replays the rows
 * from there. Until now every append saved the state row, so existing partitions have nothing to replay.
 *
 * v7: where each record of a batch ends in its UTF-8 (`record_ends`, four bytes a record, NULL in rows written
 * before), written by the append and by compaction's rewrite, so a read that cuts a batch or a poll that splices
 * its records looks them up instead of searching every byte (src/shared/record-scan.ts). Readers check them first,
 * so a row rewritten by an older version (which leaves them stale) is searched as before.
 *
 * v6 (group commit writes one row per group): the running totals as they stood after each batch, in the batch's
 * own row (`log_*`; NULL in rows written before), with the state row's copy written only by retention,
 * compaction and offload, marked with the high watermark it was saved at (`totals_next_offset`): whichever of the two is
 * newer is the truth (see `loadTotals`). `batches_by_timestamp_high` goes: `timestamp_high` is a running maximum,
 * so it rises with `base_offset` and a timestamp seek is a binary search on the primary key.
 *
 * v3: running totals of the stored batches in the state row, kept in the same transaction as every append,
 * retention delete and compaction rewrite, so a wake-up reads one row instead of summing the log. Upgrading an
 * existing partition sums its batches once, here: the one full scan it ever pays for them.
 */
export const PARTITION_UPGRADES: readonly SchemaUpgrade[] = [
	{
		version: 3,
		statements: [
			"ALTER TABLE partition_state ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0",
			"ALTER TABLE partition_state ADD COLUMN stored_batches INTEGER NOT NULL DEFAULT 0",
			"ALTER TABLE partition_state ADD COLUMN stored_records INTEGER NOT NULL DEFAULT 0",
			"UPDATE partition_state SET " +
				"stored_bytes = (SELECT COALESCE(SUM(bytes), 0) FROM batches), " +
				"stored_batches = (SELECT COUNT(*) FROM batches), " +
				"stored_records = (SELECT COALESCE(SUM(record_count), 0) FROM batches) " +
				"WHERE id = 1",
		],
	},
	// v5, tiered storage: the first offset held locally (equal to log_start_offset while nothing is remote) and the
	// bytes of the remote segments, kept in the transactions that offload and that retention deletes.
	{
		version: 5,
		statements: [
			"ALTER TABLE partition_state ADD COLUMN local_log_start_offset INTEGER NOT NULL DEFAULT 0",
			"ALTER TABLE partition_state ADD COLUMN remote_bytes INTEGER NOT NULL DEFAULT 0",
			"UPDATE partition_state SET local_log_start_offset = log_start_offset WHERE id = 1",
		],
	},
	// v6, group commit: see above.
	{
		version: 6,
		statements: [
			"ALTER TABLE batches ADD COLUMN log_bytes INTEGER",
			"ALTER TABLE batches ADD COLUMN log_batches INTEGER",
			"ALTER TABLE batches ADD COLUMN log_records INTEGER",
			"ALTER TABLE partition_state ADD COLUMN totals_next_offset INTEGER NOT NULL DEFAULT 0",
			// Until now every append saved the state row's totals: they are as new as the newest batch.
			"UPDATE partition_state SET totals_next_offset = MAX(next_offset_floor, " +
				"COALESCE((SELECT last_offset + 1 FROM batches ORDER BY base_offset DESC LIMIT 1), 0)) WHERE id = 1",
			"DROP INDEX IF EXISTS batches_by_timestamp_high",
		],
	},
	// v7, record ends: see above.
	{ version: 7, statements: ["ALTER TABLE batches ADD COLUMN record_ends BLOB"] },
	// v8, producer snapshots: see above.
	{
		version: 8,
		statements: ["ALTER TABLE batches ADD COLUMN producers TEXT", "ALTER TABLE partition_state ADD COLUMN producers_replay_from INTEGER"],
	},
	// v9, key ids by bytes: see above.
	{ version: 9, statements: [], run: renameKeysByBytes },
	// v10, remote records: see above.
	{
		version: 10,
		statements: [
			"ALTER TABLE partition_state ADD COLUMN remote_records INTEGER NOT NULL DEFAULT 0",
			"UPDATE partition_state SET remote_records = (SELECT COALESCE(SUM(record_count), 0) FROM remote_segments) WHERE id = 1",
		],
	},
	// v11, segments weighed as local batches: see above.
	{
		version: 11,
		statements: [
			`UPDATE remote_segments SET bytes = bytes + ${RECORD_SEPARATOR.length} * json_array_length(batch_index)`,
			"UPDATE partition_state SET remote_bytes = (SELECT COALESCE(SUM(bytes), 0) FROM remote_segments) WHERE id = 1",
		],
	},
	// v12, key rows trusted from an offset: see above.
	{ version: 12, statements: ["ALTER TABLE partition_state ADD COLUMN record_keys_from INTEGER NOT NULL DEFAULT 0"] },
];

/** Key rows read per step of v9's renaming: a page, so a partition with millions of keys never holds them all. */
const KEY_RENAME_PAGE_ROWS = 1000;

function renameKeysByBytes(sql: SqlStorage): void {
	// A renamed row is inserted again with a higher rowid, so the paging reaches it: in the new form it is either
	// skipped by the query (`j:"`) or already its own name (`b:`), and the loop ends.
	for (let after = 0; ; ) {
		const rows = sql
			.exec<{ id: number; key_id: string }>(
				`SELECT rowid AS id, key_id FROM record_keys WHERE rowid > ? AND substr(key_id, 1, 3) <> 'j:"' ORDER BY rowid LIMIT ?`,
				after,
				KEY_RENAME_PAGE_ROWS,
			)
			.toArray();
		if (rows.length === 0) return;
		for (const row of rows) {
			after = row.id;
			const encoding: ValueEncoding = row.key_id.startsWith("b:") ? "base64" : "json";
			const renamed = compactionKeyId(JSON.parse(row.key_id.slice(2)), encoding);
			if (renamed === row.key_id) continue;
			sql.exec(
				"INSERT INTO record_keys (key_id, offset, tombstone, appended_at_ms) " +
					"SELECT ?, offset, tombstone, appended_at_ms FROM record_keys WHERE rowid = ? " +
					"ON CONFLICT (key_id) DO UPDATE SET offset = excluded.offset, tombstone = excluded.tombstone, " +
					"appended_at_ms = excluded.appended_at_ms WHERE excluded.offset > record_keys.offset",
				renamed,
				row.id,
			);
			sql.exec("DELETE FROM record_keys WHERE rowid = ?", row.id);
		}
	}
}
