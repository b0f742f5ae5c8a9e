/**
 * @module
 * The stored form of a record. A partition stores each record as the exact JSON object a fetch returns,
 * `{"partition":P,"offset":O,"timestamp":T,"key":…,"value":…,"headers":[…]}`, and a batch as those objects
 * joined by `",\n"`. A fetch of whole batches is then string concatenation: no parse, no re-serialisation.
 * `JSON.stringify` never writes a raw newline, so `",\n"` cannot occur inside a record and splits batches
 * unambiguously; and a newline is JSON whitespace, so a joined batch is a valid array body as it stands.
 */

import { assert } from "./assert.ts";
import { base64Decode, base64Encode } from "./base64.ts";
import { utf8Encoder } from "./bytes.ts";
import { parseJsonExact } from "./json.ts";

/** Separates records inside a stored batch (and inside a fetch response's `records` array). */
export const RECORD_SEPARATOR = ",\n";
/**
 * How every stored record starts: readers that cut or splice batches as bytes find records by it (record-scan.ts), so
 * `encodeLine` writes it and nothing else may come first.
 */
export const STORED_RECORD_START = '{"partition":';
/** `RECORD_SEPARATOR` as UTF-8 (its two characters are ASCII), for readers that join records as bytes. */
export const RECORD_SEPARATOR_UTF8 = utf8Encoder.encode(RECORD_SEPARATOR);

/** How a key or value is carried in JSON: as a JSON value (a string is a string), or as base64 bytes. */
export type ValueEncoding = "json" | "base64";

export interface RecordHeader {
	readonly key: string;
	readonly value: string | null;
}

/** A record as a partition stores and returns it: one line of a read's JSON. */
export interface StoredRecord {
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
	readonly key: unknown;
	readonly value: unknown;
	readonly headers: readonly RecordHeader[];
	readonly key_encoding?: ValueEncoding;
	readonly value_encoding?: ValueEncoding;
}

/** A record as a producer sends it, after validation. */
export interface ProducedRecord {
	readonly key: unknown;
	readonly value: unknown;
	readonly headers: readonly RecordHeader[];
	readonly timestampMs: number | null;
	readonly keyEncoding: ValueEncoding;
	readonly valueEncoding: ValueEncoding;
}

/**
 * A record on its way to a partition: the timestamp it asked for (null: the broker's append time) and its
 * encoded tail, `"key":…,"value":…,"headers":[…]}`, which the partition prefixes with partition, offset and time.
 */
export interface EncodedRecord {
	readonly timestampMs: number | null;
	readonly tail: string;
	/** UTF-8 bytes of `tail`: what `max.message.bytes` limits. Measured once, at the edge. */
	readonly bytes: number;
	/** `compactionKeyId` of the key; null for keyless records. */
	readonly keyId: string | null;
	/** A null value: on a compacted topic, a delete marker for its key. */
	readonly tombstone: boolean;
}

