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

/** Every error code's HTTP status, in one record: an `ErrorCode` added without its line here fails to compile. */
const STATUSES = {
	invalid_request: 400,
	invalid_json: 400,
	invalid_config: 400,
	invalid_partitions: 400,
	invalid_replication_factor: 400,
	unauthorized: 401,
	forbidden: 403,
	not_found: 404,
	topic_not_found: 404,
	partition_not_found: 404,
	method_not_allowed: 405,
	topic_exists: 409,
	topic_limit_reached: 409,
	request_too_large: 413,
	record_too_large: 413,
	unsupported_media_type: 415,
	offset_out_of_range: 416,
	invalid_record: 400,
	invalid_timestamp: 400,
	fenced: 409,
	out_of_order_sequence: 409,
	unknown_producer: 409,
	idempotency_key_reused: 409,
	offset_mismatch: 409,
	partition_full: 507,
	policy_violation: 409,
	partition_unavailable: 503,
	unavailable: 503,
	service_unavailable: 503,
	// Only the Worker's operator can set what is missing: the same request keeps failing until then.
	not_configured: 503,
	// Only a bug is answered 500 (`isBug`): it fails again the same way, as Kafka's UNKNOWN_SERVER_ERROR is not
	// retriable. A transient failure is a 503 (`thrownError`, `settleEach`).
	internal: 500,
	group_not_found: 404,
	group_not_empty: 409,
	group_full: 409,
	group_limit_reached: 409,
	unknown_member: 409,
	rebalance_in_progress: 409,
	inconsistent_strategy: 409,
	fenced_instance: 409,
	partition_not_assigned: 409,
	no_committed_offset: 409,
	invalid_webhook_url: 400,
	subscription_not_found: 404,
	subscription_limit_reached: 409,
	key_not_found: 404,
	key_limit_reached: 409,
	quota_exceeded: 429,
	length_required: 411,
	precondition_failed: 412,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

/**
 * The retriable codes: the transient ones, an object or a call that failed or did not answer, and a quota that
 * refills. (A set beside the statuses, not a flag on each line: the same facts in a third of the bundle's bytes.)
 */
const RETRIABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
	"partition_unavailable",
	"unavailable",
	"service_unavailable",
	"quota_exceeded",
]);

/** Every error code's status and retriability (for tests; the Worker reads `statusOf` and `isRetriable`). */
export const ERRORS = /* @__PURE__ */ errorFacts();

function errorFacts(): Record<ErrorCode, ErrorFacts> {
	const facts = Object.entries(STATUSES).map(([code, status]) => [code, { status, retriable: RETRIABLE.has(code as ErrorCode) }]);
	return Object.fromEntries(facts) as Record<ErrorCode, ErrorFacts>;
}

export function statusOf(code: ErrorCode): ContentfulStatusCode {
	return STATUSES[code];
}

/** The status `code` is answered with on the request's mount: its dialect's own (`errorStatuses`) where it has one. */
export function statusIn(c: Context, code: ErrorCode): ContentfulStatusCode {
	return (c as Context<AppEnv>).get("errorStatuses")?.[code] ?? statusOf(code);
}

/** Whether the same request may succeed later unchanged. */
export function isRetriable(code: ErrorCode): boolean {
	return RETRIABLE.has(code);
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
