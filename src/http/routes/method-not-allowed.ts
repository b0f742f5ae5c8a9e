/**
 * @module
 * The 405 for a known path with an unsupported method, registered after each path's real handlers.
 */

import type { Context } from "hono";
import { ApiError } from "../../shared/errors.ts";

export function methodNotAllowed(c: Context): never {
	throw new ApiError("method_not_allowed", `${c.req.method} is not supported on ${new URL(c.req.url).pathname}`);
}
