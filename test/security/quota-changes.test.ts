/**
 * Changing a key's quotas after creation (`PUT /v1/keys/{id}/quotas`, as Kafka's AlterClientQuotas): the next
 * request is held to the new quotas, and a debt taken under the old rate blocks the key no longer than it already
 * had to.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { holdClock } from "../support/clock.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { call, createTopic, expectError, json } from "../support/worker.ts";

/** What key `id` owes its fetch quota now: null when it may read, else the wait its authority answers. */
async function fetchDebt(id: string) {
	return keyAuthority(env, id).chargeQuotas(id, [{ quota: "fetch_bytes_per_sec", amount: 0 }]);
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
