/**
 * @module
 * The RPC vocabulary of a partition that holds a Durable Streams stream (see stream-side.ts): requests, answers,
 * and the protocol's expected failures as a tagged union the `/ds` mount maps to its wire status in one switch.
 */

import type { DomainError } from "../shared/errors.ts";
import type { EncodedRecord } from "../shared/record-codec.ts";
import type { ProducerTuple, StreamSettings } from "../shared/stream-rules.ts";
import type { RecordEnds, Utf8Parts } from "./types.ts";

export type StreamFailure =
	/** No stream here; `expired` when one was, and its time ran out or it was deleted (the edge then drops its topic). */
	| { readonly kind: "not_found"; readonly expired?: boolean }
	/** Deleted (or expired) while forks still reference it. */
	| { readonly kind: "gone" }
	/** A create naming other settings than the stream has. */
	| { readonly kind: "settings_conflict" }
	/** A create on the path of a stream deleted while forks reference it. */
	| { readonly kind: "blocked_by_forks" }
	| { readonly kind: "content_type_mismatch"; readonly contentType: string }
	| { readonly kind: "seq_conflict"; readonly lastSeq: string }
	| { readonly kind: "closed"; readonly nextOffset: number }
	| { readonly kind: "stale_epoch"; readonly currentEpoch: number }
	| { readonly kind: "invalid_epoch_seq" }
	| { readonly kind: "sequence_gap"; readonly expectedSeq: number; readonly receivedSeq: number }
	/** A read below the first record retention kept. */
	| { readonly kind: "offset_gone"; readonly logStartOffset: number }
	/** A read past the tail: an offset this stream never answered (another stream's, of the same path before). */
	| { readonly kind: "offset_ahead"; readonly nextOffset: number }
	/** Anything the log itself refused (a record too large, a full partition, a deleted topic). */
	| { readonly kind: "log"; readonly error: DomainError };

export type StreamResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: StreamFailure };

/** What a response about a stream says: its content type, tail, closure and expiry. */
export interface StreamView {
	readonly contentType: string;
	/** The tail: the offset the next appended record gets. */
	readonly nextOffset: number;
	readonly closed: boolean;
	readonly ttlSeconds: number | null;
	readonly expiresAt: string | null;
	readonly forkedFrom: string | null;
}

export interface StreamCreateRequest {
	readonly topicId: string;
	readonly configVersion: number;
	readonly settings: StreamSettings;
	/** Initial records: a fork's inherited prefix, then the create's body. */
	readonly records: readonly EncodedRecord[];
	/** Only a repeat: a stream missing is not created (a fork's repeat without its source). */
	readonly repeatOnly?: boolean;
}

export interface StreamCreated {
	/** False when the stream existed with the same settings (an idempotent repeat). */
	readonly created: boolean;
	readonly view: StreamView;
	/** A fork's reference id (`StreamMeta.hold`), the stored one on a repeat: the edge takes it, once however often. */
	readonly hold?: string;
}

export interface StreamAppendRequest {
	readonly topicId: string;
	readonly configVersion: number;
	/** The request's content type; null for a close-only request (which carries no records). */
	readonly contentType: string | null;
	readonly records: readonly EncodedRecord[];
	readonly seq: string | null;
	readonly producer: ProducerTuple | null;
	readonly close: boolean;
}

export interface StreamAppended {
	readonly nextOffset: number;
	readonly closed: boolean;
	/** Nothing was written: a producer's retry, or the retry of the request that closed the stream. */
	readonly duplicate: boolean;
	/** The producer's highest accepted sequence (what `Producer-Seq` answers). */
	readonly producerSeq: number | null;
}

export interface StreamReadRequest {
	readonly topicId: string;
	/** A record offset, `now` (the tail), or null (the start). */
	readonly offset: number | "now" | null;
	readonly maxBytes: number;
	/** Long-poll: how long to wait at the tail for an append (0: answer at once). */
	readonly waitMs: number;
	/** Names that wait, as `ReadRequest.waitId` does. */
	readonly waitId?: string;
}

export interface StreamRead<Records extends string | Utf8Parts = string> {
	/** Stored records as JSON lines (see record-codec.ts), from `offset` up to `nextOffset`: text, or UTF-8 parts. */
	readonly records: Records;
	/** With UTF-8 parts: where each part's records end (see `RecordEnds`). */
	readonly recordEnds?: RecordEnds;
	readonly recordCount: number;
	/** Where the read started, after resolving `now` and the start. */
	readonly offset: number;
	readonly nextOffset: number;
	readonly view: StreamView;
}

export interface StreamDeleted {
	/** Forks still reference it: only marked gone; its records stay for them. Else the edge now ends it. */
	readonly soft: boolean;
}

export interface StreamReferenced {
	readonly refCount: number;
	readonly softDeleted: boolean;
	readonly view: StreamView;
}
