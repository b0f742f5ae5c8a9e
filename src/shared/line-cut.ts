/**
 * @module
 * Cutting a stored batch (record-codec.ts: lines joined by `RECORD_SEPARATOR`) to what a read has room for: from an
 * offset, up to a number of records and of UTF-8 bytes. One walk, over a batch's text or over its UTF-8 bytes (a
 * `LineSource` of each), so a page cut from a row, from memory or from an R2 segment takes the same lines.
 */

import { assert } from "./assert.ts";
import { utf8ByteLength } from "./json.ts";
import { LINE_PREFIX_MAX, lineOffset, RECORD_SEPARATOR } from "./record-codec.ts";
import { recordEndingFrom, recordSeparatorAt } from "./record-scan.ts";

/** What a read may still take: records, bytes, and whether its first record is due whatever its size. */
export interface ReadRoom {
	readonly records: number;
	readonly bytes: number;
	readonly firstOfRead: boolean;
}

/** A place in a dense batch: the offset of a line and where it starts (characters or bytes, as the source counts). */
export interface LineMark {
	readonly offset: number;
	readonly at: number;
}

export interface LineTake<Part> {
	/** The lines taken, as stored: one substring of the text, or a copy of the bytes in a buffer of its own (a view of them if asked). */
	readonly text: Part;
	/** Where the lines taken start in the batch (characters or bytes, as the source counts). */
	readonly start: number;
	readonly count: number;
	/** UTF-8 bytes of the lines taken, each with its separator (as a stored batch's `bytes` counts them). */
	readonly bytes: number;
	/** Offset of the last line taken; -1 when none. */
	readonly lastOffset: number;
	/** Whether every line at or after the start offset was taken. */
	readonly complete: boolean;
	/** Where a cut of a dense batch stopped (the first line not taken), for the page after; null otherwise. */
	readonly stop: LineMark | null;
}

/** A stored batch and what a reader knows of it without looking inside. */
export interface BatchLines {
	readonly baseOffset: number;
	readonly lastOffset: number;
	/** Every offset from base to last is present (no compaction gap): line k holds offset base + k. */
	readonly dense: boolean;
}

/** A batch's lines as the cut walks them, in the source's own units (characters of its text, or bytes). */
interface LineSource<Part> {
	readonly length: number;
	/** Where the next `RECORD_SEPARATOR` starts at or after `from`; -1 if none. */
	separatorAt(from: number): number;
	/** UTF-8 bytes from `start` to `end`. */
	utf8Bytes(start: number, end: number): number;
	/** The offset of the line starting at `start`, from its prefix. */
	offsetAt(start: number): number;
	slice(start: number, end: number): Part;
}

class TextLines implements LineSource<string> {
	constructor(
		private readonly text: string,
		/** Every character is ASCII (the stored byte count says so): UTF-8 sizes are lengths. */
		private readonly ascii: boolean,
	) {}
	get length(): number {
		return this.text.length;
	}
	separatorAt(from: number): number {
		return this.text.indexOf(RECORD_SEPARATOR, from);
	}
	utf8Bytes(start: number, end: number): number {
		return this.ascii ? end - start : utf8ByteLength(this.text.slice(start, end));
	}
	offsetAt(start: number): number {
		return lineOffset(this.text.slice(start, start + LINE_PREFIX_MAX));
	}
	slice(start: number, end: number): string {
		return this.text.slice(start, end);
	}
}

const decoder = new TextDecoder();

class Utf8Lines implements LineSource<Uint8Array> {
	constructor(
		private readonly bytes: Uint8Array,
		/** Where each line ends (`recordEnds` of the bytes), when known: separators are looked up, not searched for. */
		private readonly ends: Uint32Array | null,
		/** Whether what is taken is a view of the bytes instead of a copy (see `takeLinesUtf8`). */
		private readonly views: boolean,
	) {}
	get length(): number {
		return this.bytes.length;
	}
	separatorAt(from: number): number {
		if (this.ends === null) return recordSeparatorAt(this.bytes, from);
		// Every end but the last is where a separator starts.
		const i = recordEndingFrom(this.ends, from);
		return i < this.ends.length - 1 ? (this.ends[i] as number) : -1;
	}
	utf8Bytes(start: number, end: number): number {
		return end - start;
	}
	offsetAt(start: number): number {
		return lineOffset(decoder.decode(this.bytes.subarray(start, start + LINE_PREFIX_MAX)));
	}
	slice(start: number, end: number): Uint8Array {
		return this.views ? this.bytes.subarray(start, end) : this.bytes.slice(start, end);
	}
}

