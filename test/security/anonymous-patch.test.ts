/**
 * `PATCH /v1/anonymous` changes part of the anonymous grant (JSON Merge Patch, RFC 7396): a quota named with a rate
 * is set, one named with null removed, one not named kept; `acl`, when given, replaces the ACL whole (RFC 7396
 * replaces arrays). It is merged where the grant is stored, so two concurrent patches of different quotas both
 * apply, and it is refused, authorized and audited as `PUT` is.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ANONYMOUS_ID } from "../../src/auth/anonymous.ts";
import { bare } from "../../src/shared/errors.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { anonymousClosedAroundEach } from "../support/anonymous.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { call, createTopic, expectError, fetchRecords, json } from "../support/worker.ts";

interface Grant {
	acl: { resource: string; operations: string[] }[];
	quotas: Record<string, number>;
}

function patchAnonymous(patch: unknown) {
	return json<Grant>("PATCH", "/v1/anonymous", 200, { body: patch });
}

describe("PATCH /v1/anonymous", () => {
	anonymousClosedAroundEach();

	it("sets the quotas named with a rate, removes those named with null, keeps the others and the ACL", async () => {
		const acl = [{ resource: "topic:news.*", operations: ["consume"] }];
		await json("PUT", "/v1/anonymous", 200, { body: { acl, quotas: { requests_per_sec: 100, fetch_bytes_per_sec: 5000 } } });
		const changed = await patchAnonymous({ quotas: { fetch_bytes_per_sec: null, produce_bytes_per_sec: 7000 } });
		expect(changed).toEqual({ acl, quotas: { requests_per_sec: 100, produce_bytes_per_sec: 7000 } });
		expect(await json("GET", "/v1/anonymous", 200)).toEqual(changed);
		expect(await patchAnonymous({}), "an empty patch changes nothing").toEqual(changed);
		expect(await patchAnonymous({ quotas: {} }), "nor does an empty quotas patch").toEqual(changed);
		const { records } = await fetchRecords("_audit", 0, "offset=0&max_records=10000");
		const audited = records.map((r) => r.value as Record<string, unknown>).filter((v) => v.action === "anonymous.update");
		expect(audited.at(-1)).toMatchObject({ actor: "admin", principal: "anonymous", entries: 1 });
	});

	it("replaces the ACL whole when given, keeping the quotas; the next credential-less request is held to it", async () => {
		const topic = uniqueTopic("anon");
		await createTopic(topic);
		const records = `/v1/topics/${topic}/partitions/0/records`;
		await json("PUT", "/v1/anonymous", 200, {
			body: { acl: [{ resource: "topic:other", operations: ["describe"] }], quotas: { requests_per_sec: 50 } },
		});
		expect((await call("GET", records, { token: null })).status).toBe(401);
		const acl = [{ resource: `topic:${topic}`, operations: ["consume"] }];
		expect(await patchAnonymous({ acl })).toEqual({ acl, quotas: { requests_per_sec: 50 } });
		expect((await call("GET", records, { token: null })).status).toBe(200);
		expect(await patchAnonymous({ acl: [] })).toEqual({ acl: [], quotas: { requests_per_sec: 50 } });
		expect((await call("GET", records, { token: null })).status).toBe(401);
	});

	it("applies both of two concurrent patches of different quotas: neither is lost", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [], quotas: { requests_per_sec: 100 } } });
		const [produce, fetch] = await Promise.all([
			patchAnonymous({ quotas: { produce_bytes_per_sec: 1000 } }),
			patchAnonymous({ quotas: { fetch_bytes_per_sec: 2000 } }),
		]);
		const both = { requests_per_sec: 100, produce_bytes_per_sec: 1000, fetch_bytes_per_sec: 2000 };
		expect((await json<Grant>("GET", "/v1/anonymous", 200)).quotas).toEqual(both);
		expect([produce.quotas, fetch.quotas]).toContainEqual(both);
		expect(bare(await keyAuthority(env, ANONYMOUS_ID).getKey(ANONYMOUS_ID))?.quotas, "where the grant is stored").toEqual(both);
	});

	it("answers 400 for a bad patch and changes nothing; 403 for a key without admin", async () => {
		const grant = { acl: [{ resource: "topic:news.*", operations: ["consume"] }], quotas: { requests_per_sec: 100 } };
		await json("PUT", "/v1/anonymous", 200, { body: grant });
		const negative = await expectError("PATCH", "/v1/anonymous", 400, "invalid_request", { body: { quotas: { requests_per_sec: -1 } } });
		expect(negative.message).toContain("requests_per_sec");
		await expectError("PATCH", "/v1/anonymous", 400, "invalid_request", { body: { quotas: { bytes: 1 } } });
		await expectError("PATCH", "/v1/anonymous", 400, "invalid_request", {
			body: { acl: [{ resource: "everything", operations: ["consume"] }] },
		});
		await expectError("PATCH", "/v1/anonymous", 400, "invalid_request", { body: { acl: null } });
		await expectError("PATCH", "/v1/anonymous", 400, "invalid_request", { body: { rights: [] } });
		await expectError("PATCH", "/v1/anonymous", 400, "invalid_request", { body: [] });
		await expectError("PATCH", "/v1/anonymous", 400, "invalid_json", { raw: "{", headers: { "Content-Type": "application/json" } });
		const key = await createKey([{ resource: "topic:*", operations: ["consume", "describe", "produce", "admin"] }]);
		await expectError("PATCH", "/v1/anonymous", 403, "forbidden", { body: { acl: [] }, token: key.secret });
		expect(await json("GET", "/v1/anonymous", 200)).toEqual(grant);
	});
});
