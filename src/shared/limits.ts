/**
 * @module
 * Every limit Tributary enforces, as a named constant. Units last in names (TIGER_STYLE): `Bytes`, `Ms`, `Count`.
 * A limit changes here and nowhere else; tests import these rather than repeating the numbers.
 */

/** Largest request body the edge will read, in bytes (checked before parsing: Content-Length and streamed). */
export const REQUEST_BYTES_MAX = 8 * 1024 * 1024;

/** Most records in one produce request. */
export const PRODUCE_RECORDS_MAX = 10_000;

/**
 * Ceiling for a topic's `max.message.bytes`. A stored batch is one SQLite row and Durable Object rows are
 * capped at 2 MB, so a single record must fit in one row with room to spare.
 */
export const MESSAGE_BYTES_CEILING = 1024 * 1024;

/** A produce sub-batch is split into stored batches of about this many bytes (one SQLite row each). */
export const STORED_BATCH_BYTES_TARGET = 1024 * 1024;

/**
 * Memory for hot stored batches (partition/batch-cache.ts), shared by every partition object in an isolate. An
 * isolate has 128 MB and may host several objects at once; an eighth leaves room for the largest fetch answer
 * (`FETCH_BYTES_MAX`, built from parts, so twice that for a moment) and produce body (`REQUEST_BYTES_MAX`, decoded)
 * beside V8's own. Sixteen full stored batches: a tail reader needs the last one or two, and a consumer lagging up to
 * this far still reads from memory. Past it, rows cost: a consumer paging 20,000 × 1 KiB (~22 MB, fetch-1c-1p) takes
 * 0.30 of its batches from SQLite (rows of ~114 KB read by key), about the whole of its gap to the bench's ceiling
 * (84 % of its records/s; 94 % for a backlog held whole): with 32 MiB here, bench:ab fetch-1c-1p B − A −0.83
 * µs/record of ~4.0 (−21 %; −2.43 to −0.61, lower in 6 of 6 rounds, load 5-11), and again −0.90 of ~4.9 (−18 %; −0.98
 * to −0.33, 4 of 4, load 7-9) in a later run. Not raised for a bench: several busy objects share an isolate's 128 MB.
 */
export const BATCH_CACHE_BYTES_MAX = 16 * 1024 * 1024;

/**
 * The largest group poll body (default layout) written into the buffer an isolate keeps for them
 * (poll-body.ts's `pollBodyBlob`); a larger one gets a buffer of its own. Two polls of 1,000 × 1 KiB records.
 */
export const POLL_BODY_SCRATCH_BYTES_MAX = 2 * 1024 * 1024;

/**
 * An object whose cached batches nobody wrote or read for this long is idle: its batches are the first evicted, and a
 * reader may take their room. Without it, equal shares kept every object that once wrote (a finished load, a quiet
 * topic) holding its part, and a consumer of the one busy partition among eight got an eighth of the budget.
 */
export const BATCH_CACHE_IDLE_MS = 10_000;

/**
 * A read takes the text of stored batches up to this size in its walk over the rows, and that of larger ones by
 * their key, only when it takes them: workerd's SQL cursor steps one row ahead, so a walk that selected every text
 * would load a whole batch (up to `STORED_BATCH_BYTES_TARGET`) past the one a read stops in (measured: a read ending
 * before a 440 KB row cost twice as much). One more query per large batch costs a few µs against the tens of µs
 * its text costs. Tried and dropped: every text inline (this at 64 MiB), on pages of 1,000 × 1 KiB through SQLite
 * in rows of 100: bench:ab fetch-1c-1p B − A −0.20 µs/record of ~6.3 (−1.32 to +0.14, lower in 3 of 5 rounds),
 * within the noise. Nor the rows a walk takes whole read after it in one statement over their keys' range (so the
 * step ahead reads nothing), instead of one by key each: −0.03 µs/record of ~3.3 (−0.14 to +0.15, lower in 3 of 6).
 * In a bare workerd, ten reads by key against one range read of the same rows: 0.78 against 0.70 µs/record, 2.03
 * against 2.10 with the parts crossing RPC and the request's own cost counted.
 */
export const READ_INLINE_BATCH_BYTES_MAX = 64 * 1024;

/**
 * Group commit: appends that arrive while the previous group is being committed are written together, in one
 * transaction and (where they fit in `STORED_BATCH_BYTES_TARGET`) one stored batch. A group holds at most this
 * many requests and about this many bytes, so one transaction stays short whatever the queue's length.
 */
