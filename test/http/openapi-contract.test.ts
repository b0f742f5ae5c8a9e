/**
 * Contract tests: real responses of every `/v1` route (and `/metrics`), successes and errors, checked against
 * the response schemas of the OpenAPI document, so a response that drifts from the document fails here. The
 * document is generated here by the function the build uses to write the `/openapi.json` asset (the Worker only
 * hands on the file the build wrote). The served document is validated by an OpenAPI
 * validator in test/e2e/openapi.test.mjs (that validator needs Node).
 */

import { Validator } from "@cfworker/json-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/http/openapi/document.ts";
import { ROUTES } from "../../src/http/route-table.ts";
import { closeAnonymousAtTestEnd } from "../support/anonymous.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { type CallOptions, call } from "../support/worker.ts";

type Json = Record<string, unknown>;

useReceiver();

let doc: Json;
/** Route key → statuses seen, each response checked against the document. */
const seen = new Map<string, Set<number>>();

function operation(routeKey: string): Json {
	const [method, path] = routeKey.split(" ") as [string, string];
	const op = ((doc.paths as Json)[path.replace(/:([A-Za-z_]+)/g, "{$1}")] as Json | undefined)?.[method.toLowerCase()] as Json | undefined;
	expect(op, `${routeKey} is in the document`).toBeDefined();
	return op as Json;
}

