/**
 * Test support: a WebSocket tail of partition 0, with its messages, close, and a wait helper.
 */

import { expect } from "vitest";
import { call } from "./worker.ts";

export interface TailMessage {
	records: { offset: number; value: unknown }[];
	next_offset: number;
	high_watermark: number;
}

export async function openTail(topic: string, query = "", token?: string | null) {
	const response = await call("GET", `/v1/topics/${topic}/partitions/0/records${query}`, {
		headers: { Upgrade: "websocket" },
		...(token === undefined ? {} : { token }),
	});
	expect(response.status).toBe(101);
	const ws = response.webSocket;
	if (ws === null) throw new Error("no socket");
	const messages: TailMessage[] = [];
	const waiters: (() => void)[] = [];
	let closed: { code: number; reason: string } | null = null;
	ws.addEventListener("message", (event) => {
		messages.push(JSON.parse(event.data as string) as TailMessage);
		for (const wake of waiters.splice(0)) wake();
	});
	ws.addEventListener("close", (event) => {
		closed = { code: event.code, reason: event.reason };
		for (const wake of waiters.splice(0)) wake();
	});
	ws.accept();
	const until = async (done: () => boolean) => {
		for (let i = 0; i < 200 && !done(); i++) await new Promise<void>((resolve) => waiters.push(resolve));
		expect(done()).toBe(true);
	};
	const values = () => messages.flatMap((m) => m.records.map((r) => r.value));
	return { ws, messages, values, until, closed: () => closed };
}