export const APPEND_GROUP_REQUESTS_MAX = 256;
export const APPEND_GROUP_BYTES_MAX = 4 * 1024 * 1024;
/** Group commit: how long a group waits at most for more requests, once producers arrive concurrently (commit-queue.ts). */
export const APPEND_GROUP_LINGER_MS = 3;
/**
 * A group coordinator's shared commit turn: how long it goes on at most, timer turn by timer turn, while each brings
 * more members' commits (shared-turn.ts). Members' calls come apart by several ms, so a longer wait would mostly add
 * latency. What it costs in latency, against 0 (the turn ends after one timer turn), measured with bench:ab's group
 * shapes (4 members, both builds under one load, 6 alternating rounds each, load 3.6-6.6; medians of the rounds'
 * figures, 2 ms first): commit requests (group-4m-4p-commit-request) p50 10.9 against 10.6 ms, lower at 0 in 5 of 6
 * rounds (by 0.35 ms median; an A/A run's rounds differed by −0.6 to +0.7 ms), p99 43.2 against 43.1; polls carrying
 * commits (group-4m-4p) p50 42.5 against 43.0, p99 127.1 against 130.0 (an A/A run's p99s differed by more: 209 and
 * 160). Server CPU per record is the same either way: 0 at 0 ms minus 2 ms is 0.00 µs (−0.37 to +0.14, lower in 2 of
 * 6) and −0.12 µs (−0.56 to +0.34, lower in 3 of 6) of ~8.3, inside the A/A spread. The gain it was kept for, −37 µs
 * a commit request (shared-turn.ts), is under 0.1 µs a record at 500 records a poll, below what a per-record shape
 * resolves; so here it buys no measurable CPU for ~0.35 ms of commit latency (~3 % of the p50), and nothing either
 * way on the poll that carries the commit. Kept, as what it saves per request is measured (6 of 6 rounds) and
 * ~0.35 ms is small beside the commit's own ~10 ms under this load.
 */
export const GROUP_COMMIT_LINGER_MS = 2;

/** Partitions a topic may have. `GET /v1/topics/{topic}` fans out to every partition, so keep it bounded. */
export const PARTITIONS_MAX = 256;

/** Partitions a topic created without a count gets (Kafka's `num.partitions` default); the SDK keeps a copy (a repeat's 409 is compared with it). */
export const TOPIC_PARTITIONS_DEFAULT = 1;

/** Topics the registry will hold. */
export const TOPICS_MAX = 10_000;

/**
 * Items one page of a listing (`GET /v1/topics`, `/v1/groups`, `/v1/keys`, a topic's subscriptions) holds at
 * most, and when the client does not say (`?limit=`); `next_cursor` asks for the next page.
 */
export const LIST_PAGE_LIMIT_MAX = 1_000;

/** Topic name length, as in Kafka. */
export const TOPIC_NAME_LENGTH_MAX = 249;

/** Records returned by one fetch when the client does not say. */
export const FETCH_RECORDS_DEFAULT = 500;
/** Most records one fetch may return. */
export const FETCH_RECORDS_MAX = 10_000;
/** Bytes one fetch returns when the client does not say (soft: one record is always returned). */
export const FETCH_BYTES_DEFAULT = 4 * 1024 * 1024;
/** Most bytes one fetch may ask for. */
export const FETCH_BYTES_MAX = 16 * 1024 * 1024;
/** Longest long-poll. */
export const FETCH_WAIT_MS_MAX = 30_000;
/**
 * How long a partition keeps the id of a wait released before it began (`Waiters.release`): its reader left while
 * the read was still on its way (the edge resolving the topic, the RPC in flight), which then ends as it arrives.
 * Longer than that way takes under load; at most `RELEASED_WAIT_IDS_MAX` ids are kept, the oldest forgotten first.
 */
export const RELEASED_WAIT_KEPT_MS = 10_000;
/**
 * Released ids a partition keeps at most. Each is one client that left an SSE read in the last 10 s: a thousand is
 * far more than one partition's readers leave in that time, and bounds the memory (tens of KB) a client opening and
 * dropping streams in a loop can make it hold. Past it the oldest is forgotten: its read, if it still arrives, waits
 * out its time as before.
 */
export const RELEASED_WAIT_IDS_MAX = 1_000;

