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

/** Partitions a topic may have. `GET /v1/topics/{topic}` fans out to every partition, so keep it bounded. */
export const PARTITIONS_MAX = 256;

/** Topics the registry will hold. */
export const TOPICS_MAX = 10_000;

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

/** Headers per record, and the bytes of one header key. */
export const RECORD_HEADERS_MAX = 64;
export const HEADER_KEY_BYTES_MAX = 1024;

/** How long an isolate trusts its cached copy of a topic's metadata before asking the registry again. */
export const TOPIC_CACHE_TTL_MS = 2_000;

/** Alarm retry delay for registry clean-up work (deleting a topic's partitions) that failed. */
export const CLEANUP_RETRY_MS = 10_000;
