/**
 * @module
 * Gives every request an id (echoed as `X-Request-Id`), so a 500 can be matched with its log line.
 */

import type { MiddlewareHandler } from "hono";

export type RequestIdVariables = { requestId: string };

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
	return async function requestId(c, next) {
		const offered = c.req.header("X-Request-Id");
		const id = offered !== undefined && CLIENT_ID.test(offered) ? offered : crypto.randomUUID();
		c.set("requestId", id);
		c.header("X-Request-Id", id);
		await next();
	};
}