/**
 * Headers per record, and the length of one header key, in UTF-16 code units as the schemas count a string (the
 * key's UTF-8 bytes can be up to three times as many).
 */
export const RECORD_HEADERS_MAX = 64;
export const HEADER_KEY_LENGTH_MAX = 1024;

/** How long an isolate trusts its cached copy of a topic's metadata before asking the registry again. */
export const TOPIC_CACHE_TTL_MS = 2_000;

/** Alarm retry delay for registry clean-up work (deleting a topic's partitions) that failed. */
export const CLEANUP_RETRY_MS = 10_000;

/**
 * How long a caller told a Durable Object is overloaded waits before trying again (`Retry-After`): the platform
 * says not to retry at once, since an immediate retry adds to the queue that overloaded it.
 */
export const OVERLOADED_RETRY_AFTER_MS = 1_000;

/** Batches of recent writes kept per idempotent producer, so a retry of any of them is answered (Kafka keeps 5). */
export const PRODUCER_RECENT_BATCHES = 5;

/**
 * The highest sequence of an idempotent producer's record: sequences are Kafka's int32 (KIP-98), and after this one
 * the next is 0. A Kafka client's batch may span the wrap, and the broker must take it so.
 */
export const PRODUCER_SEQUENCE_MAX = 2_147_483_647;

/** Idempotent producers' states a partition keeps in memory (the rest are read from SQLite when they write). */
export const PRODUCER_STATES_CACHED_MAX = 1_000;

/**
 * Stored batches, or bytes in them, after which a partition saves its idempotent producers' states
 * (`producer_state`), as Kafka snapshots them: between saves each batch row names the producers' batches it holds,
 * and the first group after a wake-up replays those rows. Rarer saves spare more page writes (before, every batch
 * wrote its producer's row); more rows and bytes make that replay read more: the names follow the records in the
 * row, so reading them reads the row.
 */
export const PRODUCER_SNAPSHOT_ROWS = 16;
export const PRODUCER_SNAPSHOT_BYTES = 4 * 1024 * 1024;

/** How long an `Idempotency-Key` is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

/**
 * Bytes a partition may store before it refuses appends (507 `partition_full`). A Durable Object holds 10 GB;
 * the rest is headroom for indexes, producer state and the batch being written.
 */
export const PARTITION_BYTES_MAX = 9 * 1024 * 1024 * 1024;
/**
 * Reading SQLite's database size is a native call that cost ~5 % of an append's CPU in a profile, so a partition
 * reads it once per this many stored batches written, adding their bytes in between...
 */
export const DATABASE_SIZE_RECHECK_APPENDS = 32;
/**
 * ...and at every append once that estimate comes this close to `PARTITION_BYTES_MAX`. The estimate lags the
 * real size by the line prefixes and page overhead of at most 32 stored batches (each at most one request, 8 MiB),
 * far inside this margin, so a partition never passes its limit on a stale figure.
 */
export const DATABASE_SIZE_RECHECK_MARGIN_BYTES = 1024 * 1024 * 1024;

/** Stored batches one alarm run may delete for retention or rewrite for compaction before yielding. */
export const RETENTION_BATCHES_PER_STEP = 500;
export const COMPACTION_BATCHES_PER_STEP = 50;

/**
 * Tiered storage: the size an offload aims each R2 segment at (whole stored batches, so a segment may pass it by
 * one batch). Large enough that R2 operations stay few; small enough to build in a Durable Object's memory.
 */
export const SEGMENT_BYTES_TARGET = 8 * 1024 * 1024;
/** Stored batches in one segment at most: bounds its index (a manifest row, ~120 bytes per batch) and the rows read. */
export const SEGMENT_BATCHES_MAX = 1_000;
/** Segments one alarm run offloads before yielding (it sets the alarm for now again when more are due). */
export const OFFLOAD_SEGMENTS_PER_RUN = 4;
/**
 * After an append takes a partition past its local retention, its alarm runs within this long: soon enough that
 * a burst cannot fill the object first, late enough that a burst's batches go out together in one segment.
 */