/**
 * A partition's share of a produce as one payload for the RPC to its `PartitionLog`: the records' tails and their
 * other fields as flat arrays, left out when they hold nothing. A few arrays cross the boundary, not an object per
 * record. The tails go joined by newlines (a tail holds none), whatever the share's size: one string is serialised,
 * copied and read back for less than a hundred, and the partition's split makes slices of it, not copies. In workerd, a
 * 100 × 1 KiB body read by the edge, its share built and sent, and the partition's lines joined: 225 µs a call joined
 * against 270 as an array (medians of 7 runs of 2,000; a second run 253 against 267). bench:ab produce-1c-1p, main against
 * joined, three runs of 8 rounds (load 7-10): B − A −1.17, −0.81 and −0.28 µs/record, lower in 5, 8 and 5 of 8; pooled, −0.58
 * (−2.36 to +3.22), lower in 18 of 24, against an A/A run's +0.32 (−1.26 to +1.66), lower in 2 of 8: a small gain,
 * about 1.5 %, whose sign held. One-record shares (produce-32c-1r, per request of ~530-640 µs, load ~2): +3.2 (+2.0 to
 * +18.3, higher in 6 of 6), then with the builds swapped −15.5 (−28.9 to +31.0, the joined form lower in 2 of 6): within
 * that shape's noise. An earlier measurement found one joined string no cheaper (613 µs a call against 583 for the array,
 * building the lines included, SQL not; medians of 5 runs of 4,000) with tails that were already flat strings, where the
 * edge's tails are built by concatenation, and an array's clone flattens each of them first.
 *
 * Larger shares (a streamed run of 256 messages, a request of a few hundred records) went as an array until a share of
 * 256 × 1 KiB was measured joined: a string over 128 KiB is given pages of its own, fresh from the system, but the
 * array's 256 flattened tails cost a little more. bench:ab produce-1c-1p with 256 × 1 KiB a request, three runs of 6
 * rounds (load 9-15): B − A −2.00 µs/record of ~27 (−2.50 to +1.65, lower in 5 of 6), −3.40 of ~40 (−5.63 to +2.97, 4
 * of 6), −1.05 of ~26 (−1.59 to +2.03, 4 of 6); pooled −1.36, lower in 13 of 18, where an A/A run of that shape the
 * same hour spread −1.67 to +2.87 (lower in 3 of 6): a gain of a few per cent, near this machine's noise.
 * stream-ws-array-1p at the same load ran at 900-2,400 records/s, where most runs stay small: +4.01 (−3.25 to +6.73,
 * lower in 1 of 6), then +0.58 (−2.13 to +3.41, 3 of 8), noise. Profiled (`bench:profile stream-array`, whose runs are
 * full; two profiles each), the RPC call and the join took 13.6 and 11.9 % of the samples against the call alone's
 * 13.4 and 14.7, and garbage collection 9.1 and 13.5 % against 13.8 and 17.3. The largest share (a request's 8 MiB, or a streamed
 * run's `STREAM_APPEND_CHARS_MAX`) crosses RPC in at most twice its characters (a two-byte string), under its 32 MiB
 * limit. The partition still takes the array form an edge of an earlier version sends during a deploy.
 *
 * Nor as UTF-8: one `Uint8Array` of 100 tails of 1 KiB (`encodeInto` at the edge) and a `Uint32Array` of their ends,
 * decoded and cut by the partition into the same lines, cost 800 µs of workerd CPU a call against 583 for the array
 * (same runs). A call carrying nothing costs about 190 µs of those.
 * Nor as the values' own texts (an array of the body's slices, which cross without a copy at the edge: no join, no
 * tail built there) with the partition building the tails of plain keyless records: a knockout build, bench:ab
 * produce-1c-1p −1.14 µs/record of ~37 (−1.97 to +2.81, lower in 4 of 6, load 8-9), then +0.03 (−0.96 to +1.00, 2 of
 * 6, load 3-7): the edge's join is not where a share's cost is.
 */
export interface EncodedBatch {
	readonly count: number;
	/** Each record's tail, joined by newlines (a tail holds none); an array of them from an edge of an earlier version. */
	readonly tails: readonly string[] | string;
	/** UTF-8 bytes of each tail. */
	readonly bytes: readonly number[];
	/** Each record's timestamp (null: append time); null when no record has one. */
	readonly timestamps: readonly (number | null)[] | null;
	/** Each record's `compactionKeyId`; null when no record has a key. */
	readonly keyIds: readonly (string | null)[] | null;
	/** Indexes of the records whose value is null (tombstones); null when there are none. */
	readonly tombstones: readonly number[] | null;
}

export function encodeBatch(records: readonly EncodedRecord[]): EncodedBatch {
	assert(records.length > 0, "encoded batch has records");
	const tails: string[] = new Array(records.length);
	const bytes: number[] = new Array(records.length);
	let timestamps: (number | null)[] | null = null;
	let keyIds: (string | null)[] | null = null;
	let tombstones: number[] | null = null;
	for (let i = 0; i < records.length; i++) {
		const record = records[i] as EncodedRecord;
		tails[i] = record.tail;
		bytes[i] = record.bytes;
		if (record.timestampMs !== null) {
			timestamps ??= new Array(records.length).fill(null);
			timestamps[i] = record.timestampMs;
		}
		if (record.keyId !== null) {
			keyIds ??= new Array(records.length).fill(null);
			keyIds[i] = record.keyId;
		}
		if (record.tombstone) {
			tombstones ??= [];
			tombstones.push(i);
		}
	}
	return { count: records.length, tails: tails.join("\n"), bytes, timestamps, keyIds, tombstones };
}

/**
 * The records of an `EncodedBatch`, as `encodeBatch` was given them. Their object a record costs the partition little:
 * 100 decoded in 2.5 µs of workerd CPU, against 15-25 for building their lines and joining them, and 15 for lines
 * built from the columns without these objects (medians of 5 runs of 4,000, one run).
 */
export function decodeBatch(batch: EncodedBatch): EncodedRecord[] {
	const joined = typeof batch.tails === "string";
	const tails = joined ? batch.tails.split("\n") : batch.tails;
	assert(
		tails.length === batch.count &&
			batch.bytes.length === batch.count &&
			(batch.timestamps === null || batch.timestamps.length === batch.count) &&
			(batch.keyIds === null || batch.keyIds.length === batch.count),
		"batch fields agree",
	);
	const tombstones = new Set(batch.tombstones ?? []);
	const records: EncodedRecord[] = new Array(batch.count);
	for (let i = 0; i < batch.count; i++) {
		const tail = tails[i] as string;
		// Split tails hold no newline; a tail of more lines than one would have made more of them than `count`.
		assert(joined || !tail.includes("\n"), "tail one line");
		records[i] = {
			timestampMs: batch.timestamps?.[i] ?? null,
			tail,
			bytes: batch.bytes[i] as number,
			keyId: batch.keyIds?.[i] ?? null,
			tombstone: tombstones.has(i),
		};
	}
	return records;
}

