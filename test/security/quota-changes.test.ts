/**
 * Changing a key's quotas after creation (`PUT /v1/keys/{id}/quotas` replaces them, `PATCH` changes the ones it names,
 * as Kafka's AlterClientQuotas): the next request is held to the new quotas, two concurrent patches both apply, a debt taken under the old rate blocks the key no longer than it already had
 * to, and live reads (SSE on /v1 and Durable Streams' live=sse) follow a quota set or removed after they opened
 * within TAIL_PAYER_CHECK_MS, as WebSocket tails do.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KeyStore } from "../../src/auth/key-store.ts";
import { bare } from "../../src/shared/errors.ts";
import { TAIL_PAYER_CHECK_MS } from "../../src/shared/limits.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { holdClock } from "../support/clock.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { openProduceSocket } from "../support/produce-stream.ts";
import { SseReader } from "../support/sse.ts";
import { call, createTopic, expectError, fetchRecords, json, produce } from "../support/worker.ts";

const DS = "/ds/v1/stream";

/** What key `id` owes its produce quota now: null when it may produce, else the wait its authority answers. */
async function produceDebt(id: string) {
	return bare(await keyAuthority(env, id).chargeQuotas(id, [{ quota: "produce_bytes_per_sec", amount: 0 }]));
}

/** What key `id` owes its fetch quota now: null when it may read, else the wait its authority answers. */
async function fetchDebt(id: string) {
	return bare(await keyAuthority(env, id).chargeQuotas(id, [{ quota: "fetch_bytes_per_sec", amount: 0 }]));
}

function setQuotas(id: string, quotas: Record<string, number>) {
	return json<Record<string, unknown>>("PUT", `/v1/keys/${id}/quotas`, 200, { body: quotas });
}

describe("PUT /v1/keys/{id}/quotas", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("replaces a key's quotas, and holds the key's next request to them", async () => {
		const topic = uniqueTopic("qc");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["describe"] }], { fetch_bytes_per_sec: 5000 });
		holdClock();
		for (let i = 0; i < 3; i++) expect((await call("GET", `/v1/topics/${topic}`, { token: key.secret })).status).toBe(200);
		const changed = await setQuotas(key.id, { requests_per_sec: 1 });
		// A whole replacement: the fetch quota is gone, the request quota set.
		expect(changed).toMatchObject({ id: key.id, quotas: { requests_per_sec: 1 } });
		expect(changed.quotas).toEqual({ requests_per_sec: 1 });
		const { keys } = await json<{ keys: { id: string; quotas: unknown }[] }>("GET", "/v1/keys", 200);
		expect(keys.find((k) => k.id === key.id)?.quotas).toEqual({ requests_per_sec: 1 });
		const statuses: number[] = [];
		for (let i = 0; i < 3; i++) statuses.push((await call("GET", `/v1/topics/${topic}`, { token: key.secret })).status);
		expect(statuses).toEqual([200, 429, 429]);
		await setQuotas(key.id, {});
		for (let i = 0; i < 3; i++) expect((await call("GET", `/v1/topics/${topic}`, { token: key.secret })).status).toBe(200);
	});

	it("answers 404 for an unknown key, 400 for a bad body, 403 for a key without admin, as the other key routes", async () => {
		const key = await createKey([{ resource: "topic:qc.*", operations: ["describe"] }]);
		await expectError("PUT", "/v1/keys/0123456789abcdef0123/quotas", 404, "key_not_found", { body: { requests_per_sec: 1 } });
		await expectError("PUT", `/v1/keys/${key.id}/quotas`, 400, "invalid_request", { body: { requests_per_sec: -1 } });
		await expectError("PUT", `/v1/keys/${key.id}/quotas`, 400, "invalid_request", { body: { bytes: 1 } });
		await expectError("PUT", "/v1/keys/not-a-key/quotas", 400, "invalid_request", { body: {} });
		await expectError("PUT", `/v1/keys/${key.id}/quotas`, 403, "forbidden", { body: {}, token: key.secret });
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		await expectError("PUT", `/v1/keys/${key.id}/quotas`, 404, "key_not_found", { body: {} });
	});

	it("never makes a debt taken under the old rate block the key longer than it already had to; a raise repays it at the new rate", async () => {
		const lowered = await createKey([], { fetch_bytes_per_sec: 1000 });
		const raised = await createKey([], { fetch_bytes_per_sec: 1000 });
		holdClock();
		for (const key of [lowered, raised]) {
			expect(await keyAuthority(env, key.id).chargeQuotas(key.id, [{ quota: "fetch_bytes_per_sec", amount: 5000 }])).toBeNull();
			expect((await fetchDebt(key.id))?.waitMs).toBe(4001);
		}
		// Cut 100-fold: the 4,000 bytes owed would take 400 s at the new rate; the key waits the 4 s it owed (and the
		// one byte at 10/s a bucket needs to be out of debt).
		await setQuotas(lowered.id, { fetch_bytes_per_sec: 10 });
		expect((await fetchDebt(lowered.id))?.waitMs).toBe(4100);
		// Raised 100-fold: the 4,000 bytes owed are repaid at the new rate, in 41 ms.
		await setQuotas(raised.id, { fetch_bytes_per_sec: 100_000 });
		expect((await fetchDebt(raised.id))?.waitMs).toBe(41);
	});

	it("starts a quota removed and set again from a full bucket, not from the debt left under the removed one", async () => {
		const key = await createKey([], { fetch_bytes_per_sec: 1000 });
		holdClock();
		expect(await keyAuthority(env, key.id).chargeQuotas(key.id, [{ quota: "fetch_bytes_per_sec", amount: 5000 }])).toBeNull();
		await setQuotas(key.id, {});
		await setQuotas(key.id, { fetch_bytes_per_sec: 1000 });
		expect(await fetchDebt(key.id)).toBeNull();
	});
});