export const OFFLOAD_CHECK_INTERVAL_MS = 2_000;
/** After a failed R2 write, the next offload attempt waits this long. */
export const OFFLOAD_RETRY_MS = 10_000;
/**
 * An object under a partition's prefix that is not in its manifest is deleted once it is this old: far longer than
 * any PUT, so an offload still in flight is never mistaken for an orphan.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;
/** How often a partition using remote storage lists its objects looking for orphans. */
export const ORPHAN_SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/** Keys per R2 list page and per R2 multi-delete: R2's own maximum for both. */
export const R2_KEYS_PER_CALL_MAX = 1_000;
/** Remote segments one alarm run may drop for retention before yielding. */
export const REMOTE_RETENTION_SEGMENTS_PER_STEP = 100;

/** How long after an append to a compacted topic the next compaction pass starts. */
export const COMPACTION_DELAY_MS = 30_000;

/**
 * Stored batches a lookup by timestamp reads past the first whose running maximum reaches the timestamp, looking
 * for a record that recent (out-of-order producer timestamps or compaction can put it further on).
 */
export const TIMESTAMP_LOOKUP_BATCHES_MAX = 64;

/** Expired producer states, idempotency keys or a group's committed offsets removed per alarm run. */
export const EXPIRY_ROWS_PER_STEP = 1_000;

/** How long an isolate trusts a cached producer epoch. */
export const PRODUCER_CACHE_TTL_MS = 2_000;
/** `transactional_id` length, as Kafka bounds string ids. */
export const TRANSACTIONAL_ID_LENGTH_MAX = 249;

/** Consumer group and static instance id length; ids use the topic-name charset so they are safe in paths. */
export const GROUP_ID_LENGTH_MAX = 249;
/** Member id length (the coordinator issues UUIDs; the bound only guards the path parameter). */
export const MEMBER_ID_LENGTH_MAX = 64;
/** Members one group may have (Kafka's group.max.size); the assignors are linear in members × partitions. */
export const GROUP_MEMBERS_MAX = 1_000;
/** Partitions one group's subscriptions may cover; bounds assignment, commits and `GET /v1/groups/{group}`. */
export const GROUP_PARTITIONS_MAX = 10_000;
/** Consumer groups the directory behind `GET /v1/groups` will hold. */
export const GROUPS_MAX = 10_000;
/** Topics one member may list in its subscription. */
export const GROUP_SUBSCRIPTION_TOPICS_MAX = 100;
/** Length of a `topic_pattern` regular expression. */
export const TOPIC_PATTERN_LENGTH_MAX = 256;
/** Session timeout bounds and default, as Kafka's group.min/max.session.timeout.ms and session.timeout.ms. */
export const SESSION_TIMEOUT_MS_MIN = 6_000;
export const SESSION_TIMEOUT_MS_MAX = 1_800_000;
export const SESSION_TIMEOUT_MS_DEFAULT = 45_000;
/**
 * Longest rebalance timeout a member that rejoins may ask for (`rebalance_timeout_ms`: Kafka's JoinGroup
 * `rebalanceTimeoutMs`, the client's max.poll.interval.ms): a holder not back this long after a rebalance asked it
 * to rejoin is removed, so a stuck client keeps others idle at most this long. Longer asks are capped.
 */
export const REBALANCE_TIMEOUT_MS_MAX = SESSION_TIMEOUT_MS_MAX;
/**
 * How far SQLite's copy of a member's read positions may lag the coordinator's memory (Kafka's
 * auto.commit.interval.ms default): a restarted coordinator re-delivers at most what was read in that time past
 * the committed offsets, and a poll writes no position row of its own.
 */
export const POSITION_WRITE_INTERVAL_MS = 5_000;
/**
 * Longest auto-commit interval a poll may ask for (`auto_commit_interval_ms`; Upstash's `Kafka-Auto-Commit-Interval`),
 * as long as the longest session: a member that polls at all commits at least this often. Longer asks are capped.
 */
export const AUTO_COMMIT_INTERVAL_MS_MAX = SESSION_TIMEOUT_MS_MAX;
/** How often a coordinator re-reads topic metadata to pick up new partitions and topics matching a pattern. */
export const GROUP_METADATA_REFRESH_MS = 5_000;
/**
 * Partitions one metadata refresh asks for their log start, all at once (each a call to its object): a pattern that
 * suddenly matches thousands must stay inside Workers' 1,000 subrequests per invocation, beside the refresh's own (up
 * to `GROUP_SUBSCRIPTION_TOPICS_MAX` topic descriptions), and a member call that runs the refresh waits for one round
 * of calls, not dozens. The rest are asked by the next refreshes, one per member call (10,000 partitions in 200), and
 * handed out only once their start is known.
 */
