/**
 * Deleting a key ends the streams it opened (revoking a key "takes effect at once, everywhere"): a WebSocket tail is
 * closed with 4401 before the DELETE answers, and an SSE stream sends no record appended after the delete.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TAIL_CLOSE } from "../../src/partition/tail.ts";
import { keyAuthority, partitionLog } from "../../src/shared/stubs.ts";
import { describeTopic } from "../../src/topic/topic-cache.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { openSse } from "../support/sse.ts";
import { openTail } from "../support/tail.ts";
import { call, createTopic, expectError, produce } from "../support/worker.ts";

describe("revoking a key ends its streams", { timeout: 20_000 }, () => {
	it("closes the key's WebSocket tails with 4401 before DELETE answers; the admin's tail stays open", async () => {
		const topic = uniqueTopic("rev-ws");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const keyTail = await openTail(topic, "", key.secret);
		const adminTail = await openTail(topic);
		await produce(topic, [{ value: "before" }]);
		await keyTail.until(() => keyTail.values().length === 1);
		await adminTail.until(() => adminTail.values().length === 1);

		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		await keyTail.until(() => keyTail.closed() !== null);
		expect(keyTail.closed()?.code).toBe(TAIL_CLOSE.keyRevoked);

		await produce(topic, [{ value: "after" }]);
		await adminTail.until(() => adminTail.values().length === 2);
		expect(keyTail.values()).toEqual(["before"]);
		expect(adminTail.closed()).toBeNull();
		adminTail.ws.close(1000, "done");
		// And the revoked key cannot open a new one.
		await expectError("GET", `/v1/topics/${topic}/partitions/0/records`, 401, "unauthorized", {
			token: key.secret,
			headers: { Upgrade: "websocket" },
		});
	});

	it("refuses a tail whose key is revoked while it registers (the partition remembers the revocation)", async () => {
		const topic = uniqueTopic("rev-race");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const meta = await describeTopic(env, topic);
		if (!meta.ok) throw new Error(meta.error.message);
		// The losing order of the race: the revocation's fan-out reached the partition while the tail was between
		// registering with the authority (the key still existed) and being accepted.
		await partitionLog(env, meta.value.topicId, 0).revokeTails(key.id);
		await expectError("GET", `/v1/topics/${topic}/partitions/0/records`, 401, "unauthorized", {
			token: key.secret,
			headers: { Upgrade: "websocket" },
		});
		// A revoked authority refuses to register a tail at all.
		await keyAuthority(env, key.id).revoke(key.id);
		expect(await keyAuthority(env, key.id).watchTail(key.id, meta.value.topicId, 0)).toBe(false);
	});

	it("ends an SSE stream with an unauthorized error event instead of a record appended after the delete", async () => {
		const topic = uniqueTopic("rev-sse");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records?keepalive_ms=200`, {}, key.secret);
		await produce(topic, [{ value: "before" }]);
		expect((await sse.records(1)).map((e) => e.record.value)).toEqual(["before"]);

		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		await produce(topic, [{ value: "after" }]);
		let event = await sse.next();
		while (event.comment !== undefined) event = await sse.next();
		expect(event.event).toBe("error");
		expect(JSON.parse(event.data as string).error.code).toBe("unauthorized");
	});

	it("keeps an admin SSE stream and a live key's stream going", async () => {
		const topic = uniqueTopic("rev-keep");
		await createTopic(topic);
		const kept = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const other = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records?keepalive_ms=200`, {}, kept.secret);
		expect((await call("DELETE", `/v1/keys/${other.id}`)).status).toBe(204);
		await produce(topic, [{ value: "still" }]);
		expect((await sse.records(1)).map((e) => e.record.value)).toEqual(["still"]);
		await sse.close();
	});
});
