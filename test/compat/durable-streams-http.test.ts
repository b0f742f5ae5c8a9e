/**
 * Durable Streams through the Worker (inside workerd): a stream is a topic, so `/v1` sees it — a consumer group
 * reads a stream's appends as records — and the `anonymous` principal reaches exactly the streams it was granted.
 * The protocol itself is proven by its conformance suite (test/conformance/).
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { formatOffset } from "../../src/http/compat/durable-streams/protocol.ts";
import { bare } from "../../src/shared/errors.ts";
import { REQUEST_BYTES_MAX } from "../../src/shared/limits.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { onStream } from "../../src/topic/stream-topics.ts";
import { anonymousClosedAroundEach, closeAnonymous, grantAnonymous } from "../support/anonymous.ts";
import { breakNextWrite } from "../support/break-write.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { appendsNeedConfig } from "../support/needs-config.ts";
import { SseReader } from "../support/sse.ts";
import { partitionStub } from "../support/stubs.ts";
import { call, json } from "../support/worker.ts";

const DS = "/ds/v1/stream";

// Several objects per test (registry, partition, coordinator): allow for a loaded machine.
describe("streams are topics", { timeout: 20_000 }, () => {
	it("a JSON stream keeps the digits of numbers a double cannot hold, and a zero's sign", async () => {
		const path = `numbers/${uniqueTopic("ds")}`;
		const message = '{"id":12345678901234567890,"decimal":1234567890.1234567891,"huge":1e400,"zero":-0}';
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "application/json" } })).status).toBe(201);
		expect((await call("POST", `${DS}/${path}`, { headers: { "Content-Type": "application/json" }, raw: `[${message}]` })).status).toBe(
			204,
		);
		const read = await call("GET", `${DS}/${path}?offset=-1`);
		expect(await read.text()).toBe(`[${message}]`);
	});

	it("a consumer group on /v1 reads a JSON stream's appends, one record per append", async () => {
		const path = `orders/${uniqueTopic("ds")}`;
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "application/json" }, raw: '{"id":1}' })).status).toBe(201);
		expect(
			(await call("POST", `${DS}/${path}`, { headers: { "Content-Type": "application/json" }, raw: '[{"id":2},{"id":3}]' })).status,
		).toBe(204);
		const topic = streamTopic(path);
		const described = await json<{ name: string; partitions: { high_watermark: number }[] }>("GET", `/v1/topics/${topic}`, 200);
		expect(described.name).toBe(topic);
		expect(described.partitions.map((p) => p.high_watermark)).toEqual([2]);

		const group = uniqueTopic("ds-group");
		const joined = await json<{ member_id: string }>("POST", `/v1/groups/${group}/members`, 200, {
			body: { topics: [topic], auto_offset_reset: "earliest" },
		});
		const polled = await json<{ records: { offset: number; value: unknown }[] }>(
			"POST",
			`/v1/groups/${group}/members/${joined.member_id}/poll`,
			200,
			{ body: { max_records: 10 } },
		);
		expect(polled.records.map((r) => [r.offset, r.value])).toEqual([
			[0, [{ id: 1 }]],
			[1, [{ id: 2 }, { id: 3 }]],
		]);
	});

	it("a record produced through /v1 is read through /ds, and deleting the stream deletes its topic", async () => {
		const path = uniqueTopic("ds-text");
		const topic = streamTopic(path);
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "from ds;" })).status).toBe(201);
		await json("POST", `/v1/topics/${topic}/records`, 200, { body: { records: [{ value: "from v1" }] } });
		const read = await call("GET", `${DS}/${path}?offset=-1`);
		expect(await read.text()).toBe("from ds;from v1");
		expect(read.headers.get("Stream-Next-Offset")).toBe("0000000000000000_0000000000000002");
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(204);
		expect((await call("GET", `/v1/topics/${topic}`)).status).toBe(404);
		const gone = await call("GET", `${DS}/${path}`);
		expect(gone.status).toBe(404);
		expect(await gone.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
	});
});

// A stream's partition that asks for the topic's config again after the edge gave it (the config changed during the
// request) answers before it stages anything: no record, no producer sequence, no Stream-Seq.
describe("an append that meets a config change", { timeout: 20_000 }, () => {
	it("is refused 503, retriable: it wrote nothing, so a producer's repeat with the same headers lands once", async () => {
		const path = `config/${uniqueTopic("ds")}`;
		const headers = { "Content-Type": "text/plain", "Producer-Id": "p1", "Producer-Epoch": "0", "Producer-Seq": "0" };
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" } })).status).toBe(201);
		const restore = appendsNeedConfig(0, 2, "streamAppend");
		let refused: Response;
		try {
			refused = await call("POST", `${DS}/${path}`, { headers, raw: "once" });
		} finally {
			restore();
		}
		expect(refused.status).toBe(503);
		expect(await refused.json()).toEqual({ error: { code: "BUSY", message: "the stream's topic changed; retry", retriable: true } });
		expect(await (await call("GET", `${DS}/${path}?offset=-1`)).text()).toBe("");
		expect((await call("POST", `${DS}/${path}`, { headers, raw: "once" })).status).toBe(200);
		expect((await call("POST", `${DS}/${path}`, { headers, raw: "once" })).status).toBe(204);
		expect(await (await call("GET", `${DS}/${path}?offset=-1`)).text()).toBe("once");
	});

	it("an append whose write rolls back (storage failing) is answered 503 BUSY, retriable, and writes nothing", async () => {
		const path = `rollback/${uniqueTopic("ds")}`;
		const headers = { "Content-Type": "text/plain" };
		expect((await call("PUT", `${DS}/${path}`, { headers, raw: "kept" })).status).toBe(201);
		await breakNextWrite(streamTopic(path));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const refused = await call("POST", `${DS}/${path}`, { headers, raw: "lost" });
		expect(refused.status).toBe(503);
		expect(await refused.json()).toEqual({ error: { code: "BUSY", message: "partition 0 is unavailable; retry", retriable: true } });
		expect(await (await call("GET", `${DS}/${path}?offset=-1`)).text()).toBe("kept");
		vi.restoreAllMocks();
	});

	it("a fork whose source's reference step rolls back is answered 503 BUSY, retriable, not 404: the source exists", async () => {
		const path = `rollback-fork/${uniqueTopic("ds")}`;
		const headers = { "Content-Type": "text/plain" };
		expect((await call("PUT", `${DS}/${path}`, { headers, raw: "kept" })).status).toBe(201);
		await breakNextWrite(streamTopic(path));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const fork = await call("PUT", `${DS}/${path}-fork`, { headers: { ...headers, "Stream-Forked-From": `${DS}/${path}` } });
		vi.restoreAllMocks();
		expect(fork.status).toBe(503);
		expect(await fork.json()).toMatchObject({ error: { code: "BUSY", retriable: true } });
		expect((await call("PUT", `${DS}/${path}-fork`, { headers: { ...headers, "Stream-Forked-From": `${DS}/${path}` } })).status).toBe(201);
	});

	it("is Tributary's `unavailable` (nothing written), not `partition_unavailable` (something may have been)", async () => {
		const path = `config/${uniqueTopic("ds")}`;
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" } })).status).toBe(201);
		const result = await onStream(env, streamTopic(path), async () => ({ needsConfig: true as const }));
		expect(result).toMatchObject({ ok: false, failure: { kind: "log", error: { code: "unavailable" } } });
	});
});

describe("the anonymous principal on /ds", { timeout: 20_000 }, () => {
	anonymousClosedAroundEach();

	it("is refused (401) until granted, then reaches only the streams its grant covers", async () => {
		const open = uniqueTopic("public");
		const closed = uniqueTopic("private");
		for (const path of [open, closed]) {
			expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "x" })).status).toBe(201);
		}
		expect(await json("GET", "/v1/anonymous", 200)).toEqual({ acl: [], quotas: {} });
		expect((await call("GET", `${DS}/${open}`, { token: null })).status).toBe(401);
		await grantAnonymous([{ resource: `topic:${streamTopic(open)}`, operations: ["consume"] }]);
		const read = await call("GET", `${DS}/${open}`, { token: null });
		expect(read.status).toBe(200);
		expect(await read.text()).toBe("x");
		// Granted reading one stream: not appending to it, not reading another, not any /v1 route.
		expect((await call("POST", `${DS}/${open}`, { token: null, headers: { "Content-Type": "text/plain" }, raw: "y" })).status).toBe(401);
		expect((await call("GET", `${DS}/${closed}`, { token: null })).status).toBe(401);
		expect((await call("GET", "/v1/topics", { token: null })).status).toBe(200);
		expect((await call("GET", "/v1/keys", { token: null })).status).toBe(401);
		// A wrong credential is never anonymous.
		expect((await call("GET", `${DS}/${open}`, { token: "not-a-token" })).status).toBe(401);
		await closeAnonymous();
		expect((await call("GET", `${DS}/${open}`, { token: null })).status).toBe(401);
	});

	it("is held to the quotas set on it, like a key", async () => {
		const path = uniqueTopic("quota");
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "x" })).status).toBe(201);
		await grantAnonymous([{ resource: `topic:${streamTopic(path)}`, operations: ["consume"] }], { requests_per_sec: 1 });
		expect(await json("GET", "/v1/anonymous", 200)).toMatchObject({ quotas: { requests_per_sec: 1 } });
		const statuses: number[] = [];
		for (let i = 0; i < 5; i++) statuses.push((await call("GET", `${DS}/${path}`, { token: null })).status);
		expect(statuses[0]).toBe(200);
		expect(statuses).toContain(429);
	});

	it("refuses a grant that is not an ACL of the key shape", async () => {
		const refused = await call("PUT", "/v1/anonymous", { body: { acl: [{ resource: "everything", operations: ["consume"] }] } });
		expect(refused.status).toBe(400);
		expect(await json("GET", "/v1/anonymous", 200)).toEqual({ acl: [], quotas: {} });
	});
});

describe("offsets the stream does not hold", { timeout: 20_000 }, () => {
	const text = { "Content-Type": "text/plain" };

	it("answers 410 Gone for an offset retention deleted, on every kind of read, and reads on from the log start", async () => {
		const path = uniqueTopic("dsret");
		expect((await call("PUT", `${DS}/${path}`, { headers: text })).status).toBe(201);
		for (let i = 0; i < 5; i++) expect((await call("POST", `${DS}/${path}`, { headers: text, raw: `${i}`.repeat(900) })).status).toBe(204);
		const topic = streamTopic(path);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "retention.bytes": 2500 } } });
		await runDurableObjectAlarm(await partitionStub(topic));
		const { partitions } = await json<{ partitions: { log_start_offset: number }[] }>("GET", `/v1/topics/${topic}`, 200);
		const start = (partitions[0] as { log_start_offset: number }).log_start_offset;
		expect(start).toBeGreaterThan(0);
		for (const live of ["", "&live=long-poll", "&live=sse"]) {
			const gone = await call("GET", `${DS}/${path}?offset=${formatOffset(start - 1)}${live}`);
			expect({ live, status: gone.status, body: await gone.json() }).toMatchObject({
				live,
				status: 410,
				body: { error: { code: "GONE" } },
			});
		}
		const from = await call("GET", `${DS}/${path}?offset=-1`);
		expect((await from.text()).startsWith(`${start}`.repeat(900))).toBe(true);
		const at = await call("GET", `${DS}/${path}?offset=${formatOffset(start)}`);
		expect((await at.text()).length).toBe((5 - start) * 900);
		// A fork keeps the source's offsets, so it cannot start past what retention took.
		const fork = await call("PUT", `${DS}/${path}-fork`, { headers: { ...text, "Stream-Forked-From": `/ds/v1/stream/${path}` } });
		expect({ status: fork.status, body: await fork.json() }).toMatchObject({
			status: 400,
			body: { error: { message: expect.stringContaining("retention") } },
		});
	});

	it("refuses an offset past the tail (400) instead of answering from the tail", async () => {
		const path = uniqueTopic("dsahead");
		expect((await call("PUT", `${DS}/${path}`, { headers: text, raw: "abc" })).status).toBe(201);
		const ahead = await call("GET", `${DS}/${path}?offset=${formatOffset(1000)}`);
		expect({ status: ahead.status, body: await ahead.json() }).toMatchObject({ status: 400, body: { error: { code: "BAD_REQUEST" } } });
		const tail = await call("GET", `${DS}/${path}?offset=${formatOffset(1)}`);
		expect({ status: tail.status, next: tail.headers.get("Stream-Next-Offset"), body: await tail.text() }).toEqual({
			status: 200,
			next: formatOffset(1),
			body: "",
		});
	});
});

describe("live=sse and the fetch-bytes quota", () => {
	it("charges each write's bytes to the key's fetch quota before sending it", async () => {
		const path = uniqueTopic("dssse");
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "x".repeat(3000) })).status).toBe(201);
		const key = await createKey([{ resource: `topic:${streamTopic(path)}`, operations: ["consume"] }], { fetch_bytes_per_sec: 1000 });
		const response = await call("GET", `${DS}/${path}?offset=-1&live=sse`, { token: key.secret });
		expect(response.status).toBe(200);
		const sse = new SseReader(response);
		expect((await sse.next()).event).toBe("data");
		const debt = bare(await keyAuthority(env, key.id).chargeQuotas(key.id, [{ quota: "fetch_bytes_per_sec", amount: 0 }]));
		expect(debt?.waitMs).toBeGreaterThan(1000);
		await sse.close();
	});
});

describe("a body over the request limit", { timeout: 20_000 }, () => {
	/** A chunked body (no Content-Length) `totalBytes` long, which counts what the server pulled and whether it cancelled. */
	function countedBody(totalBytes: number) {
		const chunk = new Uint8Array(64 * 1024);
		const seen = { pulledBytes: 0, cancelled: false };
		const stream = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (seen.pulledBytes >= totalBytes) return controller.close();
				seen.pulledBytes += chunk.byteLength;
				controller.enqueue(chunk);
			},
			cancel() {
				seen.cancelled = true;
			},
		});
		return { stream, seen };
	}

	// Answering while the client still sends resets the connection: the client sees EPIPE, not the 413.
	it("is read to its end before the 413, when streamed without a Content-Length as when declared", async () => {
		const path = `large/${uniqueTopic("ds")}`;
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "application/octet-stream" } })).status).toBe(201);
		const totalBytes = REQUEST_BYTES_MAX + 2 * 1024 * 1024;
		for (const declared of [false, true]) {
			const { stream, seen } = countedBody(totalBytes);
			const headers = { "Content-Type": "application/octet-stream", ...(declared ? { "Content-Length": String(totalBytes) } : {}) };
			const response = await call("POST", `${DS}/${path}`, { headers, raw: stream });
			expect(response.status).toBe(413);
			expect(await response.json()).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
			expect(seen, declared ? "declared" : "streamed").toEqual({ pulledBytes: totalBytes, cancelled: false });
		}
	});
});
