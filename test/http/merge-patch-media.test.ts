/**
 * RFC 7396's media type, `application/merge-patch+json`, is taken by every `/v1` PATCH whose body is a JSON Merge
 * Patch (a topic's config, a key's quotas, the anonymous grant) as `application/json` is, and the OpenAPI document
 * lists it for exactly those; a route whose body is no merge patch keeps its 415 for it, and any other type is still
 * a 415 in the /v1 error shape. Which routes those are is said once, by the route table (`mergePatch`), and both the
 * handler's reader and the document follow it.
 */
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/http/openapi/document.ts";
import { ROUTES } from "../../src/http/route-table.ts";
import { anonymousClosedAroundEach } from "../support/anonymous.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { createTopic, expectError, json } from "../support/worker.ts";

const MERGE_PATCH = "application/merge-patch+json";

useReceiver();

describe("application/merge-patch+json", () => {
	anonymousClosedAroundEach();

	it("is taken by every merge-patch PATCH as application/json is, with or without a charset", async () => {
		const topic = uniqueTopic("mp");
		await createTopic(topic);
		const key = await createKey([], { requests_per_sec: 100 });
		for (const type of [MERGE_PATCH, `${MERGE_PATCH}; charset=utf-8`]) {
			const headers = { "Content-Type": type };
			const updated = await json<{ config: Record<string, unknown> }>("PATCH", `/v1/topics/${topic}`, 200, {
				body: { config: { "retention.ms": 60_000 } },
				headers,
			});
			expect(updated.config["retention.ms"]).toBe(60_000);
			const quotas = await json("PATCH", `/v1/keys/${key.id}/quotas`, 200, { body: { fetch_bytes_per_sec: 4096 }, headers });
			expect(quotas.quotas).toEqual({ requests_per_sec: 100, fetch_bytes_per_sec: 4096 });
			const anonymous = await json("PATCH", "/v1/anonymous", 200, { body: { quotas: { requests_per_sec: 10 } }, headers });
			expect(anonymous).toEqual({ acl: [], quotas: { requests_per_sec: 10 } });
		}
	});

	it("is a 415 where the body is no merge patch; another type is a 415 on a merge-patch route", async () => {
		const topic = uniqueTopic("mp");
		await createTopic(topic);
		const headers = { "Content-Type": MERGE_PATCH };
		const created = await expectError("POST", "/v1/topics", 415, "unsupported_media_type", { body: { name: uniqueTopic("mp") }, headers });
		expect(created.message).toBe(`expected Content-Type application/json, got ${MERGE_PATCH}`);
		const subscription = await json<{ id: string }>("POST", `/v1/topics/${topic}/subscriptions`, 201, {
			body: { url: "https://receiver.test/merge-patch" },
		});
		await expectError("PATCH", `/v1/topics/${topic}/subscriptions/${subscription.id}`, 415, "unsupported_media_type", {
			body: { status: "paused" },
			headers,
		});
		const text = await expectError("PATCH", `/v1/topics/${topic}`, 415, "unsupported_media_type", {
			body: { config: { "retention.ms": 1000 } },
			headers: { "Content-Type": "text/plain" },
		});
		expect(text.message).toBe(`expected Content-Type application/json or ${MERGE_PATCH}, got text/plain`);
	});

	it("is listed by the OpenAPI document for exactly the merge-patch routes", () => {
		expect(mergePatchListing()).toEqual(["PATCH /v1/anonymous", "PATCH /v1/keys/{id}/quotas", "PATCH /v1/topics/{topic}"]);
	});

	it("is taken by a route, and listed for it by the OpenAPI document, as the route table says: one fact for both", async () => {
		const key = await createKey([], { requests_per_sec: 100 });
		const facts: { mergePatch?: true } = ROUTES["PATCH /v1/keys/:id/quotas"];
		expect(facts.mergePatch).toBe(true);
		delete facts.mergePatch;
		try {
			const refused = await expectError("PATCH", `/v1/keys/${key.id}/quotas`, 415, "unsupported_media_type", {
				body: { fetch_bytes_per_sec: 4096 },
				headers: { "Content-Type": MERGE_PATCH },
			});
			expect(refused.message).toBe(`expected Content-Type application/json, got ${MERGE_PATCH}`);
			expect(mergePatchListing()).not.toContain("PATCH /v1/keys/{id}/quotas");
		} finally {
			facts.mergePatch = true;
		}
	});
});

/** The operations the OpenAPI document says take `application/merge-patch+json`, sorted. */
function mergePatchListing(): string[] {
	const listing: string[] = [];
	const paths = openApiDocument().paths as Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
	for (const [path, item] of Object.entries(paths)) {
		for (const [method, op] of Object.entries(item)) {
			if (op.requestBody?.content[MERGE_PATCH] !== undefined) listing.push(`${method.toUpperCase()} ${path}`);
		}
	}
	return listing.sort();
}
