/**
 * @module
 * The `/ds` error dialect. Every error is JSON, `{"error":{"code","message","retriable"}}`, with the protocol's
 * status, its recovery headers (`Stream-Closed` and the tail on a closed stream, `Producer-Epoch` on a fenced
 * producer, `Producer-Expected-Seq`/`Producer-Received-Seq` on a gap) and a code from the Durable Streams
 * client's vocabulary (`NOT_FOUND`, `CONFLICT_SEQ`, `STREAM_CLOSED`, …). Stream failures map in one exhaustive
 * switch; Tributary's own errors (auth, quotas, limits) keep their status and take a dialect code.
 */

import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { StreamFailure } from "../../../partition/stream-types.ts";
import { ApiError, type DomainError } from "../../../shared/errors.ts";
import type { AppEnv, ErrorRenderer } from "../../app-env.ts";
import { isRetriable, statusOf } from "../../errors.ts";
import { formatOffset, HEADER } from "./protocol.ts";

/** A stream failure, or one the edge finds itself before any stream answers (a fork's source). */
export type EdgeFailure = StreamFailure | { readonly kind: "fork_source_missing" } | { readonly kind: "fork_source_gone" };

interface DialectError {
	readonly status: ContentfulStatusCode;
	readonly code: string;
	readonly message: string;
	readonly headers?: Readonly<Record<string, string>>;
	readonly retriable?: boolean;
}

/** A stream failure on the wire. */
export function failureError(failure: EdgeFailure): DialectError {
	switch (failure.kind) {
		case "fork_source_missing":
			return { status: 404, code: "NOT_FOUND", message: "no stream at the path Stream-Forked-From names" };
		case "fork_source_gone":
			return { status: 409, code: "CONFLICT_EXISTS", message: "the stream Stream-Forked-From names was deleted: it takes no new forks" };
		case "not_found":
			return { status: 404, code: "NOT_FOUND", message: "no stream at this path" };
		case "gone":
			return { status: 410, code: "GONE", message: "this stream was deleted; forks of it still read its records" };
		case "settings_conflict":
			return { status: 409, code: "CONFLICT_EXISTS", message: "a stream exists at this path with other settings" };
		case "blocked_by_forks":
			return {
				status: 409,
				code: "CONFLICT_EXISTS",
				message: "the stream at this path was deleted but forks still reference it: the path is free once they are deleted",
			};
		case "content_type_mismatch":
			return { status: 409, code: "CONFLICT_EXISTS", message: `this stream holds ${failure.contentType}: append with that Content-Type` };
		case "seq_conflict":
			return { status: 409, code: "CONFLICT_SEQ", message: `Stream-Seq must be above "${failure.lastSeq}" (compared as strings)` };
		case "closed":
			return {
				status: 409,
				code: "STREAM_CLOSED",
				message: "the stream is closed: it takes no more appends",
				headers: { [HEADER.closed]: "true", [HEADER.nextOffset]: formatOffset(failure.nextOffset) },
			};
		case "stale_epoch":
			return {
				status: 403,
				code: "FORBIDDEN",
				message: `Producer-Epoch is stale: epoch ${failure.currentEpoch} fenced this producer`,
				headers: { [HEADER.producerEpoch]: String(failure.currentEpoch) },
			};
		case "invalid_epoch_seq":
			return { status: 400, code: "BAD_REQUEST", message: "a new Producer-Epoch starts at Producer-Seq 0" };
		case "sequence_gap":
			return {
				status: 409,
				code: "CONFLICT_SEQ",
				message: `Producer-Seq ${failure.receivedSeq} skips ahead: the next is ${failure.expectedSeq}`,
				headers: {
					[HEADER.producerExpectedSeq]: String(failure.expectedSeq),
					[HEADER.producerReceivedSeq]: String(failure.receivedSeq),
				},
			};
		case "offset_gone":
			return {
				status: 410,
				code: "GONE",
				message: `retention deleted the records below ${formatOffset(failure.logStartOffset)}: read from there (or -1) on`,
			};
		case "offset_ahead":
			return {
				status: 400,
				code: "BAD_REQUEST",
				message: `the offset is past this stream's tail, ${formatOffset(failure.nextOffset)}: it is not one this stream answered`,
			};
		case "log":
			return domainError(failure.error);
	}
}

/** Tributary's error codes in the dialect's vocabulary; the status stays Tributary's. */
function dialectCode(status: number): string {
	if (status === 400 || status === 411 || status === 415 || status === 416) return "BAD_REQUEST";
	if (status === 401) return "UNAUTHORIZED";
	if (status === 403) return "FORBIDDEN";
	if (status === 404) return "NOT_FOUND";
	if (status === 409) return "CONFLICT_EXISTS";
	if (status === 413) return "PAYLOAD_TOO_LARGE";
	if (status === 429) return "RATE_LIMITED";
	if (status === 503 || status === 507) return "BUSY";
	return "UNKNOWN";
}

function domainError(error: DomainError): DialectError {
	const status = error.code === "topic_not_found" ? 404 : statusOf(error.code);
	return { status, code: dialectCode(status), message: error.message, retriable: isRetriable(error.code) };
}

function body(error: DialectError): { error: Record<string, unknown> } {
	return { error: { code: error.code, message: error.message, retriable: error.retriable ?? false } };
}

/** Answers a stream failure. */
export function failureResponse(c: Context<AppEnv>, failure: EdgeFailure): Response {
	const error = failureError(failure);
	for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
	return c.json(body(error), error.status);
}

/** Throws a request error in the dialect (rendered by the mount's renderer). */
export function badRequest(message: string): never {
	throw new ApiError("invalid_request", message);
}

/** An error's body in the dialect. */
export const dialectBody = (error: DomainError): { error: Record<string, unknown> } => body(domainError(error));

const renderDialect: ErrorRenderer = dialectBody;

/** Sets the dialect for everything under the mount, 401s and 404s included: it runs first. */
export function durableStreamsDialect(): MiddlewareHandler<AppEnv> {
	return async function durableStreamsDialect(c, next) {
		c.set("renderError", renderDialect);
		await next();
	};
}
