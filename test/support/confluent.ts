/**
 * @module
 * Confluent REST v3 in tests: the mount's path for the one cluster, its resource
 * documents' shape, and the assertion of its errors (Confluent's `error_code`/`message` with Tributary's `error`);
 * produce's paths, its per-record reports, and a body streamed in chunks.
 */

import { expect } from "vitest";

export const V3 = "/kafka/v3/clusters/tributary";
export const records = (topic: string) => `${V3}/topics/${topic}/records`;
export const batch = (topic: string) => `${V3}/topics/${topic}/records:batch`;
export const JSON_TYPE = { "Content-Type": "application/json" };

export interface V3Error {
	error_code: number;
	message: string;
	error: { code: string; message: string };
}

/** Asserts a v3 error: status, Confluent's `error_code`/`message`, and Tributary's `error` alongside. */
export async function expectV3Error(response: Response, status: number, errorCode: number, code: string): Promise<V3Error> {
	const text = await response.text();
	expect(response.status, text).toBe(status);
	const body = JSON.parse(text) as V3Error;
	expect(body.error_code, text).toBe(errorCode);
	expect(typeof body.message, text).toBe("string");
	expect(body.error?.code, text).toBe(code);
	expect(body.message).toBe(body.error.message);
	return body;
}

export interface Doc {
	kind: string;
	metadata: { self: string; resource_name: string };
	cluster_id: string;
	[field: string]: unknown;
}

export interface DocList {
	kind: string;
	metadata: { self: string; next: null };
	data: Doc[];
}

/** One record's produce report: its landing, or Confluent's error with Tributary's alongside. */
export interface Report {
	error_code: number;
	message?: string;
	cluster_id?: string;
	topic_name?: string;
	partition_id?: number;
	offset?: number;
	timestamp?: string;
	key?: { type: string; size: number } | null;
	value?: { type: string; size: number } | null;
	error?: { code: string; message: string; retriable: boolean };
}

/** Concatenated JSON reports (one per line) of a produce response. */
export async function reportsOf(response: Response): Promise<Report[]> {
	const text = await response.text();
	expect(response.status, text).toBe(200);
	return text
		.split("\n")
		.filter((line) => line.length > 0)
		.map((line) => JSON.parse(line) as Report);
}

/** A body streamed in the given chunks: no Content-Length, i.e. `Transfer-Encoding: chunked`. */
export function chunked(chunks: readonly string[]): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	let i = 0;
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			if (i === chunks.length) return controller.close();
			controller.enqueue(encoder.encode(chunks[i++]));
		},
	});
}
