/**
 * @module
 * Records as the SDK shows them, and their wire form. Keys and values are any JSON value, or bytes
 * (`Uint8Array`), which travel as padded base64 with `key_encoding`/`value_encoding: "base64"` and come back
 * as `Uint8Array`. Headers are the API's ordered `{key, value}` list; a plain object is accepted on send.
 */

import { invalidArgument } from "./errors.ts";

export type RecordHeader = { readonly key: string; readonly value: string | null };
export type Headers = readonly RecordHeader[] | Readonly<Record<string, string | null>>;

/** A record to send. */
export interface ProducerRecord {
	readonly key?: unknown;
	/** Any JSON value, `null` (a tombstone on a compacted topic), or bytes. */
	readonly value: unknown;
	readonly headers?: Headers;
	/** An explicit partition; otherwise the key's murmur2 hash, as Kafka's Java client picks it. */
	readonly partition?: number;
	/** Epoch milliseconds; absent, the broker's append time. */
	readonly timestamp?: number;
}

/** Where a record was written: what `send()` resolves to once the write has committed. */
export interface RecordMetadata {
	readonly topic: string;
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
}

/** A record as a consumer receives it. */
export interface ConsumerRecord {
	readonly topic: string;
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
	readonly key: unknown;
	readonly value: unknown;
	readonly headers: RecordHeader[];
}

/** A record as the API returns it (group poll and partition fetch). */
export interface WireRecord {
	readonly topic?: string;
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
	readonly key: unknown;
	readonly value: unknown;
	readonly headers?: RecordHeader[];
	readonly key_encoding?: "json" | "base64";
	readonly value_encoding?: "json" | "base64";
}

const encoder = new TextEncoder();

/** The API's JSON object for one record, with `partition` set to the one the producer chose. */
export function toWire(record: ProducerRecord, partition: number): Record<string, unknown> {
	if (typeof record !== "object" || record === null || !("value" in record)) {
		throw invalidArgument("a record needs a value (null for none)");
	}
	const wire: Record<string, unknown> = {};
	if (record.key !== undefined && record.key !== null) {
		if (record.key instanceof Uint8Array) {
			wire.key = base64Encode(record.key);
			wire.key_encoding = "base64";
		} else wire.key = record.key;
	}
	if (record.value instanceof Uint8Array) {
		wire.value = base64Encode(record.value);
		wire.value_encoding = "base64";
	} else wire.value = record.value === undefined ? null : record.value;
	const headers = headerList(record.headers);
	if (headers.length > 0) wire.headers = headers;
	if (record.timestamp !== undefined) wire.timestamp = record.timestamp;
	wire.partition = partition;
	return wire;
}

export function headerList(headers: Headers | undefined): RecordHeader[] {
	if (headers === undefined) return [];
	if (Array.isArray(headers)) return headers as RecordHeader[];
	return Object.entries(headers).map(([key, value]) => ({ key, value }));
}

/**
 * The bytes Kafka's partitioner hashes: UTF-8 of a string key, the bytes of a binary one, else its JSON text (as
 * `stringify`, the client's codec, writes it: the text the broker stores and hashes).
 */
export function keyBytes(key: unknown, stringify: (value: unknown) => string = JSON.stringify): Uint8Array | null {
	if (key === undefined || key === null) return null;
	if (key instanceof Uint8Array) return key;
	if (typeof key === "string") return encoder.encode(key);
	return encoder.encode(stringify(key));
}

export function fromWire(record: WireRecord, topic: string): ConsumerRecord {
	return {
		topic: record.topic ?? topic,
		partition: record.partition,
		offset: record.offset,
		timestamp: record.timestamp,
		key: record.key_encoding === "base64" && typeof record.key === "string" ? base64Decode(record.key) : record.key,
		value: record.value_encoding === "base64" && typeof record.value === "string" ? base64Decode(record.value) : record.value,
		headers: record.headers ?? [],
	};
}

const CHUNK = 0x8000;

export function base64Encode(bytes: Uint8Array): string {
	let binary = "";
	for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
	return btoa(binary);
}

export function base64Decode(text: string): Uint8Array {
	const binary = atob(text);
	const bytes = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
	return bytes;
}