export const GROUP_DISCOVERY_CALLS_MAX = 50;
/** Partitions one poll reads; a member owning more is served a rotating window of them. */
export const POLL_PARTITIONS_MAX = 64;
/** Bytes of the `metadata` string stored with a committed offset (Kafka's offset.metadata.max.bytes). */
export const COMMIT_METADATA_BYTES_MAX = 4_096;
/** Alarm retry delay for publishing a group's summary to the group directory after a failed attempt. */
export const GROUP_PUBLISH_RETRY_MS = 10_000;
/**
 * Kafka's offsets.retention.minutes default (7 days, KIP-211): how long a group may stay empty before its offsets
 * expire. The `OFFSETS_RETENTION_MINUTES` var overrides it.
 */
export const OFFSETS_RETENTION_MINUTES_DEFAULT = 10_080;
/** How long the directory keeps a deleted group's tombstone, so a late summary cannot bring it back. */
export const GROUP_TOMBSTONE_MS = 3_600_000;

// Live delivery: streaming reads and webhooks.
/** SSE: how long one long-poll read waits for an append before a keep-alive comment goes out, and its bounds. */
export const SSE_KEEPALIVE_MS_DEFAULT = 15_000;
export const SSE_KEEPALIVE_MS_MIN = 100;
/** Records and bytes one SSE read takes from the partition before writing them out. */
export const STREAM_READ_RECORDS_MAX = 1_000;
export const STREAM_READ_BYTES_MAX = 1024 * 1024;
/** Webhook subscriptions one topic may have; every one is a delivery lane per partition. */
export const SUBSCRIPTIONS_PER_TOPIC_MAX = 16;
export const WEBHOOK_URL_LENGTH_MAX = 2_048;
/** Records per delivered batch: default and ceiling; and the bytes of one batch (one SQLite row while pending). */
export const WEBHOOK_BATCH_RECORDS_DEFAULT = 100;
export const WEBHOOK_BATCH_RECORDS_MAX = 1_000;
export const WEBHOOK_BATCH_BYTES_MAX = 512 * 1024;
/** Longest a subscription may wait to fill a batch. */
export const WEBHOOK_BATCH_WAIT_MS_MAX = 10_000;
export const WEBHOOK_RETRY_SCHEDULE_LENGTH_MAX = 32;
/** Longest delay between two attempts, whatever the schedule or a receiver's `Retry-After` asks for. */
export const WEBHOOK_RETRY_DELAY_MS_MAX = 86_400_000;
/** Retries wait their scheduled delay plus or minus this fraction, so failed receivers are not hit in lockstep. */
export const WEBHOOK_RETRY_JITTER_RATIO = 0.1;
export const WEBHOOK_ATTEMPTS_MAX = 32;
/** A receiver must answer within this (Svix uses 15 s); anything later is a failed attempt. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
/** Bytes of a receiver's response body kept in the attempt log (the rest is not read). */
export const WEBHOOK_RESPONSE_BYTES_MAX = 1_024;
/** Attempts kept per subscription in the delivery log, and the most one `GET …/deliveries` returns. */
export const WEBHOOK_DELIVERY_LOG_MAX = 500;
export const WEBHOOK_DELIVERIES_PAGE_MAX = 100;
/** One alarm run of a delivery object: lanes tail their partitions for this long, then the alarm is re-armed. */
export const WEBHOOK_RUN_MS = 25_000;
/** One long-poll read of a caught-up lane (woken by appends; the timer only bounds it). */
export const WEBHOOK_POLL_WAIT_MS = 10_000;
/**
 * A dispatcher whose lanes are all caught up sleeps: its partitions poke it on the next append. It still wakes
 * this often, as a safety net for a poke that never arrived and to take up partitions the topic gained.
 */
export const WEBHOOK_IDLE_RECHECK_MS = 5 * 60_000;
/** After a lane failed unexpectedly (a partition unreachable), or the registry read, the next run waits this long. */
export const WEBHOOK_ERROR_RETRY_MS = 5_000;
/** A dead-letter write that failed (the registry or partition unavailable, or its bug) is tried again after this long. */
export const WEBHOOK_DEAD_LETTER_RETRY_MS = 30_000;
/**
 * A partition whose watch fails (overloaded, or a bug) cannot poke its dispatcher: the dispatcher looks again after
 * `WEBHOOK_ERROR_RETRY_MS`, twice as long each time the watch fails again, up to this.
 */
