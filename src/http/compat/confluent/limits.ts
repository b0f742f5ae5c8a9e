/**
 * @module
 * Limits of the Confluent REST v3 mount, as named constants. Units last in names.
 */

import { MESSAGE_BYTES_CEILING, PRODUCE_RECORDS_MAX, REQUEST_BYTES_MAX } from "../../../shared/limits.ts";

/** The one logical cluster Tributary presents; any other `cluster_id` in a path is a 404. */
export const CLUSTER_ID = "tributary";

/**
 * Characters of one record's JSON text in a produce body. A record's stored form is capped at
 * `MESSAGE_BYTES_CEILING`; base64 makes binary 4/3 larger, and the envelope adds a little: twice the ceiling
 * leaves room for any record the topic could accept, and longer ones are answered 413 without being buffered.
 */
export const RECORD_TEXT_LENGTH_MAX = 2 * MESSAGE_BYTES_CEILING;

/** Bytes of a streamed (chunked) produce body before the stream is ended with a 413 report. */
export const STREAM_BYTES_MAX = 8 * REQUEST_BYTES_MAX;

/** Records of one streamed produce; the stream is ended with a 400 report after that many. */
export const STREAM_RECORDS_MAX = 100_000;

/** Records produced together: what arrived in one body chunk, up to this many (one produce per partition). */
export const PRODUCE_WINDOW_RECORDS_MAX = Math.min(1_000, PRODUCE_RECORDS_MAX);

/** Entries of one `records:batch` request (Confluent's is a server setting; this is Tributary's). */
export const BATCH_ENTRIES_MAX = 1_000;

/** Batch entry ids, as Confluent's `ProduceBatchRequestEntry` checks them: 1–80 of `[0-9a-zA-Z-_]`. */
export const BATCH_ID_LENGTH_MAX = 80;

/** Config changes in one create or `configs:alter` request (a topic has fewer configs than this). */
export const CONFIG_CHANGES_MAX = 100;

/** Largest `replication_factor` a create accepts (Kafka's is the broker count; Tributary keeps it only as a check). */
export const REPLICATION_FACTOR_MAX = 32;
