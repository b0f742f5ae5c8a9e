/**
 * Test support: the streaming produce channel over a WebSocket (reports collected as they come, the close
 * recorded) and over NDJSON (the whole response's report lines), and a partition's stored batch count.
 */

import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { DomainError } from "../../src/shared/errors.ts";
import { openSocket } from "./socket.ts";
import { partitionStub } from "./stubs.ts";
import { call } from "./worker.ts";

export type Report = {
	offsets?: { partition: number; offset: number; timestamp: number }[];
	error?: Record<string, unknown>;
	status?: number;
};

/**
 * `ChannelOptions.failed` for a channel built by a test that expects no bug: one is answered 500 with its cause as
 * the message, so the test's look at its reports shows it.
 */
export function failedAsBug(cause: unknown): DomainError {
	return { code: "internal", message: String(cause) };
}

/** The channel's WebSocket; `reports` are its messages. */
export async function openProduceSocket(topic: string, token?: string | null) {
	const socket = await openSocket<Report>(`/v1/topics/${topic}/records/stream`, token);
	return { ...socket, reports: socket.messages };
}

/** The channel's WebSocket opened with `?reports=array`: `frames` are its messages (arrays of reports). */
export async function openArrayProduceSocket(topic: string, token?: string | null) {
	const socket = await openSocket<Report[]>(`/v1/topics/${topic}/records/stream?reports=array`, token);
	return { ...socket, frames: socket.messages, reports: () => socket.messages.flat() };
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