export const WEBHOOK_WATCH_RETRY_MS_MAX = WEBHOOK_IDLE_RECHECK_MS;
/** After a secret rotation, deliveries are signed with the old secret too for this long. */
export const WEBHOOK_SECRET_GRACE_MS = 86_400_000;
/** Keys and header conditions one subscription filter may list. */
export const WEBHOOK_FILTER_TERMS_MAX = 100;
/** Headers of an inbound webhook kept on the record (the record limit) and the bytes of one header value. */
export const INBOUND_HEADER_VALUE_BYTES_MAX = 8_192;

/** WebSocket tails: records and bytes per pushed message, and how far a tail may run ahead of its acks. */
export const TAIL_MESSAGE_RECORDS_MAX = 1_000;
export const TAIL_MESSAGE_BYTES_MAX = 1024 * 1024;
export const TAIL_UNACKED_BYTES_MAX = 8 * 1024 * 1024;
/**
 * How often the partition's alarm comes while a tail sends in the background (reads from R2, or pays for its messages
 * with a fetch quota), so a send cut short (the object evicted, the key's authority not answering) resumes by then,
 * not at the next append or acknowledgement.
 */
export const TAIL_RESUME_MS = 10_000;
/**
 * How often a live read (a WebSocket tail, an SSE stream) asks its payer's authority (a key's, or anonymous's) whether
 * the payer has a fetch quota, at its next message: a quota set or removed after the read opened reaches it within this time.
 */
export const TAIL_PAYER_CHECK_MS = 10_000;
/** Open WebSocket tails per partition. */
export const TAILS_PER_PARTITION_MAX = 1_000;

// Security: keys, quotas, hostile input.
/** API keys the key store will hold, and ACL entries per key. */
export const KEYS_MAX = 10_000;
/**
 * Listing rows a page of `GET /v1/keys` catches up from their authorities, at most (src/auth/key-store.ts): all of
 * them while under blockConcurrencyWhile, which resets the object after 30 s. Rows a change left behind are few;
 * after the upgrade that marks every row, the rest are listed from their rows until a later page or GET.
 */
export const KEY_ROWS_CATCH_UP_MAX = 32;
/**
 * Partitions one key may hold WebSocket tails on at once. Its authority lists them so a revocation can close
 * every tail the key opened; when the list is full it is pruned of partitions whose tails have closed.
 */
export const KEY_TAIL_PARTITIONS_MAX = 1_024;
export const KEY_ACL_ENTRIES_MAX = 100;
/** Secrets (the admin token, key secrets) an isolate keeps the SHA-256 of once they matched: see secret-digests.ts. */
export const VERIFIED_SECRETS_MAX = 256;
export const KEY_NAME_LENGTH_MAX = 128;
/**
 * How long `_audit` keeps an admin action: a year, long enough for the usual audit look-backs, while a busy
 * cluster's trail cannot grow without bound (nobody may alter `_audit`'s config over the API).
 */
export const AUDIT_RETENTION_MS = 365 * 24 * 60 * 60 * 1000;
/** Nesting of arrays and objects in a JSON body. Deeper documents are refused before validation. */
export const JSON_DEPTH_MAX = 64;
/** Members of one JSON object in a body. */
export const JSON_OBJECT_FIELDS_MAX = 10_000;
/** Largest quota rate a key may be given (bytes or requests per second). */
export const QUOTA_RATE_MAX = 1024 * 1024 * 1024;

/**
 * The latest time (epoch ms) a Durable Object alarm may be set for. workerd holds the time as int64 nanoseconds and
 * refuses later ones ("doesn't support dates after 2189", though the bound is in 2262); records and retention.ms
 * can put due work far past it, so the alarm is set here instead and simply runs again then.
 */
export const ALARM_AT_MS_MAX = 9_223_372_036_854;
/**
 * A partition's alarm run that failed sets the alarm again itself (alarm-run.ts), after this long, doubling with each
 * failure in a row, at most `ALARM_RETRIES_MAX` times in a row (2 s to 256 s, about 8.5 min in all); then it throws
 * and workerd's own few retries are the last. The count is stored, so an instance evicted meanwhile goes on counting:
 * a failure that never clears ends. The cap bounds the longest wait too, so it needs no maximum of its own.
 */
export const ALARM_RETRY_MS_MIN = 2_000;
export const ALARM_RETRIES_MAX = 8;

