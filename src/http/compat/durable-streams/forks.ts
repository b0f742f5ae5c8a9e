/**
 * @module
 * Forks (`PUT` with `Stream-Forked-From`): a new stream that starts with its source's records up to a fork
 * offset (and, with `Stream-Fork-Sub-Offset`, the first bytes or messages of the append there), then goes its own
 * way. The fork copies those records into its own topic, so it is an ordinary stream to every reader, `/v1`
 * groups included, and its offsets match the source's up to the fork point.
 *
 * The source counts its forks: deleting a source that forks still reference only marks it gone (410, its path
 * blocked) until the last fork is deleted (or expires), and then it goes for good, and its own source after it when
 * that one was waiting for it too. A fork takes its reference once it exists (`holdSource`), so only a stream holds
 * one, and gives it back when it ends: its partition does that (stream-side.ts `end`), the edge once the fork is
 * deleted, its alarm when that failed or no request came. A reference has an id, the fork's `hold`: given back twice
 * (a release whose answer was lost, retried), it counts once.
 */

import type { StreamFailure, StreamView } from "../../../partition/stream-types.ts";
import { ApiError } from "../../../shared/errors.ts";
import { DS_FORK_CHAIN_MAX, DS_READ_BYTES_MAX } from "../../../shared/limits.ts";
import type { EncodedRecord } from "../../../shared/record-codec.ts";
import { streamTopic } from "../../../shared/stream-names.ts";
import { isJsonContentType } from "../../../shared/stream-rules.ts";
import { partitionLog } from "../../../shared/stubs.ts";
import { onStream, releaseReference } from "../../../topic/stream-topics.ts";
import { type Payload, payloadRecord, payloads, truncatedRecord } from "./codec.ts";
import { badRequest, type EdgeFailure } from "./errors.ts";

export type ForkOutcome =
	| { readonly ok: true; readonly source: StreamView; readonly records: EncodedRecord[]; readonly forkOffset: number }
	| { readonly ok: false; readonly failure: EdgeFailure };

/** A fork's source refusing it: missing, deleted (gone), or its partition failing. */
const sourceFailure = (failure: StreamFailure): EdgeFailure =>
	failure.kind === "log" ? failure : { kind: failure.kind === "gone" ? "fork_source_gone" : "fork_source_missing" };

/**
 * Copies the source's records up to `forkOffset` (its tail when null), plus `subOffset` bytes or messages of the append
 * there, with the source's view. A source deleted meanwhile fails the copy; the fork's reference is taken once the
 * fork exists (`holdSource`). A fork point past the source's tail (or past the append there) is a 400.
 */
export async function copyForFork(env: Env, sourcePath: string, forkOffset: number | null, subOffset: number): Promise<ForkOutcome> {
	const topic = streamTopic(sourcePath);
	const found = await onStream(env, topic, async (log, meta) => log.streamHead(meta.topicId));
	if (!found.ok) return { ok: false, failure: sourceFailure(found.failure) };
	const source = found.value;
	const copied = await copyRecords(env, topic, forkOffset ?? source.nextOffset, subOffset, isJsonContentType(source.contentType));
	if (!copied.ok) {
		if ("failure" in copied) return copied;
		badRequest(copied.message);
	}
	return { ok: true, source, records: copied.records, forkOffset: forkOffset ?? source.nextOffset };
}

/**
 * Takes the reference of the fork at `topic` (`hold`, which it keeps) on its source at `sourcePath`. Refused (the
 * source deleted or failing meanwhile), a fork just `created` is deleted and ended, which gives the reference back
 * should the take have landed unanswered: a reference is only ever held by a fork that gives it back. A repeat's fork
 * stays (it may hold its reference already). The refusal, or null.
 */
