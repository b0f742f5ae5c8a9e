/**
 * The SDK's `keys.get`, `keys.setQuotas` and `keys.updateQuotas` against the real Worker (inside workerd), with a
 * key's grant's ETag as anonymous's: `etagOf` names the tag each answer carried, and a change sent `{ ifMatch }` applies
 * only while the key is still that one (else a `TributaryError` with code `precondition_failed`, not retried). A change
 * whose answer is lost is sent again, conditional or not: a conditional repeat finds it in force and is answered as it
 * landed (RFC 9110 §13.1.1), and its 412 (another admin's change since) is thrown as the lost answer, the outcome
 * unknown. So is the key directory's 503 `unavailable`, also where the change it answers is in force (the authority's
 * answer lost, or the row write after it failed).
 */

import { afterEach, describe, expect, it, vi } from "vitest";
import { preconditionRetry, TributaryError } from "../../client/index.ts";
import { KeyStore } from "../../src/auth/key-store.ts";
import { failDirectoryWrite } from "../support/keys.ts";
import { wiredClient } from "../support/sdk.ts";
import { call, json } from "../support/worker.ts";

const acl = [{ resource: "topic:orders.*", operations: ["produce"] }];
const isQuotas = (id: string) => (r: { method: string; path: string }) => r.method === "PATCH" && r.path === `/v1/keys/${id}/quotas`;
const isQuotasPut = (id: string) => (r: { method: string; path: string }) => r.method === "PUT" && r.path === `/v1/keys/${id}/quotas`;

/** The next quota change at a key's authority is applied, and its answer lost on the way to the directory. */
function loseAuthorityAnswer(): void {
	const replaceQuotas = KeyStore.prototype.replaceQuotas;
	vi.spyOn(KeyStore.prototype, "replaceQuotas").mockImplementationOnce(function (this: KeyStore, id, quotas) {
		replaceQuotas.call(this, id, quotas);
		throw new Error("the answer was lost");
	});
}

