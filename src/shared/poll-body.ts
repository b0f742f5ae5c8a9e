/**
 * @module
 * The body of a group poll in the default layout (`{"records":[…],…}`), spliced from the partitions' UTF-8 parts:
 * pure, so the edge builds it from the parts it was sent and a partition read alone builds it from its own
 * (`PartitionLog.readRecordsPollBody`).
 */

import type { ReadResult, RecordEnds, Utf8Parts } from "../partition/types.ts";
import { assert } from "./assert.ts";
import { utf8Encoder } from "./bytes.ts";
import { POLL_BODY_SCRATCH_BYTES_MAX } from "./limits.ts";
import { RECORD_SEPARATOR_UTF8, STORED_RECORD_START } from "./record-codec.ts";
import { recordSeparatorAt } from "./record-scan.ts";

/** One read spliced into a poll's body: the topic its records get, and the read. */
export interface SplicedRead {
	readonly plan: { readonly topic: string };
	readonly result: Pick<ReadResult<Utf8Parts>, "records" | "recordEnds" | "recordCount">;
}

const POLL_BODY_HEAD = utf8Encoder.encode('{"records":[');
const RECORD_START = utf8Encoder.encode(STORED_RECORD_START);

/**
 * The poll's body: its reads' records, each with `"topic"` spliced in front (no parse, no re-serialisation), then
 * `tail`, written once into a buffer of their exact size (a fresh one, or the one `into` gives). Each part starts with a stored record, and the next one
 * starts after each of its records' ends as the partition sent them (`recordEnds`, which it found once per batch and
 * looked up for every page since), or, for a part sent without, after each separator `recordSeparatorAt` finds
 * (record-scan.ts), which also vouches for its start.
 *
 * Measured and dropped: a Blob of the pieces (the topic's head and each record's bytes, two a record), which the
 * runtime would copy in outside the JS heap, as a fetch's body is (log-reader.ts's `utf8Blob`), sparing this
 * buffer's zero-fill and the Response's copy of it: bench:ab group-4m-4p +0.23 µs/record (-0.29 to +0.48, higher
 * in 5 of 6 rounds). A thousand pieces a poll cost the Blob more than the copies it spares. Nor does the partition
 * splicing its own read (given the topic) so its records cross to the edge as a fetch's do: answered as a Blob's
 * stream, which the edge pipes into a `FixedLengthStream` between the envelope's head and tail, +0.27 µs/record
 * (+0.17 to +0.70, higher in 6 of 6 rounds, of ~5.9); answered as one buffer over RPC, the body a Blob of it and
 * the envelope, +0.16 (+0.07 to +0.46, 6 of 6, of ~6.1); an A/A run of the same minutes read 0.00 (-0.15 to +0.22).
 * The parts cross the RPC no dearer than one spliced buffer does, and a body JS pipes together costs more than a copy.
 * For a member that owns one partition, the partition splices its own read with this (given the topic and the
 * envelope's tail) and answers it as a Blob's stream the edge hands to the response unread
 * (`PartitionLog.readRecordsPollBody`): see `pollGroup` for what that spares and its figures.
 * Nor, with a part's record ends known, copying the part whole and moving each record right within the body by
 * `copyWithin` (no view of the part per record, each record's bytes copied twice): -0.06 µs/record (-0.17 to +0.14,
 * lower in 5 of 6 rounds, of ~6.0). What this copy costs is the copying, not the views. Nor, for a part that comes
 * without its ends (read from R2), finding them first with `recordEnds` so the loop walks ends only: +0.11
 * µs/record (-0.03 to +0.21, higher in 5 of 6 rounds, of ~6.0; within an A/A run's spread, but no gain to keep).
 */