export async function holdSource(
	env: Env,
	topic: string,
	forkId: string | undefined,
	sourcePath: string,
	hold: string,
	created: boolean,
): Promise<EdgeFailure | null> {
	// Refused until the source answers: a take that throws ends the fork too, and its error goes on up unchanged.
	let refused: EdgeFailure | null = { kind: "fork_source_missing" };
	try {
		const taken = await onStream(env, streamTopic(sourcePath), async (log, meta) => log.streamReference(meta.topicId, 1, hold));
		refused = taken.ok ? null : sourceFailure(taken.failure);
		// The fork deleted before the take landed gave back nothing at its end: the reference goes back now (by id, so
		// once, should that end still be under way). Another stream at the path since has another topic id.
		const fork = taken.ok ? await onStream(env, topic, async (log, meta) => log.streamHead(meta.topicId)) : null;
		if (fork !== null && (fork.ok ? fork.meta?.topicId !== forkId : fork.failure.kind === "not_found")) {
			await endStream(env, await releaseReference(env, sourcePath, hold));
		}
		return refused;
	} finally {
		if (refused !== null && created) {
			await onStream(env, topic, async (log, meta) => log.streamDelete(meta.topicId))
				.then((deleted) => endStream(env, deleted.meta?.topicId))
				.catch((cause) => console.error(`stream "${topic}": end failed: ${cause}`));
		}
	}
}

async function copyRecords(
	env: Env,
	topic: string,
	end: number,
	subOffset: number,
	json: boolean,
): Promise<{ ok: true; records: EncodedRecord[] } | { ok: false; message: string } | { ok: false; failure: EdgeFailure }> {
	const records: EncodedRecord[] = [];
	let offset = 0;
	let tail = Number.POSITIVE_INFINITY;
	let atEnd: Payload | null = null;
	while (offset < Math.min(end + (subOffset > 0 ? 1 : 0), tail)) {
		const read = await onStream(env, topic, async (log, meta) =>
			log.streamRead({ topicId: meta.topicId, offset, maxBytes: DS_READ_BYTES_MAX, waitMs: 0 }),
		);
		if (!read.ok && read.failure.kind === "offset_gone") {
			// The fork's offsets are the source's up to the fork point: it cannot start past a record retention took.
			return { ok: false, message: "retention deleted the source stream's first records: it cannot be forked" };
		}
		// The source's log failing (R2, a segment gone under the read) is retriable, not the request's fault.
		if (!read.ok && read.failure.kind === "log") return { ok: false, failure: read.failure };
		if (!read.ok) return { ok: false, message: "the source stream could not be read" };
		tail = read.value.view.nextOffset;
		if (end > tail) return { ok: false, message: "Stream-Fork-Offset is beyond the source stream's tail" };
		for (const part of payloads(read.value.records, json)) {
			if (part.offset < end) records.push(payloadRecord(part, json));
			else if (part.offset === end) atEnd = part;
		}
		if (read.value.nextOffset === offset) break;
		offset = read.value.nextOffset;
	}
	if (end > tail) return { ok: false, message: "Stream-Fork-Offset is beyond the source stream's tail" };
	if (subOffset === 0) return { ok: true, records };
	const size = atEnd === null ? 0 : json ? atEnd.messages.length : atEnd.bytes.byteLength;
	if (atEnd === null || subOffset > size) {
		return { ok: false, message: `Stream-Fork-Sub-Offset ${subOffset} is past the append at the fork offset (${size})` };
	}
	records.push(truncatedRecord(atEnd, json, subOffset));
	return { ok: true, records };
}

/**
 * Ends a stream marked deleted (stream-side.ts `end`: its reference on its source given back, its topic dropped), then
 * each source that ended with it, up the chain. Throws when an end fails: the stream stays marked, for a retried
 * request or its partition's alarm to end.
 */
export async function endStream(env: Env, topicId: string | undefined): Promise<void> {
	for (let depth = 0; topicId !== undefined && depth < DS_FORK_CHAIN_MAX; depth++) {
		const ended = await partitionLog(env, topicId, 0).streamEnd(topicId);
		if (!ended.ok) throw ApiError.from((ended.failure as Extract<StreamFailure, { kind: "log" }>).error);
		topicId = ended.value;
	}
}
