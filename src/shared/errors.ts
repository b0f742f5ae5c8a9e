/**
 * @module
 * The one error model. Durable Objects return expected failures as values (`Result`), because a thrown custom
 * error loses its fields across RPC; the edge maps each `ErrorCode` to a status in one exhaustive record and its
 * retriability by one set (`STATUSES`, `RETRIABLE` in src/http/errors.ts) and renders `{"error":{"code","message",
 * "retriable",…details}}`.
 */

import { OVERLOADED_RETRY_AFTER_MS } from "./limits.ts";

export type ErrorCode =
	| "invalid_request"
	| "invalid_json"
	| "invalid_config"
	| "invalid_partitions"
	/** Kafka's InvalidReplicationFactorException, on the Confluent mount only (Tributary keeps no factor). */
	| "invalid_replication_factor"
	| "unauthorized"
	| "forbidden"
	| "not_found"
	| "topic_not_found"
	| "partition_not_found"
	| "method_not_allowed"
	| "topic_exists"
	| "topic_limit_reached"
	| "request_too_large"
	| "record_too_large"
	| "unsupported_media_type"
	| "offset_out_of_range"
	| "invalid_record"
	/** Kafka's InvalidTimestamp: a record's timestamp is outside the topic's `message.timestamp.*.max.ms` window. */
	| "invalid_timestamp"
	| "fenced"
	| "out_of_order_sequence"
	| "unknown_producer"
	| "idempotency_key_reused"
	| "offset_mismatch"
	| "partition_full"
	/** Kafka's PolicyViolation: the topic's config forbids what was asked (DeleteRecords on a compacted topic). */
	| "policy_violation"
	| "partition_unavailable"
	/** A Durable Object the request needed did not answer; nothing was changed that a retry would not finish. */
	| "unavailable"
	/**
	 * A Durable Object call threw (the object's code or storage failed, it was reset, it is overloaded): it may have
	 * written before it failed, so unlike `unavailable` this proves nothing unsent.
	 */
	| "service_unavailable"
	/** The Worker lacks a setting it needs (ADMIN_TOKEN): only its operator can fix that, so no retry helps. */
	| "not_configured"
	| "internal"
	// Consumer groups.
	| "group_not_found"
	| "group_not_empty"
	| "group_full"
	| "group_limit_reached"
	| "unknown_member"
	| "rebalance_in_progress"
	| "inconsistent_strategy"
	/** Kafka's FENCED_INSTANCE_ID (KIP-345): a join named an `instance_id` and a `member_id` not its member's. */
	| "fenced_instance"
	| "partition_not_assigned"
	| "no_committed_offset"
	// Webhook subscriptions and delivery.
	| "invalid_webhook_url"
	| "subscription_not_found"
	| "subscription_limit_reached"
	// Keys, access control and quotas.
	| "key_not_found"
	| "key_limit_reached"
	| "quota_exceeded"
	| "length_required"
	/** An `If-Match` (RFC 9110 §13.1.1) named a state the resource is no longer in: nothing was changed. */
	| "precondition_failed";

/**
 * Recovery data an error carries: plain JSON two levels deep, so it survives RPC and goes on the wire as it is.
 * (Not a recursive JSON type: the RPC stub types cannot instantiate one.)
 */
type Scalar = string | number | boolean | null;
export type ErrorDetail = Scalar | readonly Scalar[] | readonly { readonly [key: string]: Scalar }[];
export type ErrorDetails = { readonly [key: string]: ErrorDetail };

/** An expected failure: a code, a human message, and the data a client needs to recover. */
export interface DomainError {
	readonly code: ErrorCode;
	readonly message: string;
	readonly details?: ErrorDetails;
}

export type Failure<E = DomainError> = { readonly ok: false; readonly error: E };
export type Result<T, E = DomainError> = { readonly ok: true; readonly value: T } | Failure<E>;

export function ok<T>(value: T): Result<T, never> {
	return { ok: true, value };
}

export function err(code: ErrorCode, message: string, details?: ErrorDetails): Failure {
	return { ok: false, error: details === undefined ? { code, message } : { code, message, details } };
}

