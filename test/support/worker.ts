/**
 * Drive the Worker through its real fetch handler, inside workerd: requests with the admin token, JSON answers
 * with their status asserted, and the /v1 calls most tests need (create a topic, produce, fetch).
 */

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../../src/index.ts";
import { uniqueTopic } from "./names.ts";

export const ADMIN_TOKEN = "test-admin-token";
export const BASE = "http://tributary.test";

export interface CallOptions {
	readonly body?: unknown;
	/** Sent as is (no JSON encoding). */
	readonly raw?: BodyInit;
	readonly headers?: Record<string, string>;
	readonly token?: string | null;
}

/**
 * The Worker's fetch handler, called as its entrypoint calls it: the Worker's own `env`, and an execution context
 * whose `waitUntil` promises the harness awaits after each test (as it does for the entrypoint's).
 *
 * Not through `exports.default.fetch`: vitest-pool-workers 0.15 wraps the entrypoint class's prototype in one more
 * Proxy each time it constructs it, once per request, so each call through it is slower than the last (measured
 * here: 12 ms → 250 ms per `/healthz` over 500 calls in one file, against a flat 1 ms this way; upstream:
 * https://github.com/cloudflare/workers-sdk/issues/15446). That made a test's cost grow with the requests made before
 * it in its file. The runtime's request boundary itself is driven by the e2e tests, against `wrangler dev`.
 *
 * One thing that boundary did is the sender's: a body of known length arrives with its `Content-Length` (quotas
 * and the Confluent mount read it). Requests built here carry it as an HTTP client would send it: see `sized`.
 */
export async function workerFetch(request: Request): Promise<Response> {
	return worker.fetch(request, env, createExecutionContext());
}

/**
 * The request with the `Content-Length` an HTTP client sends for a body of known length (a string, bytes, a
 * blob); a stream's length is unknown, so it goes as a chunked body does, without one.
 */
export function sized(request: Request, body: BodyInit | null | undefined): Request {
	const length = knownLength(body);
	if (length === null || request.headers.has("Content-Length")) return request;
	const headers = new Headers(request.headers);
	headers.set("Content-Length", String(length));
	return new Request(request, { headers });
}

function knownLength(body: BodyInit | null | undefined): number | null {
	if (typeof body === "string") return new TextEncoder().encode(body).byteLength;
	if (body instanceof URLSearchParams) return new TextEncoder().encode(body.toString()).byteLength;
	if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
	if (body instanceof Blob) return body.size;
	return null;
}

export async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
	const headers = new Headers(options.headers);
	const token = options.token === undefined ? ADMIN_TOKEN : options.token;
	if (token !== null) headers.set("Authorization", `Bearer ${token}`);
	let body: BodyInit | undefined = options.raw;
	if (options.body !== undefined) {
		body = JSON.stringify(options.body);
		if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
	}
	return workerFetch(sized(new Request(`${BASE}${path}`, { method, headers, body }), body));
}

/** Calls and parses JSON, asserting the status. */
export async function json<T = Record<string, unknown>>(
	method: string,
	path: string,
	status: number,
	options: CallOptions = {},
): Promise<T> {
	const response = await call(method, path, options);
	const text = await response.text();
	expect(response.status, `${method} ${path} → ${text}`).toBe(status);
	expect(response.headers.get("Content-Type") ?? "").toContain("application/json");
	return JSON.parse(text) as T;
}

/** Asserts an error response: status, JSON `{"error":{"code","message"}}`, and returns the error object. */
export async function expectError(method: string, path: string, status: number, code: string, options: CallOptions = {}) {
	const body = await json<{ error: Record<string, unknown> }>(method, path, status, options);
	expect(body.error.code).toBe(code);
	expect(typeof body.error.message).toBe("string");
	return body.error;
}

export async function createTopic(name: string, partitions = 1, config?: Record<string, unknown>) {
	return json("POST", "/v1/topics", 201, { body: { name, partitions, ...(config ? { config } : {}) } });
}

export interface FetchedRecord {
	partition: number;
	offset: number;
	timestamp: number;
	key: unknown;
	value: unknown;
	headers: { key: string; value: string | null }[];
}

export interface FetchResponse {
	records: FetchedRecord[];
	high_watermark: number;
	log_start_offset: number;
	next_offset: number;
}

export async function produce(topic: string, records: unknown[]) {
	return json<{ offsets: { partition: number; offset: number; timestamp: number }[] }>("POST", `/v1/topics/${topic}/records`, 200, {
		body: { records },
	});
}

/** A new topic of two partitions holding "a" and "b" (partition 0) and "c" (partition 1): its name. */
export async function topicOfThreeRecords(): Promise<string> {
	const topic = uniqueTopic();
	await createTopic(topic, 2);
	await produce(topic, [
		{ value: "a", partition: 0 },
		{ value: "b", partition: 0 },
		{ value: "c", partition: 1 },
	]);
	return topic;
}

/** Each partition's high watermark, in partition order, as `GET /v1/topics/{topic}` answers it. */
export async function highWatermarks(topic: string): Promise<number[]> {
	const described = await json<{ partitions: { high_watermark: number }[] }>("GET", `/v1/topics/${topic}`, 200);
	return described.partitions.map((p) => p.high_watermark);
}

export async function fetchRecords(topic: string, partition: number, query = "") {
	return json<FetchResponse>("GET", `/v1/topics/${topic}/partitions/${partition}/records${query ? `?${query}` : ""}`, 200);
}
