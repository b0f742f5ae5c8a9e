/**
 * @module
 * CORS, off by default: with `CORS_ORIGINS` empty or unset no CORS header is ever sent, so browsers keep other
 * origins out. Set it (a wrangler var) to a comma-separated list of origins, or `*`, to let browser apps call
 * the API; preflights are answered before authentication, as browsers send them without credentials.
 *
 * @example
 * # wrangler.toml
 * [vars]
 * CORS_ORIGINS = "https://console.example.com,https://admin.example.com"
 */

import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

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

export function corsFromEnv(): MiddlewareHandler<{ Bindings: Env }> {
	return async function corsFromEnv(c, next) {
		const origins = corsOrigins(c.env);
		if (origins.length === 0) return next();
		const handler = cors({
			origin: origins.includes("*") ? "*" : [...origins],
			allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
			allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "Last-Event-ID", "X-Request-Id"],
			exposeHeaders: ["X-Request-Id", "Retry-After", "Idempotent-Replayed", "ETag"],
			maxAge: 600,
		});
		return handler(c, next);
	};
}
