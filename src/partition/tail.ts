/**
 * @module
 * WebSocket tails of a partition. The partition itself accepts the sockets with the hibernation API, so an idle
 * tail costs nothing (the object may sleep with sockets open) and an append pushes to every tail at once, with no
 * polling. Each socket's position lives in its attachment, which survives hibernation.
 *
 * Flow control: Workers do not expose a socket's buffered amount, so clients acknowledge what they processed
 * by sending `{"ack": <next_offset>}`. A tail that falls more than `TAIL_UNACKED_BYTES_MAX` behind its acks is
 * closed with code 4008 rather than letting the runtime buffer grow without bound.
 *
 * Quotas: a tail of a key (or anonymous) with a fetch-bytes quota pays each message at the key's authority before
 * it is sent, and waits out any debt there (src/auth/live-quota.ts), so it slows to the quota as an SSE stream does;
 * it is not closed. Those sends run in the background, one message at a time. Whether the key has the quota is asked
 * of its authority at the tail's first message and again every `TAIL_PAYER_CHECK_MS`, so a quota set or removed
 * later reaches tails already open. Every other tail (the admin token's, a key's without a fetch quota) is sent to
 * synchronously and pays nothing.
 */

import { assert } from "../shared/assert.ts";
import { err, type Failure, isBug, type Result } from "../shared/errors.ts";
import { utf8ByteLength } from "../shared/json.ts";
import {
	TAIL_MESSAGE_BYTES_MAX,
	TAIL_MESSAGE_RECORDS_MAX,
	TAIL_PAYER_CHECK_MS,
	TAIL_UNACKED_BYTES_MAX,
	TAILS_PER_PARTITION_MAX,
} from "../shared/limits.ts";
import type { LogView, ReadResult } from "./types.ts";

/** Close codes a tail may see (4000–4999 are the application's). */
export const TAIL_CLOSE = {
	slowConsumer: 4008,
	topicDeleted: 4404,
	offsetOutOfRange: 4416,
	badMessage: 4400,
	keyRevoked: 4401,
	readFailed: 1011,
} as const;

/**
 * Close codes a peer's close may carry that an endpoint must not send (RFC 6455 §7.4.1: reserved, no code, closed
 * abnormally without a close frame, failed TLS handshake): the runtime's `close()` throws on each, so a tail
 * answers them with 1000 and echoes any other (RFC 6455 §5.5.1). It must answer: the runtime does not answer a
 * hibernatable socket's close itself (web_socket_auto_reply_to_close does not reach these sockets), and the client
 * would wait for its closing handshake to end.
 */
export const CLOSE_CODES_RESERVED = [1004, 1005, 1006, 1015];

/** The hibernation tag of the tails a key opened, so a revocation finds them. */
export function keyTag(keyId: string): string {
	return `key:${keyId}`;
}

/** A tail's state, kept in the socket's attachment (≤ 2 KB, survives hibernation). */
export interface TailState {
	readonly topicId: string;
	/** The next offset to send. */
	readonly next: number;
	/** The offset the client last acknowledged. */
	readonly acked: number;
	/** Bytes sent since that acknowledgement (an estimate after partial acks). */
	readonly unackedBytes: number;
	/** The key (or anonymous) whose fetch quota, if it has one, pays for each message; absent for the admin token's tails. */
	readonly payer?: string;
	/** Whether `payer` had a fetch quota when its authority was last asked, and when to ask again (unset: not asked yet). */
	readonly pays?: boolean;
	readonly payerCheckAtMs?: number;
}

/** What a tail reads of its partition. */
export interface TailSource {
	readonly view: Readonly<LogView>;
	readNow(offset: number, maxRecords: number, maxBytes: number): ReadResult;
	/** Reads across remote segments (R2), for a tail behind the local log start. */
	readAcross(offset: number, maxRecords: number, maxBytes: number): Promise<Result<ReadResult>>;
	/** Keeps the object alive for background work (a catch-up from R2, a message waiting for its quota). */
	background(work: Promise<void>): void;
}

/** What a tail reads, and how it pays a key's fetch quota. */
export interface TailLog extends TailSource {
	/** Charges `bytes` to key `keyId`'s fetch quota, first waiting out any debt, unless `wanted()` turns false (`payLive`). */
	payFetch(keyId: string, bytes: number, wanted: () => boolean): Promise<void>;
	/** Whether key `keyId` has a fetch quota, as its authority answers now. */
	hasFetchQuota(keyId: string): Promise<boolean>;
}

/** Refuses a new tail once a partition holds `TAILS_PER_PARTITION_MAX` sockets. */
export function tailCapacity(open: number): Failure | null {
	if (open < TAILS_PER_PARTITION_MAX) return null;
	return err("partition_unavailable", `this partition already has ${TAILS_PER_PARTITION_MAX} tails`);
}

