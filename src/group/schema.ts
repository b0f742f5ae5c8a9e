/**
 * @module
 * SQLite schemas of the group coordinator and the group directory (documented in docs/consumer-groups.md).
 * Versioned as in cloudflare/agents: the stored version lives in a row and idempotent DDL runs only when behind.
 */

import type { SchemaUpgrade } from "../shared/sqlite-schema.ts";

export const GROUP_SCHEMA_VERSION = 7;

export const GROUP_DDL: readonly string[] = [
	// One row: the group's id, lifecycle, generation and strategy; `published_generation` is what the directory
	// was last told, so a failed publish is retried by the alarm.
	"CREATE TABLE IF NOT EXISTS group_state (" +
		"id INTEGER PRIMARY KEY CHECK (id = 1), " +
		"group_id TEXT, " +
		"status TEXT NOT NULL CHECK (status IN ('new', 'active', 'deleted')), " +
		"generation INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0), " +
		"strategy TEXT CHECK (strategy IN ('sticky', 'range', 'round-robin')), " +
		"published_generation INTEGER NOT NULL DEFAULT -1)",
	// Live members. A member subscribes to a topic list (JSON array) or a pattern, never both.
	"CREATE TABLE IF NOT EXISTS members (" +
		"member_id TEXT PRIMARY KEY, " +
		"instance_id TEXT UNIQUE, " +
		"topics TEXT, " +
		"topic_pattern TEXT, " +
		"session_timeout_ms INTEGER NOT NULL CHECK (session_timeout_ms > 0), " +
		"auto_offset_reset TEXT NOT NULL CHECK (auto_offset_reset IN ('earliest', 'latest', 'none')), " +
		"deadline_ms INTEGER NOT NULL, " +
		"joined_at_ms INTEGER NOT NULL, " +
		"CHECK ((topics IS NULL) <> (topic_pattern IS NULL)))",
	`CREATE INDEX IF NOT EXISTS members_by_deadline ON members (deadline_ms)`,
	// The subscribed topics the current assignment was computed from; a refresh that finds them changed rebalances.
	"CREATE TABLE IF NOT EXISTS subscribed_topics (" +
		"topic TEXT PRIMARY KEY, " +
		"topic_id TEXT NOT NULL, " +
		"partitions INTEGER NOT NULL CHECK (partitions >= 1))",
	// The current generation's assignment. The primary key is the invariant: one owner per partition.
	"CREATE TABLE IF NOT EXISTS assignments (" +
		"topic TEXT NOT NULL, " +
		"partition INTEGER NOT NULL CHECK (partition >= 0), " +
		"member_id TEXT NOT NULL, " +
		"PRIMARY KEY (topic, partition))",
	`CREATE INDEX IF NOT EXISTS assignments_by_member ON assignments (member_id)`,
	// Where the owner reads next, and what its last auto-commit poll returned (committed at its next poll).
	// Deleted whenever the partition changes owner, so a new owner starts from the committed offset.
	"CREATE TABLE IF NOT EXISTS positions (" +
		"topic TEXT NOT NULL, " +
		"partition INTEGER NOT NULL CHECK (partition >= 0), " +
		"member_id TEXT NOT NULL, " +
		"next_offset INTEGER NOT NULL CHECK (next_offset >= 0), " +
		"pending_commit INTEGER CHECK (pending_commit >= 0), " +
		"PRIMARY KEY (topic, partition))",
	// Committed offsets: the next offset to read (Kafka's meaning). v2 adds `topic_id` (GROUP_UPGRADES).
	"CREATE TABLE IF NOT EXISTS commits (" +
		"topic TEXT NOT NULL, " +
		"partition INTEGER NOT NULL CHECK (partition >= 0), " +
		"committed_offset INTEGER NOT NULL CHECK (committed_offset >= 0), " +
		"metadata TEXT, " +
		"generation INTEGER NOT NULL, " +
		"committed_at_ms INTEGER NOT NULL, " +
		"PRIMARY KEY (topic, partition))",
	`INSERT OR IGNORE INTO group_state (id, status) VALUES (1, 'new')`,
];