function patchQuotas(id: string, patch: Record<string, number | null>) {
	return json<{ quotas: Record<string, number> }>("PATCH", `/v1/keys/${id}/quotas`, 200, { body: patch });
}

describe("PATCH /v1/keys/{id}/quotas", () => {
	it("sets the quotas named with a rate, removes those named with null, keeps the others; the next request is held to them", async () => {
		const topic = uniqueTopic("qc");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["describe"] }], {
			fetch_bytes_per_sec: 5000,
			produce_bytes_per_sec: 7000,
		});
		holdClock();
		const changed = await patchQuotas(key.id, { requests_per_sec: 1, fetch_bytes_per_sec: null });
		expect(changed.quotas).toEqual({ produce_bytes_per_sec: 7000, requests_per_sec: 1 });
		expect((await json<{ quotas: unknown }>("GET", `/v1/keys/${key.id}`, 200)).quotas).toEqual(changed.quotas);
		const statuses: number[] = [];
		for (let i = 0; i < 3; i++) statuses.push((await call("GET", `/v1/topics/${topic}`, { token: key.secret })).status);
		expect(statuses).toEqual([200, 429, 429]);
		expect((await patchQuotas(key.id, {})).quotas, "an empty patch changes nothing").toEqual(changed.quotas);
		const { records } = await fetchRecords("_audit", 0, "offset=0&max_records=10000");
		const audited = records.map((r) => r.value as Record<string, unknown>).filter((v) => v.key_id === key.id && v.action === "key.quotas");
		expect(audited[0]).toMatchObject({ actor: "admin", requests_per_sec: 1, fetch_bytes_per_sec: null });
	});

	it("applies both of two concurrent patches of one key, for different quotas: neither is lost", async () => {
		const key = await createKey([], { requests_per_sec: 100 });
		const [produce, fetch] = await Promise.all([
			patchQuotas(key.id, { produce_bytes_per_sec: 1000 }),
			patchQuotas(key.id, { fetch_bytes_per_sec: 2000 }),
		]);
		const both = { requests_per_sec: 100, produce_bytes_per_sec: 1000, fetch_bytes_per_sec: 2000 };
		expect((await json<{ quotas: unknown }>("GET", `/v1/keys/${key.id}`, 200)).quotas).toEqual(both);
		// One of the two ran second and answered the quotas with both changes in.
		expect([produce.quotas, fetch.quotas]).toContainEqual(both);
		expect(bare(await keyAuthority(env, key.id).getKey(key.id))?.quotas, "the authority holds both").toEqual(both);
	});

	it("carries a debt over a patched rate as PUT does (rerate), and leaves the buckets of quotas it does not name alone", async () => {
		const key = await createKey([], { fetch_bytes_per_sec: 1000, produce_bytes_per_sec: 1000 });
		holdClock();
		for (const quota of ["fetch_bytes_per_sec", "produce_bytes_per_sec"] as const) {
			expect(await keyAuthority(env, key.id).chargeQuotas(key.id, [{ quota, amount: 5000 }])).toBeNull();
		}
		await patchQuotas(key.id, { fetch_bytes_per_sec: 100_000 });
		expect((await fetchDebt(key.id))?.waitMs).toBe(41);
		expect((await produceDebt(key.id))?.waitMs, "the produce debt is untouched").toBe(4001);
	});

	it("answers 400 for a bad patch, 404 for an unknown or deleted key, 403 for a key without admin", async () => {
		const key = await createKey([{ resource: "topic:qc.*", operations: ["describe"] }]);
		const path = `/v1/keys/${key.id}/quotas`;
		const negative = await expectError("PATCH", path, 400, "invalid_request", { body: { requests_per_sec: -1 } });
		expect(negative.message).toContain("requests_per_sec");
		const unknown = await expectError("PATCH", path, 400, "invalid_request", { body: { bytes: 1 } });
		expect(unknown.message).toContain("bytes");
		await expectError("PATCH", path, 400, "invalid_request", { body: { fetch_bytes_per_sec: "fast" } });
		await expectError("PATCH", path, 400, "invalid_request", { body: [{ fetch_bytes_per_sec: 1 }] });
		await expectError("PATCH", path, 400, "invalid_json", { raw: "{", headers: { "Content-Type": "application/json" } });
		await expectError("PATCH", "/v1/keys/not-a-key/quotas", 400, "invalid_request", { body: {} });
		await expectError("PATCH", "/v1/keys/0123456789abcdef0123/quotas", 404, "key_not_found", { body: { requests_per_sec: 1 } });
		await expectError("PATCH", path, 403, "forbidden", { body: { requests_per_sec: 1 }, token: key.secret });
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		await expectError("PATCH", path, 404, "key_not_found", { body: { requests_per_sec: null } });
	});
});

