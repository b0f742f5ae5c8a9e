/**
 * A webhook receiver for integration tests. Delivery objects run in the test's isolate, so their outbound
 * `fetch` is intercepted here: requests to `https://receiver.test` are answered by a scripted handler, and
 * DNS-over-HTTPS look-ups (the SSRF check) are answered from a fixed table. Anything else is refused.
 */

import { afterAll, beforeAll } from "vitest";

export interface ReceivedRequest {
	readonly path: string;
	readonly headers: Record<string, string>;
	readonly body: string;
	readonly json: { topic: string; partition: number; records: { partition: number; offset: number; value: unknown; headers: unknown[] }[] };
	readonly atMs: number;
}

/** Host name → addresses the fake resolver answers. */
export const DNS: Record<string, string[]> = {
	"receiver.test": ["93.184.216.34"],
	"private.test": ["10.1.2.3"],
	"loopback.test": ["127.0.0.1"],
};

type Handler = (request: ReceivedRequest, index: number) => Response | Promise<Response>;

export class Receiver {
	readonly requests: ReceivedRequest[] = [];
	private handlers = new Map<string, Handler>();

	/** Scripts the answers for one path (default: 204). */
	on(path: string, handler: Handler): void {
		this.handlers.set(path, handler);
	}

	at(path: string): ReceivedRequest[] {
		return this.requests.filter((r) => r.path === path);
	}

	async handle(request: Request): Promise<Response> {
		const url = new URL(request.url);
		const body = await request.text();
		const received: ReceivedRequest = {
			path: url.pathname,
			headers: Object.fromEntries(request.headers),
			body,
			json: JSON.parse(body),
			atMs: Date.now(),
		};
		const index = this.at(url.pathname).length;
		this.requests.push(received);
		const handler = this.handlers.get(url.pathname);
		return handler === undefined ? new Response(null, { status: 204 }) : handler(received, index);
	}
}

function dnsAnswer(url: URL): Response {
	const name = url.searchParams.get("name") ?? "";
	const type = url.searchParams.get("type");
	const answers = type === "A" ? (DNS[name] ?? []).map((data) => ({ type: 1, data })) : [];
	return Response.json({ Status: 0, Answer: answers });
}

/** Installs the receiver for the test file. */
export function useReceiver(): Receiver {
	const receiver = new Receiver();
	const realFetch = globalThis.fetch;
	beforeAll(() => {
		globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
			const request = new Request(input, init);
			const url = new URL(request.url);
			if (url.hostname === "receiver.test") return receiver.handle(request);
			if (url.hostname === "cloudflare-dns.com") return dnsAnswer(url);
			return realFetch(input, init);
		};
	});
	afterAll(() => {
		globalThis.fetch = realFetch;
	});
	return receiver;
}