export const GROUP_UPGRADES: readonly SchemaUpgrade[] = [
	{
		// v2: the incarnation of the topic an offset was committed on (its `topic_id`; NULL when the group did not
		// subscribe to it then: a reset of an empty group), so a topic deleted and created again under the same name
		// is read from its start, not from the old topic's offsets (Kafka deletes a deleted topic's offsets).
		// Offsets stored before are taken to be of the topic subscribed to now.
		version: 2,
		statements: [
			"ALTER TABLE commits ADD COLUMN topic_id TEXT",
			"UPDATE commits SET topic_id = (SELECT s.topic_id FROM subscribed_topics s WHERE s.topic = commits.topic)",
		],
	},
	// v3: the auto-commit settings a member keeps for its life (JSON `{"enabled","intervalMs"}`; NULL: its polls say).
	{ version: 3, statements: ["ALTER TABLE members ADD COLUMN auto_commit TEXT"] },
	{
		// v4: a time no offset's retention starts before (offsets-retention.ts): when the group last lost its last member
		// (NULL if it never had one), raised by the expiry step to its oldest commit left. The column keeps its first
		// name: code that read it as the time the group emptied (a rollback) still reads a time no earlier than that.
		// A group already empty counts from the upgrade, not from its old commits.
		version: 4,
		statements: [
			"ALTER TABLE group_state ADD COLUMN empty_since_ms INTEGER",
			"UPDATE group_state SET empty_since_ms = unixepoch() * 1000 WHERE status = 'active' AND NOT EXISTS (SELECT 1 FROM members)",
		],
	},
	{
		// v5: offsets expire in a group with members too (KIP-496), counted from when their topic left the subscriptions;
		// before, a topic that left kept its commit time, so a group with members counts from the upgrade.
		version: 5,
		statements: ["UPDATE group_state SET empty_since_ms = unixepoch() * 1000 WHERE EXISTS (SELECT 1 FROM members)"],
	},
	// v6: for a member that rejoins on a rebalance (Kafka's classic protocol), the generation it last joined in; NULL for
	// the others (group-rules.ts, `holders`). Members from before are the others, as they were.
	{ version: 6, statements: ["ALTER TABLE members ADD COLUMN rejoined_generation INTEGER"] },
	{
		// v7: Kafka's rebalance timeout for a member that rejoins (NULL: its session timeout, as JoinGroup v0 and members
		// from before), and the time a rebalance asked it to rejoin by (NULL: none asked since its join or its last
		// round's end): a dynamic holder that never rejoins is removed then, however it heartbeats; a static one's
		// partitions the rebalance gave others move then (group-rules.ts, `rebalance`).
		version: 7,
		statements: [
			"ALTER TABLE members ADD COLUMN rebalance_timeout_ms INTEGER",
			"ALTER TABLE members ADD COLUMN rejoin_deadline_ms INTEGER",
		],
	},
];

export const DIRECTORY_SCHEMA_VERSION = 2;

export const DIRECTORY_DDL: readonly string[] = [
	// One row per group ever admitted; deleted groups stay as 'dead' tombstones for GROUP_TOMBSTONE_MS.
	"CREATE TABLE IF NOT EXISTS groups (" +
		"group_id TEXT PRIMARY KEY, " +
		"state TEXT NOT NULL CHECK (state IN ('stable', 'empty', 'dead')), " +
		"members INTEGER NOT NULL CHECK (members >= 0), " +
		"generation INTEGER NOT NULL CHECK (generation >= 0), " +
		"updated_at_ms INTEGER NOT NULL)",
	// v2: admission purges expired tombstones by a range of this index, not a scan of every group.
	"CREATE INDEX IF NOT EXISTS groups_dead_by_time ON groups (updated_at_ms) WHERE state = 'dead'",
];
