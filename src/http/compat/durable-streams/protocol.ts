/**
 * @module
 * The Durable Streams protocol's wire vocabulary, pure: header names, offsets, cursors, ETags and the request
 * headers a create or an append may carry, validated. Offsets are opaque to clients and ordered as strings:
 * `{16 digits}_{16 digits}`, the second half the Tributary record offset the next read starts at (the first half
 * is always zero, kept for the protocol's `readSeq_byteOffset` shape).
 */

import { err, ok, type Result } from "../../../shared/errors.ts";
import type { ProducerTuple } from "../../../shared/stream-rules.ts";

export const HEADER = {
	nextOffset: "Stream-Next-Offset",
	cursor: "Stream-Cursor",
	upToDate: "Stream-Up-To-Date",
	closed: "Stream-Closed",
	seq: "Stream-Seq",
	ttl: "Stream-TTL",
	expiresAt: "Stream-Expires-At",
	producerId: "Producer-Id",
	producerEpoch: "Producer-Epoch",
	producerSeq: "Producer-Seq",
	producerExpectedSeq: "Producer-Expected-Seq",
	producerReceivedSeq: "Producer-Received-Seq",
	forkedFrom: "Stream-Forked-From",
	forkOffset: "Stream-Fork-Offset",
	forkSubOffset: "Stream-Fork-Sub-Offset",
	sseDataEncoding: "Stream-SSE-Data-Encoding",
} as const;

/** Content type of a stream created without one. */
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

const OFFSET_DIGITS = 16;
const OFFSET_PATTERN = /^(\d+)_(\d+)$/;
const DECIMAL = /^(?:0|[1-9]\d*)$/;

/** The protocol offset for record offset `n`. */
export function formatOffset(n: number): string {
	return `${"0".repeat(OFFSET_DIGITS)}_${String(n).padStart(OFFSET_DIGITS, "0")}`;
}

/** A protocol offset's record offset; null when it is not one of ours. */
export function parseOffset(raw: string): number | null {
	const match = OFFSET_PATTERN.exec(raw);
	if (match === null) return null;
	const n = Number(match[2]);
	return Number.isSafeInteger(n) ? n : null;
}

/** `?offset=`: absent or `-1` is the start (null), `now` the tail, else an offset of ours (a repeat is refused with the query, `queryOf`). */
export function readOffset(raw: string | undefined): Result<number | "now" | null> {
	if (raw === undefined || raw === "-1") return ok(null);
	if (raw === "now") return ok("now");
	const n = parseOffset(raw);
	return n === null ? err("invalid_request", `offset must be -1, now, or an offset this server answered; got "${raw}"`) : ok(n);
}

/** `Stream-TTL` seconds: a plain decimal (no sign, no leading zero, no fraction). */
export function parseTtl(raw: string): number | null {
	if (!DECIMAL.test(raw)) return null;
	const n = Number(raw);
	return Number.isSafeInteger(n) ? n : null;
}

/** A producer header's integer: digits only. */
function parseCount(raw: string): number | null {
	if (!/^\d+$/.test(raw)) return null;
	const n = Number(raw);
	return Number.isSafeInteger(n) ? n : null;
}

/** `Producer-Id`, `Producer-Epoch` and `Producer-Seq`: all three or none. */
export function parseProducer(headers: Headers): Result<ProducerTuple | null> {
	const id = headers.get(HEADER.producerId);
	const epoch = headers.get(HEADER.producerEpoch);
	const seq = headers.get(HEADER.producerSeq);
	if (id === null && epoch === null && seq === null) return ok(null);
	if (id === null || epoch === null || seq === null) {
		return err("invalid_request", "Producer-Id, Producer-Epoch and Producer-Seq go together: send all three or none");
	}
	if (id === "") return err("invalid_request", "Producer-Id must not be empty");
	const e = parseCount(epoch);
	const s = parseCount(seq);
	if (e === null) return err("invalid_request", "Producer-Epoch must be a non-negative integer");
	if (s === null) return err("invalid_request", "Producer-Seq must be a non-negative integer");
	return ok({ producerId: id, epoch: e, seq: s });
}

/** Whether a stream's bytes go over SSE as text (`text/*`, JSON) rather than base64. */
export function isTextContentType(normalized: string): boolean {
	return normalized.startsWith("text/") || normalized === "application/json";
}

/** Cursor intervals (the protocol's CDN cache-collapsing clock): 20 s since 2024-10-09T00:00Z. */
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
const CURSOR_INTERVAL_MS = 20_000;
const CURSOR_JITTER_S_MAX = 3600;

/**
 * The `Stream-Cursor` to answer: the current interval, or, when the client already holds that one (or a later
 * one), a later interval by a random jitter, so a cached response never loops back to itself.
 */
export function nextCursor(clientCursor: string | undefined, nowMs: number, random = Math.random): string {
	const current = Math.floor((nowMs - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS);
	const client = clientCursor === undefined ? Number.NaN : Number.parseInt(clientCursor, 10);
	if (!Number.isSafeInteger(client) || client < current) return String(current);
	const jitterIntervals = Math.max(1, Math.ceil((1 + Math.floor(random() * CURSOR_JITTER_S_MAX)) / (CURSOR_INTERVAL_MS / 1000)));
	return String(client + jitterIntervals);
}

/** The ETag of a read: the stream's incarnation, the range, and whether the range ends the closed stream. */
export function readEtag(topicId: string, start: string, end: string, closedAtEnd: boolean): string {
	return `"${topicId}:${start}:${end}${closedAtEnd ? ":c" : ""}"`;
}
