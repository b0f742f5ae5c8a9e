/**
 * @module
 * `Authorization: Bearer <ADMIN_TOKEN>` on every `/v1` route. Tokens are compared in constant time over their
 * SHA-256 digests, so neither the content nor the length of the secret leaks through timing. With no
 * `ADMIN_TOKEN` configured every request is refused: secure by default.
 */

import type { MiddlewareHandler } from "hono";
import { ApiError } from "../../shared/errors.ts";

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
	return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/** Constant-time equality of two strings of any length. */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
	const [da, db] = await Promise.all([digest(a), digest(b)]);
	return crypto.subtle.timingSafeEqual(da, db);
}

export function bearerToken(header: string | undefined): string | null {
	if (header === undefined) return null;
	const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
	return match?.[1] ?? null;
}

export function adminAuth(): MiddlewareHandler<{ Bindings: Env }> {
	return async function adminAuth(c, next) {
		const expected = c.env.ADMIN_TOKEN;
		const offered = bearerToken(c.req.header("Authorization"));
		if (offered === null) throw new ApiError("unauthorized", "missing credentials: send Authorization: Bearer <token>");
		if (typeof expected !== "string" || expected.length === 0 || !(await timingSafeEqualStrings(offered, expected))) {
			throw new ApiError("unauthorized", "invalid credentials");
		}
		await next();
	};
}