describe("live reads follow a fetch quota changed after they opened", { timeout: 30_000 }, () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	async function openV1(topic: string, secret: string): Promise<SseReader> {
		const response = await call("GET", `/v1/topics/${topic}/partitions/0/records?offset=0`, {
			token: secret,
			headers: { Accept: "text/event-stream" },
		});
		expect(response.status).toBe(200);
		return new SseReader(response);
	}

	it("/v1 SSE: charges a stream opened before its key had a fetch quota, once one is set", async () => {
		const topic = uniqueTopic("qc");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const sse = await openV1(topic, key.secret);
		await produce(topic, [{ value: "a" }]);
		await sse.records(1);
		await setQuotas(key.id, { fetch_bytes_per_sec: 1000 });
		const clock = holdClock(); // no refill between the write and the look at the bucket
		clock.advance(TAIL_PAYER_CHECK_MS);
		await produce(topic, [{ value: "y".repeat(3000) }]);
		await sse.records(1);
		const debt = await fetchDebt(key.id);
		clock.release();
		await sse.close();
		expect(debt, "the write after the quota was set was charged").not.toBeNull();
		expect(debt?.waitMs).toBeGreaterThan(1000);
	});

	it("/v1 SSE: stops charging (an authority call per write) once the key's fetch quota is removed", async () => {
		const topic = uniqueTopic("qc");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }], { fetch_bytes_per_sec: 1_000_000 });
		const sse = await openV1(topic, key.secret);
		await produce(topic, [{ value: "a" }]);
		await sse.records(1);
		await setQuotas(key.id, {});
		const clock = holdClock();
		clock.advance(TAIL_PAYER_CHECK_MS);
		const charges = vi.spyOn(KeyStore.prototype, "chargeQuotas");
		await produce(topic, [{ value: "b" }]);
		await sse.records(1);
		await produce(topic, [{ value: "c" }]);
		await sse.records(1);
		const streamCharges = charges.mock.calls.filter(([id]) => id === key.id).length;
		clock.release();
		await sse.close();
		expect(streamCharges, "writes after the quota was removed are not charged").toBe(0);
	});

	it("Durable Streams live=sse: charges a stream opened before its key had a fetch quota, once one is set", async () => {
		const path = uniqueTopic("qcds");
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "a" })).status).toBe(201);
		const key = await createKey([{ resource: `topic:${streamTopic(path)}`, operations: ["consume"] }]);
		const response = await call("GET", `${DS}/${path}?offset=-1&live=sse`, { token: key.secret });
		expect(response.status).toBe(200);
		const sse = new SseReader(response);
		expect((await sse.next()).event).toBe("data");
		expect((await sse.next()).event).toBe("control");
		await setQuotas(key.id, { fetch_bytes_per_sec: 1000 });
		const clock = holdClock();
		clock.advance(TAIL_PAYER_CHECK_MS);
		const append = await call("POST", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "y".repeat(3000) });
		expect(append.status).toBe(204);
		expect((await sse.next()).event).toBe("data");
		const debt = await fetchDebt(key.id);
		clock.release();
		await sse.close();
		expect(debt, "the write after the quota was set was charged").not.toBeNull();
		expect(debt?.waitMs).toBeGreaterThan(1000);
	});

	it("Durable Streams live=sse: stops charging once the key's fetch quota is removed", async () => {
		const path = uniqueTopic("qcds");
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "a" })).status).toBe(201);
		const key = await createKey([{ resource: `topic:${streamTopic(path)}`, operations: ["consume"] }], { fetch_bytes_per_sec: 1_000_000 });
		const response = await call("GET", `${DS}/${path}?offset=-1&live=sse`, { token: key.secret });
		const sse = new SseReader(response);
		expect((await sse.next()).event).toBe("data");
		expect((await sse.next()).event).toBe("control");
		await setQuotas(key.id, {});
		const clock = holdClock();
		clock.advance(TAIL_PAYER_CHECK_MS);
		const charges = vi.spyOn(KeyStore.prototype, "chargeQuotas");
		for (const text of ["b", "c"]) {
			expect((await call("POST", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: text })).status).toBe(204);
			expect((await sse.next()).event).toBe("data");
			expect((await sse.next()).event).toBe("control");
		}
		const streamCharges = charges.mock.calls.filter(([id]) => id === key.id).length;
		clock.release();
		await sse.close();
		expect(streamCharges, "writes after the quota was removed are not charged").toBe(0);
	});
});

