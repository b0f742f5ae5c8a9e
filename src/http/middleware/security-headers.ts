/**
 * @module
 * Security headers on every response: the API serves JSON only, so nothing may be sniffed, framed,
 * cached by intermediaries or given a referrer; and the request's id (request-id.ts). A WebSocket upgrade (101) is
 * passed through untouched. Once they are set, a body the answer left unread is drained (`drainUnreadBody`).
 */

import type { Context, MiddlewareHandler } from "hono";
import { drainUnreadBody } from "../body.ts";
import { REQUEST_ID_HEADER, type RequestIdVariables } from "./request-id.ts";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
	"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options": "DENY",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	"Referrer-Policy": "no-referrer",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Cache-Control": "no-store",
};

/**
 * What they cost is their number on the way out, not how they are set: on a bare Worker under 32 clients (Miniflare),
 * answering these seven and a request id besides Content-Type took 266 µs of server CPU per request against 233 with
 * Content-Type alone, and no cheaper way to build them was found (one `Headers` set one by one: 266; the Response
 * given them as an array: 284; a copy of a prebuilt `Headers`: 286). Fewer headers is the only saving, and each is here
 * for a reason.
 *
 * Measured again with both builds served at once under one load (`npm run bench:ab`'s method; medians of 6 rounds,
 * the range of the differences in brackets, on a busy machine where a request costs about twice what it does
 * alone): a one-record produce without these seven cost 60 µs less of ~1,000 (23 to 79); on a bare Worker, eight
 * headers more than Content-Type cost 48 of ~400 (38 to 76), and building them without sending them 24 (20 to 72),
 * while a plain object for the Response's init (+4: −16 to 18) and a copy of a prebuilt `Headers` with only the
 * request id set (−6: −32 to 5) were no cheaper than setting each one.
 */
const ENTRIES = Object.entries(SECURITY_HEADERS);

function setAll(headers: Headers, id: string): void {
	if (!headers.has(REQUEST_ID_HEADER)) headers.set(REQUEST_ID_HEADER, id);
	for (const [name, value] of ENTRIES) {
		if (!headers.has(name)) headers.set(name, value);
	}
}

/**
 * Set on the answer once it is built, not given to the context first: a context holding headers hands a copy of
 * them to every Response its helpers make, which in a bare workerd cost ~8 µs an answer more than setting the same
 * headers on the answer afterwards, each after a check that the route did not set it itself (bench/answer-shapes.mjs:
 * `hono` against `after`). A route's own value stays, as it did when its `c.header` replaced ours.
 */
export function securityHeaders(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
	return async function securityHeaders(c, next) {
		await next();
		const status = c.res.status;
		if (status === 101) return;
		const id = c.get("requestId");
		setOnAnswer(c, (headers) => setAll(headers, id));
		// Here rather than in a layer of its own: every answer passes, the router's and the error handler's included.
		await drainUnreadBody(c.req.raw);
	};
}

/**
 * Sets headers on the built answer with `set`. A response from elsewhere (a Durable Object's fetch) may have
 * immutable headers: it is copied first.
 */
export function setOnAnswer(c: Context, set: (headers: Headers) => void): void {
	try {
		set(c.res.headers);
	} catch {
		const copy = new Response(c.res.body, c.res);
		set(copy.headers);
		c.res = copy;
	}
}
