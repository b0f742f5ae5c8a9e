/**
 * @module
 * One error type for everything the SDK can fail with: the API's own errors (`{"error":{"code","message",
 * "retriable",…}}`), network failures and timeouts, and misuse caught before a request is sent.
 */

/** Codes the SDK itself raises; every other code is the API's (`topic_not_found`, `fenced`, …). */
export type ClientErrorCode =
	| "network_error"
	| "timeout"
	/** The caller's signal (`RequestOptions.signal`) cut off a try under way: no answer, its outcome unknown. */
	| "aborted"
	| "invalid_argument"
	| "closed"
	| "unexpected_response"
	| "buffer_full"
	/** wrangler dev's proxy answered for the Worker: its forward, or its reading of the Worker's answer, failed. */
	| "not_forwarded";

export interface TributaryErrorInit {
	/** HTTP status of the answer; 0 when there was none (network error, timeout, misuse). */
	readonly status?: number;
	/** Whether sending the same request again may succeed. */
	readonly retriable?: boolean;
	/** The recovery fields the API sent with the error (`expected_sequence`, `high_watermark`, …). */
	readonly details?: Readonly<Record<string, unknown>>;
	readonly cause?: unknown;
}

/**
 * An error from Tributary or on the way to it.
 *
 * @example
 * try {
 *   await client.topics.create({ name: "orders" });
 * } catch (error) {
 *   if (error instanceof TributaryError && error.code === "topic_exists") console.log("already there");
 *   else throw error;
 * }
 */
export class TributaryError extends Error {
	override readonly name = "TributaryError";
	readonly code: string;
	readonly status: number;
	readonly retriable: boolean;
	readonly details: Readonly<Record<string, unknown>>;

	constructor(code: string, message: string, init: TributaryErrorInit = {}) {
		super(message, init.cause === undefined ? undefined : { cause: init.cause });
		this.code = code;
		this.status = init.status ?? 0;
		this.retriable = init.retriable ?? false;
		this.details = init.details ?? {};
	}
}

/**
 * What wrangler dev's proxy answers (503, `Retry-After: 0`) to a request other than GET or HEAD when its forward to
 * the Worker failed (wrangler 4.86.0, templates/startDevWorker/ProxyWorker.ts): the Worker's own 503s are JSON, never
 * this text. It is meant for a Worker that restarted mid-request, but the proxy tells a restart by comparing the URL it
 * forwarded to, path included, with the Worker's bare origin, which never match: any failed forward gets it, reload or
 * not. Its catch also covers a failure after the Worker served the request: no proof of nothing done. The SDK reads it
 * as `not_forwarded`; the e2e tests' client and scripts that drive wrangler dev import it from here.
 */
export const WRANGLER_PROXY_RETRY_TEXT =
	"Your worker restarted mid-request. Please try sending the request again. Only GET or HEAD requests are retried automatically.";

/** The error an API answer carries, or an `unexpected_response` when the body is not the API's error shape. */
export function errorFromResponse(status: number, body: string): TributaryError {
	let parsed: unknown;
	try {
		parsed = JSON.parse(body);
	} catch {
		parsed = undefined;
	}
	const error = (parsed as { error?: unknown } | undefined)?.error;
	if (typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string") {
		const { code, message, retriable, ...details } = error as { code: string; message?: unknown; retriable?: unknown };
		// The Worker says whether the same request may succeed later (a 503 `not_configured` will not: its operator must
		// act first); a body without the flag (a proxy's JSON error) goes by its status.
		return new TributaryError(code, typeof message === "string" ? message : code, {
			status,
			retriable: typeof retriable === "boolean" ? retriable : transientStatus(status),
			details,
		});
	}
	if (status === 503 && body === WRANGLER_PROXY_RETRY_TEXT) {
		return new TributaryError("not_forwarded", "wrangler dev's proxy could not forward the request to the Worker", {
			status,
			retriable: true,
		});
	}
	return new TributaryError("unexpected_response", `HTTP ${status}: ${body.slice(0, 200)}`, {
		status,
		retriable: transientStatus(status),
	});
}

/**
 * The status the Worker answers each code a live stream's `error` event may carry with (the event's body has no status
 * line; test/client/stream checks these against the Worker's table): the status the same failure gets before the
 * stream's start, so `status` and the retry policy read it alike. 0 for a code not listed, as for no answer.
 */
export const STREAM_ERROR_STATUS: Readonly<Record<string, number>> = {
	unauthorized: 401,
	forbidden: 403,
	topic_not_found: 404,
	partition_not_found: 404,
	offset_out_of_range: 416,
	quota_exceeded: 429,
	internal: 500,
	partition_unavailable: 503,
	unavailable: 503,
	service_unavailable: 503,
};

/** Statuses that say a server or a proxy before it could not serve the request now, not that it never will. */
function transientStatus(status: number): boolean {
	return status === 429 || status === 502 || status === 503 || status === 504;
}

export function invalidArgument(message: string): TributaryError {
	return new TributaryError("invalid_argument", message);
}