describe("a streaming produce channel follows a produce quota changed after it opened", { timeout: 30_000 }, () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("charges a channel opened before its key had a produce quota, once one is set", async () => {
		const topic = uniqueTopic("qc");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }]);
		const socket = await openProduceSocket(topic, key.secret);
		socket.ws.send(JSON.stringify({ value: "a" }));
		await socket.until(() => socket.reports.length === 1);
		await setQuotas(key.id, { produce_bytes_per_sec: 1000 });
		const clock = holdClock();
		clock.advance(TAIL_PAYER_CHECK_MS);
		socket.ws.send(JSON.stringify({ value: "y".repeat(3000) }));
		await socket.until(() => socket.reports.length === 2);
		const debt = await produceDebt(key.id);
		clock.release();
		socket.ws.close(1000, "done");
		expect(socket.reports.map((r) => r.offsets?.[0]?.offset)).toEqual([0, 1]);
		expect(debt, "the message after the quota was set was charged").not.toBeNull();
		expect(debt?.waitMs).toBeGreaterThan(1000);
	});

	it("stops charging (an authority call per append) once the key's produce quota is removed", async () => {
		const topic = uniqueTopic("qc");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 1_000_000 });
		const socket = await openProduceSocket(topic, key.secret);
		socket.ws.send(JSON.stringify({ value: "a" }));
		await socket.until(() => socket.reports.length === 1);
		await setQuotas(key.id, {});
		const clock = holdClock();
		clock.advance(TAIL_PAYER_CHECK_MS);
		const charges = vi.spyOn(KeyStore.prototype, "chargeQuotas");
		for (const value of ["b", "c"]) {
			socket.ws.send(JSON.stringify({ value }));
			await socket.until(() => socket.reports.length === (value === "b" ? 2 : 3));
		}
		const channelCharges = charges.mock.calls.filter(([id]) => id === key.id).length;
		clock.release();
		socket.ws.close(1000, "done");
		expect(channelCharges, "appends after the quota was removed are not charged").toBe(0);
	});
});
