/**
 * A WebSocket tail whose opening throws inside the partition (its partition number failing the partition's assert: an
 * edge's bug; the runtime refusing to accept or to keep the socket's state) is refused, as its other failures are: a
 * bug's `internal` (the edge answers 500 by its code), the platform's 503 `service_unavailable`; never a rejection of
 * the partition's fetch, and no socket is left accepted.
 */

import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { settled } from "../support/rpc-failure.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { openTail } from "../support/tail.ts";
import { throwOnce } from "../support/throw-once.ts";
import { createTopic, produce } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

/** The partition's answer to a tail's opening, as [status, code], or "rejected: …". */
async function openAtPartition(topic: string, params: Record<string, string>): Promise<unknown> {
	const url = new URL("https://partition.internal/tail");
	url.searchParams.set("topic_id", await topicIdOf(topic));
	for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
	const stub = await partitionStub(topic);
	return settled(
		stub
			.fetch(url.toString(), { headers: { Upgrade: "websocket" } })
			.then(async (r) => [r.status, ((await r.json()) as { error: { code: string } }).error.code]),
	);
}

describe("a WebSocket tail whose opening throws in the partition", () => {
	it("is refused `internal` for a partition number that fails its assert (a bug)", async () => {
		const topic = uniqueTopic("tail-open-bug");
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		expect(await openAtPartition(topic, { key_id: key.id, partition: "-1" })).toEqual([503, "internal"]);
	});

	it("is refused 503 service_unavailable when the runtime's acceptWebSocket throws", async () => {
		const topic = uniqueTopic("tail-open-accept");
		await createTopic(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const stub = await partitionStub(topic);
		await runInDurableObject(stub, (_, state) => throwOnce(state, "acceptWebSocket", "WebSocket accept failed"));
		expect(await openAtPartition(topic, { partition: "0" })).toEqual([503, "service_unavailable"]);
		expect(await runInDurableObject(stub, (_, state) => state.getWebSockets().length), "sockets accepted").toBe(0);
	});

	it("is refused 503 service_unavailable when the socket's serializeAttachment throws, with no socket left accepted", async () => {
		const topic = uniqueTopic("tail-open-attach");
		await createTopic(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		vi.spyOn(WebSocket.prototype, "serializeAttachment").mockImplementationOnce(() => {
			throw new Error("attachment too large");
		});
		expect(await openAtPartition(topic, { partition: "0" })).toEqual([503, "service_unavailable"]);
		const stub = await partitionStub(topic);
		expect(await runInDurableObject(stub, (_, state) => state.getWebSockets().length), "sockets accepted").toBe(0);
	});
});

describe("a WebSocket tail whose first push throws once its socket is accepted (a bug in the push)", () => {
	it("is opened and closed 1011, the failure logged, not refused with its socket left accepted", async () => {
		const topic = uniqueTopic("tail-open-push");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "a" }]);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
		vi.spyOn(console, "warn").mockImplementation(() => undefined);
		// A key's tail sends in the background from its first push: handing that work over throws.
		await runInDurableObject(await partitionStub(topic), (instance) =>
			throwOnce(
				(instance as unknown as { followers: { tailLog: { background(): void } } }).followers.tailLog,
				"background",
				new TypeError("background broke"),
			),
		);
		const tail = await openTail(topic, "?offset=0", key.secret);
		await tail.until(() => tail.closed() !== null);
		expect(tail.closed()?.code).toBe(1011);
		expect(error).toHaveBeenCalledWith(expect.stringContaining("background broke"));
	});
});
