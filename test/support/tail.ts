/**
 * Test support: a WebSocket tail of partition 0, with its messages, close, and a wait helper.
 */

import { openSocket } from "./socket.ts";

export interface TailMessage {
	records: { offset: number; value: unknown }[];
	next_offset: number;
	high_watermark: number;
}

export async function openTail(topic: string, query = "", token?: string | null) {
	const socket = await openSocket<TailMessage>(`/v1/topics/${topic}/partitions/0/records${query}`, token);
	const values = () => socket.messages.flatMap((m) => m.records.map((r) => r.value));
	return { ...socket, values };
}
