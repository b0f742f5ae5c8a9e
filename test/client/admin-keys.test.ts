/**
 * The SDK's `keys.get`, `keys.setQuotas` and `keys.updateQuotas` against the real Worker (inside workerd), with a
 * key's grant's ETag as anonymous's: `etagOf` names the tag each answer carried, and a change sent `{ ifMatch }` applies
 * only while the key is still that one (else a `TributaryError` with code `precondition_failed`, not retried); a
 * conditional change whose answer is lost is not sent again, an unconditional one is.
 */

import { describe, expect, it } from "vitest";
import { preconditionRetry, TributaryError } from "../../client/index.ts";
import { wiredClient } from "../support/sdk.ts";
import { call, json } from "../support/worker.ts";

const acl = [{ resource: "topic:orders.*", operations: ["produce"] }];
const isQuotas = (id: string) => (r: { method: string; path: string }) => r.method === "PATCH" && r.path === `/v1/keys/${id}/quotas`;

describe("SDK keys", { timeout: 20_000 }, () => {
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

	it("does not send a conditional change again when its answer is lost; an unconditional one it does", async () => {
		const { client, sent, dropAnswer } = wiredClient();
		const { id } = await client.keys.create({ name: "sdk-lost", acl });
		const ifMatch = client.keys.etagOf(await client.keys.get(id));
		dropAnswer(isQuotas(id));
		const lost = await client.keys.updateQuotas(id, { requests_per_sec: 7 }, { ifMatch }).catch((e: unknown) => e);
		expect(lost).toMatchObject({ code: "network_error" });
		expect(sent.filter(isQuotas(id))).toHaveLength(1);
		expect((await client.keys.get(id)).quotas, "it landed").toEqual({ requests_per_sec: 7 });
		dropAnswer(isQuotas(id));
		expect((await client.keys.updateQuotas(id, { requests_per_sec: 8 })).quotas).toEqual({ requests_per_sec: 8 });
		expect(sent.filter(isQuotas(id))).toHaveLength(3);
	});
});
