/**
 * @module
 * Error codes to HTTP, in one exhaustive record: adding an `ErrorCode` without a status fails to compile.
 * Every error leaves as `{"error":{"code","message","retriable",…details}}`; internal detail never does.
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, CALL_FAILED, type DomainError, type ErrorCode, isBug, OVERLOADED } from "../shared/errors.ts";
import type { AppEnv } from "./app-env.ts";

/** What the wire says of an error code: its HTTP status, and whether the same request may succeed later unchanged. */
export interface ErrorFacts {
	readonly status: ContentfulStatusCode;
	readonly retriable: boolean;
}

/**
 * Every error code's status and retriability, in one record: an `ErrorCode` added without its line here fails to
 * compile. Retriable are the transient ones: an object or a call that failed or did not answer, and a quota that
 * refills.
 */
export const ERRORS = {
	invalid_request: { status: 400, retriable: false },
	invalid_json: { status: 400, retriable: false },
	invalid_config: { status: 400, retriable: false },
	invalid_partitions: { status: 400, retriable: false },
	invalid_replication_factor: { status: 400, retriable: false },
	unauthorized: { status: 401, retriable: false },
	forbidden: { status: 403, retriable: false },
	not_found: { status: 404, retriable: false },
	topic_not_found: { status: 404, retriable: false },
	partition_not_found: { status: 404, retriable: false },
	method_not_allowed: { status: 405, retriable: false },
	topic_exists: { status: 409, retriable: false },
	topic_limit_reached: { status: 409, retriable: false },
	request_too_large: { status: 413, retriable: false },
	record_too_large: { status: 413, retriable: false },
	unsupported_media_type: { status: 415, retriable: false },
	offset_out_of_range: { status: 416, retriable: false },
	invalid_record: { status: 400, retriable: false },
	invalid_timestamp: { status: 400, retriable: false },
	fenced: { status: 409, retriable: false },
	out_of_order_sequence: { status: 409, retriable: false },
	unknown_producer: { status: 409, retriable: false },
	idempotency_key_reused: { status: 409, retriable: false },
	offset_mismatch: { status: 409, retriable: false },
	partition_full: { status: 507, retriable: false },
	policy_violation: { status: 409, retriable: false },
	partition_unavailable: { status: 503, retriable: true },
	unavailable: { status: 503, retriable: true },
	service_unavailable: { status: 503, retriable: true },
	// Only the Worker's operator can set what is missing: the same request keeps failing until then.
	not_configured: { status: 503, retriable: false },
	// Only a bug is answered 500 (`isBug`): it fails again the same way, as Kafka's UNKNOWN_SERVER_ERROR is not
	// retriable. A transient failure is a 503 (`thrownError`, `settleEach`).
	internal: { status: 500, retriable: false },
	group_not_found: { status: 404, retriable: false },
	group_not_empty: { status: 409, retriable: false },
	group_full: { status: 409, retriable: false },
	group_limit_reached: { status: 409, retriable: false },
	unknown_member: { status: 409, retriable: false },
	rebalance_in_progress: { status: 409, retriable: false },
	inconsistent_strategy: { status: 409, retriable: false },
	fenced_instance: { status: 409, retriable: false },
	partition_not_assigned: { status: 409, retriable: false },
	no_committed_offset: { status: 409, retriable: false },
	invalid_webhook_url: { status: 400, retriable: false },
	subscription_not_found: { status: 404, retriable: false },
	subscription_limit_reached: { status: 409, retriable: false },
	key_not_found: { status: 404, retriable: false },
	key_limit_reached: { status: 409, retriable: false },
	quota_exceeded: { status: 429, retriable: true },
	length_required: { status: 411, retriable: false },
	precondition_failed: { status: 412, retriable: false },
} as const satisfies Record<ErrorCode, ErrorFacts>;

export function statusOf(code: ErrorCode): ContentfulStatusCode {
	return ERRORS[code].status;
}

/** The status `code` is answered with on the request's mount: its dialect's own (`errorStatuses`) where it has one. */
export function statusIn(c: Context, code: ErrorCode): ContentfulStatusCode {
	return (c as Context<AppEnv>).get("errorStatuses")?.[code] ?? statusOf(code);
}

/** Whether the same request may succeed later unchanged. */
export function isRetriable(code: ErrorCode): boolean {
	return ERRORS[code].retriable;
}

/** The JSON body of an error. */
export function errorBody(error: DomainError): { error: Record<string, unknown> } {
	return { error: { code: error.code, message: error.message, retriable: isRetriable(error.code), ...error.details } };
}

/**
 * Renders `error` as the response; sets `WWW-Authenticate` on 401 as RFC 9110 asks, `Retry-After` (whole seconds,
 * rounded up) when the error says how long to wait, and `Accept-Encoding` when it names the codings taken.
 */
export function errorResponse(c: Context, error: DomainError): Response {
	error = withRequestId(error, c.get("requestId"));
	const status = statusIn(c, error.code);
	if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="tributary", Basic realm="tributary"');
	const retryAfterMs = error.details?.retry_after_ms;
	if (typeof retryAfterMs === "number") c.header("Retry-After", String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
	const acceptEncoding = error.details?.accept_encoding;
	if (typeof acceptEncoding === "string") c.header("Accept-Encoding", acceptEncoding);
	const render = (c as Context<AppEnv>).get("renderError");
	const body = errorBody(error);
	return c.json(render === undefined ? body : (render(error, status, body) as Record<string, unknown>), status);
}

/**
 * `error`, naming the request's id if it is a 5xx (a bug, or a failure of an object or the platform), so its log line
 * can be found: one answered as a Result (`settleEach`, a write that rolled back) has none of its own, as one thrown to
 * `onError` has (`thrownError`). One place for the answer before a stream's start, the stream's last word and a
 * mount's per-message entry.
 */
export function withRequestId(error: DomainError, requestId: string): DomainError {
	if (error.details?.request_id || statusOf(error.code) < 500) return error;
	return { ...error, details: { ...error.details, request_id: requestId } };
}

/**
 * What a request that threw `error` is answered: `onError`'s answer, and a streamed answer's last word once it started
 * (`failedAfterStart`). An `ApiError` is its own error, Hono's 4xx an invalid request; anything else is logged first.
 */
export function failureOf(c: Context<AppEnv>, error: unknown): DomainError {
	if (error instanceof ApiError) return withRequestId(error.error, c.get("requestId") ?? "unknown");
	if (error instanceof HTTPException && error.status < 500) return { code: "invalid_request", message: error.message || "invalid request" };
	return thrownError(error, logThrown(c, error));
}

/** Logs what a request threw, with its stack, under the request's id (answered). */
export function logThrown(c: Context<AppEnv>, error: unknown): string {
	const id = c.get("requestId") ?? "unknown";
	console.error(`request ${id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
	return id;
}

/**
 * What a thrown error that is not an `ApiError` is answered (logged first by the caller): our bug 500 `internal`
 * (`isBug`), a failed platform or object call 503 `service_unavailable`; neither shows internal detail.
 */
export function thrownError(cause: unknown, requestId: string): DomainError {
	if (isBug(cause)) return { code: "internal", message: "internal error", details: { request_id: requestId } };
	return {
		code: "service_unavailable",
		message: CALL_FAILED,
		details: { request_id: requestId, ...((cause as { overloaded?: unknown }).overloaded === true && OVERLOADED) },
	};
}
