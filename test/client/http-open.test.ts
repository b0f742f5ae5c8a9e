/**
 * The SDK's streaming GET (`Http.open`, under `client.stream`) on a caller's signal that outlives it: one
 * AbortController over many requests, as `RequestOptions.signal` invites. Each open listens on the signal until its
 * request settles (its body read to the end or cancelled, its open refused or failed), so a long-lived signal does not
 * collect a listener per request; while its body is read, the signal still ends it.
 */

import { expect, it } from "vitest";
import { Http } from "../../client/http.ts";
import { TributaryError } from "../../client/index.ts";
import { BASE } from "../support/worker.ts";

/** The abort listeners `signal` holds: added, not yet removed (one fired `once` is removed by the caller's abort). */
function abortListeners(signal: AbortSignal): Set<unknown> {
	const held = new Set<unknown>();
	const add = signal.addEventListener.bind(signal);
	const remove = signal.removeEventListener.bind(signal);
	signal.addEventListener = ((type: string, listener: EventListener, options?: Parameters<AbortSignal["addEventListener"]>[2]) => {
		if (type === "abort") held.add(listener);
		add(type, listener, options);
	}) as typeof signal.addEventListener;
	signal.removeEventListener = ((type: string, listener: EventListener, options?: Parameters<AbortSignal["removeEventListener"]>[2]) => {
		if (type === "abort") held.delete(listener);
		remove(type, listener, options);
	}) as typeof signal.removeEventListener;
	return held;
}

const EVENT = "id: 0\ndata: {}\n\n";

it("opens on one signal, each read to its end, cancelled, refused or failed, leave no listener on it", async () => {
	const fetcher = async (request: Request): Promise<Response> => {
		const path = new URL(request.url).pathname;
		if (path === "/refused") return Response.json({ error: { code: "topic_not_found", message: "no topic" } }, { status: 404 });
		if (path === "/failed") throw new TypeError("fetch failed");
		return new Response(EVENT, { headers: { "Content-Type": "text/event-stream" } });
	};
	const http = new Http({ url: BASE, token: "t", fetch: fetcher, retries: 0 });
	const caller = new AbortController();
	const held = abortListeners(caller.signal);
	const open = (path: string) => http.open(path, { headers: {}, signal: caller.signal });
	for (let i = 0; i < 10; i++) {
		expect(await (await open("/read")).text()).toBe(EVENT);
		await (await open("/cancelled")).body?.cancel();
		await expect(open("/refused")).rejects.toMatchObject({ code: "topic_not_found", status: 404 });
		await expect(open("/failed")).rejects.toBeInstanceOf(TributaryError);
	}
	expect(held.size, "listeners left on the caller's signal after 40 opens").toBe(0);
});

/**
 * A fetch answering an event stream of one event that errors when its request's signal aborts; with `more`, each read
 * waiting on it is given one more event (highWaterMark 0: asked only then, as one arriving would be).
 */
function eventStream(more: boolean) {
	return async (request: Request): Promise<Response> => {
		const body = new ReadableStream<Uint8Array>(
			{
				start(controller) {
					controller.enqueue(new TextEncoder().encode(EVENT));
					request.signal.addEventListener("abort", () => controller.error(request.signal.reason), { once: true });
				},
				pull: more ? (controller) => controller.enqueue(new TextEncoder().encode(EVENT)) : undefined,
			},
			{ highWaterMark: more ? 0 : 1 },
		);
		return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
	};
}

/** The body of an `open` of `eventStream(more)` on `caller`'s signal, its first event read. */
async function openedAndRead(more: boolean, caller: AbortController): Promise<ReadableStreamDefaultReader<Uint8Array>> {
	const http = new Http({ url: BASE, token: "t", fetch: eventStream(more), retries: 0 });
	const response = await http.open("/live", { headers: {}, signal: caller.signal });
	const reader = (response.body as ReadableStream<Uint8Array>).getReader();
	expect((await reader.read()).done).toBe(false);
	return reader;
}

it("a body being read when the caller's signal aborts ends, its read rejected", async () => {
	const caller = new AbortController();
	const reader = await openedAndRead(false, caller);
	const next = reader.read();
	caller.abort(new Error("the caller is done"));
	await expect(next).rejects.toThrow("the caller is done");
});

it("the body is read from fetch's only as the caller reads: a chunk come since is not read after the signal aborted", async () => {
	const caller = new AbortController();
	const reader = await openedAndRead(true, caller);
	// A turn of the event loop: time for a read ahead of the caller's, if any, to take the next event before the abort.
	await new Promise((resolve) => setTimeout(resolve, 0));
	caller.abort(new Error("the caller is done"));
	await expect(reader.read(), "the caller's read after its abort").rejects.toThrow("the caller is done");
});
