// @ts-check
/**
 * @module
 * Kafka's error codes (the protocol's table, as kafkajs names them) and the one mapping from a Tributary HTTP
 * error to the Kafka code a client expects in that place. `resource` says what a 401/403 is about, because
 * Kafka has a separate authorization error per resource type.
 */

export const KAFKA = /** @type {const} */ ({
	NONE: 0,
	UNKNOWN_SERVER_ERROR: -1,
	OFFSET_OUT_OF_RANGE: 1,
	CORRUPT_MESSAGE: 2,
	UNKNOWN_TOPIC_OR_PARTITION: 3,
	INVALID_FETCH_SIZE: 4,
	LEADER_NOT_AVAILABLE: 5,
	REQUEST_TIMED_OUT: 7,
	MESSAGE_TOO_LARGE: 10,
	OFFSET_METADATA_TOO_LARGE: 12,
	COORDINATOR_NOT_AVAILABLE: 15,
	INVALID_TOPIC_EXCEPTION: 17,
	RECORD_LIST_TOO_LARGE: 18,
	INVALID_REQUIRED_ACKS: 21,
	ILLEGAL_GENERATION: 22,
	INCONSISTENT_GROUP_PROTOCOL: 23,
	INVALID_GROUP_ID: 24,
	UNKNOWN_MEMBER_ID: 25,
	INVALID_SESSION_TIMEOUT: 26,
	REBALANCE_IN_PROGRESS: 27,
	INVALID_COMMIT_OFFSET_SIZE: 28,
	TOPIC_AUTHORIZATION_FAILED: 29,
	GROUP_AUTHORIZATION_FAILED: 30,
	CLUSTER_AUTHORIZATION_FAILED: 31,
	INVALID_TIMESTAMP: 32,
	UNSUPPORTED_SASL_MECHANISM: 33,
	ILLEGAL_SASL_STATE: 34,
	UNSUPPORTED_VERSION: 35,
	TOPIC_ALREADY_EXISTS: 36,
	INVALID_PARTITIONS: 37,
	INVALID_REPLICATION_FACTOR: 38,
	INVALID_REPLICA_ASSIGNMENT: 39,
	INVALID_REQUEST: 42,
	POLICY_VIOLATION: 44,
	OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
	INVALID_PRODUCER_EPOCH: 47,
	TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
	SECURITY_DISABLED: 54,
	KAFKA_STORAGE_ERROR: 56,
	SASL_AUTHENTICATION_FAILED: 58,
	UNKNOWN_PRODUCER_ID: 59,
	INVALID_CONFIG: 40,
	GROUP_ID_NOT_FOUND: 69,
	NON_EMPTY_GROUP: 68,
	UNSUPPORTED_COMPRESSION_TYPE: 76,
	MEMBER_ID_REQUIRED: 79,
	GROUP_MAX_SIZE_REACHED: 81,
	FENCED_INSTANCE_ID: 82,
	INVALID_RECORD: 87,
	THROTTLING_QUOTA_EXCEEDED: 89,
	RESOURCE_NOT_FOUND: 91,
	UNKNOWN_TOPIC_ID: 100,
	UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
});

/** @typedef {"topic" | "group" | "cluster" | "transactional"} Resource */

const DENIED = {
	topic: KAFKA.TOPIC_AUTHORIZATION_FAILED,
	group: KAFKA.GROUP_AUTHORIZATION_FAILED,
	cluster: KAFKA.CLUSTER_AUTHORIZATION_FAILED,
	transactional: KAFKA.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
};

/**
 * A failure the Worker says to retry (503 `unavailable`, `partition_unavailable` and `service_unavailable`, its answer
 * to a Durable Object call that threw, such as a reset or a lost connection), as a code Kafka clients retry for the
 * resource at hand: a group's calls find their coordinator again, the rest refresh metadata. So too its 500 `internal`,
 * a bug it marks final, and the 5xx of a proxy or the platform (read as `internal`, `Tributary.answer`):
 * UNKNOWN_SERVER_ERROR they take as final, and a kafkajs consumer whose SyncGroup met it stops for good, without a
 * word at its log level, where a retriable code's retries are bounded and end in the client's own error.
 */
const UNAVAILABLE = {
	topic: KAFKA.LEADER_NOT_AVAILABLE,
	group: KAFKA.COORDINATOR_NOT_AVAILABLE,
	cluster: KAFKA.LEADER_NOT_AVAILABLE,
	transactional: KAFKA.COORDINATOR_NOT_AVAILABLE,
};

/**
 * What a refusal (401/403) is about when the Worker names a topic (its `resource`, `topic:orders`): "topic", whatever
 * the call is about; else `resource`. A group call refused for a topic (a join or a commit naming one the key may not
 * consume) is then TOPIC_AUTHORIZATION_FAILED, which clients report as the topic's ("Not authorized to access
 * topics", "Topic authorization failed"), not as the group's, which sends the user to the group's ACL.
 * @param {{ status: number, body: any }} answer @param {Resource} resource
 * @returns {Resource}
 */
export function refusedResource(answer, resource) {
	const denied = answer.status === 401 || answer.status === 403;
	return denied && String(answer.body?.error?.resource ?? "").startsWith("topic:") ? "topic" : resource;
}

/**
 * The Kafka error code for a Tributary answer (0 for a 2xx).
 * @param {{ status: number, body: any }} answer @param {Resource} resource
 */