describe("SDK keys", { timeout: 20_000 }, () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("answers each key's ETag, and changes its quotas with ifMatch only while it is still that key: a 412 is precondition_failed", async () => {
		const { client } = wiredClient();
		const { id } = await client.keys.create({ name: "sdk-etag", acl, quotas: { requests_per_sec: 100 } });
		const read = await client.keys.get(id);
		expect(read, "the key's shape is unchanged").toMatchObject({ id, quotas: { requests_per_sec: 100 } });
		const tag = client.keys.etagOf(read);
		expect(tag).toBe((await call("GET", `/v1/keys/${id}`)).headers.get("ETag"));
		const updated = await client.keys.updateQuotas(id, { fetch_bytes_per_sec: 4096 }, { ifMatch: tag });
		expect(updated.quotas).toEqual({ requests_per_sec: 100, fetch_bytes_per_sec: 4096 });
		const updatedTag = client.keys.etagOf(updated);
		expect(updatedTag, "a write answers the new grant's tag").toBe((await call("GET", `/v1/keys/${id}`)).headers.get("ETag"));
		expect(updatedTag).not.toBe(tag);

		// Another admin's change between this client's read and its write: the write is refused, the change kept.
		await json("PATCH", `/v1/keys/${id}/quotas`, 200, { body: { requests_per_sec: 70 } });
		for (const write of [
			() => client.keys.updateQuotas(id, { requests_per_sec: 1 }, { ifMatch: updatedTag }),
			() => client.keys.setQuotas(id, { requests_per_sec: 1 }, { ifMatch: updatedTag }),
		]) {
			const refused = await write().catch((e: unknown) => e);
			expect(refused).toBeInstanceOf(TributaryError);
			expect(refused).toMatchObject({ code: "precondition_failed", status: 412, retriable: false });
			expect(preconditionRetry(refused, 1), "the same 412 the anonymous loop reads again on").toBe(true);
		}
		const again = await client.keys.get(id);
		expect(again.quotas).toEqual({ requests_per_sec: 70, fetch_bytes_per_sec: 4096 });
		const set = await client.keys.setQuotas(id, { requests_per_sec: 5 }, { ifMatch: client.keys.etagOf(again) });
		expect(set.quotas).toEqual({ requests_per_sec: 5 });
		expect(client.keys.etagOf({ ...set }), "only a key this client was answered has a tag").toBeUndefined();
	});

	it("sends a conditional change again when its answer is lost: the repeat finds it in force and is answered as it landed", async () => {
		const { client, sent, dropAnswer } = wiredClient();
		const { id } = await client.keys.create({ name: "sdk-lost", acl });
		const tagNow = async () => (await call("GET", `/v1/keys/${id}`)).headers.get("ETag");
		dropAnswer(isQuotas(id));
		const patched = await client.keys.updateQuotas(id, { requests_per_sec: 7 }, { ifMatch: client.keys.etagOf(await client.keys.get(id)) });
		expect(sent.filter(isQuotas(id)), "sent again").toHaveLength(2);
		expect(patched.quotas).toEqual({ requests_per_sec: 7 });
		expect(client.keys.etagOf(patched)).toBe(await tagNow());
		dropAnswer(isQuotasPut(id));
		const set = await client.keys.setQuotas(id, { requests_per_sec: 8 }, { ifMatch: client.keys.etagOf(patched) });
		expect(sent.filter(isQuotasPut(id))).toHaveLength(2);
		expect(set.quotas).toEqual({ requests_per_sec: 8 });
		expect(client.keys.etagOf(set)).toBe(await tagNow());
		dropAnswer(isQuotas(id));
		expect((await client.keys.updateQuotas(id, { requests_per_sec: 9 })).quotas).toEqual({ requests_per_sec: 9 });
		expect(sent.filter(isQuotas(id))).toHaveLength(4);
	});

	it("throws the lost answer, not precondition_failed, when the repeat is refused 412: the first may have landed before another admin's change", async () => {
		const { client, sent, dropAnswer, beforeServing } = wiredClient();
		const { id } = await client.keys.create({ name: "sdk-lost-then-changed", acl });
		const ifMatch = client.keys.etagOf(await client.keys.get(id));
		dropAnswer(isQuotasPut(id));
		let puts = 0;
		// A quota it does not set: the grant is then neither the one read nor the replacement.
		beforeServing(
			(r) => isQuotasPut(id)(r) && ++puts === 2,
			() => json("PATCH", `/v1/keys/${id}/quotas`, 200, { body: { fetch_bytes_per_sec: 4096 } }),
		);
		const unknown = await client.keys.setQuotas(id, { requests_per_sec: 7 }, { ifMatch }).catch((e: unknown) => e);
		expect(sent.filter(isQuotasPut(id))).toHaveLength(2);
		expect(unknown).toBeInstanceOf(TributaryError);
		expect(unknown, "the outcome is unknown, as any lost answer's").toMatchObject({ code: "network_error", status: 0 });
		expect((unknown as Error).message).toContain("412");
		expect((unknown as Error).cause).toMatchObject({ code: "precondition_failed", status: 412 });
		expect(preconditionRetry(unknown, 1), "not a refusal to decide again on").toBe(false);
		expect((await client.keys.get(id)).quotas, "it had landed").toEqual({ requests_per_sec: 7, fetch_bytes_per_sec: 4096 });
	});

	it("sends a conditional change answered 503 unavailable again, and answers it as it landed where it is in force", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { client, sent } = wiredClient();
		const { id } = await client.keys.create({ name: "sdk-in-force", acl, quotas: { requests_per_sec: 100 } });
		const tagNow = async () => (await call("GET", `/v1/keys/${id}`)).headers.get("ETag");

		loseAuthorityAnswer();
		const patched = await client.keys.updateQuotas(id, { requests_per_sec: 7 }, { ifMatch: client.keys.etagOf(await client.keys.get(id)) });
		expect(sent.filter(isQuotas(id)), "sent again on the 503").toHaveLength(2);
		expect(patched.quotas).toEqual({ requests_per_sec: 7 });
		expect(client.keys.etagOf(patched)).toBe(await tagNow());

		await failDirectoryWrite("UPDATE api_keys SET quotas");
		const set = await client.keys.setQuotas(id, { fetch_bytes_per_sec: 4096 }, { ifMatch: client.keys.etagOf(patched) });
		expect(sent.filter(isQuotasPut(id))).toHaveLength(2);
		expect(set.quotas).toEqual({ fetch_bytes_per_sec: 4096 });
		expect(client.keys.etagOf(set)).toBe(await tagNow());

		// Unconditional, it is sent again as before.
		loseAuthorityAnswer();
		expect((await client.keys.updateQuotas(id, { requests_per_sec: 9 })).quotas).toEqual({
			fetch_bytes_per_sec: 4096,
			requests_per_sec: 9,
		});
		expect(sent.filter(isQuotas(id))).toHaveLength(4);
	});
});
