/**
 * Optimistic concurrency on an API key's grant, as on anonymous's (RFC 9110 §8.8.3, §13.1.1): `GET /v1/keys/{id}`
 * and the answers of `PUT`/`PATCH /v1/keys/{id}/quotas` carry the grant's `ETag` (the same digest as anonymous's), and
 * a `PUT`/`PATCH` with `If-Match` applies only while the key's grant is still that one, else 412
 * `precondition_failed` and nothing changes, neither in the listing nor at the key's authority (what its requests are
 * held to). The tag is checked where key changes run one at a time, so of two writes sent with one tag exactly one
 * lands. A write whose change is already in force (the repeat of one whose answer was lost) is answered 200 with the
 * grant in force, not 412 (RFC 9110 §13.1.1).
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AclEntry } from "../../src/auth/acl.ts";
import { KeyStore } from "../../src/auth/key-store.ts";
import { bare } from "../../src/shared/errors.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { createKey } from "../support/keys.ts";
import { call, expectError, json } from "../support/worker.ts";

const acl: AclEntry[] = [{ resource: "topic:orders.*", operations: ["produce", "describe"] }];

/** The key and its tag, as `GET /v1/keys/{id}` answers them. */
async function read(id: string): Promise<{ key: { quotas: unknown }; etag: string }> {
	const response = await call("GET", `/v1/keys/${id}`);
	expect(response.status).toBe(200);
	const etag = response.headers.get("ETag");
	expect(etag, "a strong entity tag").toMatch(/^"[^"]+"$/);
	return { key: (await response.json()) as { quotas: unknown }, etag: etag as string };
}

function write(method: "PUT" | "PATCH", id: string, body: unknown, ifMatch?: string) {
	return call(method, `/v1/keys/${id}/quotas`, { body, headers: ifMatch === undefined ? {} : { "If-Match": ifMatch } });
}

/** The quotas key `id`'s authority holds its requests to. */
async function heldTo(id: string) {
	return bare(await keyAuthority(env, id).getKey(id))?.quotas;
}

