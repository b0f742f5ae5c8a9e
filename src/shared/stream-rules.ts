/**
 * @module
 * The Durable Streams protocol's write rules, pure: what a stream remembers beside its records (content type,
 * expiry, closure, the last `Stream-Seq`, idempotent producers, fork references) and how an append or a create
 * is judged against it. The partition loads the state, asks, and stores what these return, in the same
 * synchronous turn as the append, so a decision and the write it allows are one atomic step. The `/ds` mount
 * judges content types and builds a create's settings by the same rules, so they live here, beside both.
 */

import { DS_EXPIRY_GRACE_MS } from "./limits.ts";

/** What a stream is, beside its records. Stored as one row in its partition (`stream_meta`). */
export interface StreamMeta {
	/** As the creator sent it (answered on reads); compared normalised (`normalizeContentType`). */
	readonly contentType: string;
	/** Sliding expiry: the stream goes `ttlSeconds` after its last read or write. */
	readonly ttlSeconds: number | null;
	/** Absolute expiry, as the creator sent it (echoed by HEAD), and parsed. */
	readonly expiresAt: string | null;
	readonly expiresAtMs: number | null;
	readonly lastAccessMs: number;
	readonly closed: boolean;
	/** The producer request that closed the stream, so its retry is answered as a duplicate. */
	readonly closedBy: ProducerTuple | null;
	/** The highest `Stream-Seq` written (compared as strings: the protocol orders them lexicographically). */
	readonly lastSeq: string | null;
	/** A fork: the source stream's path, and where it was forked (as the creator sent them). */
	readonly forkedFrom: string | null;
	readonly forkOffset: string | null;
	readonly forkSubOffset: number;
	/** A fork: the id of its reference on its source, given back with it, so a release given twice counts once. */
	readonly hold?: string;
	/** Forks made from this stream and not deleted yet: while any exists, a delete only marks it gone. */
	readonly refCount: number;
	/** The ids of the references in `refCount` (absent in rows written before: those taken then have none). */
	readonly holds?: readonly string[];
	/** Deleted while forks referenced it: 410 to everyone, its path blocked until the last fork goes. */
	readonly softDeleted: boolean;
	/**
	 * Deleted for good (or expired with no fork), kept as a mark until the stream is ended (stream-side.ts `end`: its
	 * reference on its source given back, then its topic dropped): a drop that failed would leave the records for a
	 * stream created at the same path to serve as its own. Not found to everyone. Absent in rows written before it.
	 */
	readonly deleted?: boolean;
	/** The ends tried and failed in a row (the alarm's next try backs off); absent until one fails. */
	readonly endFailures?: number;
}

/** The settings a create names; an existing stream with other settings is a conflict. */
export type StreamSettings = Pick<
	StreamMeta,
	"contentType" | "ttlSeconds" | "expiresAt" | "forkedFrom" | "forkOffset" | "forkSubOffset" | "hold"
> & {
	readonly closed: boolean;
};

export interface ProducerTuple {
	readonly producerId: string;
	readonly epoch: number;
	readonly seq: number;
}

/** An idempotent producer as a stream remembers it: its epoch and the last sequence it wrote. */
export interface ProducerRecord {
	readonly epoch: number;
	readonly lastSeq: number;
	readonly updatedAtMs: number;
}

export type ProducerDecision =
	| { readonly kind: "accepted"; readonly next: ProducerRecord }
	| { readonly kind: "duplicate"; readonly lastSeq: number }
	| { readonly kind: "stale_epoch"; readonly currentEpoch: number }
	| { readonly kind: "invalid_epoch_seq" }
	| { readonly kind: "sequence_gap"; readonly expectedSeq: number; readonly receivedSeq: number };

