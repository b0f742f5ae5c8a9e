/**
 * @module
 * The segment: many stored batches of a partition offloaded to R2 as one object (after Kafka's tiered storage,
 * KIP-405, a log segment copied to remote storage). Pure: shared by the partition that writes segments and the
 * edge that reads them.
 *
 * Body: the UTF-8 bytes of each batch's `records` text exactly as stored in `batches.records`, concatenated in
 * offset order with nothing between. A reader joins the batches it takes with `RECORD_SEPARATOR`, as a fetch of
 * local batches does. Index: one `SegmentIndexEntry` per batch, kept in the partition's manifest
 * (`remote_segments.batch_index`, JSON), so a reader fetches just the byte range of the batches it needs.
 *
 * @example
 * const { body, entries } = encodeSegment(batches);
 * await env.SEGMENTS.put(segmentKey(topicId, partition, entries[0].baseOffset, nonce), body);
 */

import { assert } from "../../shared/assert.ts";
import { concatBytes, utf8Encoder } from "../../shared/bytes.ts";

/** Digits of the zero-padded base offset in a segment key: object listings then sort in offset order. */
export const SEGMENT_KEY_OFFSET_DIGITS = 20;

/** One stored batch inside a segment. */
export interface SegmentIndexEntry {
	readonly baseOffset: number;
	readonly lastOffset: number;
	readonly recordCount: number;
	/** The running maximum timestamp at this batch (`batches.timestamp_high`), for seeks by time. */
	readonly timestampHigh: number;
	/** Where the batch's records text starts in the body, in bytes. */
	readonly byteStart: number;
	/** UTF-8 bytes of the batch's records text. */
	readonly byteLength: number;
}

/** A stored batch as the partition hands it to the encoder (the columns of `batches` a segment keeps). */
export interface SegmentBatch {
	readonly baseOffset: number;
	readonly lastOffset: number;
	readonly recordCount: number;
	readonly timestampHigh: number;
	readonly records: string;
}

export interface EncodedSegment {
	readonly body: Uint8Array;
	readonly entries: readonly SegmentIndexEntry[];
}

/** The prefix every segment of one partition shares: listing it finds them all (orphans too). */
export function segmentPrefix(topicId: string, partition: number): string {
	assert(topicId.length > 0 && !topicId.includes("/"), "topic id path");
	assert(Number.isSafeInteger(partition) && partition >= 0, "partition >= 0");
	return `${topicId}/${partition}/`;
}

/**
 * `<topicId>/<partition>/<baseOffset, 20 digits>-<nonce>.seg`. The nonce makes every attempt's object distinct, so
 * an object left by a crashed attempt is never overwritten by a retry that commits: it stays an orphan for the sweep.
 */
export function segmentKey(topicId: string, partition: number, baseOffset: number, nonce: string): string {
	assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, "segment base >= 0");
	assert(/^[A-Za-z0-9_-]+$/.test(nonce), "nonce URL-safe");
	return `${segmentPrefix(topicId, partition)}${String(baseOffset).padStart(SEGMENT_KEY_OFFSET_DIGITS, "0")}-${nonce}.seg`;
}

/** The base offset a segment key names, or null for a key that is not a segment's (the sweep leaves such objects alone). */
export function parseSegmentKey(key: string): { baseOffset: number; nonce: string } | null {
	const match = /\/(\d{20})-([A-Za-z0-9_-]+)\.seg$/.exec(key);
	if (match === null) return null;
	const baseOffset = Number(match[1]);
	return Number.isSafeInteger(baseOffset) ? { baseOffset, nonce: match[2] as string } : null;
}

/** Encodes batches (dense in offset order, oldest first) into a segment body and its index. */
export function encodeSegment(batches: readonly SegmentBatch[]): EncodedSegment {
	assert(batches.length > 0, "segment has batches");
	const parts = batches.map((batch) => utf8Encoder.encode(batch.records));
	const entries: SegmentIndexEntry[] = [];
	let byteStart = 0;
	batches.forEach((batch, i) => {
		const previous = batches[i - 1];
		assert(previous === undefined || batch.baseOffset > previous.lastOffset, "batch order");
		assert(batch.lastOffset >= batch.baseOffset && batch.recordCount > 0, "segment batch has records");
		const byteLength = (parts[i] as Uint8Array).byteLength;
		entries.push({
			baseOffset: batch.baseOffset,
			lastOffset: batch.lastOffset,
			recordCount: batch.recordCount,
			timestampHigh: batch.timestampHigh,
			byteStart,
			byteLength,
		});
		byteStart += byteLength;
	});
	const body = concatBytes(parts);
	assert(byteStart === body.byteLength, "body is batches");
	return { body, entries };
}

/** The index as stored in `remote_segments.batch_index`. */
export function serializeSegmentIndex(entries: readonly SegmentIndexEntry[]): string {
	assertSegmentIndex(entries);
	return JSON.stringify(entries);
}

/** Reads `remote_segments.batch_index` back, checking it is what `serializeSegmentIndex` writes. */
export function parseSegmentIndex(text: string): SegmentIndexEntry[] {
	const raw: unknown = JSON.parse(text);
	assert(Array.isArray(raw), "index array");
	const entries = raw.map((item: unknown): SegmentIndexEntry => {
		const e = item as Record<string, unknown>;
		const fields = ["baseOffset", "lastOffset", "recordCount", "timestampHigh", "byteStart", "byteLength"] as const;
		for (const field of fields) assert(Number.isSafeInteger(e[field]), `index ${field}`);
		return {
			baseOffset: e.baseOffset as number,
			lastOffset: e.lastOffset as number,
			recordCount: e.recordCount as number,
			timestampHigh: e.timestampHigh as number,
			byteStart: e.byteStart as number,
			byteLength: e.byteLength as number,
		};
	});
	assertSegmentIndex(entries);
	return entries;
}

/** Entries in offset order without overlap, their byte ranges back to back from 0. */
function assertSegmentIndex(entries: readonly SegmentIndexEntry[]): void {
	assert(entries.length > 0, "index has entries");
	let byteStart = 0;
	let previousLast = -1;
	for (const e of entries) {
		assert(e.baseOffset > previousLast && e.lastOffset >= e.baseOffset, "index order");
		assert(e.recordCount > 0 && e.recordCount <= e.lastOffset - e.baseOffset + 1, "index count");
		assert(e.byteStart === byteStart && e.byteLength >= 0, "index covers body");
		byteStart += e.byteLength;
		previousLast = e.lastOffset;
	}
}

/** Total body bytes an index describes. */
export function segmentBodyBytes(entries: readonly SegmentIndexEntry[]): number {
	const last = entries.at(-1);
	return last === undefined ? 0 : last.byteStart + last.byteLength;
}
