/**
 * @module
 * Error codes to HTTP, in one exhaustive switch: adding an `ErrorCode` without a status fails to compile.
 * Every error leaves as `{"error":{"code","message","retriable",…details}}`; internal detail never does.
 */

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError, ErrorCode } from "../shared/errors.ts";
import type { AppEnv } from "./app-env.ts";

export function statusOf(code: ErrorCode): ContentfulStatusCode {
	switch (code) {
		case "invalid_request":
		case "invalid_json":
		case "invalid_config":
		case "invalid_partitions":
		case "invalid_record":
		case "invalid_webhook_url":
			return 400;
		case "unauthorized":
			return 401;
		case "forbidden":
			return 403;
		case "not_found":
		case "topic_not_found":
		case "partition_not_found":
		case "group_not_found":
		case "subscription_not_found":
		case "key_not_found":
			return 404;
		case "method_not_allowed":
			return 405;
		case "topic_exists":
		case "topic_limit_reached":
		case "subscription_limit_reached":
		case "fenced":
		case "out_of_order_sequence":
		case "unknown_producer":
		case "idempotency_key_reused":
		case "offset_mismatch":
		case "group_not_empty":
		case "group_full":
		case "group_limit_reached":
		case "unknown_member":
		case "rebalance_in_progress":
		case "inconsistent_strategy":
		case "partition_not_assigned":
		case "no_committed_offset":
		case "key_limit_reached":
			return 409;
		case "request_too_large":
		case "record_too_large":
			return 413;
		case "unsupported_media_type":
			return 415;
		case "offset_out_of_range":
			return 416;
		case "length_required":
			return 411;
		case "quota_exceeded":
			return 429;
		case "internal":
			return 500;
		case "partition_unavailable":
		case "unavailable":
			return 503;
		case "partition_full":
			return 507;
	}
}

/** Whether the same request may succeed later unchanged. */
export function isRetriable(code: ErrorCode): boolean {
	return code === "partition_unavailable" || code === "unavailable" || code === "internal" || code === "quota_exceeded";
}

/** The JSON body of an error. */
export function errorBody(error: DomainError): { error: Record<string, unknown> } {
	return { error: { code: error.code, message: error.message, retriable: isRetriable(error.code), ...error.details } };
}

/**
 * Renders `error` as the response; sets `WWW-Authenticate` on 401 as RFC 9110 asks, and `Retry-After` (whole
 * seconds, rounded up) when the error says how long to wait.
 */
export function errorResponse(c: Context, error: DomainError): Response {
	const status = statusOf(error.code);
	if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="tributary", Basic realm="tributary"');
	const retryAfterMs = error.details?.retry_after_ms;
	if (typeof retryAfterMs === "number") c.header("Retry-After", String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
	const render = (c as Context<AppEnv>).get("renderError");
	const body = errorBody(error);
	return c.json(render === undefined ? body : (render(error, status, body) as Record<string, unknown>), status);
}
