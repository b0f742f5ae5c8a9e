// @ts-check
/**
 * @module
 * DeleteRecords (`kafka-delete-records`, kafkajs `admin.deleteTopicRecords`): each partition's log start offset
 * moves up to the offset asked (-1: the high watermark), through Tributary's
 * `POST /v1/topics/{topic}/partitions/{p}/delete-records`. Errors are per partition, as from a broker: an unknown
 * partition is UNKNOWN_TOPIC_OR_PARTITION, an offset past the high watermark (or below -1) OFFSET_OUT_OF_RANGE, a
 * key without admin on the topic (Kafka asks for DELETE) TOPIC_AUTHORIZATION_FAILED, a compact-only topic
 * POLICY_VIOLATION; the low watermark is then -1. `TimeoutMs` is not waited on (the move is durable when answered),
 * but ends a quota wait: REQUEST_TIMED_OUT then, as a broker answers what was not done in time.
 */

import { mapGroupsAtMost } from "../at-most.js";
import { KAFKA, kafkaError } from "../errors.js";
import { WORKER_REQUESTS_AT_ONCE_MAX } from "../limits.js";
import { deadlineAfter } from "../tributary.js";

/** Kafka's `-1` in DeleteRecords: up to the high watermark; the low watermark answered with an error. */
const HIGH_WATERMARK = -1;
const NO_LOW_WATERMARK = -1;

/** @typedef {import("../connection.js").RequestContext} RequestContext */

/**
 * One partition's deletion and its result.
 * @param {RequestContext} ctx @param {string} topic @param {{ partitionIndex: number, offset: number }} p
 * @param {number} deadlineAt the request's timeout, which ends a quota wait
 */
async function deletePartition(ctx, topic, p, deadlineAt) {
	const offset = p.offset;
	const refused = (/** @type {number} */ errorCode) => ({ partitionIndex: p.partitionIndex, lowWatermark: NO_LOW_WATERMARK, errorCode });
	if (offset < HIGH_WATERMARK || !Number.isSafeInteger(offset)) return refused(KAFKA.OFFSET_OUT_OF_RANGE);
	if (p.partitionIndex < 0) return refused(KAFKA.UNKNOWN_TOPIC_OR_PARTITION);
	const path = `/v1/topics/${encodeURIComponent(topic)}/partitions/${p.partitionIndex}/delete-records`;
	const answer = await ctx.tributary.call("POST", path, { before_offset: offset }, { deadlineAt });
	const errorCode = kafkaError(answer, "topic");
	if (errorCode !== KAFKA.NONE) return refused(errorCode);
	return { partitionIndex: p.partitionIndex, lowWatermark: answer.body.log_start_offset, errorCode };
}

/** @param {any} request @param {RequestContext} ctx */
export async function deleteRecords(request, ctx) {
	const deadlineAt = deadlineAfter(request.timeoutMs);
	const partitions = await mapGroupsAtMost(
		request.topics,
		(/** @type {any} */ t) => t.partitions,
		WORKER_REQUESTS_AT_ONCE_MAX,
		(/** @type {any} */ p, /** @type {any} */ t) => deletePartition(ctx, t.name, p, deadlineAt),
	);
	return {
		throttleTimeMs: 0,
		topics: request.topics.map((/** @type {any} */ t, /** @type {number} */ i) => ({ name: t.name, partitions: partitions[i] })),
	};
}