/** The latest timestamp (epoch ms) a record may carry: the last instant a JavaScript Date can hold. */
export const TIMESTAMP_MS_MAX = 8_640_000_000_000_000;

/** Durable Streams (`/ds`): how long a long-poll read waits at the tail (the `DS_LONG_POLL_MS` var overrides). */
export const DS_LONG_POLL_MS_DEFAULT = 20_000;
/** Durable Streams: bytes of records one read answers (soft: one record always goes). */
export const DS_READ_BYTES_MAX = 1024 * 1024;
/** Durable Streams: how long an idle idempotent producer is remembered by a stream. */
export const DS_PRODUCER_IDLE_MS = 7 * 24 * 60 * 60 * 1000;
/** Durable Streams: how long one SSE response stays open before the client is asked to reconnect. */
export const DS_SSE_LIFETIME_MS = 60_000;
/**
 * Durable Streams: a stream marked deleted has its partition's alarm end it (its reference on its source given back,
 * its topic dropped) this long after (the mark, or the partition's latest reschedule), if the edge's end (at once)
 * failed and no request has finished it; each end that fails doubles the wait, up to `DS_DROP_RETRY_MS_MAX`.
 */
export const DS_DROP_CHECK_MS = 60_000;
/**
 * Durable Streams: the longest wait between the alarm's tries of a drop (or of a fork's release of its source) that
 * keeps failing: `DS_DROP_CHECK_MS`, doubling with each failure, up to this; tried until it lands.
 */
export const DS_DROP_RETRY_MS_MAX = 60 * 60_000;
/** Durable Streams: forks resolved per request when a delete releases a chain of soft-deleted sources. */
export const DS_FORK_CHAIN_MAX = 64;
/** Durable Streams: how long past its TTL or Expires-At a stream may still answer (never earlier than promised). */
export const DS_EXPIRY_GRACE_MS = 1_000;
/** Durable Streams: bytes of a too-large body read (and discarded) before the 413, so the client sees the answer. */
export const DS_DRAIN_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Metrics: a Durable Object or isolate sends its figures to the metrics hub at most this often (the first change
 * after a quiet spell goes at once, later ones are coalesced into one report at the end of the interval), so a
 * scrape is one RPC and sees every figure at most this late.
 */
export const METRICS_REPORT_INTERVAL_MS = 1_000;
/**
 * The metrics hub holds reports in memory and writes the sources that changed at most this often, so its own rows
 * written do not follow the report rate. A hub lost between flushes is made whole by the sources' next reports.
 */
export const METRICS_HUB_FLUSH_MS = 10_000;
/** An isolate that has not reported for this long is forgotten by the hub (its counts stay in the totals). */
export const METRICS_EDGE_FORGET_MS = 24 * 60 * 60 * 1000;
/** Sources (objects and isolates) the hub holds; past it, new sources are dropped and logged, never an error. */
export const METRICS_SOURCES_MAX = 20_000;
/**
 * Sources one metrics-hub flush writes at most. More changed sources than this (a burst of new isolates, thousands
 * of partitions reporting at once) are written by further alarms set at once, each its own short transaction: every
 * Durable Object of the Worker shares the hub's isolate, and a flush blocks them all while it runs.
 */
export const METRICS_HUB_FLUSH_ROWS_MAX = 200;
/** Silent isolates one metrics-hub alarm or scrape forgets at most (one row deleted each); the rest follow. */
export const METRICS_HUB_FORGET_ROWS_MAX = 200;
/**
 * Forgotten isolates whose last report the metrics hub keeps (in SQLite): an isolate idle past
 * `METRICS_EDGE_FORGET_MS` may still be alive, and its next report carries cumulative counters that include what
 * forgetting moved into the totals, which the hub then takes back. Bounded: the longest forgotten are let go (an
 * isolate silent that long is gone in practice).
 */
export const METRICS_HUB_FORGOTTEN_REMEMBERED_MAX = 1_000;
/**
 * Incarnations of retired sources (deleted partitions) the metrics hub remembers, in memory, so that a report sent
 * just before the retirement and delivered after it cannot bring the source back. Bounded: the oldest are let go.
 */
export const METRICS_HUB_RETIRED_REMEMBERED_MAX = 1_000;

/**
 * Tiered storage reads (src/shared/log-reader.ts): partition round trips one read may make while it walks remote
 * segments into the local log (each round returns at least one batch, so a read stops short only of its limits'
 * far side), and how often a segment that vanished under a read (retention deleted it) is asked for again.
 */
