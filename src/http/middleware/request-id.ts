/**
 * @module
 * Gives every request an id (echoed as `X-Request-Id` by securityHeaders, with the other headers every answer
 * carries), so a 500 can be matched with its log line.
 */

import type { MiddlewareHandler } from "hono";

export type RequestIdVariables = { requestId: string };

export const REQUEST_ID_HEADER = "X-Request-Id";

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
	return async function requestId(c, next) {
		const offered = c.req.header(REQUEST_ID_HEADER);
		c.set("requestId", offered !== undefined && CLIENT_ID.test(offered) ? offered : crypto.randomUUID());
		await next();
	};
}
