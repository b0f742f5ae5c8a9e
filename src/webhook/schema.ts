/**
 * @module
 * SQLite schema of a `WebhookDispatcher` (one per topic). See docs/webhooks.md for what each column means.
 * `lanes` is the due-work table the one alarm is multiplexed over: a lane with a pending batch is due at
 * `next_attempt_at_ms`; a lane without one is due now (it tails its partition).
 */

export const DISPATCHER_SCHEMA_VERSION = 1;

export const DISPATCHER_DDL: readonly string[] = [
	"CREATE TABLE IF NOT EXISTS dispatcher_state (" +
		"id INTEGER PRIMARY KEY CHECK (id = 1), " +
		"topic TEXT NOT NULL, " +
		"topic_id TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS subscriptions (" +
		"id TEXT PRIMARY KEY, " +
		"url TEXT NOT NULL, " +
		"secret TEXT NOT NULL, " +
		"previous_secret TEXT, " +
		"previous_secret_until_ms INTEGER, " +
		"status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'disabled')), " +
		"disabled_reason TEXT, " +
		"start TEXT NOT NULL, " +
		"batch_max_records INTEGER NOT NULL, " +
		"batch_max_wait_ms INTEGER NOT NULL, " +
		"max_attempts INTEGER NOT NULL, " +
		"retry_schedule_ms TEXT NOT NULL, " +
		"filter TEXT, " +
		"dead_letter_topic TEXT NOT NULL, " +
		"created_at_ms INTEGER NOT NULL, " +
		"updated_at_ms INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS lanes (" +
		"subscription_id TEXT NOT NULL, " +
		"partition INTEGER NOT NULL, " +
		"next_offset INTEGER NOT NULL, " +
		"epoch INTEGER NOT NULL DEFAULT 0, " +
		"batch_id TEXT, " +
		"batch_first_offset INTEGER, " +
		"batch_last_offset INTEGER, " +
		"batch_next_offset INTEGER, " +
		"batch_record_count INTEGER, " +
		"batch_records TEXT, " +
		"attempts INTEGER NOT NULL DEFAULT 0, " +
		"next_attempt_at_ms INTEGER, " +
		"last_error TEXT, " +
		"PRIMARY KEY (subscription_id, partition))",
	"CREATE TABLE IF NOT EXISTS deliveries (" +
		"id INTEGER PRIMARY KEY AUTOINCREMENT, " +
		"subscription_id TEXT NOT NULL, " +
		"partition INTEGER NOT NULL, " +
		"webhook_id TEXT NOT NULL, " +
		"first_offset INTEGER NOT NULL, " +
		"last_offset INTEGER NOT NULL, " +
		"record_count INTEGER NOT NULL, " +
		"attempt INTEGER NOT NULL, " +
		"outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'gone', 'dead_lettered', 'skipped')), " +
		"response_status INTEGER, " +
		"latency_ms INTEGER NOT NULL, " +
		"error TEXT, " +
		"at_ms INTEGER NOT NULL)",
	"CREATE INDEX IF NOT EXISTS deliveries_by_subscription ON deliveries (subscription_id, id)",
];