function documentedResponse(routeKey: string, status: number): Json {
	const responses = operation(routeKey).responses as Record<string, Json>;
	const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`];
	expect(response, `${routeKey} documents status ${status}`).toBeDefined();
	return response as Json;
}

function responseSchema(routeKey: string, status: number, mediaType: string): Json | null {
	const response = documentedResponse(routeKey, status);
	const content = (response as Json).content as Record<string, { schema: Json }> | undefined;
	if (content === undefined) return null;
	const entry = content[mediaType];
	expect(entry, `${routeKey} ${status} documents ${mediaType}`).toBeDefined();
	const schema = (entry as { schema: Json }).schema;
	return "$ref" in schema ? (((doc.components as Json).schemas as Json).Error as Json) : schema;
}

/** Calls the route and checks the response against the document; answers the parsed body. */
async function checked<T = Json>(routeKey: string, method: string, path: string, status: number, options: CallOptions = {}): Promise<T> {
	expect(routeKey.startsWith(`${method} `), routeKey).toBe(true);
	const response = await call(method, path, options);
	const text = await response.text();
	expect(response.status, `${method} ${path} → ${text}`).toBe(status);
	for (const header of Object.keys((documentedResponse(routeKey, status).headers ?? {}) as Json))
		expect(response.headers.get(header), `${routeKey} ${status} sends the ${header} it documents`).not.toBeNull();
	const type = (response.headers.get("Content-Type") ?? "").split(";")[0] ?? "";
	const schema = responseSchema(routeKey, status, type === "" ? "none" : type);
	const statuses = seen.get(routeKey) ?? new Set<number>();
	statuses.add(status);
	seen.set(routeKey, statuses);
	if (schema === null) {
		expect(text, `${routeKey} ${status} has no body`).toBe("");
		return undefined as T;
	}
	if (type !== "application/json") return text as T;
	const body = JSON.parse(text) as unknown;
	const result = new Validator(schema as never, "2020-12", false).validate(body);
	expect(result.errors, `${routeKey} ${status}: ${text.slice(0, 500)}`).toEqual([]);
	return body as T;
}

const topic = `contract-${crypto.randomUUID().slice(0, 8)}`;
const group = `g-${crypto.randomUUID().slice(0, 8)}`;
const T = `/v1/topics/${topic}`;
const G = `/v1/groups/${group}`;

beforeAll(() => {
	doc = openApiDocument();
});

describe("responses match the OpenAPI document", () => {
	it("topics and records", async () => {
		await checked("POST /v1/topics", "POST", "/v1/topics", 201, { body: { name: topic, partitions: 2 } });
		await checked("POST /v1/topics", "POST", "/v1/topics", 409, { body: { name: topic } });
		await checked("GET /v1/topics", "GET", "/v1/topics", 200);
		await checked("GET /v1/topics", "GET", "/v1/topics?limit=1", 200);
		await checked("GET /v1/topics", "GET", "/v1/topics?cursor=nonsense", 400);
		await checked("GET /v1/topics/:topic", "GET", T, 200);
		await checked("GET /v1/topics/:topic", "GET", "/v1/topics/absent-topic", 404);
		await checked("PATCH /v1/topics/:topic", "PATCH", T, 200, { body: { config: { "retention.ms": 86_400_000 } } });
		await checked("POST /v1/topics/:topic/records", "POST", `${T}/records`, 200, {
			body: {
				records: [
					{ key: "k", value: { n: 1 }, headers: [{ key: "h", value: "v" }] },
					{ value: "aGk=", value_encoding: "base64", partition: 1 },
				],
			},
		});
		await checked("POST /v1/topics/:topic/records", "POST", `${T}/records`, 400, { body: { records: [] } });
		const streamed = await checked<string>("POST /v1/topics/:topic/records/stream", "POST", `${T}/records/stream`, 200, {
			headers: { "Content-Type": "application/x-ndjson" },
			raw: '{"value":"s"}\n',
		});
		expect(JSON.parse(streamed)).toMatchObject({ offsets: [{ offset: expect.any(Number) }] });
		await checked("POST /v1/topics/:topic/records/stream", "POST", `${T}/records/stream`, 415, { body: { value: "s" } });
		await checked("GET /v1/topics/:topic/records/stream", "GET", `${T}/records/stream`, 101, { headers: { Upgrade: "websocket" } });
		await checked("GET /v1/topics/:topic/records/stream", "GET", `${T}/records/stream`, 400);
		await checked("POST /v1/topics/:topic/webhook", "POST", `${T}/webhook?key=k`, 200, { body: { hook: true } });
		await checked("GET /v1/topics/:topic/partitions/:partition/records", "GET", `${T}/partitions/0/records?offset=0`, 200);
		await checked("GET /v1/topics/:topic/partitions/:partition/records", "GET", `${T}/partitions/1/records`, 200);
		await checked("GET /v1/topics/:topic/partitions/:partition/records", "GET", `${T}/partitions/0/records?offset=99`, 416);
		await checked("GET /v1/topics/:topic/partitions/:partition/offsets", "GET", `${T}/partitions/0/offsets?at=latest`, 200);
		await checked("GET /v1/topics/:topic/partitions/:partition/offsets", "GET", `${T}/partitions/0/offsets?at=0`, 200);
		await checked("GET /v1/topics/:topic/partitions/:partition/offsets", "GET", `${T}/partitions/0/offsets?at=max_timestamp`, 200);
		const deleteRecords = "POST /v1/topics/:topic/partitions/:partition/delete-records";
		await checked(deleteRecords, "POST", `${T}/partitions/1/delete-records`, 200, { body: { before_offset: 0 } });
		await checked(deleteRecords, "POST", `${T}/partitions/0/delete-records`, 416, { body: { before_offset: 99 } });
		await checked("POST /v1/producers", "POST", "/v1/producers", 200);
		await checked("GET /metrics", "GET", "/metrics", 200);
		await checked("GET /metrics", "GET", "/metrics", 401, { token: null });
	});

	it("webhook subscriptions", async () => {
		const path = `${T}/subscriptions`;
		const sub = await checked<{ id: string }>("POST /v1/topics/:topic/subscriptions", "POST", path, 201, {
			body: { url: "https://receiver.test/contract", start: "earliest", filter: { keys: ["k"] } },
		});
		await checked("POST /v1/topics/:topic/subscriptions", "POST", path, 400, { body: { url: 5 } });
		await checked("GET /v1/topics/:topic/subscriptions", "GET", path, 200);
		await checked("GET /v1/topics/:topic/subscriptions/:id", "GET", `${path}/${sub.id}`, 200);
		await checked("PATCH /v1/topics/:topic/subscriptions/:id", "PATCH", `${path}/${sub.id}`, 200, { body: { status: "paused" } });
		await checked("PATCH /v1/topics/:topic/subscriptions/:id", "PATCH", `${path}/${sub.id}`, 200, { body: { rotate_secret: true } });
		await checked("POST /v1/topics/:topic/subscriptions/:id/replay", "POST", `${path}/${sub.id}/replay`, 200, {
			body: { offset: "earliest" },
		});
		await checked("GET /v1/topics/:topic/subscriptions/:id/deliveries", "GET", `${path}/${sub.id}/deliveries?limit=5`, 200);
		await checked("DELETE /v1/topics/:topic/subscriptions/:id", "DELETE", `${path}/${sub.id}`, 204);
		await checked("GET /v1/topics/:topic/subscriptions/:id", "GET", `${path}/${sub.id}`, 404);
	});

	it("consumer groups", async () => {
		const joined = await checked<{ member_id: string; generation: number }>("POST /v1/groups/:group/members", "POST", `${G}/members`, 200, {
			body: { topics: [topic], auto_offset_reset: "earliest" },
		});
		const member = `${G}/members/${joined.member_id}`;
		await checked("POST /v1/groups/:group/members/:member/poll", "POST", `${member}/poll`, 200, { body: { max_records: 10 } });
		await checked("POST /v1/groups/:group/members/:member/poll", "POST", `${member}/poll`, 200, {
			body: { max_records: 10, layout: "partitions" },
		});
		await checked("POST /v1/groups/:group/members/:member/poll", "POST", `${G}/members/nobody/poll`, 409);
		await checked("POST /v1/groups/:group/members/:member/heartbeat", "POST", `${member}/heartbeat`, 200);
		await checked("POST /v1/groups/:group/offsets", "POST", `${G}/offsets`, 200, {
			body: { member_id: joined.member_id, generation: joined.generation, offsets: [{ topic, partition: 0, offset: 1, metadata: "m" }] },
		});
		await checked("GET /v1/groups", "GET", "/v1/groups", 200);
		await checked("GET /v1/groups/:group", "GET", G, 200);
		await checked("DELETE /v1/groups/:group/members/:member", "DELETE", member, 204);
		await checked("POST /v1/groups/:group/offsets/reset", "POST", `${G}/offsets/reset`, 200, { body: { topic, to: "earliest" } });
		await checked("DELETE /v1/groups/:group", "DELETE", G, 204);
		await checked("GET /v1/groups/:group", "GET", G, 404);
	});

	it("keys", async () => {
		closeAnonymousAtTestEnd();
		const key = await checked<{ id: string }>("POST /v1/keys", "POST", "/v1/keys", 201, {
			body: { name: "contract", acl: [{ resource: `topic:${topic}`, operations: ["consume"] }], quotas: { requests_per_sec: 10 } },
		});
		await checked("GET /v1/keys", "GET", "/v1/keys?limit=1", 200);
		await checked("PUT /v1/keys/:id/quotas", "PUT", `/v1/keys/${key.id}/quotas`, 200, { body: { fetch_bytes_per_sec: 1000 } });
		await checked("PUT /v1/keys/:id/quotas", "PUT", `/v1/keys/${key.id}/quotas`, 400, { body: { bytes: 1 } });
		await checked("PATCH /v1/keys/:id/quotas", "PATCH", `/v1/keys/${key.id}/quotas`, 200, { body: { fetch_bytes_per_sec: null } });
		await checked("PATCH /v1/keys/:id/quotas", "PATCH", `/v1/keys/${key.id}/quotas`, 400, { body: { bytes: 1 } });
		await checked("GET /v1/keys/:id", "GET", `/v1/keys/${key.id}`, 200);
		await checked("DELETE /v1/keys/:id", "DELETE", `/v1/keys/${key.id}`, 204);
		await checked("GET /v1/keys/:id", "GET", `/v1/keys/${key.id}`, 404);
		await checked("PATCH /v1/keys/:id/quotas", "PATCH", `/v1/keys/${key.id}/quotas`, 404, { body: {} });
		await checked("DELETE /v1/keys/:id", "DELETE", `/v1/keys/${key.id}`, 404);
		await checked("PUT /v1/keys/:id/quotas", "PUT", `/v1/keys/${key.id}/quotas`, 404, { body: {} });
		await checked("GET /v1/anonymous", "GET", "/v1/anonymous", 200);
		const grant = { acl: [{ resource: `topic:${topic}`, operations: ["describe"] }], quotas: { requests_per_sec: 5 } };
		await checked("PUT /v1/anonymous", "PUT", "/v1/anonymous", 200, { body: grant });
		await checked("PATCH /v1/anonymous", "PATCH", "/v1/anonymous", 200, { body: { quotas: { requests_per_sec: null } } });
		await checked("PATCH /v1/anonymous", "PATCH", "/v1/anonymous", 400, { body: { acl: null } });
		await checked("PUT /v1/anonymous", "PUT", "/v1/anonymous", 200, { body: { acl: [] } });
		await checked("PUT /v1/anonymous", "PUT", "/v1/anonymous", 400, { body: { acl: [], extra: 1 } });
		// A change the grant is not already (`{"acl":[]}` it is: that one is answered 200, RFC 9110 §13.1.1).
		const stale = { headers: { "If-Match": '"stale"' } };
		await checked("PUT /v1/anonymous", "PUT", "/v1/anonymous", 412, { body: grant, ...stale });
		await checked("PATCH /v1/anonymous", "PATCH", "/v1/anonymous", 412, { body: grant, ...stale });
		await checked("GET /v1/anonymous", "GET", "/v1/anonymous", 412, stale);
		for (const key of ["GET /v1/anonymous", "PUT /v1/anonymous", "PATCH /v1/anonymous"]) {
			expect(Object.keys(documentedResponse(key, 200).headers ?? {}), `${key} documents its ETag`).toContain("ETag");
			expect(operation(key).parameters, `${key} documents If-Match`).toContainEqual(
				expect.objectContaining({ name: "If-Match", in: "header" }),
			);
			expect(operation(key).responses, `${key} documents its 412`).toHaveProperty("412");
		}
		await checked("DELETE /v1/topics/:topic", "DELETE", T, 204);
	});
});

afterAll(() => {
	// Every documented route was exercised with a success status (the document's routes are the route table's).
	const documented = Object.keys(ROUTES).filter((k) => k.includes(" /v1") || k === "GET /metrics");
	const missing = documented.filter((k) => ![...(seen.get(k) ?? [])].some((s) => s < 300));
	expect(missing).toEqual([]);
});