/** A topic that does not exist, as the registry and the group coordinator say it. */
export function topicNotFound(topic: string): Failure {
	return err("topic_not_found", `topic "${topic}" does not exist`, { topic });
}

/**
 * workerd's refusal of a method its receiver lacks (`TypeError: The RPC receiver does not implement "m".`): a caller of
 * a newer deploy meeting an object still on the previous one. It passes once the object runs the new code, so it is
 * transient (503 `service_unavailable`, retriable), not the bug its class says; a caller with an older way to ask
 * (`chargeQuotas` for `chargeEach`) asks that instead.
 */
export function missingMethod(cause: unknown): boolean {
	return cause instanceof TypeError && cause.message.includes("receiver does not implement");
}

/**
 * Whether a thrown `cause` is our bug (500 `internal`, inviting no retry: it fails again the same way) rather than a
 * transient failure (503): the one rule every catch asks (the edge's `onError`, the produce channel, `caughtFailure`).
 * An `ApiError` is an object's answer, a bug only if `internal` (its bug, passed on). Transient whatever its class: the
 * platform's marks (a reset object, an overload, a connection lost: `durableObjectReset`, `overloaded`, `retryable`),
 * a deploy under way (`missingMethod`) and workerd's own failure, which may carry no mark at all: a failure inside the
 * runtime that is no JavaScript error reaches the caller as `Error("internal error; reference = <id>")`, not `remote`
 * (only the object's own throws are), and the object may not have run the call. Else a bug is a TypeError, RangeError,
 * ReferenceError or SyntaxError (no storage failure is one), or our assertion (by name, which crosses RPC in the
 * message), and, unless `called`, anything else not thrown by another object (`remote`): a throw at the edge that
 * marks nothing is ours. `called`: the throw may be storage's (any throw inside an object, R2's at the edge), a plain
 * Error that is no bug.
 */
export function isBug(cause: unknown, called = false): boolean {
	if (cause instanceof ApiError) return cause.error.code === "internal";
	const e = (typeof cause === "object" && cause !== null ? cause : {}) as Record<string, unknown>;
	if (e.durableObjectReset === true || e.overloaded === true || e.retryable === true || missingMethod(cause)) return false;
	if (String(e.message).startsWith("internal error; reference = ")) return false;
	return (
		!(called || e.remote === true) ||
		cause instanceof TypeError ||
		cause instanceof RangeError ||
		cause instanceof ReferenceError ||
		cause instanceof SyntaxError ||
		e.name === "AssertionError" ||
		String(e.message).startsWith("AssertionError:")
	);
}

/** What the edge says of a Durable Object's call that failed (`service_unavailable`): it may have written first. */
export const CALL_FAILED = "a Durable Object failed; the request may be partly done";

/** The wait an overloaded object's caller is told (`Retry-After`), wherever the overload is answered. */
export const OVERLOADED: ErrorDetails = { retry_after_ms: OVERLOADED_RETRY_AFTER_MS };

/** The names of `T`'s methods that answer a Promise of something an `F` is: those `settleEach` may wrap. */
type SettledName<T, F> = {
	[K in keyof T & string]: T[K] extends (...args: never[]) => Promise<infer A> ? (F extends A ? K : never) : never;
}[keyof T & string];

/**
 * Makes each of `names`, RPC methods of a Durable Object's class, answer what it throws as a failure `Result`
 * (`caughtFailure`: an `ApiError` that `unwrap` threw is the failure an object it called answered). A value, not
 * a rejection: workerd reports a rejection crossing RPC "Uncaught (in promise)" even when the caller catches it, and
 * the rejection loses the typed error. One wrapper for every such method, where a try in each would repeat itself.
 * `as`: that failure in the methods' own answer type, for methods answering another than `Result`.
 */
export function settleEach<T extends object, F = Failure>(
	cls: { prototype: T },
	names: readonly SettledName<T, F>[],
	as = (failure: Failure) => failure as F,
): void {
	const methods = cls.prototype as Record<string, (...args: unknown[]) => unknown>;
	for (const name of names) {
		const method = methods[name] as (...args: unknown[]) => unknown;
		methods[name] = async function (this: unknown, ...args: unknown[]) {
			try {
				return await method.apply(this, args);
			} catch (cause) {
				return as(caughtFailure(cause));
			}
		};
	}
}

