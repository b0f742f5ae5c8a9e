/**
 * @module
 * CORS, off by default: with `CORS_ORIGINS` empty or unset no CORS header is ever sent, so browsers keep other
 * origins out. Set it (a wrangler var) to a comma-separated list of origins, or `*`, to let browser apps call
 * the API; preflights are answered before authentication, as browsers send them without credentials.
 *
 * The headers are Hono's `cors()` middleware's, for the policies this Worker has (fixed methods and headers, no
 * credentials): one function for the API and the Durable Streams mount, without the option handling (origin and
 * method callbacks, request-header reflection) neither uses, and without building the middleware again for every
 * request.
 *
 * @example
 * # wrangler.toml
 * [vars]
 * CORS_ORIGINS = "https://console.example.com,https://admin.example.com"
 */

import type { Context, MiddlewareHandler, Next } from "hono";
import { CORS_PREFLIGHT_MAX_AGE_SECONDS } from "../../shared/limits.ts";
import { setOnAnswer } from "./security-headers.ts";

/** The last `CORS_ORIGINS` read and its origins: the setting only changes with a deployment, yet every request reads it. */
let parsed: { readonly raw: string; readonly origins: readonly string[] } | null = null;

/** The origins `CORS_ORIGINS` allows; empty when unset or empty. */
export function corsOrigins(env: Env): readonly string[] {
	// Declared in wrangler.toml, but a deployment may still remove it: unset reads as no CORS.
	const raw: string | undefined = env.CORS_ORIGINS;
	if (typeof raw !== "string") return [];
	if (parsed?.raw !== raw) {
		const origins = raw
			.split(",")
			.map((origin) => origin.trim())
			.filter((origin) => origin.length > 0);
		parsed = { raw, origins };
	}
	return parsed.origins;
}

/** The methods and request headers a mount lets a browser use, and the response headers it may read. */
export interface CorsPolicy {
	/** Comma-joined, as the headers carry them (`corsPolicy` joins them once). */
	readonly allowMethods: string;
	readonly allowHeaders: string;
	readonly exposeHeaders: string;
}

export function corsPolicy(allowMethods: readonly string[], allowHeaders: readonly string[], exposeHeaders: readonly string[]): CorsPolicy {
	return { allowMethods: allowMethods.join(","), allowHeaders: allowHeaders.join(","), exposeHeaders: exposeHeaders.join(",") };
}

const ALLOW_ORIGIN = "Access-Control-Allow-Origin";
const EXPOSE_HEADERS = "Access-Control-Expose-Headers";

/**
 * Answers a preflight (`OPTIONS`: 204 with the policy's headers) or lets the request on, its response carrying the
 * origin it was allowed and the headers it may read. `origins`: `*` for any origin, else the origins allowed (each
 * answered with its own name and `Vary: Origin`).
 *
 * Set on the answer once it is built, as securityHeaders sets its own, not on Hono's context first (reading `c.res`
 * before the answer makes a placeholder whose headers Hono copies into every answer after it, ~8 µs each in a bare
 * workerd: bench/answer-shapes.mjs, `cors-context` against `cors-after`); a route's own value stays.
 */
export async function answerCors(
	c: Context,
	next: Next,
	origins: "*" | readonly string[],
	policy: CorsPolicy,
): Promise<Response | undefined> {
	const anyOrigin = origins === "*";
	const origin = c.req.header("origin") || "";
	const allowed = anyOrigin ? "*" : origins.includes(origin) ? origin : null;
	if (c.req.method === "OPTIONS") {
		const headers = new Headers();
		if (allowed !== null) headers.set(ALLOW_ORIGIN, allowed);
		headers.set(EXPOSE_HEADERS, policy.exposeHeaders);
		if (!anyOrigin) headers.set("Vary", "Origin");
		headers.set("Access-Control-Max-Age", String(CORS_PREFLIGHT_MAX_AGE_SECONDS));
		headers.set("Access-Control-Allow-Methods", policy.allowMethods);
		headers.set("Access-Control-Allow-Headers", policy.allowHeaders);
		headers.append("Vary", "Access-Control-Request-Headers");
		return new Response(null, { headers, status: 204, statusText: "No Content" });
	}
	await next();
	setOnAnswer(c, (headers) => {
		if (allowed !== null && !headers.has(ALLOW_ORIGIN)) headers.set(ALLOW_ORIGIN, allowed);
		if (!headers.has(EXPOSE_HEADERS)) headers.set(EXPOSE_HEADERS, policy.exposeHeaders);
		if (!anyOrigin) headers.append("Vary", "Origin");
	});
	return undefined;
}

/** The API's policy. */
export const API_CORS = corsPolicy(
	["GET", "POST", "PUT", "PATCH", "DELETE"],
	["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "Last-Event-ID", "X-Request-Id"],
	["X-Request-Id", "Retry-After", "Idempotent-Replayed", "ETag"],
);

/**
 * The API's CORS, for every path but `ownCors` and those under it: a mount that answers CORS by its own policy (Durable
 * Streams), which a browser's preflight must reach, not this one's headers and methods.
 */
export function corsFromEnv(ownCors: string): MiddlewareHandler<{ Bindings: Env }> {
	const own = `${ownCors}/`;
	return async function corsFromEnv(c, next) {
		const origins = corsOrigins(c.env);
		// The mount itself too (`/ds`): one policy a path, never both mounts' headers.
		if (origins.length === 0 || `${c.req.path}/`.startsWith(own)) return next();
		return answerCors(c, next, origins.includes("*") ? "*" : origins, API_CORS);
	};
}