export function pollBody(
	reads: readonly SplicedRead[],
	tail: Uint8Array,
	into: (size: number) => Uint8Array<ArrayBuffer> = (size) => new Uint8Array(size),
): Uint8Array<ArrayBuffer> {
	const skip = RECORD_START.length;
	const heads = reads.map((r) => utf8Encoder.encode(`{"topic":${JSON.stringify(r.plan.topic)},"partition":`));
	let size = POLL_BODY_HEAD.length + tail.length;
	reads.forEach(({ result }, i) => {
		size += result.recordCount * ((heads[i] as Uint8Array).length - skip) + (result.records.length - 1) * RECORD_SEPARATOR_UTF8.length;
		for (const part of result.records) size += part.byteLength;
	});
	size += Math.max(0, reads.length - 1) * RECORD_SEPARATOR_UTF8.length;
	const out = into(size);
	assert(out.byteLength === size, "poll body size");
	out.set(POLL_BODY_HEAD);
	let to = POLL_BODY_HEAD.length;
	reads.forEach(({ result }, i) => {
		const head = heads[i] as Uint8Array;
		const partEnds = endsOfParts(result);
		assert(partEnds.length === result.records.length, "ends per part");
		let spliced = 0;
		for (const [j, part] of result.records.entries()) {
			if (i > 0 || j > 0) {
				out.set(RECORD_SEPARATOR_UTF8, to);
				to += RECORD_SEPARATOR_UTF8.length;
			}
			// Paired with the writer: every stored record starts with its partition.
			assert(startsWithRecord(part), "part starts record");
			const ends = partEnds[j] ?? null;
			assert(ends === null || ends.at(-1) === part.byteLength, "poll part ends");
			let k = 0;
			for (let from = 0; from < part.byteLength; k++) {
				// Each record is copied with the separator after it: from where the record ends to where the next starts.
				const separator = ends === null ? recordSeparatorAt(part, from) : k < ends.length - 1 ? (ends[k] as number) : -1;
				const end = separator < 0 ? part.byteLength : separator + RECORD_SEPARATOR_UTF8.length;
				out.set(head, to);
				out.set(part.subarray(from + skip, end), to + head.length);
				to += head.length + end - from - skip;
				from = end;
			}
			spliced += k;
		}
		assert(spliced === result.recordCount, "parts count");
	});
	out.set(tail, to);
	assert(to + tail.length === size, "poll body");
	return out;
}

/** Reused by `pollBodyBlob` for every body up to `POLL_BODY_SCRATCH_BYTES_MAX`; grows to the largest such body. */
let scratch = new Uint8Array(0);

