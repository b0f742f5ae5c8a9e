/**
 * A request answered before its body was read (a refusal by authentication, routing, the body's type, or a 2xx of a
 * route that takes no body) has that body read before the answer goes: workerd as `npm start` serves it closes a connection whose request body was left
 * unread, and a kept-alive client's next request on it meets a reset (test/e2e/keep-alive.test.mjs).
 */
import { describe, expect, it } from "vitest";
import { drainUnreadBody } from "../../src/http/body.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, BASE, createTopic, workerFetch } from "../support/worker.ts";

const CHUNKS = 3;
const CHUNK_BYTES = 1000;

/**
 * A request whose body comes in CHUNKS pulls, declared in its `Content-Length` as an HTTP client sends it; `pulled()` is
 * how many of its bytes were read so far. `endless`: a body sent without a length that never ends (a produce stream).
 */
function tracked(
	method: string,
	path: string,
	headers: Record<string, string>,
	endless = false,
): { request: Request; pulled: () => number } {
	let sent = 0;
	const body = new ReadableStream<Uint8Array>({
		pull(controller) {
			if (sent === CHUNKS * CHUNK_BYTES) return endless ? new Promise<void>(() => {}) : controller.close();
			sent += CHUNK_BYTES;
			controller.enqueue(new TextEncoder().encode("x".repeat(CHUNK_BYTES)));
		},
	});
	const length = endless ? {} : { "Content-Length": String(CHUNKS * CHUNK_BYTES) };
	const request = new Request(`${BASE}${path}`, { method, headers: { ...headers, ...length }, body, duplex: "half" } as RequestInit);
	return { request, pulled: () => sent };
}

/** Resolves "held" after `ms`: a bound on the wait for an answer that should come at once, not a stand-in for it. */
function heldFor(ms: number): Promise<string> {
	return new Promise((resolve) => setTimeout(() => resolve("held"), ms));
}

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

describe("a request body the answer left unread", () => {
	it.each([
		["no credentials", 401, "POST", "/v1/topics/t/records", { "Content-Type": "application/json" }],
		["no route", 404, "POST", "/v1/nothing-here", { ...admin, "Content-Type": "application/json" }],
		["a method the path does not answer", 405, "PUT", "/v1/topics/t/records", { ...admin, "Content-Type": "application/json" }],
		["a type the route does not take", 415, "POST", "/v1/topics/t/records", { ...admin, "Content-Type": "text/csv" }],
	])("is read to its end before the answer (%s, %i)", async (_, status, method, path, headers) => {
		const { request, pulled } = tracked(method, path, headers);
		const response = await workerFetch(request);
		expect(response.status).toBe(status);
		expect(pulled()).toBe(CHUNKS * CHUNK_BYTES);
	});

	it("is read to its end before a 2xx that never read it (a DELETE with a body, 204)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { request, pulled } = tracked("DELETE", `/v1/topics/${topic}`, { ...admin, "Content-Type": "application/json" });
		const response = await workerFetch(request);
		expect(response.status).toBe(204);
		expect(pulled()).toBe(CHUNKS * CHUNK_BYTES);
	});

	it("is not waited for when it comes without a length, as a produce stream's does: the refusal goes at once", async () => {
		const { request, pulled } = tracked("POST", "/v1/topics/t/records", { "Content-Type": "application/json" }, true);
		const response = await workerFetch(request);
		expect(response.status).toBe(401);
		expect(pulled()).toBeLessThan(CHUNKS * CHUNK_BYTES);
	});

	it("is not waited for when its sender expects a 100 Continue first, which workerd never sends: the refusal goes at once", async () => {
		// The client holds its body back until a 100 Continue or a final answer (curl for 1 s, a strict client for good).
		const body = new ReadableStream<Uint8Array>({ pull: () => new Promise<void>(() => {}) });
		const headers = { "Content-Type": "application/json", "Content-Length": "10", Expect: "100-continue" };
		const request = new Request(`${BASE}/v1/topics/t/records`, { method: "POST", headers, body, duplex: "half" } as RequestInit);
		const answered = await Promise.race([workerFetch(request).then((response) => response.status), heldFor(5_000)]);
		expect(answered).toBe(401);
	});

	it("is left alone when a route took its reader and answered before reading: a locked body cannot be read again", async () => {
		const { request, pulled } = tracked("POST", "/v1/topics/t/records", { "Content-Type": "application/json" });
		request.body?.getReader();
		await expect(drainUnreadBody(request)).resolves.toBeUndefined();
		expect(pulled()).toBeLessThan(CHUNKS * CHUNK_BYTES);
	});
});
