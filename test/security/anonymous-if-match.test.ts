/**
 * Optimistic concurrency on anonymous's grant (RFC 9110 §8.8.3, §13.1.1): `GET /v1/anonymous` answers an `ETag` for
 * the grant as stored, and a `PUT`/`PATCH` with `If-Match` applies only while the grant is still that one, else 412
 * `precondition_failed` and nothing changes. Without a read-and-write window to lose: the tag is checked where the
 * grant is read, merged and written, so of two writes sent with the same tag exactly one lands. The tag is a digest
 * of the grant as stored, so it moves with every change (quotas too) and is the same after the object restarts. A
 * change the grant already is (the repeat of one whose answer was lost) is answered 200 with it (RFC 9110 §13.1.1).
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AclEntry } from "../../src/auth/acl.ts";
import { ANONYMOUS_DEFAULT, ANONYMOUS_ID } from "../../src/auth/anonymous.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { anonymousClosedAroundEach } from "../support/anonymous.ts";
import { call, expectError, json } from "../support/worker.ts";

const news: AclEntry = { resource: "topic:news.*", operations: ["consume"] };
const weather: AclEntry = { resource: "topic:weather", operations: ["describe"] };

/** The grant and its tag, as `GET /v1/anonymous` answers them. */
async function read(): Promise<{ grant: unknown; etag: string }> {
	const response = await call("GET", "/v1/anonymous");
	expect(response.status).toBe(200);
	const etag = response.headers.get("ETag");
	expect(etag, "a strong entity tag").toMatch(/^"[^"]+"$/);
	return { grant: await response.json(), etag: etag as string };
}

function write(method: "PUT" | "PATCH", body: unknown, ifMatch?: string) {
	return call(method, "/v1/anonymous", { body, headers: ifMatch === undefined ? {} : { "If-Match": ifMatch } });
}