/**
 * `pollBody` as a Blob, written into a buffer this isolate keeps (`scratch`) rather than a fresh zero-filled one:
 * the Blob copies its bytes when made (workerd keeps no reference to a mutable ArrayBuffer), so the buffer is free
 * again before the next poll writes it, and no caller has to give it back.
 *
 * Why the default layout costs more than one laid out by partition (bench: 5.1 against 4.1 µs of server CPU a
 * record, group-4m-4p, each member owning one partition, so both are answered by the partition as a Blob's stream
 * and no part crosses RPC): `npm run bench:profile -- group` against `-- group-partitions`, one run each at load
 * ~16, µs of busy isolate a record under the profiler 47.8 against 40.9. The body's assembly at the partition is
 * 8.8 (18.3 % of busy time) against 4.4 (10.7 %): the Blob's copy about the same in both (self time of the caller
 * that makes it, 8.1 % of samples against 9.2 %), plus this splice in JS, which the other layout does not do
 * (`pollBody` and its loop, 9.4 %): about +0.45 µs a record unprofiled, half the gap. The read (`ReadSide.parts`,
 * with its record ends here) 12.1 against 10.1, the edge 8.6 against 8.7, the coordinator 7.0 against 6.5: within
 * the runs' noise. Writing into `scratch` rather than a fresh buffer (its zero-fill and fresh pages spared, at the
 * partition and at the edge alike): bench:ab group-4m-4p, AB_UNCOUPLED, at load 15-17 (the machine so busy that
 * each build read only 2,700 to 7,800 records/s, ~13 to 22 µs a record), -4.40, -0.02, -2.44 µs/record in 3
 * rounds (the run cut short by a failed backlog fill); again at load 7-9, -0.09 of ~8.2, -0.85 of ~14, -6.81 of
 * ~17 (records/s 101.7 %, 78.1 to 139.9 %): lower in 6 of 6 rounds, 4 of them past an A/A run's spread (-0.58 to
 * +0.70 of ~9.5), though a machine this busy leaves each round's size loose. Earlier runs of the same idea at the
 * edge alone: -0.23 (-0.26 to +0.02, lower in 3 of 4 rounds) of ~5.7 and -0.16 (-0.32 to +0.20, 4 of 6) of ~5.3,
 * then dropped for the release step a Response's copy needed; a Blob copies when made and needs none.
 * In a bare workerd (Miniflare, one Worker building 500 records of ~1.1 KiB in 5 parts 40 times a request, workerd's
 * CPU a record over 3 passes): this splice and its Blob 0.22-0.38 µs, the splice alone 0.10-0.14, a fetch's Blob of
 * the same parts 0.14-0.92 (0.14-0.16 once warm), the Blob of the scratch alone 0.16-0.20. So the body costs the
 * group ~0.1 µs a record over a fetch there. In `npm run bench:profile -- group` the line that makes the Blob had
 * ~4 times the self time a record of `utf8Blob`'s in `-- group-fetch` (one run each, load ~9); what a bare workerd
 * does not show of it (memory the server's other work holds, the profiler) is not known. Again at load ~11 (samples
 * at the sampler's own pace only): the line that makes the Blob 20 % of the group's busy samples, the splice 3 %,
 * against 10 % for `fetchBodyBlob` in `-- group-fetch`; a bare workerd still made a Blob of one 550 KB view of a
 * kept buffer in no more time than one of five fresh buffers. Measured and dropped: the Blob made of 128 KiB views
 * of this buffer, as a fetch's is of several parts: bench:ab group-4m-4p +0.74, +0.61, -0.88, -1.03 µs/record of ~15
 * in 4 rounds (load 11-20), an A/A run the same hour -2.17 to +2.17.
 * That 2x is the profiler's, not this Blob's: workerd's own CPU sampled by `perf record -e cpu-clock:u` (its main
 * thread, the load's seconds, load ~20) put 4.8 samples per 1,000 records polled in the Blob's constructor against 4.2
 * per 1,000 fetched in `-- group-fetch`, while the profiler's share of this line swings by run (9.4 % and 17.1 % in
 * two runs of `-- group`; `utf8Blob` and its Blob 16 % in one of `-- group-fetch`). In both, ~78 % of the Blob's
 * samples are the zero-fill of its new backing store (V8's `BackingStore::Allocate`: workerd asks for it zeroed), the
 * copy ~6 %: the zero-fill first touches the pages (`page-faults:u`, 12 % of a group run's faults, 0.07 a record). A
 * bare workerd (bench/blob-shapes.mjs) shows neither those faults nor a gap between the two shapes. Measured and
 * dropped: the body as `new Response(view).body` (copied into memory workerd does not zero-fill): bench:ab group-4m-4p
 * +2.46, +3.37, -1.37, +2.33 µs/record of ~17 (load 18-26), an A/A run the same hour -3.22, +0.84, -3.68, -0.58 of
 * ~13-17; profiled, its `new Response` line held 13 % of busy samples: its copy touches fresh pages all the same.
 */
export function pollBodyBlob(reads: readonly SplicedRead[], tail: Uint8Array): Blob {
	return new Blob([
		pollBody(reads, tail, (size) => {
			if (size > POLL_BODY_SCRATCH_BYTES_MAX) return new Uint8Array(size);
			if (scratch.byteLength < size) scratch = new Uint8Array(size);
			return scratch.subarray(0, size);
		}),
	]);
}

function startsWithRecord(part: Uint8Array): boolean {
	for (let k = 0; k < RECORD_START.length; k++) if (part[k] !== RECORD_START[k]) return false;
	return true;
}
/** Where each part's records end, as the partition answered (null for a part it did not, which is scanned). */
export function endsOfParts(result: Pick<ReadResult<Utf8Parts>, "records" | "recordEnds">): RecordEnds {
	return result.recordEnds ?? result.records.map(() => null);
}
