// @ts-check
/**
 * @module
 * Every limit of the gateway, named once.
 */

/** A request frame larger than this closes the connection (Kafka's socket.request.max.bytes is 100 MiB; the Worker takes 8 MiB bodies). */
export const FRAME_BYTES_MAX = 16 * 1024 * 1024;
/** Mirrors of Tributary's limits (src/shared/limits.ts), which the gateway clamps to rather than be refused. */
/** Tributary's longest long-poll; a longer Kafka `max.wait.ms` is cut to it. */
export const FETCH_WAIT_MS_MAX = 30_000;
/** Records per partition in one Fetch (Tributary's fetch cap). */
export const FETCH_RECORDS_MAX = 10_000;
/** Tributary's fetch bytes cap per partition. */
export const FETCH_BYTES_MAX = 16 * 1024 * 1024;
/** Records one Tributary produce request takes (shared/limits.ts PRODUCE_RECORDS_MAX): a partition's batch is one
 * request, so a batch holding more is refused by the gateway, as a broker refuses one over max.message.bytes. */
export const PRODUCE_RECORDS_MAX = 10_000;
/** UTF-8 bytes of a committed offset's metadata Tributary keeps (shared/limits.ts COMMIT_METADATA_BYTES_MAX, Kafka's
 * offset.metadata.max.bytes default): a partition committed with more is OFFSET_METADATA_TOO_LARGE, as from a broker. */
export const COMMIT_METADATA_BYTES_MAX = 4_096;
/** Partitions a Tributary topic may have (shared/limits.ts PARTITIONS_MAX). */
export const TOPIC_PARTITIONS_MAX = 256;
/** Longest topic name, Kafka's and Tributary's (shared/limits.ts TOPIC_NAME_LENGTH_MAX). */
export const TOPIC_NAME_LENGTH_MAX = 249;
/** Tributary's largest record timestamp (shared/limits.ts TIMESTAMP_MS_MAX). */
export const TIMESTAMP_MS_MAX = 8_640_000_000_000_000;
/** Longest member id Tributary holds (shared/limits.ts MEMBER_ID_LENGTH_MAX): the ids JoinGroup issues, a client id
 * in front, stay within it. */
export const MEMBER_ID_LENGTH_MAX = 64;
/** Session timeouts Tributary's coordinator accepts, Kafka's group.min/max.session.timeout.ms defaults: a JoinGroup
 * outside them is INVALID_SESSION_TIMEOUT, as from a broker. */
export const SESSION_TIMEOUT_MS_MIN = 6_000;
export const SESSION_TIMEOUT_MS_MAX = 1_800_000;
/** Topics one page of Tributary's `GET /v1/topics` holds at most (shared/limits.ts LIST_PAGE_LIMIT_MAX). */
export const TOPIC_PAGE_LIMIT = 1_000;
/** Pages of `GET /v1/topics` read for one Metadata: Tributary's topic cap (shared/limits.ts TOPICS_MAX, 10,000) in
 * full pages, and one more. A cursor that goes on past it is a fault of the Worker's, not a longer list. */
export const TOPIC_PAGES_MAX = 11;
/** How long a topic list is reused by the gateway's connections with the same credentials (gateway/topic-list.js). */
export const METADATA_CACHE_MS = 1_000;
/** How long a topic's config, as the data path needs it (its timestamp type), is reused by the gateway's connections
 * with the same credentials (gateway/topic-config.js): as long as a topic list, a broker's config lagging as much. */
export const TOPIC_CONFIG_CACHE_MS = METADATA_CACHE_MS;
/** How young a topic list must be for an id it does not hold to be answered UNKNOWN_TOPIC_ID without listing again
 * (gateway/topic-list.js): a client asking again and again for a deleted topic's id lists at most this often, and a
 * topic created since the list is found within this long, under METADATA_CACHE_MS. */
export const TOPIC_ID_RELIST_MS = 250;
/** Requests a connection may have read but not yet answered; past it the gateway stops reading the socket. */
export const PIPELINED_REQUESTS_MAX = 32;
/** A Fetch read-ahead older than this is not handed out: the client reads afresh (fresher high watermark, and a
 * record deleted by retention meanwhile is not served from memory for long). */