/**
 * Closes the tail with `offsetOutOfRange` when its next offset lies below the log start (retention or DeleteRecords
 * moved it): a fetch there is refused, so the records still stored below are not sent either. Tails have no reset
 * policy to jump by; the close reason names the log start, where the client may reopen.
 */
function closedBelowLogStart(ws: WebSocket, next: number, log: TailSource): boolean {
	const start = log.view.logStartOffset;
	if (next >= start) return false;
	ws.close(TAIL_CLOSE.offsetOutOfRange, `offset ${next} is below the log start, ${start}: deleted before this tail read it`);
	return true;
}

/** Whether the tail's next message goes through its payer's authority: to pay, or to ask again whether it pays. */
function throughPayer(state: TailState): boolean {
	return state.payer !== undefined && (state.pays || Date.now() >= (state.payerCheckAtMs ?? 0));
}

/**
 * Whether the tail can still be sent to. A socket closed by either side stays among the object's sockets until the
 * closing handshake completes (a revocation, a bad message, a slow consumer's close: the client has not answered
 * yet), and a send on it throws, which would fail the append whose commit pushes to every tail.
 */
function open(ws: WebSocket): boolean {
	return ws.readyState === WebSocket.OPEN;
}

/** Tails sending in the background right now: `pushTail` leaves them to `sendInBackground`, which hands back. */
const sendingInBackground = new WeakSet<WebSocket>();

/** Whether the tail sends in the background now: its partition keeps the alarm coming meanwhile (followers.ts). */
export function sendsInBackground(ws: WebSocket): boolean {
	return sendingInBackground.has(ws);
}

/**
 * Sends whatever the tail has not seen yet, in messages of bounded size; closes it if it is too far behind. A throw
 * in it closes the tail as the server's failure (`failed`), never its caller's: a tail just accepted (a refusal then
 * would leave its socket accepted), an append's commit, an acknowledgement.
 */
export function pushTail(ws: WebSocket, log: TailLog): void {
	try {
		push(ws, log);
	} catch (cause) {
		failed(ws, cause);
	}
}

function push(ws: WebSocket, log: TailLog): void {
	if (sendingInBackground.has(ws) || !open(ws)) return;
	let state = ws.deserializeAttachment() as TailState | null;
	if (state === null) return;
	while (state.next < log.view.nextOffset) {
		if (closedBelowLogStart(ws, state.next, log)) return;
		const remote = state.next < log.view.localLogStartOffset;
		if (!remote && state.unackedBytes >= TAIL_UNACKED_BYTES_MAX) {
			ws.close(TAIL_CLOSE.slowConsumer, `slow consumer: more than ${TAIL_UNACKED_BYTES_MAX} bytes unacknowledged`);
			return;
		}
		if (remote || throughPayer(state)) {
			ws.serializeAttachment(state);
			sendingInBackground.add(ws);
			log.background(sendInBackground(ws, log));
			return;
		}
		const message = nextMessage(ws, log, state.next);
		if (message === null) return;
		try {
			ws.send(message.text);
		} catch (cause) {
			// An open socket's send can fail too (as on an evicted object). Never the failure of the append that pushes,
			// whose records are committed: the attachment stays at what was sent, and the next append or ack tries again.
			console.warn(`tail send failed: ${String(cause)}`);
			break;
		}
		state = { ...state, next: message.next, unackedBytes: state.unackedBytes + message.text.length };
	}
	ws.serializeAttachment(state);
}

/** A batch as the message a tail is sent, and the offset after it. */
function tailMessage(batch: ReadResult, from: number): { readonly text: string; readonly next: number } {
	assert(batch.nextOffset > from, "tail progress");
	const text = `{"records":[${batch.records}],"next_offset":${batch.nextOffset},"high_watermark":${batch.highWatermark}}`;
	return { text, next: batch.nextOffset };
}

/** The tail's next message from `from`: of `read` (a batch read from R2), else of a local read; or null when that threw. */
function nextMessage(
	ws: WebSocket,
	log: TailLog,
	from: number,
	read?: ReadResult,
): { readonly text: string; readonly next: number } | null {
	try {
		return tailMessage(read ?? log.readNow(from, TAIL_MESSAGE_RECORDS_MAX, TAIL_MESSAGE_BYTES_MAX), from);
	} catch (cause) {
		failed(ws, cause);
		return null;
	}
}

/**
 * Closes the tail on a throw (its read's storage failed, or a bug in the read or the push) as the server's failure
 * (1011), logged, which the client hears of and may reopen after. Said as a read's, which nearly every such throw is.
 */