/**
 * The lines of a batch's `text` from `offset` that fit `room`. Walks separators with `indexOf`; a line's offset is
 * read only where the batch has gaps, its UTF-8 size counted only where the batch is not ASCII.
 */
export function takeLines(batch: BatchLines & { readonly text: string; readonly ascii: boolean }, offset: number, room: ReadRoom) {
	return cut(new TextLines(batch.text, batch.ascii), batch, offset, room, null);
}

/**
 * `takeLines` on a batch's UTF-8: the same lines, cut as bytes, what it took copied out. `from`: where an earlier cut
 * of the same bytes stopped (its `stop`), so a read paging on starts there without walking to it. `ends`: where its
 * lines end (`recordEnds` of `utf8`), if known, so the cut looks its separators up instead of searching the bytes.
 * `views`: what it took is a view of `utf8`, for a reader that copies it on within the object (not over RPC).
 */
export function takeLinesUtf8(
	batch: BatchLines & { readonly utf8: Uint8Array },
	offset: number,
	room: ReadRoom,
	from: LineMark | null,
	ends: Uint32Array | null = null,
	views = false,
) {
	assert(ends === null || ends.at(-1) === batch.utf8.length, "own line ends");
	return cut(new Utf8Lines(batch.utf8, ends, views), batch, offset, room, from);
}

/** Where the line holding `offset` starts (or the first line after it, in a batch with gaps); -1 if none does. */
function startOf<Part>(source: LineSource<Part>, batch: BatchLines, offset: number, from: LineMark | null): number {
	const next = (start: number) => {
		const end = source.separatorAt(start);
		return end < 0 ? -1 : end + RECORD_SEPARATOR.length;
	};
	if (!batch.dense) {
		let start = 0;
		while (start >= 0 && source.offsetAt(start) < offset) start = next(start);
		return start;
	}
	const mark = from !== null && from.offset <= offset ? from : { offset: batch.baseOffset, at: 0 };
	let start = mark.at;
	for (let skip = offset - mark.offset; skip > 0 && start >= 0; skip--) start = next(start);
	return start;
}

function cut<Part>(source: LineSource<Part>, batch: BatchLines, offset: number, room: ReadRoom, from: LineMark | null): LineTake<Part> {
	const { baseOffset, dense } = batch;
	const start = startOf(source, batch, offset, from);
	if (start < 0) return { text: source.slice(0, 0), start: 0, count: 0, bytes: 0, lastOffset: -1, complete: true, stop: null };
	let at = Math.max(offset, baseOffset);
	if (dense) {
		// The rest of the batch fits: taken whole, its lines neither walked nor sized one by one.
		const records = batch.lastOffset - at + 1;
		if (records <= room.records) {
			const rest = source.utf8Bytes(start, source.length) + RECORD_SEPARATOR.length;
			if (rest <= room.bytes) {
				return {
					text: source.slice(start, source.length),
					start,
					count: records,
					bytes: rest,
					lastOffset: batch.lastOffset,
					complete: true,
					stop: null,
				};
			}
		}
	}
	let count = 0;
	let bytes = 0;
	let lastOffset = -1;
	let taken = start;
	for (let pos = start; ; at++) {
		const found = source.separatorAt(pos);
		const end = found < 0 ? source.length : found;
		const lineBytes = source.utf8Bytes(pos, end) + RECORD_SEPARATOR.length;
		if ((count > 0 || !room.firstOfRead) && (count >= room.records || bytes + lineBytes > room.bytes)) {
			const stop = dense ? { offset: at, at: pos } : null;
			return { text: source.slice(start, taken), start, count, bytes, lastOffset, complete: false, stop };
		}
		count++;
		bytes += lineBytes;
		lastOffset = dense ? at : source.offsetAt(pos);
		taken = end;
		if (found < 0) break;
		pos = end + RECORD_SEPARATOR.length;
	}
	assert(lastOffset >= offset, "lines from offset");
	return { text: source.slice(start, taken), start, count, bytes, lastOffset, complete: true, stop: null };
}
