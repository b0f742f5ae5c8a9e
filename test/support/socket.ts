/**
 * Test support: a WebSocket opened through the Worker (`Upgrade: websocket` on `path`), its JSON messages collected
 * as they come, its close recorded, and a wait that wakes on each message or the close.
 */

import { expect } from "vitest";
import { call } from "./worker.ts";

/** Message or close events a wait lets pass before it gives up (a bound, so a lost wake-up fails, not hangs). */
const WAKE_UPS_MAX = 100_000;

export async function openSocket<Message>(path: string, token?: string | null) {
	const response = await call("GET", path, {
		headers: { Upgrade: "websocket" },
		...(token === undefined ? {} : { token }),
	});
	expect(response.status).toBe(101);
	const ws = response.webSocket;
	if (ws === null) throw new Error("no socket");
	const messages: Message[] = [];
	const waiters: (() => void)[] = [];
	let closed: { code: number; reason: string } | null = null;
	ws.addEventListener("message", (event) => {
		messages.push(JSON.parse(event.data as string) as Message);
		for (const wake of waiters.splice(0)) wake();
	});
	ws.addEventListener("close", (event) => {
		closed = { code: event.code, reason: event.reason };
		for (const wake of waiters.splice(0)) wake();
	});
	ws.accept();
	/** Waits until `done()` holds; a socket that closes first fails the expectation instead of waiting forever. */
	const until = async (done: () => boolean) => {
		for (let i = 0; i < WAKE_UPS_MAX && !done() && closed === null; i++) await new Promise<void>((resolve) => waiters.push(resolve));
		expect(done()).toBe(true);
	};
	return { ws, messages, until, closed: () => closed, headers: response.headers };
}
