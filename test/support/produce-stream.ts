/**
 * Test support: the streaming produce channel over a WebSocket (reports collected as they come, the close
 * recorded) and over NDJSON (the whole response's report lines), and a partition's stored batch count.
 */

import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { partitionStub } from "./stubs.ts";
import { call } from "./worker.ts";

export type Report = { offsets?: { partition: number; offset: number; timestamp: number }[]; error?: Record<string, unknown> };

export async function openProduceSocket(topic: string, token?: string | null) {
	const response = await call("GET", `/v1/topics/${topic}/records/stream`, {
		headers: { Upgrade: "websocket" },
		...(token === undefined ? {} : { token }),
	});
	expect(response.status).toBe(101);
	const ws = response.webSocket;
	if (ws === null) throw new Error("no socket");
	const reports: Report[] = [];
	const waiters: (() => void)[] = [];
	let closed: { code: number; reason: string } | null = null;
	ws.addEventListener("message", (event) => {
		reports.push(JSON.parse(event.data as string) as Report);
		for (const wake of waiters.splice(0)) wake();
	});
	ws.addEventListener("close", (event) => {
		closed = { code: event.code, reason: event.reason };
		for (const wake of waiters.splice(0)) wake();
	});
	ws.accept();
	const until = async (done: () => boolean) => {
		for (let i = 0; i < 100_000 && !done() && closed === null; i++) await new Promise<void>((resolve) => waiters.push(resolve));
		expect(done()).toBe(true);
	};
	return { ws, reports, until, closed: () => closed, headers: response.headers };
}

/** POSTs `lines` as one NDJSON body and answers the report lines. */
export async function produceNdjson(topic: string, lines: readonly string[], token?: string | null): Promise<Report[]> {
	const response = await call("POST", `/v1/topics/${topic}/records/stream`, {
		headers: { "Content-Type": "application/x-ndjson" },
		raw: `${lines.join("\n")}\n`,
		...(token === undefined ? {} : { token }),
	});
	const text = new TextDecoder().decode(await response.arrayBuffer());
	expect(response.status, text).toBe(200);
	expect(response.headers.get("Content-Type")).toBe("application/x-ndjson");
	return text
		.split("\n")
		.filter((line) => line !== "")
		.map((line) => JSON.parse(line) as Report);
}

/** Rows in the partition's `batches` table: how many appends (of up to about 1 MiB each) it has stored. */
export async function storedBatches(topic: string, partition = 0): Promise<number> {
	return runInDurableObject(await partitionStub(topic, partition), (_, state) =>
		Number(state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM batches").one().n),
	);
}

/** The offsets of successful reports, flattened, in report order. */
export function offsetsOf(reports: readonly Report[]): number[] {
	return reports.flatMap((r) => (r.offsets ?? []).map((o) => o.offset));
}