/** Media type without parameters, lower case: `Application/JSON; charset=utf-8` → `application/json`. */
export function normalizeContentType(contentType: string): string {
	return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

/** Whether a stream of this content type holds JSON messages (appends are arrays of values, reads arrays). */
export function isJsonContentType(contentType: string): boolean {
	return normalizeContentType(contentType) === "application/json";
}

/**
 * Whether the stream's time is up: its absolute expiry passed, or it was idle for its TTL, each by more than
 * `DS_EXPIRY_GRACE_MS`. A stream lives at least as long as promised: the TTL runs from when its last access
 * reached the partition, which is earlier than the client saw the answer by a network round trip.
 */
export function isExpired(meta: StreamMeta, nowMs: number): boolean {
	return nowMs >= (expiryMs(meta) ?? nowMs + 1);
}

/** From when the stream is expired (`isExpired`); null when it has no TTL or Expires-At. */
export function expiryMs(meta: StreamMeta): number | null {
	const at = Math.min(meta.expiresAtMs ?? Infinity, meta.ttlSeconds === null ? Infinity : meta.lastAccessMs + meta.ttlSeconds * 1000);
	return at === Infinity ? null : at + DS_EXPIRY_GRACE_MS;
}

/** Whether a create asking for `settings` is a repeat of the one that made `meta` (then it answers 200). */
export function sameSettings(meta: StreamMeta, settings: StreamSettings): boolean {
	return (
		normalizeContentType(meta.contentType) === normalizeContentType(settings.contentType) &&
		meta.ttlSeconds === settings.ttlSeconds &&
		meta.expiresAt === settings.expiresAt &&
		meta.closed === settings.closed &&
		meta.forkedFrom === settings.forkedFrom &&
		(settings.forkOffset === null || meta.forkOffset === settings.forkOffset) &&
		meta.forkSubOffset === settings.forkSubOffset
	);
}

/**
 * Kafka-style idempotent producer check (the protocol's Producer-Id/Epoch/Seq): a new producer or a new epoch
 * starts at 0; a lower epoch is a zombie (fenced); within an epoch, a seen sequence is a duplicate and a skipped
 * one a gap.
 */
export function checkProducer(state: ProducerRecord | null, epoch: number, seq: number, nowMs: number): ProducerDecision {
	const accepted = (lastSeq: number): ProducerDecision => ({ kind: "accepted", next: { epoch, lastSeq, updatedAtMs: nowMs } });
	if (state === null) return seq === 0 ? accepted(0) : { kind: "sequence_gap", expectedSeq: 0, receivedSeq: seq };
	if (epoch < state.epoch) return { kind: "stale_epoch", currentEpoch: state.epoch };
	if (epoch > state.epoch) return seq === 0 ? accepted(0) : { kind: "invalid_epoch_seq" };
	if (seq <= state.lastSeq) return { kind: "duplicate", lastSeq: state.lastSeq };
	if (seq === state.lastSeq + 1) return accepted(seq);
	return { kind: "sequence_gap", expectedSeq: state.lastSeq + 1, receivedSeq: seq };
}

/** Whether `tuple` is the request that closed the stream (its retry succeeds again; anything else is refused). */
export function closedBySame(meta: StreamMeta, tuple: ProducerTuple | null): boolean {
	const by = meta.closedBy;
	return tuple !== null && by !== null && by.producerId === tuple.producerId && by.epoch === tuple.epoch && by.seq === tuple.seq;
}

/** A new stream's state. */
export function newStreamMeta(settings: StreamSettings, nowMs: number): StreamMeta {
	return {
		contentType: settings.contentType,
		ttlSeconds: settings.ttlSeconds,
		expiresAt: settings.expiresAt,
		expiresAtMs: settings.expiresAt === null ? null : Date.parse(settings.expiresAt),
		lastAccessMs: nowMs,
		closed: settings.closed,
		closedBy: null,
		lastSeq: null,
		forkedFrom: settings.forkedFrom,
		forkOffset: settings.forkOffset,
		forkSubOffset: settings.forkSubOffset,
		hold: settings.hold,
		refCount: 0,
		softDeleted: false,
	};
}