/** Encodes everything of a record but its position. Encodings other than JSON are written only when used. */
export function encodeTail(record: ProducedRecord): string {
	const body: Record<string, unknown> = { key: record.key, value: record.value, headers: record.headers };
	if (record.keyEncoding !== "json") body.key_encoding = record.keyEncoding;
	if (record.valueEncoding !== "json") body.value_encoding = record.valueEncoding;
	const json = JSON.stringify(body);
	assert(json.charCodeAt(0) === 0x7b && !json.includes("\n"), "tail JSON line");
	return json.slice(1);
}

/**
 * `encodeTail` of `record` when its key's and value's JSON texts are already known, exactly as `JSON.stringify`
 * would write them (see `produce-body-text.ts`): the same string, without serialising the value again.
 */
export function encodeTailFromText(record: ProducedRecord, keyJson: string, valueJson: string): string {
	const headers = record.headers.length === 0 ? "[]" : JSON.stringify(record.headers);
	let tail = `"key":${keyJson},"value":${valueJson},"headers":${headers}`;
	if (record.keyEncoding !== "json") tail += `,"key_encoding":"${record.keyEncoding}"`;
	if (record.valueEncoding !== "json") tail += `,"value_encoding":"${record.valueEncoding}"`;
	return `${tail}}`;
}

/** The full stored line of a record at `offset` in `partition`. */
export function encodeLine(partition: number, offset: number, timestampMs: number, tail: string): string {
	return `${STORED_RECORD_START}${partition},"offset":${offset},"timestamp":${timestampMs},${tail}`;
}

/** A stored line's prefix (partition, offset, timestamp) fits in this many characters (and bytes: it is ASCII). */
export const LINE_PREFIX_MAX = 64;

/** Reads the integer field `name` from the fixed-order prefix of a stored line without parsing the record. */
function prefixInteger(line: string, name: string): number {
	const marker = `"${name}":`;
	const start = line.indexOf(marker);
	assert(start > 0 && start < LINE_PREFIX_MAX, `prefix ${name}`);
	const from = start + marker.length;
	const end = line.indexOf(",", from);
	const n = Number(line.slice(from, end));
	assert(Number.isSafeInteger(n), `integer ${name}`);
	return n;
}

export function lineOffset(line: string): number {
	return prefixInteger(line, "offset");
}

export function lineTimestamp(line: string): number {
	return prefixInteger(line, "timestamp");
}

/**
 * The bytes the default partitioner hashes: a string key's UTF-8 (as Kafka's StringSerializer writes it),
 * base64 keys decoded, any other JSON key as its JSON text. Null keys have none.
 */
export function keyBytes(key: unknown, encoding: ValueEncoding): Uint8Array | null {
	if (key === null || key === undefined) return null;
	if (encoding === "base64") return base64Decode(key as string);
	if (typeof key === "string") return utf8Encoder.encode(key);
	return utf8Encoder.encode(JSON.stringify(key));
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The identity compaction uses for a key: its bytes, as Kafka compacts, and the same bytes `keyBytes` gives the
 * partitioner. A key sent as a JSON string, as base64 by a Kafka client, or as a JSON number or object of the same
 * text is one key, so a kcat tombstone deletes the value an HTTP producer wrote for it. Bytes that are UTF-8 are
 * `j:` and their text as a JSON string (the id every string key had when ids named the encoding, so those rows
 * stay valid: see the schema's v9); other bytes `b:` and their canonical base64. Null for keyless records.
 */
export function compactionKeyId(key: unknown, encoding: ValueEncoding): string | null {
	if (key === null || key === undefined) return null;
	if (encoding === "base64") {
		const bytes = base64Decode(key as string);
		try {
			return `j:${JSON.stringify(strictUtf8.decode(bytes))}`;
		} catch {
			return `b:${JSON.stringify(base64Encode(bytes))}`;
		}
	}
	// `TextEncoder` writes a lone surrogate as U+FFFD, as `toWellFormed` does: the key's bytes either way.
	return `j:${JSON.stringify(typeof key === "string" ? key.toWellFormed() : JSON.stringify(key))}`;
}

/**
 * The compaction key of a stored line (parses the line: for background work only). Parsed exactly, as the append
 * named it: as doubles, `1e400` would be the key `null` and 12345678901234567891 the key 12345678901234567000.
 */
export function lineKeyId(line: string): string | null {
	const record = parseJsonExact(line) as { key: unknown; key_encoding?: ValueEncoding };
	return compactionKeyId(record.key, record.key_encoding ?? "json");
}
