/**
 * Every kind of response the Worker builds carries the request's id (`X-Request-Id`, to match it with its log line)
 * and the security headers: JSON answers and errors, plain text, NDJSON and SSE streams, and answers built whole by
 * a handler rather than through the router's helpers. A WebSocket upgrade (101) is passed through untouched.
 */
import { describe, expect, it } from "vitest";
import { SECURITY_HEADERS } from "../../src/http/middleware/security-headers.ts";
import { uniqueTopic } from "../support/names.ts";
import { call, createTopic } from "../support/worker.ts";

/** `own`: headers a route sets itself, which the security headers leave as they are. */
function expectMarked(response: Response, id: string, own: Record<string, string> = {}): void {
	expect(response.headers.get("X-Request-Id"), `${response.status} ${response.headers.get("Content-Type")}`).toBe(id);
	for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, ...own })) expect(response.headers.get(name), name).toBe(value);
}

describe("response headers", () => {
	it("marks JSON, text, errors, NDJSON and SSE answers with the request id and the security headers", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const cases: { name: string; method: string; path: string; headers?: Record<string, string>; raw?: string; token?: null }[] = [
			{ name: "health", method: "GET", path: "/healthz" },
			{ name: "JSON", method: "GET", path: `/v1/topics/${topic}` },
			{ name: "not found", method: "GET", path: "/v1/topics/no-such-topic" },
			{ name: "unauthenticated", method: "GET", path: "/v1/topics", token: null },
			{ name: "bad JSON", method: "POST", path: `/v1/topics/${topic}/records`, headers: { "Content-Type": "application/json" }, raw: "{" },
			{
				name: "produce",
				method: "POST",
				path: `/v1/topics/${topic}/records`,
				headers: { "Content-Type": "application/json" },
				raw: '{"records":[{"value":1}]}',
			},
			{ name: "metrics text", method: "GET", path: "/metrics" },
			{
				name: "NDJSON produce stream",
				method: "POST",
				path: `/v1/topics/${topic}/records/stream`,
				headers: { "Content-Type": "application/x-ndjson" },
				raw: '{"records":[{"value":1}]}\n',
			},
		];
		for (const [i, c] of cases.entries()) {
			const id = `probe-${i}`;
			const response = await call(c.method, c.path, {
				headers: { ...c.headers, "X-Request-Id": id },
				...(c.raw === undefined ? {} : { raw: c.raw }),
				...(c.token === undefined ? {} : { token: c.token }),
			});
			await response.arrayBuffer();
			expectMarked(response, id);
		}
	});

	it("answers a produce with its Content-Type, the request id and the security headers, and no other header", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const expected = ["content-type", "x-request-id", ...Object.keys(SECURITY_HEADERS).map((name) => name.toLowerCase())].sort();
		const replayed = [...expected, "idempotent-replayed"].sort();
		for (const [i, want] of [expected, expected, replayed].entries()) {
			const response = await call("POST", `/v1/topics/${topic}/records`, {
				body: { records: [{ value: i > 0 ? 1 : 0 }] },
				headers: { "X-Request-Id": `produce-${i}`, ...(i > 0 ? { "Idempotency-Key": "once" } : {}) },
			});
			expect(response.status).toBe(200);
			await response.arrayBuffer();
			expect([...response.headers.keys()].sort(), `request ${i}`).toEqual(want);
			expect(response.headers.get("Content-Type")).toBe("application/json");
			expectMarked(response, `produce-${i}`);
		}
	});

	it("marks live streams (SSE) as soon as they start", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const path = `headers-${crypto.randomUUID()}`;
		expect((await call("PUT", `/ds/v1/stream/${path}`, { headers: { "Content-Type": "text/plain" } })).status).toBe(201);
		// EventSource wants `no-cache`; Durable Streams are meant to be read by browsers of any origin.
		const live: { path: string; headers: Record<string, string>; own: Record<string, string> }[] = [
			{ path: `/v1/topics/${topic}/partitions/0/records`, headers: { Accept: "text/event-stream" }, own: { "Cache-Control": "no-cache" } },
			{
				path: `/ds/v1/stream/${path}?offset=-1&live=sse`,
				headers: {},
				own: { "Cache-Control": "no-cache", "Cross-Origin-Resource-Policy": "cross-origin" },
			},
		];
		for (const [i, c] of live.entries()) {
			const id = `live-${i}`;
			const response = await call("GET", c.path, { headers: { ...c.headers, "X-Request-Id": id } });
			expect(response.headers.get("Content-Type")).toContain("text/event-stream");
			expectMarked(response, id, c.own);
			await response.body?.cancel();
		}
	});
});
