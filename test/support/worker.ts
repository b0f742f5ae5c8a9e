/**
 * Drive the Worker through its real fetch handler, inside workerd: requests with the admin token, JSON answers
 * with their status asserted, and the /v1 calls most tests need (create a topic, produce, fetch).
 */

import { exports } from "cloudflare:workers";
import { expect } from "vitest";

export const ADMIN_TOKEN = "test-admin-token";
export const BASE = "http://tributary.test";

export interface CallOptions {
	readonly body?: unknown;
	/** Sent as is (no JSON encoding). */
	readonly raw?: BodyInit;
	readonly headers?: Record<string, string>;
	readonly token?: string | null;
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
	return exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
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

export async function fetchRecords(topic: string, partition: number, query = "") {
	return json<FetchResponse>("GET", `/v1/topics/${topic}/partitions/${partition}/records${query ? `?${query}` : ""}`, 200);
}
