/**
 * @module
 * Errors in Confluent REST v3's shape, `{"error_code":<int>,"message":"…"}`. Confluent's codes are
 * the HTTP status, or the status with two more digits where Kafka REST names the cause (40101 authentication,
 * 40301 authorization, 40403 unknown topic or partition, 50003 retriable Kafka error). Tributary's own
 * `{"error":{…}}` rides along in the same body, so the project-wide rule that every error carries it holds.
 */

import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError, ErrorCode } from "../../../shared/errors.ts";
import type { ErrorRenderer, ErrorStatuses } from "../../app-env.ts";
import { errorBody, statusOf } from "../../errors.ts";

/**
 * Confluent's `error_code` where it names the cause (rest-utils' KafkaExceptionMapper); any other error's is its
 * status. 40002 is Kafka REST's KAFKA_BAD_REQUEST: Kafka refused the request (a config, a partition count, an
 * existing topic, a replication factor, a record's timestamp).
 */
const V3_CODES: Partial<Record<ErrorCode, number>> = {
	unauthorized: 40101,
	forbidden: 40301,
	topic_not_found: 40403,
	partition_not_found: 40403,
	invalid_config: 40002,
	invalid_partitions: 40002,
	invalid_replication_factor: 40002,
	topic_exists: 40002,
	invalid_timestamp: 40002,
	partition_unavailable: 50003,
	unavailable: 50003,
	service_unavailable: 50003,
};

/** Confluent's `error_code` for a Tributary error answered with `status`. */
export function v3ErrorCode(error: DomainError, status: number): number {
	return V3_CODES[error.code] ?? status;
}

/** Where Confluent's status differs from Tributary's: creating a topic that exists is Kafka REST's 400 (40002). */
export const V3_STATUSES: ErrorStatuses = { topic_exists: 400 };

/** A v3 error object (a response body, a streamed delivery report, or a batch failure's fields). */
export function v3Error(error: DomainError): { error_code: number; message: string; error: Record<string, unknown> } {
	return v3ErrorWithStatus(error, statusOf(error.code));
}

function v3ErrorWithStatus(error: DomainError, status: number) {
	return { error_code: v3ErrorCode(error, status), message: error.message, ...errorBody(error) };
}

/** The `renderError` hook of the `/kafka/v3` mount: every error there, from any layer, leaves in v3's shape. */
export const renderV3Error: ErrorRenderer = (error: DomainError, status: ContentfulStatusCode) => v3ErrorWithStatus(error, status);
