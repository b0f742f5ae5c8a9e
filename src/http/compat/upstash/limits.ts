/**
 * @module
 * Limits and defaults of the Upstash Kafka REST API mount. Everything else (body size, records per
 * produce, fetch ceilings) is Tributary's own, from `src/shared/limits.ts`.
 */

/** Upstash's documented default for `timeout` on fetch and consume: wait at most 1 s for records. */
export const UPSTASH_TIMEOUT_MS_DEFAULT = 1_000;

/**
 * How often an instance's consumes auto-commit when `Kafka-Auto-Commit-Interval` is absent: Upstash's documented
 * default (its client's `autoCommitInterval`: "Default is 5000"), which is Kafka's `auto.commit.interval.ms`. A
 * consume in a loop then writes a commit row and waits for a storage commit once per 5 s, not at every call; what
 * it redelivers after a rebalance or an expired session is still its last consume (what earlier consumes returned
 * is committed before a partition moves), and up to 5 s of records only after a restart of the group's coordinator.
 * `Kafka-Auto-Commit-Interval: 0` commits at every consume.
 */
export const UPSTASH_AUTO_COMMIT_INTERVAL_MS_DEFAULT = 5_000;

/**
 * Session of a consumer instance. REST clients call irregularly (a cron'd function, a request handler), so
 * Kafka's 45 s would rebalance the group between two calls a minute apart and hand the instance's partitions
 * around; five minutes keeps them put, and `removeConsumerInstance` frees them at once. A first consume may set
 * another with `Kafka-Session-Timeout-Ms`, within Kafka's bounds.
 */
export const UPSTASH_SESSION_TIMEOUT_MS = 300_000;

/**
 * `topicPartitionOffsets` in one fetch, and partitions in one committed/offsets request. Each partition is a
 * Durable Object call (two when a fetch waits), so this keeps one request well inside Workers' subrequest limit.
 */
export const UPSTASH_PARTITIONS_PER_REQUEST_MAX = 100;

/** Consumer instances remembered per isolate (instance → member id); the cache is dropped whole when full. */
export const UPSTASH_INSTANCE_CACHE_MAX = 10_000;

/** Groups `GET /consumers` describes; more are left out (each is one coordinator call). */
export const UPSTASH_CONSUMERS_GROUPS_MAX = 100;