describe("If-Match on /v1/anonymous", () => {
	anonymousClosedAroundEach();

	it("applies a write sent with the grant's tag, and answers the new grant's tag", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [news] } });
		const before = await read();
		const patched = await write("PATCH", { acl: [news, weather] }, before.etag);
		expect(patched.status).toBe(200);
		const after = await read();
		expect(after.grant).toEqual({ acl: [news, weather], quotas: {} });
		expect(patched.headers.get("ETag"), "the 200 carries the new grant's tag").toBe(after.etag);
		expect(after.etag).not.toBe(before.etag);
		const put = await write("PUT", { acl: [news] }, after.etag);
		expect(put.status).toBe(200);
		expect(put.headers.get("ETag")).toBe((await read()).etag);
	});

	it("refuses a write sent with a stale tag with 412 precondition_failed, and changes nothing", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [news] } });
		const stale = (await read()).etag;
		// Another admin's change between this read and this write.
		await json("PATCH", "/v1/anonymous", 200, { body: { acl: [news, weather] } });
		for (const method of ["PATCH", "PUT"] as const) {
			const error = await expectError(method, "/v1/anonymous", 412, "precondition_failed", {
				body: { acl: [] },
				headers: { "If-Match": stale },
			});
			expect(error.message).toContain("read it again");
			expect(error.retriable).toBe(false);
		}
		expect((await read()).grant).toEqual({ acl: [news, weather], quotas: {} });
	});

	it("moves the tag with a change of the quotas alone, and keeps it for the same grant across a restart", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [news], quotas: { requests_per_sec: 100 } } });
		const before = await read();
		await json("PATCH", "/v1/anonymous", 200, { body: { quotas: { requests_per_sec: 50 } } });
		const changed = await read();
		expect(changed.etag).not.toBe(before.etag);
		await abortAllDurableObjects();
		expect((await read()).etag, "the same grant, the same tag, after the object restarts").toBe(changed.etag);
		expect((await write("PATCH", { quotas: { requests_per_sec: 100 } }, before.etag)).status).toBe(412);
		expect((await write("PATCH", { quotas: { requests_per_sec: 100 } }, changed.etag)).status).toBe(200);
	});

	it("lands exactly one of two writes sent with the same tag: the check is made where the grant is written", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [news] } });
		const { etag } = await read();
		const answers = await Promise.all([
			write("PATCH", { acl: [news, weather] }, etag),
			write("PATCH", { acl: [news, { resource: "topic:sports", operations: ["consume"] }] }, etag),
		]);
		expect(answers.map((r) => r.status).sort()).toEqual([200, 412]);
		const landed = (await answers.find((r) => r.status === 200)?.json()) as unknown;
		expect((await read()).grant).toEqual(landed);
	});

	it("takes * as any grant, never matches a weak tag, refuses a malformed header with 400, and without If-Match writes as before", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [news] } });
		const { etag } = await read();
		expect((await write("PATCH", { acl: [news, weather] }, "*")).status).toBe(200);
		const now = (await read()).etag;
		// If-Match compares strongly (RFC 9110 §13.1.1): a weak tag names no exact grant, even the current one's.
		expect((await write("PATCH", { acl: [] }, `W/${now}`)).status).toBe(412);
		expect((await write("PATCH", { acl: [] }, `"elsewhere", ${now}`)).status, "a list matches when one of its tags does").toBe(200);
		await expectError("PATCH", "/v1/anonymous", 400, "invalid_request", { body: { acl: [] }, headers: { "If-Match": now.slice(1, -1) } });
		expect((await write("PATCH", { acl: [weather] })).status).toBe(200);
		expect((await write("PATCH", { acl: [] }, etag)).status, "the first tag is stale by now").toBe(412);
		// The same grant as stored again has its tag again (a digest, not a count of changes).
		expect((await write("PUT", { acl: [news] }, "*")).headers.get("ETag")).toBe(etag);
	});

	it("ignores an empty element of the If-Match list (RFC 9110 §5.6.1.2), and refuses a list of none with 400", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [news] } });
		const { etag } = await read();
		expect((await write("PATCH", { acl: [news, weather] }, `${etag}, ,`)).status).toBe(200);
		await expectError("PATCH", "/v1/anonymous", 400, "invalid_request", { body: { acl: [] }, headers: { "If-Match": " , " } });
	});

	it("reads a comma inside a quoted tag as part of the tag (RFC 9110 §8.8.3: etagc includes %x2C), not as the list's", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [news] } });
		const { etag } = await read();
		expect((await write("PATCH", { acl: [news, weather] }, `"x,y", ${etag}`)).status, "a list matches when one of its tags does").toBe(200);
		expect((await read()).grant).toEqual({ acl: [news, weather], quotas: {} });
		await expectError("PATCH", "/v1/anonymous", 412, "precondition_failed", { body: { acl: [] }, headers: { "If-Match": '"x,y"' } });
		await expectError("GET", "/v1/anonymous", 412, "precondition_failed", { headers: { "If-Match": 'W/"a,b", "x,y"' } });
	});

	it("answers a GET whose If-Match no longer matches with 412, and one that matches with the grant (RFC 9110 §13.1.1)", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [news] } });
		const stale = (await read()).etag;
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [weather] } });
		await expectError("GET", "/v1/anonymous", 412, "precondition_failed", { headers: { "If-Match": stale } });
		const { etag } = await read();
		const matching = await call("GET", "/v1/anonymous", { headers: { "If-Match": etag } });
		expect(matching.status).toBe(200);
		expect(await matching.json()).toEqual({ acl: [weather], quotas: {} });
	});

	it("answers a change without If-Match as the bare key, as an edge of an earlier version, still running during a deploy, reads it", async () => {
		const fresh = { ...ANONYMOUS_DEFAULT, createdAtMs: Date.now(), secretSha256: "" };
		const answer = await keyAuthority(env, ANONYMOUS_ID).changeKey(fresh, { acl: [news] }, false);
		expect(answer).toMatchObject({ id: ANONYMOUS_ID, acl: [news], quotas: {} });
		expect(answer).not.toHaveProperty("ok");
	});

	it("answers the repeat of a change in force 200 with the grant's tag (RFC 9110 §13.1.1); any other stale write stays 412", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [news], quotas: { requests_per_sec: 100 } } });
		const stale = (await read()).etag;
		const change = { acl: [weather], quotas: { requests_per_sec: 5 } };
		// The first sending landed; its answer was lost.
		await json("PATCH", "/v1/anonymous", 200, { body: change, headers: { "If-Match": stale } });
		const landed = await read();
		for (const [method, body] of [
			["PATCH", change],
			["PATCH", { quotas: { requests_per_sec: 5 } }],
			["PUT", change],
		] as const) {
			const repeat = await write(method, body, stale);
			expect(repeat.status, `${method} ${JSON.stringify(body)} in force`).toBe(200);
			expect(repeat.headers.get("ETag")).toBe(landed.etag);
			expect(await repeat.json()).toEqual(landed.grant);
		}
		for (const [method, body] of [
			["PATCH", { quotas: { requests_per_sec: 6 } }],
			["PATCH", { acl: [news] }],
			["PUT", { acl: [weather] }],
			["PATCH", {}],
			["PATCH", { quotas: {} }],
		] as const) {
			await expectError(method, "/v1/anonymous", 412, "precondition_failed", { body, headers: { "If-Match": stale } });
		}
		expect((await read()).grant).toEqual(landed.grant);
	});
});
