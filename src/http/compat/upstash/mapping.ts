/**
 * @module
 * Pure translation between the Upstash Kafka REST API's shapes (as typed in `@upstash/kafka` 1.3.5) and
 * Tributary's. No I/O: the routes fetch, these functions reshape.
 *
 * Upstash's messages carry strings: `key`, `value` and header values are `string` in the client's types. A record
 * produced through `/v1` may hold any JSON value or bytes, so reading one here turns it into the text a Kafka
 * StringDeserializer would see: a string as itself, other JSON as its JSON text, bytes as UTF-8, and nothing
 * (a null key, a tombstone, a null header) as `""`.
 */

import type { CommittedOffset, GroupDescription, TopicPartition } from "../../../group/types.ts";
import { base64Decode } from "../../../shared/base64.ts";
import type { DomainError } from "../../../shared/errors.ts";
import { parseJsonExact } from "../../../shared/json.ts";
import type { StoredRecord as PartitionRecord, ValueEncoding } from "../../../shared/record-codec.ts";
import type { ProduceInput, RecordPosition } from "../../../topic/produce.ts";
import type { UpstashMessageInput } from "./schemas.ts";

/** Upstash's `Metadata`: where a produced message landed. */
export interface UpstashMetadata {
	readonly topic: string;
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
}

export interface UpstashHeader {
	readonly key: string;
	readonly value: string;
}

/** Upstash's `Message`, as fetch and consume return it. */
export interface UpstashMessage {
	readonly topic: string;
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
	readonly key: string;
	readonly value: string;
	readonly headers: readonly UpstashHeader[];
}

export interface UpstashTopicPartitionOffset {
	readonly topic: string;
	readonly partition: number;
	readonly offset: number;
}

/** Upstash's `GroupAssignments`, one per group in `GET /consumers`. */
export interface UpstashGroupAssignments {
	readonly name: string;
	readonly instances: readonly {
		readonly name: string;
		readonly topics: readonly { readonly topic: string; readonly partitions: readonly number[] }[];
	}[];
}

/** A record as a partition stores and returns it (`src/shared/record-codec.ts`), plus its topic. */
export interface StoredRecord extends PartitionRecord {
	readonly topic?: string;
}

/**
 * Upstash's error body: the client throws `UpstashError` with `error` as its message. Tributary's recovery
 * details have no place in it, except a 500's request id, which goes into the message so it reaches a bug report.
 */
export function upstashErrorBody(error: DomainError, status: number): { error: string; status: number } {
	const requestId = error.details?.request_id;
	const message = typeof requestId === "string" ? `${error.message} (request id ${requestId})` : error.message;
	return { error: message, status };
}

/** An Upstash message to produce: its string value and key are stored as JSON strings, read back unchanged. */
export function toProduceInput(message: UpstashMessageInput): ProduceInput {
	return {
		key: message.key ?? null,
		value: message.value,
		headers: message.headers ?? [],
		timestampMs: message.timestamp ?? null,
		keyEncoding: "json",
		valueEncoding: "json",
		partition: message.partition ?? null,
	};
}

export function toMetadata(topic: string, position: RecordPosition): UpstashMetadata {
	return { topic, partition: position.partition, offset: position.offset, timestamp: position.timestamp };
}

const utf8 = new TextDecoder();

/** The text a Kafka StringDeserializer would make of a stored key or value. */
export function textOf(data: unknown, encoding: ValueEncoding = "json"): string {
	if (data === null || data === undefined) return "";
	if (encoding === "base64") return utf8.decode(base64Decode(data as string));
	return typeof data === "string" ? data : JSON.stringify(data);
}

export function toMessage(topic: string, record: StoredRecord): UpstashMessage {
	return {
		topic,
		partition: record.partition,
		offset: record.offset,
		timestamp: record.timestamp,
		key: textOf(record.key, record.key_encoding),
		value: textOf(record.value, record.value_encoding),
		headers: record.headers.map((h) => ({ key: h.key, value: h.value ?? "" })),
	};
}

/**
 * The committed offset of each asked partition, in the order asked: Kafka's meaning (the next offset to read),
 * or -1 where the group has committed nothing.
 */
export function committedOffsets(asked: readonly TopicPartition[], committed: readonly CommittedOffset[]): UpstashTopicPartitionOffset[] {
	const byPartition = new Map(committed.map((c) => [`${c.topic}\u0000${c.partition}`, c.offset]));
	return asked.map((tp) => ({
		topic: tp.topic,
		partition: tp.partition,
		offset: byPartition.get(`${tp.topic}\u0000${tp.partition}`) ?? -1,
	}));
}

/**
 * A group's members as Upstash lists consumer instances: each member by its instance id (a member that joined
 * through `/v1` without one, by its member id), with its partitions grouped by topic in ascending order.
 */
export function groupAssignments(group: string, description: GroupDescription): UpstashGroupAssignments {
	const instances = description.members.map((member) => {
		const byTopic = new Map<string, number[]>();
		for (const tp of member.assignment) {
			const partitions = byTopic.get(tp.topic);
			if (partitions === undefined) byTopic.set(tp.topic, [tp.partition]);
			else partitions.push(tp.partition);
		}
		const topics = [...byTopic.entries()]
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
			.map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
		return { name: member.instanceId ?? member.memberId, topics };
	});
	instances.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	return { name: group, instances };
}

/** Distinct topics, sorted: the subscription a consume asks for, in a form two requests can be compared by. */
export function subscriptionOf(topics: readonly string[]): string[] {
	return [...new Set(topics)].sort();
}

/** Records as a partition read returns them (JSON objects joined by `RECORD_SEPARATOR`), parsed exactly. */
export function parseStoredRecords(records: string): StoredRecord[] {
	return records === "" ? [] : (parseJsonExact(`[${records}]`) as StoredRecord[]);
}

/**
 * The records of a group poll laid out by partition (`{"partitions":[{"topic","partition","records":[…]}…],…}`),
 * parsed exactly, each with its topic.
 */
export function parsePolledRecords(json: string): { readonly topic: string; readonly record: StoredRecord }[] {
	const { partitions } = parseJsonExact(json) as { partitions: { topic: string; records: StoredRecord[] }[] };
	return partitions.flatMap(({ topic, records }) => records.map((record) => ({ topic, record })));
}
