/**
 * The SDK tests' client: a client wired to the Worker's own fetch handler inside workerd, and a `fetch`
 * wrapper that records every request and can fail chosen ones the way a network does.
 */

import { WRANGLER_PROXY_RETRY_TEXT } from "../../client/errors.ts";
import { Tributary } from "../../client/index.ts";
import { ADMIN_TOKEN, BASE, sized, workerFetch } from "./worker.ts";

export interface Sent {
	readonly method: string;
	readonly path: string;
	readonly body: string;
}

export interface Wire {
	readonly client: Tributary;
	readonly sent: Sent[];
	/** The next request for which `when` holds is served, and then its answer is dropped (a network error). */
	dropAnswer(when: (request: Sent) => boolean): void;
	/** The next request for which `when` holds is answered with a 500 without being served (a failing broker). */
	failUnserved(when: (request: Sent) => boolean): void;
	/**
	 * The next request for which `when` holds is answered, unserved, as wrangler dev's proxy answers one whose forward
	 * to the Worker failed (`WRANGLER_PROXY_RETRY_TEXT`): a stand-in for that proxy, not for the Worker.
	 */
	notForwarded(when: (request: Sent) => boolean): void;
	/**
	 * The next request for which `when` holds is served, and then answered as `notForwarded` answers: that proxy's catch
	 * also covers a failure reading the Worker's answer, so its 503 may follow a request that landed.
	 */
	servedNotForwarded(when: (request: Sent) => boolean): void;
	/**
	 * The next request for which `when` holds is refused, unserved, with a 429 `quota_exceeded` (`Retry-After: 0`), as a
	 * quota refuses a request before it runs.
	 */
	quotaRefuses(when: (request: Sent) => boolean): void;
	/** Requests for which `when` holds wait, unserved, until the returned function is called. */
	hold(when: (request: Sent) => boolean): () => void;
	/**
	 * The next request for which `when` holds is served at once, and its answer comes back only when the returned
	 * `release` is called (a slow response); `served` resolves once it was served.
	 */
	delayAnswer(when: (request: Sent) => boolean): { served: Promise<void>; release: () => void };
	/**
	 * Each request for which `when` holds waits for `meanwhile` (another writer's change) before it is served: that
	 * change lands after the client sent the request and before the Worker reads it.
	 */
	beforeServing(when: (request: Sent) => boolean, meanwhile: () => Promise<unknown>): void;
}

export function wiredClient(options: { token?: string; retries?: number } = {}): Wire {
	const sent: Sent[] = [];
	let drop: ((request: Sent) => boolean) | null = null;
	let fail: ((request: Sent) => boolean) | null = null;
	let unforwarded: ((request: Sent) => boolean) | null = null;
	let servedUnforwarded: ((request: Sent) => boolean) | null = null;
	let refused: ((request: Sent) => boolean) | null = null;
	let held: { when: (request: Sent) => boolean; released: Promise<void> } | null = null;
	let delayed: { when: (request: Sent) => boolean; served: () => void; released: Promise<void> } | null = null;
	let before: { when: (request: Sent) => boolean; meanwhile: () => Promise<unknown> } | null = null;
	const fetcher = async (request: Request): Promise<Response> => {
		const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.clone().text();
		const record = { method: request.method, path: new URL(request.url).pathname, body };
		sent.push(record);
		if (held?.when(record)) await held.released;
		if (before?.when(record)) await before.meanwhile();
		if (fail?.(record)) {
			fail = null;
			const error = { code: "internal", message: "the broker failed before serving this", retriable: false };
			return Response.json({ error }, { status: 500 });
		}
		if (unforwarded?.(record)) {
			unforwarded = null;
			return proxyRetry();
		}
		if (refused?.(record)) {
			refused = null;
			const error = { code: "quota_exceeded", message: "the key's request quota is spent", retriable: true };
			return Response.json({ error }, { status: 429, headers: { "Retry-After": "0" } });
		}
		const response = await workerFetch(request.body === null ? request : sized(request, body));
		const delay = delayed;
		if (delay?.when(record)) {
			delayed = null;
			delay.served();
			await delay.released;
		}
		if (drop?.(record)) {
			drop = null;
			await response.arrayBuffer();
			throw new TypeError("fetch failed: the connection was reset after the request was served");
		}
		if (servedUnforwarded?.(record)) {
			servedUnforwarded = null;
			await response.arrayBuffer();
			return proxyRetry();
		}
		return response;
	};
	return {
		client: new Tributary({ url: BASE, token: options.token ?? ADMIN_TOKEN, fetch: fetcher, retries: options.retries }),
		sent,
		dropAnswer(when) {
			drop = when;
		},
		failUnserved(when) {
			fail = when;
		},
		notForwarded(when) {
			unforwarded = when;
		},
		servedNotForwarded(when) {
			servedUnforwarded = when;
		},
		quotaRefuses(when) {
			refused = when;
		},
		beforeServing(when, meanwhile) {
			before = { when, meanwhile };
		},
		delayAnswer(when) {
			let served!: () => void;
			let release!: () => void;
			const gate = {
				when,
				served: new Promise<void>((resolve) => (served = resolve)),
				released: new Promise<void>((resolve) => (release = resolve)),
			};
			delayed = { when, served, released: gate.released };
			return { served: gate.served, release };
		},
		hold(when) {
			let release!: () => void;
			const gate = { when, released: new Promise<void>((resolve) => (release = resolve)) };
			held = gate;
			return () => {
				if (held === gate) held = null;
				release();
			};
		},
	};
}

/** wrangler dev's proxy's answer to a request whose forward, or whose answer's reading, failed. */
function proxyRetry(): Response {
	return new Response(WRANGLER_PROXY_RETRY_TEXT, { status: 503, headers: { "Retry-After": "0" } });
}

export const isProduce = (r: Sent) => r.method === "POST" && r.path.endsWith("/records");
