/**
 * @module
 * The Hono environment shared by the app and its routes.
 */

import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError, ErrorCode } from "../shared/errors.ts";
import type { AuthVariables } from "./middleware/authenticate.ts";
import type { ObserveVariables } from "./middleware/observe.ts";
import type { RequestIdVariables } from "./middleware/request-id.ts";

/** Bytes of a response body, set by the routes that quotas charge for it (fetch, poll). */
type QuotaVariables = { bodyBytes?: number };

/**
 * How errors are rendered under a compatibility mount (`/upstash`, `/kafka/v3`): set by the mount's first
 * middleware, so 401s, 404s and 500s from anywhere on that path take the dialect's shape. Unset → Tributary's.
 */
export type ErrorRenderer = (error: DomainError, status: ContentfulStatusCode, body: { error: Record<string, unknown> }) => unknown;
/** A dialect's own status for the codes its API answers differently (Confluent: an existing topic is a 400). */
export type ErrorStatuses = Partial<Record<ErrorCode, ContentfulStatusCode>>;
type DialectVariables = { renderError?: ErrorRenderer; errorStatuses?: ErrorStatuses };

export type AppEnv = {
	Bindings: Env;
	Variables: RequestIdVariables & ObserveVariables & AuthVariables & QuotaVariables & DialectVariables;
};
