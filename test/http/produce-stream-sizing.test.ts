/**
 * The streaming produce channel sizes a message (its UTF-8 bytes, a walk over its text) only to charge a produce
 * quota: a key without one streams unmeasured, one with a quota is measured message by message. A /v1 SSE stream
 * likewise sizes its writes only for a fetch quota. Observed by counting `utf8ByteLength` calls on the texts
 * themselves (the module is wrapped, its answers unchanged).
 */

import { afterEach, describe, expect, it, vi } from "vitest";
import { utf8ByteLength } from "../../src/shared/json.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { openProduceSocket } from "../support/produce-stream.ts";
import { SseReader } from "../support/sse.ts";
import { call, createTopic, produce } from "../support/worker.ts";

vi.mock("../../src/shared/json.ts", async (importOriginal) => {
	const actual = await importOriginal<typeof import("../../src/shared/json.ts")>();
	return { ...actual, utf8ByteLength: vi.fn(actual.utf8ByteLength) };
});

const MESSAGES = 20;

/** Sends MESSAGES messages as `secret`'s key and answers how many of their texts were sized. */
async function sizedMessages(topic: string, secret: string): Promise<number> {
	const socket = await openProduceSocket(topic, secret);
	const texts = new Set(Array.from({ length: MESSAGES }, (_, i) => JSON.stringify({ value: `sizing-${topic}-${i}` })));
	vi.mocked(utf8ByteLength).mockClear();
	for (const text of texts) socket.ws.send(text);
	await socket.until(() => socket.reports.length === MESSAGES);
	socket.ws.close(1000, "done");
	expect(socket.reports.every((r) => r.offsets !== undefined)).toBe(true);
	return vi.mocked(utf8ByteLength).mock.calls.filter(([s]) => texts.has(s)).length;
}

describe("produce stream: message sizing follows the produce quota", () => {
	afterEach(() => {
		vi.mocked(utf8ByteLength).mockClear();
	});

	it("does not size the messages of a key without a produce quota", async () => {
		const topic = uniqueTopic("sz");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }]);
		expect(await sizedMessages(topic, key.secret)).toBe(0);
	});

	it("sizes each message of a key that pays a produce quota", async () => {
		const topic = uniqueTopic("sz");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 1_000_000 });
		expect(await sizedMessages(topic, key.secret)).toBe(MESSAGES);
	});
});

describe("/v1 SSE: write sizing follows the fetch quota", () => {
	/** Reads one record over SSE as a key with `quotas` and answers how many of the stream's writes were sized. */
	async function sizedWrites(quotas?: { fetch_bytes_per_sec: number }): Promise<number> {
		const topic = uniqueTopic("sz");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }], quotas);
		const response = await call("GET", `/v1/topics/${topic}/partitions/0/records?offset=0`, {
			token: key.secret,
			headers: { Accept: "text/event-stream" },
		});
		expect(response.status).toBe(200);
		const sse = new SseReader(response);
		vi.mocked(utf8ByteLength).mockClear();
		await produce(topic, [{ value: `sizing-${topic}` }]);
		await sse.records(1);
		await sse.close();
		return vi.mocked(utf8ByteLength).mock.calls.filter(([s]) => s.startsWith("id: ") && s.includes(`sizing-${topic}`)).length;
	}

	it("does not size the writes of a key without a fetch quota", async () => {
		expect(await sizedWrites()).toBe(0);
	});

	it("sizes the writes of a key that pays a fetch quota", async () => {
		expect(await sizedWrites({ fetch_bytes_per_sec: 1_000_000 })).toBe(1);
	});
});
