/**
 * @module
 * Finding where stored records meet in their UTF-8 bytes, for readers that cut or splice a batch without decoding
 * it. A stored record never holds a raw newline and always starts with its partition (record-codec.ts), so the
 * separator between two records is the only place the bytes `,\n{"partition":` occur. Searching for all fifteen at
 * once (Horspool: each probe looks at the last byte of a window and skips up to fifteen bytes when that byte cannot
 * end a match) reads a fraction of the bytes that a byte-by-byte search for the newline does: `Uint8Array#indexOf`
 * walks every byte: measured in workerd, 0.9 µs per record of a 1 KiB text value against 0.4 µs here; on records
 * whose value is JSON with many quotes and short keys (~1.8 KiB), which skip less, 1.6 µs against 1.2 µs.
 *
 * Tried and dropped for the group poll's splice, which walks every separator: reading each part once as a Latin-1
 * string (`Buffer#toString("latin1")`, a character per byte) and finding its newlines with `String#indexOf`. Alone
 * in a bare Worker it was 0.083 µs a record against 0.3 here (a Latin-1 `TextDecoder` 0.68; `indexOf` of the whole
 * boundary in the string 0.30), but in the poll it cost more than it saved: server CPU per record 1.068 of this
 * search (4 members polling 500 over 4 partitions, 7 alternating pairs, 1.01–1.18), likely the strings of half a
 * megabyte a poll made on the JS heap, where bytes live outside it. Nor `Buffer#indexOf` of the whole boundary
 * (nodejs_compat's native search, on a view of the part): bench:ab group-4m-4p +0.17 µs/record against this search
 * (+0.12 to +0.35, higher in 6 of 6 rounds, of ~6.0).
 */

import { utf8Encoder } from "./bytes.ts";
import { RECORD_SEPARATOR, STORED_RECORD_START } from "./record-codec.ts";

const BOUNDARY = utf8Encoder.encode(`${RECORD_SEPARATOR}${STORED_RECORD_START}`);
const LAST = BOUNDARY.length - 1;
const LAST_BYTE = BOUNDARY[LAST] as number;
/** Per byte value: how far a window may move when its last byte is that value (Horspool's bad-character table). */
const SHIFTS = (() => {
	const shifts = new Uint8Array(256).fill(BOUNDARY.length);
	for (let k = 0; k < LAST; k++) shifts[BOUNDARY[k] as number] = LAST - k;
	return shifts;
})();

/**
 * Where the first `RECORD_SEPARATOR` between two stored records starts at or after `from` in `bytes` (a stored
 * batch's UTF-8, or part of one that starts and ends at record boundaries); -1 if none does.
 */
export function recordSeparatorAt(bytes: Uint8Array, from: number): number {
	const end = bytes.length - BOUNDARY.length;
	for (let at = from; at <= end; ) {
		const last = bytes[at + LAST] as number;
		if (last === LAST_BYTE) {
			let k = LAST - 1;
			while (k >= 0 && bytes[at + k] === BOUNDARY[k]) k--;
			if (k < 0) return at;
		}
		at += SHIFTS[last] as number;
	}
	return -1;
}

/**
 * Where each record of `bytes` (a stored batch's UTF-8, or part of one that starts and ends at record boundaries)
 * ends: the byte past its last, where the separator before the next one starts (the last ends at `bytes.length`).
 * One scan, so readers that walk a batch's records more than once (a cut, then a poll's splice) look them up instead.
 */
export function recordEnds(bytes: Uint8Array): Uint32Array {
	const ends: number[] = [];
	for (let at = recordSeparatorAt(bytes, 0); at >= 0; at = recordSeparatorAt(bytes, at + RECORD_SEPARATOR.length)) ends.push(at);
	ends.push(bytes.length);
	return new Uint32Array(ends);
}

/**
 * Whether `ends` are where the records of `bytes` end (`recordEnds`), as a batch's stored or remembered ends claim:
 * `count` of them, rising, the last at the end, each other one where a separator and the next record's start are
 * (which occur nowhere else, so `count` - 1 of them are all there are). Costs a look at fifteen bytes a record, not
 * a search of them all. A claim that fails it is searched for again, so a row whose records were rewritten by code
 * that did not know its ends (an older version's compaction) is never cut by stale ones.
 */
export function endsAreRecords(bytes: Uint8Array, ends: Uint32Array, count: number): boolean {
	if (ends.length !== count || ends[count - 1] !== bytes.length) return false;
	let before = -1;
	for (let k = 0; k < count - 1; k++) {
		const at = ends[k] as number;
		if (at <= before || at + BOUNDARY.length > bytes.length) return false;
		before = at;
		for (let b = 0; b < BOUNDARY.length; b++) if (bytes[at + b] !== BOUNDARY[b]) return false;
	}
	return true;
}

/**
 * The index of the first record of a batch whose end (`recordEnds`) is at or after `at`; `ends.length` if none is.
 * A binary search: a record's place in its batch costs about ten comparisons, not a scan of the bytes before it.
 */
export function recordEndingFrom(ends: Uint32Array, at: number): number {
	let low = 0;
	let high = ends.length;
	// Invariant: every end below `low` is before `at`; every end at or past `high` is at or after it.
	while (low < high) {
		const mid = (low + high) >>> 1;
		if ((ends[mid] as number) < at) low = mid + 1;
		else high = mid;
	}
	return low;
}