export function kafkaError(answer, resource) {
	if (answer.status >= 200 && answer.status < 300) return KAFKA.NONE;
	if (answer.status === 401 || answer.status === 403) return DENIED[resource];
	const code = answer.body?.error?.code;
	switch (code) {
		case "topic_not_found":
		case "partition_not_found":
			return KAFKA.UNKNOWN_TOPIC_OR_PARTITION;
		case "offset_out_of_range":
			return KAFKA.OFFSET_OUT_OF_RANGE;
		case "invalid_record":
			return KAFKA.INVALID_RECORD;
		case "invalid_timestamp":
			return KAFKA.INVALID_TIMESTAMP;
		case "invalid_config":
			return KAFKA.INVALID_CONFIG;
		case "invalid_partitions":
			return KAFKA.INVALID_PARTITIONS;
		case "invalid_replication_factor":
			return KAFKA.INVALID_REPLICATION_FACTOR;
		case "topic_exists":
			return KAFKA.TOPIC_ALREADY_EXISTS;
		case "topic_limit_reached":
		case "policy_violation":
			return KAFKA.POLICY_VIOLATION;
		case "request_too_large":
			return KAFKA.RECORD_LIST_TOO_LARGE;
		case "record_too_large":
			return KAFKA.MESSAGE_TOO_LARGE;
		case "fenced":
			return KAFKA.INVALID_PRODUCER_EPOCH;
		case "out_of_order_sequence":
			return KAFKA.OUT_OF_ORDER_SEQUENCE_NUMBER;
		case "unknown_producer":
			return KAFKA.UNKNOWN_PRODUCER_ID;
		case "partition_full":
			return KAFKA.KAFKA_STORAGE_ERROR;
		case "partition_unavailable":
		case "unavailable":
		case "service_unavailable":
		case "internal":
			return UNAVAILABLE[resource];
		case "quota_exceeded":
			return KAFKA.THROTTLING_QUOTA_EXCEEDED;
		// The gateway's own: a quota wait the Kafka request's timeout ended (tributary.js `pastDeadline`).
		case "request_timed_out":
			return KAFKA.REQUEST_TIMED_OUT;
		case "group_not_found":
			return KAFKA.GROUP_ID_NOT_FOUND;
		case "group_not_empty":
			return KAFKA.NON_EMPTY_GROUP;
		case "group_full":
		case "group_limit_reached":
			return KAFKA.GROUP_MAX_SIZE_REACHED;
		case "unknown_member":
			return KAFKA.UNKNOWN_MEMBER_ID;
		case "rebalance_in_progress":
		case "partition_not_assigned":
			return KAFKA.ILLEGAL_GENERATION;
		case "inconsistent_strategy":
			return KAFKA.INCONSISTENT_GROUP_PROTOCOL;
		case "fenced_instance":
			return KAFKA.FENCED_INSTANCE_ID;
		case "invalid_request":
			// A produce's records that Tributary cannot hold (more headers per record, or a longer header key, than it
			// takes): Kafka's refusal of a record, not of the topic the request names.
			if (answer.body.error.issues?.some((/** @type {any} */ i) => String(i.path).startsWith("records"))) return KAFKA.INVALID_RECORD;
			if (resource === "topic") return KAFKA.INVALID_TOPIC_EXCEPTION;
			// Tributary's group ids are narrower than Kafka's (letters, digits, '.', '_', '-'; at most 249): one it
			// refuses is the group id Kafka calls invalid, not a malformed request.
			if (resource === "group" && answer.body.error.issues?.some((/** @type {any} */ i) => i.path === "group"))
				return KAFKA.INVALID_GROUP_ID;
			return KAFKA.INVALID_REQUEST;
		default:
			// A 5xx with no code above is another layer's answer (a proxy's JSON error) or a code newer than this switch:
			// retried, as an empty or non-JSON 5xx is (`Tributary.once`), unless the Worker says the same request keeps
			// failing (`retriable: false`, as its 503 `not_configured`).
			if (answer.status >= 500 && answer.body?.error?.retriable !== false) return UNAVAILABLE[resource];
			return KAFKA.UNKNOWN_SERVER_ERROR;
	}
}

/**
 * The Kafka error code for a Produce's or Fetch's partition. A Kafka broker never fails those over a quota: it
 * throttles (delays the answer). The gateway waits out what Tributary asks (`Tributary.call`) up to a bound, and past
 * it answers REQUEST_TIMED_OUT, which clients retry (the 429 wrote nothing), not THROTTLING_QUOTA_EXCEEDED, which
 * Kafka defines for topic admin alone and clients take as final (kcat and kafkajs drop the records).
 * @param {{ status: number, body: any }} answer
 */
export function recordsError(answer) {
	return answer.body?.error?.code === "quota_exceeded" ? KAFKA.REQUEST_TIMED_OUT : kafkaError(answer, "topic");
}

/**
 * The Kafka error code for a call naming a group member (JoinGroup with a member id, SyncGroup, Heartbeat,
 * LeaveGroup). A group Tributary does not know has no such member: Kafka's coordinator answers UNKNOWN_MEMBER_ID
 * ("Classic group … not found"), on which clients join afresh; GROUP_ID_NOT_FOUND there is fatal to them.
 * @param {{ status: number, body: any }} answer
 */
export function memberError(answer) {
	return answer.body?.error?.code === "group_not_found" ? KAFKA.UNKNOWN_MEMBER_ID : kafkaError(answer, "group");
}

/** Tributary's message for a failed answer, for the responses that carry one. */
export function errorMessage(answer) {
	return answer.body?.error?.message ?? null;
}

/**
 * Logs a call Tributary refused (a 4xx) as `what` (`join billing`), for the handlers whose clients are told only a
 * Kafka code. A 5xx is not logged again: the call's own line (`Tributary.once`) has it, with its code.
 * @param {{ log: (message: string) => void }} ctx @param {string} what @param {{ status: number, body: any }} answer
 */
export function logRefusal(ctx, what, answer) {
	if (answer.status < 500) ctx.log(`${what}: ${answer.status} ${errorMessage(answer)}`);
}