export const REMOTE_READ_ROUNDS_MAX = 8;
export const REMOTE_READ_RETRIES_MAX = 3;

// The streaming produce channel (src/http/produce-channel.ts).
/**
 * Messages sent and not yet answered, per connection. A WebSocket client that goes past it is disconnected with
 * `STREAM_CLOSE.tooManyInFlight`; an NDJSON body is simply not read further until answers free room.
 */
export const STREAM_IN_FLIGHT_MESSAGES_MAX = 1_000;
/** Bytes of messages sent and not yet answered, per connection (same treatment as the message bound). */
export const STREAM_IN_FLIGHT_BYTES_MAX = 16 * 1024 * 1024;
/** Characters of one message's JSON: room for the largest record a topic accepts, base64 included. */
export const STREAM_MESSAGE_CHARS_MAX = 2 * MESSAGE_BYTES_CEILING;
/** Records of one coalesced append: a produce request's limit. */
export const STREAM_APPEND_RECORDS_MAX = PRODUCE_RECORDS_MAX;
/** Characters of one coalesced append (measured as message text): well under an RPC's size limit. */
export const STREAM_APPEND_CHARS_MAX = 4 * 1024 * 1024;
/** Characters of a message checked for being all ASCII in one pass (longer ones are rare: their sizes are counted). */
export const STREAM_ASCII_PROBE_CHARS_MAX = 64 * 1024;
/** How often a key-authenticated stream checks that its key still exists (a stream outlives its request). */
export const STREAM_KEY_RECHECK_MS = 1_000;

// The app's router (src/http/hono.ts).
/**
 * Method-and-path answers a router keeps; past it the oldest goes. Paths name topics and groups, so their number is
 * up to the callers: a bound, not a guess at how many there are.
 */
export const ROUTE_MATCHES_KEPT_MAX = 1024;
/**
 * The longest path whose answer is kept (a topic's records path is far shorter): kept answers stay within about a
 * megabyte however long the paths callers send.
 */
export const ROUTE_MATCH_PATH_CHARS_MAX = 512;

/** Longest list cursor text accepted (src/shared/page.ts): a key holds at most a topic or group name (249 characters) and a number. */
export const CURSOR_LENGTH_MAX = 1_024;

/** How many validation problems one 400 lists (src/http/body.ts). */
export const VALIDATION_ISSUES_SHOWN_MAX = 20;

/** Steps one webhook lane (src/webhook/lane.ts) takes in one alarm run (batches sent, reads, retries), so a run always ends. */
export const WEBHOOK_LANE_STEPS_MAX = 10_000;
/** Slack on the change wait, so a read that times out normally wins the race against it. */
export const WEBHOOK_CHANGE_GRACE_MS = 1_000;

/** How long a webhook URL's host name lookup over DNS-over-HTTPS may take (src/webhook/url-policy.ts). */
export const WEBHOOK_DOH_TIMEOUT_MS = 3_000;

/** How long a browser may keep a CORS preflight's answer (`Access-Control-Max-Age`). */
export const CORS_PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * What V8 spends on one batch of the batch cache (src/partition/batch-cache.ts) besides its characters: the entry
 * object, its slot, the string's header.
 */
export const BATCH_CACHE_ENTRY_OVERHEAD_BYTES = 128;

/** How many recent append groups' sizes say how many requests to expect in the next (src/partition/commit-queue.ts). */
export const APPEND_GROUP_SIZES_RECENT = 16;

// Last, the values esbuild cannot put in place of their name (a list, a fraction): it inlines a module's constants
// only up to the first one it cannot, and every name left after it stays a variable in the bundle (about 300
// bytes gzipped when these two stood among the others).

/**
 * A member's session deadline lives in the coordinator's memory; SQLite holds one at most this fraction of the
 * session timeout behind it (written when it falls further back), so a member polling in a loop costs a row every
 * third of its session, not one per call. A restarted coordinator may expire a live member up to that much early
 * (a rebalance, never a lost commit); a silent member is never kept past its session timeout.
 */
export const SESSION_DEADLINE_STALENESS_FRACTION = 1 / 3;
/** Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (delay before each attempt). */
export const WEBHOOK_RETRY_SCHEDULE_MS_DEFAULT: readonly number[] = [
	0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];
