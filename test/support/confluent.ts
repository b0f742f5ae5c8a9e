/**
 * @module
 * Confluent REST v3 in tests: the mount's path for the one cluster, its resource
 * documents' shape, and the assertion of its errors (Confluent's `error_code`/`message` with Tributary's `error`).
 */

import { expect } from "vitest";

export const V3 = "/kafka/v3/clusters/tributary";

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
	expect(body.error.code, text).toBe(code);
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
