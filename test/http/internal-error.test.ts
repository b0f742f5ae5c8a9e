/**
 * An unknown fault is a 500 with a request id and nothing else: no message detail, no stack; and not retriable: a
 * bug fails again the same way (Kafka's UNKNOWN_SERVER_ERROR is not retriable either).
 */
import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { ADMIN_TOKEN } from "../support/worker.ts";

// A route that fails the way a bug would, registered on the real app (this file only: isolates are per file).
app.get("/v1/__test/bug", () => {
	throw new TypeError("secret internal detail at /src/partition/partition-log.ts:42");
});

describe("unknown faults", () => {
	it("answers 500 internal with the request id, echoed in X-Request-Id, and no detail", async () => {
		const response = await app.request("/v1/__test/bug", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, { ADMIN_TOKEN });
		expect(response.status).toBe(500);
		const text = await response.text();
		expect(text).not.toContain("secret");
		expect(text).not.toContain(".ts:");
		const body = JSON.parse(text) as { error: { code: string; request_id: string; retriable: boolean } };
		expect([body.error.code, body.error.retriable]).toEqual(["internal", false]);
		expect(body.error.request_id).toBe(response.headers.get("X-Request-Id"));
		expect(body.error.request_id).toMatch(/^[0-9a-f-]{36}$/);
	});

	it("keeps a well-formed client request id", async () => {
		const response = await app.request(
			"/v1/__test/bug",
			{ headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "X-Request-Id": "trace-123" } },
			{ ADMIN_TOKEN },
		);
		expect(((await response.json()) as { error: { request_id: string } }).error.request_id).toBe("trace-123");
	});
});
