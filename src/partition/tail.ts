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
import { TAIL_MESSAGE_BYTES_MAX, TAIL_MESSAGE_RECORDS_MAX, TAIL_UNACKED_BYTES_MAX } from "../shared/limits.ts";
import type { ReadResult } from "./types.ts";

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
	nextOffset(): number;
	logStartOffset(): number;
	readNow(offset: number, maxRecords: number, maxBytes: number): ReadResult;
}

/** Sends whatever the tail has not seen yet, in messages of bounded size; closes it if it is too far behind. */
export function pushTail(ws: WebSocket, log: TailLog): void {
	let state = ws.deserializeAttachment() as TailState | null;
	if (state === null) return;
	while (state.next < log.nextOffset()) {
		if (state.next < log.logStartOffset()) {
			ws.close(TAIL_CLOSE.offsetOutOfRange, "retention deleted records this tail had not read");
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
