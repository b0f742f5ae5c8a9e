/**
 * The Upstash compatibility tests' client: the real, unmodified `@upstash/kafka` client, with only its
 * transport routed in-process. The client calls the global `fetch`; while installed, requests to the test host
 * go to the Worker's own fetch handler (`workerFetch`), everything else to the real `fetch`.
 */

import { Kafka } from "@upstash/kafka";
import { afterAll, beforeAll } from "vitest";
import { ADMIN_TOKEN, BASE, sized, workerFetch } from "./worker.ts";

export const UPSTASH_URL = `${BASE}/upstash`;

/** Every request the client sent, the status it got and the request id answered, in order (for asserting retries). */
export const sent: { method: string; path: string; status: number; body: string; requestId: string | null }[] = [];

/** Routes the client's `fetch` to the Worker for the whole test file. */
export function routeClientToWorker(): void {
	const realFetch = globalThis.fetch;
	beforeAll(() => {
		globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
			const request = new Request(input, init);
			if (!request.url.startsWith(BASE)) return realFetch(input, init);
			const response = await workerFetch(sized(request, init?.body));
			const body = await response.clone().text();
			const requestId = response.headers.get("X-Request-Id");
			sent.push({ method: request.method, path: new URL(request.url).pathname, status: response.status, body, requestId });
			return response;
		};
	});
	afterAll(() => {
		globalThis.fetch = realFetch;
	});
}

export function kafka(username = "admin", password = ADMIN_TOKEN): Kafka {
	return new Kafka({ url: UPSTASH_URL, username, password });
}

/**
 * Runs `call` with the client's back-off between retries cut to nothing: it retries any non-2xx five times,
 * waiting 0.5–8 s, which is its behaviour to keep, not the tests' time to spend. Only delays the client asks for
 * (≥ 500 ms) are shortened.
 */
export async function withoutBackoff<T>(call: () => Promise<T>): Promise<T> {
	const realSetTimeout = globalThis.setTimeout;
	globalThis.setTimeout = ((handler: () => void, ms?: number) => realSetTimeout(handler, (ms ?? 0) >= 500 ? 0 : ms)) as typeof setTimeout;
	try {
		return await call();
	} finally {
		globalThis.setTimeout = realSetTimeout;
	}
}

/** The `UpstashError` a failing client call throws, with the requests it made. */
export async function clientError(
	call: () => Promise<unknown>,
): Promise<{ error: { message: string; status: number; name: string }; attempts: typeof sent }> {
	const before = sent.length;
	const error = await withoutBackoff(() =>
		call().then(
			() => {
				throw new Error("expected the call to fail");
			},
			(e: unknown) => e as { message: string; status: number; name: string },
		),
	);
	return { error, attempts: sent.slice(before) };
}
