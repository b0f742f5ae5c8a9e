/**
 * @module
 * WebSocket tails of a partition. The partition itself accepts the sockets with the hibernation API, so an idle
 * tail costs nothing (the object may sleep with sockets open) and an append pushes to every tail at once, with no
 * polling. Each socket's position lives in its attachment, which survives hibernation.
 *
 * Flow control: Workers do not expose a socket's buffered amount, so clients acknowledge what they processed
 * by sending `{"ack": <next_offset>}`. A tail that falls more than `TAIL_UNACKED_BYTES_MAX` behind its acks is
 * closed with code 4008 rather than letting the runtime buffer grow without bound.
 */

import { assert } from "../shared/assert.ts";
import { err, type Failure, type Result } from "../shared/errors.ts";
import { TAIL_MESSAGE_BYTES_MAX, TAIL_MESSAGE_RECORDS_MAX, TAIL_UNACKED_BYTES_MAX, TAILS_PER_PARTITION_MAX } from "../shared/limits.ts";
import type { LogView, ReadResult } from "./types.ts";

/** Close codes a tail may see (4000–4999 are the application's). */
export const TAIL_CLOSE = {
	slowConsumer: 4008,
	topicDeleted: 4404,
	offsetOutOfRange: 4416,
	badMessage: 4400,
	keyRevoked: 4401,
} as const;

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
}

export interface TailLog {
	readonly view: Readonly<LogView>;
	readNow(offset: number, maxRecords: number, maxBytes: number): ReadResult;
	/** Reads across remote segments (R2), for a tail behind the local log start. */
	readAcross(offset: number, maxRecords: number, maxBytes: number): Promise<Result<ReadResult>>;
	/** Keeps the object alive for background work (a catch-up from R2). */
	background(work: Promise<void>): void;
}

/** Refuses a new tail once a partition holds `TAILS_PER_PARTITION_MAX` sockets. */
export function tailCapacity(open: number): Failure | null {
	if (open < TAILS_PER_PARTITION_MAX) return null;
	return err("partition_unavailable", `this partition already has ${TAILS_PER_PARTITION_MAX} tails`);
}

/** Tails reading from R2 right now: `pushTail` leaves them to their catch-up, which hands back when local. */
const catchingUp = new WeakSet<WebSocket>();

/** Sends whatever the tail has not seen yet, in messages of bounded size; closes it if it is too far behind. */
export function pushTail(ws: WebSocket, log: TailLog): void {
	if (catchingUp.has(ws)) return;
	let state = ws.deserializeAttachment() as TailState | null;
	if (state === null) return;
	while (state.next < log.view.nextOffset) {
		if (state.next < log.view.logStartOffset) {
			ws.close(TAIL_CLOSE.offsetOutOfRange, "retention deleted records this tail had not read");
			return;
		}
		if (state.next < log.view.localLogStartOffset) {
			ws.serializeAttachment(state);
			catchingUp.add(ws);
			log.background(catchUp(ws, log));
			return;
		}
		if (state.unackedBytes >= TAIL_UNACKED_BYTES_MAX) {
			ws.close(TAIL_CLOSE.slowConsumer, `slow consumer: more than ${TAIL_UNACKED_BYTES_MAX} bytes unacknowledged`);
			return;
		}
		const batch = log.readNow(state.next, TAIL_MESSAGE_RECORDS_MAX, TAIL_MESSAGE_BYTES_MAX);
		assert(batch.nextOffset > state.next, "a tail read below the high watermark makes progress");
		const message = `{"records":[${batch.records}],"next_offset":${batch.nextOffset},"high_watermark":${batch.highWatermark}}`;
		ws.send(message);
		state = { ...state, next: batch.nextOffset, unackedBytes: state.unackedBytes + message.length };
	}
	ws.serializeAttachment(state);
}

/**
 * Sends a tail its records below the local log start, read from R2 one message at a time, then hands it back to
 * `pushTail`. Unlike a local backlog (sent in one synchronous turn), this waits for acknowledgements: once
 * `TAIL_UNACKED_BYTES_MAX` is outstanding it stops, and the client's next ack resumes it.
 */
async function catchUp(ws: WebSocket, log: TailLog): Promise<void> {
	try {
		for (;;) {
			const state = ws.deserializeAttachment() as TailState | null;
			if (state === null || state.unackedBytes >= TAIL_UNACKED_BYTES_MAX) return; // the next ack resumes it
			if (state.next >= log.view.localLogStartOffset) break;
			const read = await log.readAcross(state.next, TAIL_MESSAGE_RECORDS_MAX, TAIL_MESSAGE_BYTES_MAX);
			if (!read.ok) {
				const code = read.error.code === "offset_out_of_range" ? TAIL_CLOSE.offsetOutOfRange : TAIL_CLOSE.topicDeleted;
				ws.close(code, read.error.message);
				return;
			}
			const batch = read.value;
			assert(batch.nextOffset > state.next, "a tail read below the high watermark makes progress");
			const message = `{"records":[${batch.records}],"next_offset":${batch.nextOffset},"high_watermark":${batch.highWatermark}}`;
			ws.send(message);
			// Acknowledgements may have arrived during the read: build on the attachment as it is now.
			const now = ws.deserializeAttachment() as TailState;
			ws.serializeAttachment({ ...now, next: batch.nextOffset, unackedBytes: now.unackedBytes + message.length });
		}
	} catch (cause) {
		// The client went away mid-read (send on a closed socket): nothing is owed to it.
		console.warn(`tail catch-up ended: ${String(cause)}`);
		return;
	} finally {
		catchingUp.delete(ws);
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
