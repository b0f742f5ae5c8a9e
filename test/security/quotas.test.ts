/**
 * Per-key quotas: token buckets for requests/s, produce bytes/s and fetch bytes/s → 429 quota_exceeded with
 * Retry-After; the admin token has none. (The bucket arithmetic is tested on its own below.)
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { charge, newBucket, rerate, waitMs } from "../../src/auth/token-bucket.ts";
import type { TailState } from "../../src/partition/tail.ts";
import { bare } from "../../src/shared/errors.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { holdClock } from "../support/clock.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { SseReader } from "../support/sse.ts";
import { partitionStub } from "../support/stubs.ts";
import { openTail } from "../support/tail.ts";
import { call, createTopic, produce } from "../support/worker.ts";

describe("token bucket", () => {
	it("lets a burst of one second's rate through, then makes the caller wait for the debt", () => {
		const bucket = newBucket(10, 0);
		for (let i = 0; i < 10; i++) {
			expect(waitMs(bucket, 10, 0)).toBe(0);
			charge(bucket, 10, 1, 0);
		}
		expect(waitMs(bucket, 10, 0)).toBe(100);
		expect(waitMs(bucket, 10, 100)).toBe(0);
	});

	it("lets one request larger than the burst through, then holds the key back until repaid", () => {
		const bucket = newBucket(1000, 0);
		charge(bucket, 1000, 5000, 0);
		expect(waitMs(bucket, 1000, 0)).toBe(4001);
		expect(waitMs(bucket, 1000, 4001)).toBe(0);
	});

	it("carries a debt over a rate change: repaid at a raised rate, never owed longer at a lowered one", () => {
		const raised = newBucket(1000, 0);
		charge(raised, 1000, 5000, 0);
		rerate(raised, 1000, 4000, 0);
		expect(waitMs(raised, 4000, 0)).toBe(1001);
		const lowered = newBucket(1000, 0);
		charge(lowered, 1000, 5000, 0);
		// Half the debt repaid at the old rate before the change, the rest owed for as long as the old rate implies.
		rerate(lowered, 1000, 10, 2000);
		expect(waitMs(lowered, 10, 2000)).toBe(2100);
		const full = newBucket(1000, 0);
		rerate(full, 1000, 4000, 0);
		expect(waitMs(full, 4000, 0)).toBe(0);
		charge(full, 4000, 4000, 0);
		expect(waitMs(full, 4000, 0)).toBe(1);
	});
});

// The buckets refill with time: each test holds the clock while it counts on a bucket's level, so the answers do
// not depend on how fast the machine is.
/** A topic holding one record of ~3000 bytes, and a key that may consume it with a fetch quota of 1000 bytes/s. */
async function fetchQuotaKey() {
	const topic = uniqueTopic("q");
	await createTopic(topic);
	await produce(topic, [{ value: "y".repeat(3000) }]);
	const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }], { fetch_bytes_per_sec: 1000 });
	return { topic, key };
}

