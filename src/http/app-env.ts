/**
 * @module
 * The Hono environment shared by the app and its routes.
 */

import type { AuthVariables } from "./middleware/authenticate.ts";
import type { RequestIdVariables } from "./middleware/request-id.ts";

/** Bytes of a response body, set by the routes that quotas charge for it (fetch, poll). */
type QuotaVariables = { bodyBytes?: number };

export type AppEnv = { Bindings: Env; Variables: RequestIdVariables & AuthVariables & QuotaVariables };