export const READ_AHEAD_AGE_MS_MAX = 2_000;
/** Pages read ahead of a partition's consumer: the second keeps the Worker reading while the gateway encodes the
 * first and the client decodes the one before. A third read no faster (kafkajs through the gateway, 20 pairs
 * against two: records/s 1.01×, 0.84–1.42). */
export const READ_AHEAD_PAGES_MAX = 2;
/** Bytes one connection's read-aheads may hold at once (the sum of their partitions' byte caps). */
export const READ_AHEAD_BYTES_MAX = 32 * 1024 * 1024;
/** Characters of an answer that is not the Worker's JSON kept as its error message and in the gateway's log (a proxy's
 * HTML page says what it is in its first lines). */
export const FOREIGN_BODY_CHARS_MAX = 200;
/** Requests one Kafka request sends the Worker at a time when it needs one per partition (ListOffsets, Produce,
 * DeleteRecords, the log ends an OffsetCommit reads): undici's pool opens a connection for each request in flight, so
 * 1,000 partitions would be 1,000 sockets. A Produce across n partitions takes ⌈n/32⌉ Worker round trips in turn.
 * Measured (kafkajs, one Produce with a batch for every partition, caps side by side in one run, steps alternating):
 * on Miniflare (`BENCH_KAFKA_CAPS=8,16,32,64,Infinity npm run bench:kafka`, bench/lib/gateway-cap.mjs), 64 partitions
 * × 5 × 1 KiB, 40 steps, load average 10–15 on 2 cores, the gateway reached 41, 44.7, 43.8, 46.6 and 44.7 % of one HTTP
 * request's records/s (median of steps; quartiles ±12 points; 64 and no cap are the same at 64 partitions): no cap
 * was faster, the local Worker being CPU-bound. Through `wrangler dev` (taken by hand: bench:kafka starts Miniflare
 * only, and no script here repeats them), 128 partitions × 2 × 1 KiB, 8–12 steps: cap 8
 * took 1.26× cap 32's time per step (quartiles 1.10–1.43), cap 64 0.92× (0.84–1.25), no cap 1.00–1.07× (0.80–1.47);
 * and with 64 or more at once wrangler dev failed Worker requests ("Your worker restarted mid-request", 500, answered
 * LEADER_NOT_AVAILABLE, which clients retry): uncapped 6 of 24 Produces (29 partitions' requests in one run of 10), at
 * 64 1 of 14, at 32 none of 24. So 32: above it no gain was measured and wrangler dev fails requests; below it a
 * many-partition Produce is slower. (Not measured: a
 * deployed Worker, where each wave costs a network round trip.) Fetch is not capped (its long polls would wait
 * behind each other). */
export const WORKER_REQUESTS_AT_ONCE_MAX = 32;
/** Bytes of a produce body sent as one message of the Worker's streaming produce channel (gateway/produce-channel.js):
 * the Worker reads a message of up to 2 × 1 MiB characters (its STREAM_MESSAGE_CHARS_MAX), and a body has at least as
 * many bytes as characters. A larger body (a Kafka batch the Worker takes up to its 8 MiB request limit) goes over
 * HTTP. */
export const CHANNEL_MESSAGE_BYTES_MAX = 2 * 1024 * 1024;
/** Messages and bytes one produce channel has sent and not had reports for: the Worker's bounds (its
 * STREAM_IN_FLIGHT_MESSAGES_MAX and STREAM_IN_FLIGHT_BYTES_MAX), past which it closes the channel; more wait in the
 * gateway. */
export const CHANNEL_IN_FLIGHT_MESSAGES_MAX = 1_000;
export const CHANNEL_IN_FLIGHT_BYTES_MAX = 16 * 1024 * 1024;
/** How long a produce channel with nothing in flight stays open: a topic or key no longer produced to holds no socket,
 * and the platform's own idle timeout (about 100 s on Cloudflare) is never what ends it. */
export const CHANNEL_IDLE_MS_MAX = 30_000;
/** Retries of a topic's create (through the SDK's `topics.create`: gateway/tributary.js `createTopic`) after a failure
 * that may be transient, before CreateTopics answers it: a lost answer's repeat is what tells a create that landed, and
 * the Kafka client waits for the answer meanwhile (each try bounded by HTTP_TIMEOUT_MS; the backoff between them by
 * the SDK, at most 5 s unless Retry-After asks more). */
export const CREATE_TOPIC_RETRIES = 2;