/**
 * The failure a Durable Object answers for what it caught (`settleEach`, a call of its own that rejected): an `ApiError`'s
 * own error (an object it called answered that failure, logged where it happened), else (logged here) a bug's 500
 * `internal` (`isBug`, any throw here `called`: storage's), or storage's or the platform's 503 `service_unavailable`.
 */
export function caughtFailure(cause: unknown): Failure {
	if (cause instanceof ApiError) return { ok: false, error: cause.error };
	console.error(cause);
	if (isBug(cause, true)) return err("internal", "internal error");
	// An object it called was overloaded: its caller is told to wait, as the edge tells one (thrownError).
	const overloaded = (cause as { overloaded?: unknown } | null)?.overloaded === true;
	return err("service_unavailable", CALL_FAILED, overloaded ? OVERLOADED : undefined);
}

/** A partition whose call threw, or whose write rolled back: retriable. One place, for the partition and the edge. */
export function partitionUnavailable(partition: number): Failure {
	return err("partition_unavailable", `partition ${partition} is unavailable; retry`, { partition });
}

/**
 * Thrown inside the edge (validation, auth) and caught by the app's `onError`, which renders it.
 * Never thrown across a Durable Object RPC boundary: those return `Result`.
 */
export class ApiError extends Error {
	override name = "ApiError";
	readonly error: DomainError;
	constructor(code: ErrorCode, message: string, details?: ErrorDetails) {
		super(message);
		this.error = details === undefined ? { code, message } : { code, message, details };
	}

	static from(error: DomainError): ApiError {
		return new ApiError(error.code, error.message, error.details);
	}
}

/**
 * `result`, unless it failed otherwise than `expected` (the thing is missing): that failure, an object's storage failing
 * answered as a Result, is thrown (`ApiError`), as its rejection was, so no caller takes it for the thing missing.
 */
export function thrownUnless<T>(result: Result<T>, expected: ErrorCode): Result<T> {
	if (!result.ok && result.error.code !== expected) throw ApiError.from(result.error);
	return result;
}

/**
 * An RPC answer that is a bare value or, where its method failed inside (`settleEach`), a `Failure`: the value, or the
 * failure thrown (`ApiError`), as its rejection was, so no caller takes it for the value. Not one helper with
 * `unsettled`: a bare value's method has no failure of its own, so every `Failure` is what it threw, whatever its code
 * (an `ApiError`'s own, passed on by `settleEach`, too); a `Result`'s failures are mostly its refusals, told from a
 * throw only by the codes `settleEach` gives one.
 */
export function bare<T>(answer: T): Exclude<T, { readonly ok: false }> {
	if ((answer as Failure | null)?.ok === false) unwrap(answer as Failure);
	return answer as Exclude<T, { readonly ok: false }>;
}

/**
 * `result`, unless it is the failure `settleEach` answered for what its method threw: that is thrown (`ApiError`), as
 * the rejection was, for a caller that answers a failed call its own way (`catch`). Its refusals stay answers: this
 * rethrows by code (`internal`, `service_unavailable`), where `bare`, whose answer has no refusal, rethrows any failure.
 * By code suffices for the methods read through it (a partition's `configure`, `checkClaims`, `destroy`): none passes
 * on another object's failure (`destroy`'s metrics retire is best effort, caught), whose code could be any. A method
 * that does must not be read through it.
 */
export function unsettled<T>(result: Result<T>): Result<T> {
	if (!result.ok && (result.error.code === "service_unavailable" || result.error.code === "internal")) throw ApiError.from(result.error);
	return result;
}

/** Unwraps a `Result` at the edge: the value, or an `ApiError` thrown for `onError` to render. */
export function unwrap<T>(result: Result<T>): T {
	if (result.ok) return result.value;
	throw ApiError.from(result.error);
}

/** What a log line says of a thrown value: an Error's message, anything else as a string. */
export function thrownMessage(thrown: unknown): string {
	return thrown instanceof Error ? thrown.message : String(thrown);
}
