/**
 * @module
 * One error type for everything the SDK can fail with: the API's own errors (`{"error":{"code","message",
 * "retriable",…}}`), network failures and timeouts, and misuse caught before a request is sent.
 */

/** Codes the SDK itself raises; every other code is the API's (`topic_not_found`, `fenced`, …). */
export type ClientErrorCode = "network_error" | "timeout" | "invalid_argument" | "closed" | "unexpected_response" | "buffer_full";

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
		return new TributaryError(code, typeof message === "string" ? message : code, {
			status,
			retriable: retriable === true || status === 429 || status === 503,
			details,
		});
	}
	return new TributaryError("unexpected_response", `HTTP ${status}: ${body.slice(0, 200)}`, {
		status,
		retriable: status === 429 || status === 502 || status === 503 || status === 504,
	});
}

export function invalidArgument(message: string): TributaryError {
	return new TributaryError("invalid_argument", message);
}
