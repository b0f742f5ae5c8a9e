/**
 * @module
 * Tributary's client SDK: admin, a batching idempotent producer and a group consumer over the public HTTP API.
 * No runtime dependencies; runs wherever `fetch` does (Node ≥ 20, Workers, browsers, Deno, Bun).
 *
 * @example
 * import { Tributary } from "tributary/client";
 * const client = new Tributary({ url: "http://127.0.0.1:8787", token });
 * for await (const record of client.consumer({ group: "billing", topics: ["orders"] })) console.log(record.value);
 */

export { AclConflict, type AclRevocation } from "./acl-edit.ts";
export type {
	AclEntry,
	GroupDescription,
	GroupSummary,
	KeyInfo,
	LocationHint,
	PartitionOffsets,
	ResetTarget,
	Subscription,
	TopicConfig,
	TopicDescription,
	TopicPartition,
	TopicSummary,
} from "./admin.ts";
export { Groups, Keys, Subscriptions, Topics } from "./admin.ts";
export { ACL_CHANGE_ATTEMPTS, Anonymous, type AnonymousAccess, preconditionRetry } from "./anonymous.ts";
export { Consumer, type ConsumerOptions } from "./consumer.ts";
export { type ClientErrorCode, TributaryError, WRANGLER_PROXY_RETRY_TEXT } from "./errors.ts";
export type { ConditionalChange } from "./grant-tags.ts";
export {
	baseUrlProblem,
	brokerUrl,
	type ConnectionOptions,
	type FetchLike,
	type JsonCodec,
	LOCAL_URL,
	urlProblem,
} from "./http.ts";
export { murmur2, partitionForKey } from "./partitioner.ts";
export { Producer, type ProducerOptions } from "./producer.ts";
export type { ConsumerRecord, Headers, ProducerRecord, RecordHeader, RecordMetadata } from "./records.ts";
export type { StreamOptions } from "./stream.ts";
export { type FetchOptions, type FetchResult, Tributary } from "./tributary.ts";
