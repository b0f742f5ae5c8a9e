/**
 * @module
 * The Hono environment shared by the app and its routes.
 */

import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError } from "../shared/errors.ts";
import type { AuthVariables } from "./middleware/authenticate.ts";
import type { RequestIdVariables } from "./middleware/request-id.ts";

/** Bytes of a response body, set by the routes that quotas charge for it (fetch, poll). */
type QuotaVariables = { bodyBytes?: number };

/**
 * How errors are rendered under a compatibility mount (`/upstash`, `/kafka/v3`): set by the mount's first
 * middleware, so 401s, 404s and 500s from anywhere on that path take the dialect's shape. Unset → Tributary's.
 */
export type ErrorRenderer = (error: DomainError, status: ContentfulStatusCode, body: { error: Record<string, unknown> }) => unknown;
type DialectVariables = { renderError?: ErrorRenderer };

export type AppEnv = { Bindings: Env; Variables: RequestIdVariables & AuthVariables & QuotaVariables & DialectVariables };
