/**
 * A WebSocket tail whose registration at the key's authority (watchTail) fails is refused 503 service_unavailable,
 * neither a 401 nor accepted unregistered; the partition answers that refusal as a Response (as its other refusals),
 * which the edge throws as the error named, not as a rejection of its fetch (which workerd logs "Uncaught"). So is
 * one whose call to the authority itself failed (rejected, not answered a Failure).
 */

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KeyStore } from "../../src/auth/key-store.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { createKey, failKeyStatement } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { settled } from "../support/rpc-failure.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { call, createTopic } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

/** A key's read at its authority: authentication's is the first, the tail registration's (watchTail) the second. */
const READ_KEY = "SELECT * FROM api_keys WHERE id";

describe("a WebSocket tail whose key's authority fails to register it", () => {
	it("is answered by the partition as a 503 refusal, not a rejection of its fetch", async () => {
		const topic = uniqueTopic("tail-keyfail-p");
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await failKeyStatement(keyAuthority(env, key.id), READ_KEY, 2);
		// Authentication's read, as the edge makes it first.
		expect((await call("GET", `/v1/topics/${topic}/partitions/0/records?offset=0`, { token: key.secret })).status).toBe(200);
		const url = new URL("https://partition.internal/tail");
		url.searchParams.set("topic_id", await topicIdOf(topic));
		url.searchParams.set("key_id", key.id);
		url.searchParams.set("partition", "0");
		const stub = await partitionStub(topic);
		const answer = await settled(stub.fetch(url.toString(), { headers: { Upgrade: "websocket" } }).then((r) => r.status));
		expect(answer).toBe(503);
	});

	it("is refused 503 service_unavailable", async () => {
		const topic = uniqueTopic("tail-keyfail");
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		// The first read is authentication's; the second, watchTail's.
		await failKeyStatement(keyAuthority(env, key.id), READ_KEY, 2);
		const response = await call("GET", `/v1/topics/${topic}/partitions/0/records`, {
			headers: { Upgrade: "websocket" },
			token: key.secret,
		});
		const body = response.status === 101 ? null : ((await response.json()) as { error?: { code?: string } });
		response.webSocket?.accept();
		response.webSocket?.close();
		expect([response.status, body?.error?.code]).toEqual([503, "service_unavailable"]);
	});

	it("is refused 503 service_unavailable by the partition when the call to the authority itself fails", async () => {
		const topic = uniqueTopic("tail-keycall");
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		// The call rejects, as a reset authority's or a lost connection's does: no Failure answered.
		vi.spyOn(KeyStore.prototype, "watchTail").mockRejectedValue(new Error("Network connection lost."));
		const url = new URL("https://partition.internal/tail");
		url.searchParams.set("topic_id", await topicIdOf(topic));
		url.searchParams.set("key_id", key.id);
		url.searchParams.set("partition", "0");
		const stub = await partitionStub(topic);
		const answer = await settled(
			stub
				.fetch(url.toString(), { headers: { Upgrade: "websocket" } })
				.then(async (r) => [r.status, ((await r.json()) as { error: { code: string } }).error.code]),
		);
		expect(answer).toEqual([503, "service_unavailable"]);
	});
});