describe("quotas over HTTP", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("refuses requests over requests_per_sec with 429 and Retry-After", async () => {
		const topic = uniqueTopic("q");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["describe"] }], { requests_per_sec: 3 });
		const clock = holdClock();
		const statuses: number[] = [];
		let retryAfter: string | null = null;
		for (let i = 0; i < 6; i++) {
			const response = await call("GET", `/v1/topics/${topic}`, { token: key.secret });
			statuses.push(response.status);
			if (response.status === 429) {
				retryAfter = response.headers.get("Retry-After");
				expect(((await response.json()) as { error: { code: string } }).error.code).toBe("quota_exceeded");
			} else await response.body?.cancel();
		}
		expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
		expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
		// Refused requests cost nothing: once Retry-After has passed, the key is let through again.
		clock.advance(Number(retryAfter) * 1000);
		expect((await call("GET", `/v1/topics/${topic}`, { token: key.secret })).status).toBe(200);
	});

	it("charges produce bytes from Content-Length and refuses chunked bodies for keys with a produce quota", async () => {
		const topic = uniqueTopic("q");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 2000 });
		holdClock();
		const body = { records: [{ value: "x".repeat(1500) }] };
		expect((await call("POST", `/v1/topics/${topic}/records`, { token: key.secret, body })).status).toBe(200);
		const second = await call("POST", `/v1/topics/${topic}/records`, { token: key.secret, body });
		expect(second.status).toBe(200); // the bucket had 500 bytes left: it goes into debt
		const third = await call("POST", `/v1/topics/${topic}/records`, { token: key.secret, body });
		expect(third.status).toBe(429);
		const stream = new ReadableStream<Uint8Array>({
			start(controller) {
				controller.enqueue(new TextEncoder().encode(JSON.stringify(body)));
				controller.close();
			},
		});
		const other = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 1_000_000 });
		const chunked = await call("POST", `/v1/topics/${topic}/records`, {
			token: other.secret,
			raw: stream,
			headers: { "Content-Type": "application/json" },
		});
		expect(chunked.status).toBe(411);
	});

	it("charges fetch bytes from the response, so a key in debt waits", async () => {
		const { topic, key } = await fetchQuotaKey();
		holdClock();
		const path = `/v1/topics/${topic}/partitions/0/records?offset=0`;
		expect((await call("GET", path, { token: key.secret })).status).toBe(200);
		const refused = await call("GET", path, { token: key.secret });
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(2);
	});

	it("charges every fetch's bytes, also one whose answer comes while another fetch put the key in debt", async () => {
		const { topic, key } = await fetchQuotaKey();
		holdClock();
		const path = `/v1/topics/${topic}/partitions/0/records?offset=0`;
		// Both pass the check before either is paid for (a read of ~3000 bytes is measured once its body is known).
		const [a, b] = await Promise.all([call("GET", path, { token: key.secret }), call("GET", path, { token: key.secret })]);
		expect([a.status, b.status]).toEqual([200, 200]);
		const bytes = (await a.text()).length + (await b.text()).length;
		// Both bodies are owed: the bucket's second of burst (1000) leaves the rest as debt, repaid at 1000 bytes a second.
		const debt = bare(await keyAuthority(env, key.id).chargeQuotas(key.id, [{ quota: "fetch_bytes_per_sec", amount: 0 }]));
		expect(debt?.waitMs).toBeGreaterThanOrEqual(bytes - 1000);
	});

	it("is exact across isolates: what another isolate charged counts here (the buckets live in the key's authority)", async () => {
		const topic = uniqueTopic("q");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["describe"] }], { requests_per_sec: 5 });
		holdClock();
		// Another isolate (or location) serving this key spends two seconds' budget in one go...
		const authority = keyAuthority(env, key.id);
		expect(await authority.chargeQuotas(key.id, [{ quota: "requests_per_sec", amount: 10 }])).toBeNull();
		// ...so this isolate's first request is already over quota.
		const refused = await call("GET", `/v1/topics/${topic}`, { token: key.secret });
		expect(refused.status).toBe(429);
		expect(((await refused.json()) as { error: { quota: string } }).error.quota).toBe("requests_per_sec");
		expect(await authority.chargeQuotas(key.id, [{ quota: "requests_per_sec", amount: 1 }])).toMatchObject({
			quota: "requests_per_sec",
		});
	});

	it("limits GET /metrics to requests_per_sec like every other route, and not the admin token's scrapes", async () => {
		const key = await createKey([{ resource: "cluster", operations: ["describe"] }], { requests_per_sec: 1 });
		holdClock();
		const statuses: number[] = [];
		for (let i = 0; i < 4; i++) {
			const response = await call("GET", "/metrics", { token: key.secret });
			statuses.push(response.status);
			await response.body?.cancel();
		}
		expect(statuses).toEqual([200, 429, 429, 429]);
		for (let i = 0; i < 5; i++) {
			const response = await call("GET", "/metrics");
			expect(response.status).toBe(200);
			expect(await response.text()).toContain("tributary_");
		}
	});

	it("charges each Server-Sent Events write to the fetch quota, and holds a reader in debt back instead of ending its stream", async () => {
		const { topic, key } = await fetchQuotaKey();
		const clock = holdClock();
		const response = await call("GET", `/v1/topics/${topic}/partitions/0/records?offset=0`, {
			token: key.secret,
			headers: { Accept: "text/event-stream" },
		});
		expect(response.status).toBe(200);
		const sse = new SseReader(response);
		expect((await sse.records(1))[0]?.record.offset).toBe(0);
		// The ~3000 bytes sent were charged before they went: the bucket of 1000 is ~2000 bytes in debt.
		const debt = bare(await keyAuthority(env, key.id).chargeQuotas(key.id, [{ quota: "fetch_bytes_per_sec", amount: 0 }]));
		expect(debt).toMatchObject({ quota: "fetch_bytes_per_sec", waitMs: expect.any(Number) });
		expect(debt?.waitMs).toBeGreaterThan(1000);
		clock.release();
		// The stream stays open: the next record comes once the debt is paid off.
		await produce(topic, [{ value: "z" }]);
		expect((await sse.records(1, 10_000))[0]?.record.offset).toBe(1);
		await sse.close();
	});

	it("charges each WebSocket tail message to the fetch quota, and holds a tail in debt back instead of closing it", async () => {
		const { topic, key } = await fetchQuotaKey();
		const clock = holdClock();
		const openedAtMs = clock.nowMs;
		const tail = await openTail(topic, "?offset=0", key.secret);
		await tail.until(() => tail.values().length === 1);
		// The ~3000 bytes sent were charged before they went: the bucket of 1000 is ~2000 bytes in debt.
		const debt = bare(await keyAuthority(env, key.id).chargeQuotas(key.id, [{ quota: "fetch_bytes_per_sec", amount: 0 }]));
		expect(debt).toMatchObject({ quota: "fetch_bytes_per_sec", waitMs: expect.any(Number) });
		expect(debt?.waitMs).toBeGreaterThan(1000);
		// The debt was taken at `openedAtMs`; from here on the real clock repays it.
		clock.release();
		// The tail stays open: the next record comes once the debt is paid off, and not before (a lower bound on
		// time, which a slow machine only lengthens: the debt of ~2000 bytes at 1000/s takes two seconds to repay).
		await produce(topic, [{ value: "z" }]);
		tail.ws.send(JSON.stringify({ ack: 1 }));
		await tail.until(() => tail.values().length === 2);
		expect(Date.now() - openedAtMs).toBeGreaterThanOrEqual(2000);
		expect(tail.messages.at(-1)?.next_offset).toBe(2);
		expect(tail.closed()).toBeNull();
		tail.ws.close(1000, "done");
	});

	it("leaves the WebSocket tails of the admin token and of keys without a fetch quota free: nothing pays for them", async () => {
		const topic = uniqueTopic("q");
		await createTopic(topic);
		const acl = [{ resource: `topic:${topic}`, operations: ["consume" as const] }];
		const charged = await createKey(acl, { fetch_bytes_per_sec: 1000 });
		const free = await createKey(acl, { requests_per_sec: 1000 });
		const tails = [await openTail(topic, "", charged.secret), await openTail(topic, "", free.secret), await openTail(topic)];
		await produce(topic, [{ value: "a" }]);
		for (const tail of tails) await tail.until(() => tail.values().length === 1);
		const payers = await runInDurableObject(await partitionStub(topic), (_instance, state) =>
			state.getWebSockets().map((ws) => {
				const { payer, pays } = ws.deserializeAttachment() as TailState;
				return pays === true ? (payer ?? null) : null;
			}),
		);
		expect(payers.sort()).toEqual([charged.id, null, null].sort());
		for (const tail of tails) tail.ws.close(1000, "done");
	});

	it("does not limit the admin token", async () => {
		const topic = uniqueTopic("q");
		await createTopic(topic);
		for (let i = 0; i < 20; i++) expect((await call("GET", `/v1/topics/${topic}`)).status).toBe(200);
	});
});