describe("If-Match on /v1/keys/{id}/quotas", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("applies a write sent with the key's tag, and answers the new grant's tag", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		const before = await read(key.id);
		const patched = await write("PATCH", key.id, { requests_per_sec: 50 }, before.etag);
		expect(patched.status).toBe(200);
		const after = await read(key.id);
		expect(after.key.quotas).toEqual({ requests_per_sec: 50 });
		expect(patched.headers.get("ETag"), "the 200 carries the new grant's tag").toBe(after.etag);
		expect(after.etag).not.toBe(before.etag);
		const put = await write("PUT", key.id, { fetch_bytes_per_sec: 4096 }, after.etag);
		expect(put.status).toBe(200);
		expect(put.headers.get("ETag")).toBe((await read(key.id)).etag);
	});

	it("refuses a write sent with a stale tag with 412 precondition_failed, and changes nothing", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		const stale = (await read(key.id)).etag;
		// Another admin's change between this read and this write.
		await json("PATCH", `/v1/keys/${key.id}/quotas`, 200, { body: { requests_per_sec: 70 } });
		for (const method of ["PATCH", "PUT"] as const) {
			const error = await expectError(method, `/v1/keys/${key.id}/quotas`, 412, "precondition_failed", {
				body: { requests_per_sec: 1 },
				headers: { "If-Match": stale },
			});
			expect(error.message).toContain("read it again");
			expect(error.retriable).toBe(false);
		}
		expect((await read(key.id)).key.quotas).toEqual({ requests_per_sec: 70 });
		expect(await heldTo(key.id), "the key's authority holds it to the other admin's quota").toEqual({ requests_per_sec: 70 });
	});

	it("lands exactly one of two writes sent with the same tag: the check is made where key changes run one at a time", async () => {
		const key = await createKey(acl);
		const { etag } = await read(key.id);
		const answers = await Promise.all([
			write("PATCH", key.id, { requests_per_sec: 10 }, etag),
			write("PATCH", key.id, { requests_per_sec: 20 }, etag),
		]);
		expect(answers.map((r) => r.status).sort()).toEqual([200, 412]);
		const landed = (await answers.find((r) => r.status === 200)?.json()) as { quotas: unknown };
		expect((await read(key.id)).key.quotas).toEqual(landed.quotas);
		expect(await heldTo(key.id)).toEqual(landed.quotas);
	});

	it("without If-Match (or with *) writes as before; a malformed header is 400; the listing carries no tag", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		const { etag } = await read(key.id);
		expect((await write("PATCH", key.id, { fetch_bytes_per_sec: 1024 })).status).toBe(200);
		expect((await write("PATCH", key.id, { requests_per_sec: null }, "*")).status).toBe(200);
		expect((await read(key.id)).key.quotas).toEqual({ fetch_bytes_per_sec: 1024 });
		await expectError("PATCH", `/v1/keys/${key.id}/quotas`, 400, "invalid_request", {
			body: { requests_per_sec: 1 },
			headers: { "If-Match": etag.slice(1, -1) },
		});
		// The same grant as stored again has its tag again (a digest, not a count of changes).
		expect((await write("PUT", key.id, { requests_per_sec: 100 }, "*")).headers.get("ETag")).toBe(etag);
		expect((await call("GET", "/v1/keys")).headers.get("ETag")).toBeNull();
		await expectError("PATCH", "/v1/keys/0123456789abcdef0123/quotas", 404, "key_not_found", {
			body: { requests_per_sec: 1 },
			headers: { "If-Match": etag },
		});
	});

	it("answers a GET whose If-Match no longer matches with 412, and one that matches with the key (RFC 9110 §13.1.1)", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		const stale = (await read(key.id)).etag;
		await json("PUT", `/v1/keys/${key.id}/quotas`, 200, { body: { requests_per_sec: 5 } });
		await expectError("GET", `/v1/keys/${key.id}`, 412, "precondition_failed", { headers: { "If-Match": stale } });
		const { etag } = await read(key.id);
		const matching = await call("GET", `/v1/keys/${key.id}`, { headers: { "If-Match": etag } });
		expect(matching.status).toBe(200);
		expect(await matching.json()).toMatchObject({ id: key.id, quotas: { requests_per_sec: 5 } });
	});

	it("tags the grant the key's authority holds it to, after a quota change whose answer was lost between its two writes", async () => {
		const key = await createKey(acl, { requests_per_sec: 100 });
		const before = await read(key.id);
		// The authority applies the change and its answer is lost (a dropped connection): the directory, told nothing,
		// answers 503 and leaves the listing row as it was.
		const replaceQuotas = KeyStore.prototype.replaceQuotas;
		vi.spyOn(KeyStore.prototype, "replaceQuotas").mockImplementationOnce(function (this: KeyStore, id, quotas) {
			replaceQuotas.call(this, id, quotas);
			throw new Error("the answer was lost");
		});
		await expectError("PUT", `/v1/keys/${key.id}/quotas`, 503, "unavailable", { body: { requests_per_sec: 5 } });
		expect(await heldTo(key.id), "the change is in force").toEqual({ requests_per_sec: 5 });
		const after = await read(key.id);
		expect(after.key.quotas, "GET shows what the key's requests are held to").toEqual({ requests_per_sec: 5 });
		expect(after.etag, "the grant in force changed, so its tag did").not.toBe(before.etag);
		// A write based on the read before the change is refused, not applied over it (a lost update) ...
		await expectError("PATCH", `/v1/keys/${key.id}/quotas`, 412, "precondition_failed", {
			body: { fetch_bytes_per_sec: 1024 },
			headers: { "If-Match": before.etag },
		});
		expect(await heldTo(key.id)).toEqual({ requests_per_sec: 5 });
		// ... and one based on a read again lands (no 412 a re-read cannot cure), merged into the grant in force.
		const patched = await write("PATCH", key.id, { fetch_bytes_per_sec: 1024 }, after.etag);
		expect(patched.status).toBe(200);
		const both = { requests_per_sec: 5, fetch_bytes_per_sec: 1024 };
		expect(await heldTo(key.id)).toEqual(both);
		expect((await read(key.id)).key.quotas).toEqual(both);
		expect(patched.headers.get("ETag")).toBe((await read(key.id)).etag);
	});

	it("answers the repeat of a change in force 200 with the grant's tag (RFC 9110 §13.1.1); any other stale write stays 412", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const key = await createKey(acl, { requests_per_sec: 100, fetch_bytes_per_sec: 1024 });
		const before = await read(key.id);
		const replaceQuotas = KeyStore.prototype.replaceQuotas;
		vi.spyOn(KeyStore.prototype, "replaceQuotas").mockImplementationOnce(function (this: KeyStore, id, quotas) {
			replaceQuotas.call(this, id, quotas);
			throw new Error("the answer was lost");
		});
		const change = { requests_per_sec: 5, fetch_bytes_per_sec: null };
		await expectError("PATCH", `/v1/keys/${key.id}/quotas`, 503, "unavailable", { body: change, headers: { "If-Match": before.etag } });
		const repeat = await write("PATCH", key.id, change, before.etag);
		expect(repeat.status, "the repeat finds its change in force").toBe(200);
		const landed = await read(key.id);
		expect(landed.key.quotas).toEqual({ requests_per_sec: 5 });
		expect(repeat.headers.get("ETag")).toBe(landed.etag);
		expect(((await repeat.json()) as { quotas: unknown }).quotas).toEqual({ requests_per_sec: 5 });
		expect((await write("PUT", key.id, { requests_per_sec: 5 }, before.etag)).status, "a replacement already in force").toBe(200);
		// Not in force, or no change at all: the tag is stale, and the grant is not what this write asks for.
		for (const [method, body] of [
			["PATCH", { requests_per_sec: 6 }],
			["PATCH", { requests_per_sec: 5, fetch_bytes_per_sec: 1024 }],
			["PUT", { requests_per_sec: 5, fetch_bytes_per_sec: 1024 }],
			["PATCH", {}],
		] as const) {
			await expectError(method, `/v1/keys/${key.id}/quotas`, 412, "precondition_failed", { body, headers: { "If-Match": before.etag } });
		}
		// Another writer's change since, of a quota the repeat names: refused, as its change is no longer what the grant
		// is. (One of another quota is not: the repeat's change is still in force, and the 200's body shows the rest.)
		await json("PATCH", `/v1/keys/${key.id}/quotas`, 200, { body: { requests_per_sec: 70 } });
		await expectError("PATCH", `/v1/keys/${key.id}/quotas`, 412, "precondition_failed", {
			body: change,
			headers: { "If-Match": before.etag },
		});
		expect(await heldTo(key.id)).toEqual({ requests_per_sec: 70 });
	});
});