function failed(ws: WebSocket, cause: unknown): void {
	console.error(`tail read failed: ${cause instanceof Error ? cause.stack : cause}`);
	ws.close(TAIL_CLOSE.readFailed, "read failed; reopen the tail");
}

/**
 * Sends, one message at a time, what `pushTail` cannot send in one synchronous turn, then hands the tail back to
 * it: records below the local log start (read from R2), and every message of a tail that pays its key's fetch
 * quota (paid before it goes, waiting out any debt). Unlike a local backlog, a read from R2 waits for
 * acknowledgements: once `TAIL_UNACKED_BYTES_MAX` is outstanding it stops, and the client's next ack resumes it.
 * A local read over that bound is `pushTail`'s, which closes the slow consumer.
 */
async function sendInBackground(ws: WebSocket, log: TailLog): Promise<void> {
	try {
		for (;;) {
			const state = ws.deserializeAttachment() as TailState | null;
			if (state === null || closedBelowLogStart(ws, state.next, log)) return;
			const remote = state.next < log.view.localLogStartOffset;
			const slow = state.unackedBytes >= TAIL_UNACKED_BYTES_MAX;
			if (!remote && (!throughPayer(state) || state.next >= log.view.nextOffset || slow)) break;
			if (slow) return; // the next ack resumes it
			const read = remote ? await log.readAcross(state.next, TAIL_MESSAGE_RECORDS_MAX, TAIL_MESSAGE_BYTES_MAX) : null;
			if (read !== null && !read.ok) {
				// R2 failing, or a segment gone under the read, is transient: ended as a thrown read is (below).
				const { code, message: reason } = read.error;
				if (code.endsWith("unavailable")) throw new Error(reason);
				if (code === "topic_not_found") ws.close(TAIL_CLOSE.topicDeleted, reason);
				else if (code === "offset_out_of_range") ws.close(TAIL_CLOSE.offsetOutOfRange, reason);
				// Any other failure says nothing of the topic or the offset: a bug (an `internal` one), closed 1011 and logged.
				else failed(ws, new Error(`${code}: ${reason}`));
				return;
			}
			const message = nextMessage(ws, log, state.next, read?.value);
			if (message === null) return;
			// Whether the payer has a fetch quota may have changed since its authority was last asked (a quota set or removed).
			let { pays, payerCheckAtMs } = state;
			if (state.payer !== undefined) {
				if (Date.now() >= (payerCheckAtMs ?? 0)) {
					pays = await log.hasFetchQuota(state.payer);
					payerCheckAtMs = Date.now() + TAIL_PAYER_CHECK_MS;
				}
				// Not charged once the client left (during the read, the check or the debt): that message is never sent.
				if (pays) await log.payFetch(state.payer, utf8ByteLength(message.text), () => open(ws));
			}
			// The wait to pay let other events in: the tail may be closed, or the log start moved past what was read.
			if (!open(ws) || closedBelowLogStart(ws, state.next, log)) return;
			ws.send(message.text);
			// Acknowledgements may have arrived during the read or the wait: build on the attachment as it is now.
			const now = ws.deserializeAttachment() as TailState;
			ws.serializeAttachment({ ...now, pays, payerCheckAtMs, next: message.next, unackedBytes: now.unackedBytes + message.text.length });
		}
	} catch (cause) {
		// A bug (`isBug`: here, or the key's authority's passed on) meets itself again at every retry: the tail is closed
		// as the server's failure, logged as an error. Anything else (the client gone, R2 or the key's authority not
		// answering) passes: the next append, ack or alarm tries again from the attachment, moved only past what was sent.
		if (isBug(cause, true)) failed(ws, cause);
		else console.warn(`tail background send ended: ${String(cause)}`);
		return;
	} finally {
		sendingInBackground.delete(ws);
	}
	pushTail(ws, log);
}

/** Applies a client message: `{"ack": n}` with n ≤ what was sent. Anything else closes the socket. */
export function acknowledge(ws: WebSocket, message: string | ArrayBuffer): void {
	const state = ws.deserializeAttachment() as TailState | null;
	if (state === null) return;
	let ack: unknown;
	try {
		ack = typeof message === "string" ? (JSON.parse(message) as { ack?: unknown }).ack : undefined;
	} catch {
		ack = undefined;
	}
	if (typeof ack !== "number" || !Number.isSafeInteger(ack) || ack < state.acked || ack > state.next) {
		ws.close(TAIL_CLOSE.badMessage, 'send {"ack": <next_offset>} with an offset this tail was sent');
		return;
	}
	const outstanding = state.next - state.acked;
	const unackedBytes = outstanding === 0 ? 0 : Math.ceil((state.unackedBytes * (state.next - ack)) / outstanding);
	ws.serializeAttachment({ ...state, acked: ack, unackedBytes });
}
