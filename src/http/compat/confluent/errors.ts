/**
 * @module
 * Errors in Confluent REST v3's shape, `{"error_code":<int>,"message":"…"}`. Confluent's codes are
 * the HTTP status, or the status with two more digits where Kafka REST names the cause (40101 authentication,
 * 40301 authorization, 40403 unknown topic or partition, 50003 retriable Kafka error). Tributary's own
 * `{"error":{…}}` rides along in the same body, so the project-wide rule that every error carries it holds.
 */

import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError } from "../../../shared/errors.ts";
import type { ErrorRenderer } from "../../app-env.ts";
import { errorBody, statusOf } from "../../errors.ts";

/** Confluent's `error_code` for a Tributary error answered with `status`. */
export function v3ErrorCode(error: DomainError, status: number): number {
	switch (error.code) {
		case "unauthorized":
			return 40101;
		case "forbidden":
			return 40301;
		case "topic_not_found":
		case "partition_not_found":
			return 40403;
		case "partition_unavailable":
		case "unavailable":
			return 50003;
		default:
			return status;
	}
}

/** A v3 error object (a response body, a streamed delivery report, or a batch failure's fields). */
export function v3Error(error: DomainError): { error_code: number; message: string; error: Record<string, unknown> } {
	return v3ErrorWithStatus(error, statusOf(error.code));
}

function v3ErrorWithStatus(error: DomainError, status: number) {
	return { error_code: v3ErrorCode(error, status), message: error.message, ...errorBody(error) };
}

/** The `renderError` hook of the `/kafka/v3` mount: every error there, from any layer, leaves in v3's shape. */
export const renderV3Error: ErrorRenderer = (error: DomainError, status: ContentfulStatusCode) => v3ErrorWithStatus(error, status);
