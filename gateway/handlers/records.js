// @ts-check
/**
 * @module
 * Produce, Fetch, ListOffsets and InitProducerId: Kafka's data plane on Tributary's records API. Partitioning
 * is the client's, as in Kafka: every record goes to the partition its batch names. A batch is one Tributary
 * produce request, so its records get consecutive offsets and the batch's base offset is the first of them; an
 * idempotent batch carries its producer id, epoch and base sequence, which the partition checks (KIP-98).
 */

import { mapGroupsAtMost } from "../at-most.js";
import { LOG_END_AT, produceBody, RecordError, toKafkaRecord } from "../convert.js";
import { errorMessage, KAFKA, kafkaError, recordsError } from "../errors.js";
import { FETCH_BYTES_MAX, FETCH_RECORDS_MAX, FETCH_WAIT_MS_MAX, PRODUCE_RECORDS_MAX, WORKER_REQUESTS_AT_ONCE_MAX } from "../limits.js";
import {
	BatchError,
	COMPRESSION,
	decodeBatches,
	encodeAppendTimeBatches,
	encodeBatch,
	firstBatchCompression,
} from "../protocol/record-batch.js";
import { ReadAhead } from "../read-ahead.js";
import { deadlineAfter } from "../tributary.js";

/** @typedef {import("../connection.js").RequestContext} RequestContext */

const ACKS_NONE = 0;
/** The acks Kafka takes: none (0), the leader's (1), every in-sync replica's (-1). */
const VALID_ACKS = new Set([ACKS_NONE, 1, -1]);
/** The first Produce version that may carry zstd batches (KIP-110): older ones were defined before the codec. */
const ZSTD_FROM_PRODUCE_VERSION = 7;
/** No records: zero bytes, never null (librdkafka reads a null record set as a parse failure). */
const EMPTY = Buffer.alloc(0);

/**
 * A batch that inflates past the cap gets the code the Worker answers for a produce request over its size, and
 * which clients do not retry (CORRUPT_MESSAGE is retriable in Kafka's table: a bomb would be sent again).
 * @param {BatchError} error
 */
function batchErrorCode(error) {
	if (error.kind === "too_large") return KAFKA.RECORD_LIST_TOO_LARGE;
	if (error.kind === "unsupported_compression") return KAFKA.UNSUPPORTED_COMPRESSION_TYPE;
	if (error.kind === "unsupported_format") return KAFKA.UNSUPPORTED_FOR_MESSAGE_FORMAT;
	return KAFKA.CORRUPT_MESSAGE;
}

/**
 * Kafka's LogValidator checks of a client's batch, made before any sequence is, in its order: its offset range and its
 * record count are not empty, and they agree (an idempotent batch's last sequence is its base sequence plus its last
 * offset delta, modulo 2^31, and Tributary takes it as its last record's); an idempotent batch's base sequence is not
 * negative. Kafka's message when refused (INVALID_RECORD, which clients do not retry), else null.
 * @param {import("../protocol/record-batch.js").Batch} batch @param {string} topicPartition
 */
function batchRefusal(batch, topicPartition) {
	const lastOffset = batch.baseOffset + batch.lastOffsetDelta;
	if (batch.lastOffsetDelta < 0)
		return `Batch has an invalid offset range: [${batch.baseOffset}, ${lastOffset}] in topic partition ${topicPartition}`;
	if (batch.records.length === 0) return `Invalid reported count for record batch: 0 in topic partition ${topicPartition}`;
	if (batch.lastOffsetDelta + 1 !== batch.records.length)
		return `Inconsistent batch offset range [${batch.baseOffset}, ${lastOffset}] and count of records ${batch.records.length} in topic partition ${topicPartition}`;
	if (batch.producerId >= 0 && batch.baseSequence < 0)
		return `Invalid sequence number ${batch.baseSequence} in record batch with producerId ${batch.producerId} in topic partition ${topicPartition}`;
	return null;
}

/**
 * One partition's share of a Produce: exactly one batch (Produce v3+ carries one per partition; Kafka refuses more
 * with INVALID_RECORD before writing any), as one Tributary produce request, so the share is written whole or not at
 * all.
 * @param {RequestContext} ctx @param {string} topic @param {number} partition @param {Buffer | null} bytes
 * @param {number} deadlineAt the Produce's timeout, as epoch ms: a quota wait ends there
 */
async function producePartition(ctx, topic, partition, bytes, deadlineAt) {
	const fail = (errorCode, message) => ({ index: partition, errorCode, baseOffset: -1, errorMessage: message });
	// Kafka's ProduceRequest.validateRecords: INVALID_RECORD, which clients do not retry (CORRUPT_MESSAGE they would).
	if (bytes === null || bytes.length === 0)
		return fail(KAFKA.INVALID_RECORD, `Produce requests with version ${ctx.version} must have at least one record batch per partition`);
	// Kafka's ProduceRequest.validateRecords, on the first batch before it is read; clients do not retry it.
	if (ctx.version < ZSTD_FROM_PRODUCE_VERSION && firstBatchCompression(bytes) === COMPRESSION.zstd)
		return fail(
			KAFKA.UNSUPPORTED_COMPRESSION_TYPE,
			`Produce requests with version ${ctx.version} are not allowed to use ZStandard compression`,
		);
	let batches;
	try {
		batches = await decodeBatches(bytes);
	} catch (error) {
		if (error instanceof BatchError) return fail(batchErrorCode(error), error.message);
		throw error;
	}
	if (batches.length !== 1)
		return fail(
			KAFKA.INVALID_RECORD,
			`Produce requests with version ${ctx.version} are only allowed to contain exactly one record batch per partition`,
		);
	const [batch] = batches;
	const refused = batchRefusal(batch, `${topic}-${partition}`);
	if (refused !== null) return fail(KAFKA.INVALID_RECORD, refused);
	// A partition's batch is one Tributary produce, which takes at most PRODUCE_RECORDS_MAX records; its refusal would
	// read as the topic's (INVALID_TOPIC_EXCEPTION). Refused as the gateway refuses a batch over its byte cap, a code
	// clients do not retry; not MESSAGE_TOO_LARGE, on which Java's producer splits by its batch.size and may resend
	// the same batch until its delivery timeout.
	if (batch.records.length > PRODUCE_RECORDS_MAX)
		return fail(
			KAFKA.RECORD_LIST_TOO_LARGE,
			`The batch holds ${batch.records.length} records, more than the ${PRODUCE_RECORDS_MAX} one append takes.`,
		);
	const producer =
		batch.producerId >= 0 ? { producerId: batch.producerId, epoch: batch.producerEpoch, sequence: batch.baseSequence } : null;
	let body;
	try {
		body = produceBody(batch.records, partition, producer);
	} catch (error) {
		if (error instanceof RecordError) return fail(KAFKA.INVALID_RECORD, error.message);
		throw error;
	}
	// Asked beside the produce, not after it: the list is usually fresh (clients ask Metadata first), and never waited for twice.
	const appendTimed = ctx.session.topicList.appendTimed(ctx.tributary, topic);
	const answer = await ctx.tributary.produce(topic, partition, body, deadlineAt);
	const errorCode = recordsError(answer);
	if (errorCode !== KAFKA.NONE) return fail(errorCode, errorMessage(answer));
	const [first] = answer.body.offsets;
	// A LogAppendTime topic's records all carry their append's one time, which Kafka answers here; -1 otherwise.
	const logAppendTimeMs = (await appendTimed) ? first.timestamp : -1;
	return { index: partition, errorCode: KAFKA.NONE, baseOffset: first.offset, logAppendTimeMs, logStartOffset: -1 };
}

/**
 * Every partition of a Produce answered with one error, nothing written.
 * @param {any} request @param {{ errorCode: number, errorMessage: string | null }} error
 */
function refuseProduce(request, error) {
	const responses = request.topicData.map((t) => ({
		name: t.name,
		partitionResponses: t.partitionData.map((p) => ({ index: p.index, baseOffset: -1, ...error })),
	}));
	return { responses, throttleTimeMs: 0 };
}

/** @param {any} request @param {RequestContext} ctx */
export async function produce(request, ctx) {
	if (request.transactionalId !== null) {
		const refused = refuseProduce(request, {
			errorCode: KAFKA.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
			errorMessage: "transactions are not supported",
		});
		return request.acks === ACKS_NONE ? null : refused;
	}
	// Kafka's ReplicaManager answers an acks other than -1, 0 or 1 with INVALID_REQUIRED_ACKS and appends nothing.
	if (!VALID_ACKS.has(request.acks)) return refuseProduce(request, { errorCode: KAFKA.INVALID_REQUIRED_ACKS, errorMessage: null });
	// A broker answers within timeout_ms: a partition still over its quota then is answered so, not sent again.
	const deadlineAt = deadlineAfter(request.timeoutMs);
	const partitions = await mapGroupsAtMost(
		request.topicData,
		(t) => t.partitionData,
		WORKER_REQUESTS_AT_ONCE_MAX,
		(p, t) => producePartition(ctx, t.name, p.index, p.records, deadlineAt),
	);
	const responses = request.topicData.map((t, i) => ({ name: t.name, partitionResponses: partitions[i] }));
	// acks=0: Kafka sends no response at all; the client does not read one.
	return request.acks === ACKS_NONE ? null : { responses, throttleTimeMs: 0 };
}

/**
 * A partition's byte cap for one Fetch: its own `partitionMaxBytes`, and never more than the whole response's
 * `maxBytes` (its first partition with records may fill all of it).
 * @param {any} p @param {number} responseMaxBytes
 */
function partitionBytesMax(p, responseMaxBytes) {
	return Math.max(1, Math.min(p.partitionMaxBytes, responseMaxBytes, FETCH_BYTES_MAX));
}

/**
 * One partition read, answered from the connection's read-ahead when it holds exactly this read.
 * @param {RequestContext} ctx @param {string} topic @param {any} p @param {number} maxBytes @param {number} waitMs
 * @param {AbortSignal} [signal]
 * @returns {Promise<PartitionRead>}
 */
async function fetchPartition(ctx, topic, p, maxBytes, waitMs, signal) {
	const { tributary, session } = ctx;
	const ahead = session.readAhead.take(tributary, topic, p.partition, p.fetchOffset, maxBytes);
	return (ahead !== null ? await ahead : null) ?? (await readPartition(ctx, topic, p.partition, p.fetchOffset, maxBytes, waitMs, signal));
}

/**
 * Starts a partition's read-ahead (gateway/read-ahead.js) from `offset`: the page after an answered one that
 * ended short of the high watermark, or a page read for this Fetch that did not fit in its response (`kept`), so
 * the client's next Fetch of that offset takes it instead of reading it again.
 * @param {RequestContext} ctx @param {string} topic @param {number} partition @param {number} offset
 * @param {number} maxBytes @param {PartitionRead | null} kept
 */
function readAhead(ctx, topic, partition, offset, maxBytes, kept) {
	const { tributary, session } = ctx;
	session.readAhead.start(tributary, topic, partition, offset, maxBytes, async (from, signal, next) => {
		if (kept !== null && from === offset) {
			if (kept.nextOffset !== null) next(kept.nextOffset);
			return kept;
		}
		const page = await readPartition(ctx, topic, partition, from, maxBytes, 0, signal, next);
		return page.hasRecords ? page : null;
	});
}

/** A connection's Fetch read-ahead (gateway/read-ahead.js). @returns {ReadAhead<PartitionRead>} */
export function fetchReadAhead() {
	return new ReadAhead();
}

/**
 * @typedef {{ entry: object, hasRecords: boolean, nextOffset: number | null }} PartitionRead the response entry,
 * whether it holds records, and where the next page starts when there is more to read now
 */

/**
 * One partition read from Tributary, as a Fetch response entry. `onNext` is told the read's `nextOffset` (when it
 * has one) as soon as it is known: for a large page, from the page's envelope, before its records are parsed.
 * A LogAppendTime topic's records go as batches marked so (`encodeAppendTimeBatches`).
 * @param {RequestContext} ctx @param {string} topic @param {number} partition
 * @param {number} offset @param {number} maxBytes @param {number} waitMs @param {AbortSignal} [signal]
 * @param {(nextOffset: number) => void} [onNext]
 * @returns {Promise<PartitionRead>}
 */
async function readPartition(ctx, topic, partition, offset, maxBytes, waitMs, signal, onNext) {
	const { tributary } = ctx;
	/** @param {any} page @param {boolean} hasRecords */
	const tellNext = (page, hasRecords) => {
		const next = nextOffsetOf(page, hasRecords);
		if (next !== null) onNext?.(next);
	};
	const q = { offset, maxBytes, maxRecords: FETCH_RECORDS_MAX, waitMs, signal, onEnvelope: tellNext };
	const appendTimed = ctx.session.topicList.appendTimed(tributary, topic);
	const answer = await tributary.fetchRecords(topic, partition, q);
	const errorCode = recordsError(answer);
	if (errorCode !== KAFKA.NONE) {
		const hw = answer.body?.error?.high_watermark ?? -1;
		return {
			entry: emptyPartition(partition, errorCode, hw, answer.body?.error?.log_start_offset ?? -1),
			hasRecords: false,
			nextOffset: null,
		};
	}
	const page = answer.body;
	const records = page.records.map(toKafkaRecord);
	tellNext(page, records.length > 0);
	const lastOffset = page.next_offset - 1;
	let batch = EMPTY;
	if (records.length > 0)
		batch = (await appendTimed) ? await encodeAppendTimeBatches(records, lastOffset) : await encodeBatch(records, { lastOffset });
	return {
		entry: {
			partitionIndex: partition,
			errorCode: KAFKA.NONE,
			highWatermark: page.high_watermark,
			lastStableOffset: page.high_watermark,
			logStartOffset: page.log_start_offset,
			abortedTransactions: [],
			preferredReadReplica: -1,
			records: batch,
		},
		hasRecords: records.length > 0,
		nextOffset: nextOffsetOf(page, records.length > 0),
	};
}

/**
 * Where the page after a read one starts when there is more to read now, else null.
 * @param {{ next_offset: unknown, high_watermark: unknown }} page @param {boolean} hasRecords
 */
function nextOffsetOf(page, hasRecords) {
	const next = page.next_offset;
	return hasRecords && typeof next === "number" && typeof page.high_watermark === "number" && next < page.high_watermark ? next : null;
}

function emptyPartition(partition, errorCode, highWatermark = -1, logStartOffset = -1) {
	return {
		partitionIndex: partition,
		errorCode,
		highWatermark,
		lastStableOffset: highWatermark,
		logStartOffset,
		abortedTransactions: [],
		preferredReadReplica: -1,
		records: EMPTY,
	};
}

/** The first Fetch version that names topics by id alone (KIP-516): its answer names them so too. */
const TOPIC_IDS_FROM_FETCH_VERSION = 13;

/**
 * Each Fetch topic's name: its own before v13, else the listed topic of its id (`TopicList.byId`), null for an id
 * no topic these credentials see has (the zero id too), as KafkaApis finds no name for it.
 * @param {any[]} topics @param {RequestContext} ctx @returns {Promise<(string | null)[]>}
 */
async function fetchTopicNames(topics, ctx) {
	if (ctx.version < TOPIC_IDS_FROM_FETCH_VERSION) return topics.map((t) => t.topic);
	const known = await ctx.session.topicList.byId(
		ctx.tributary,
		topics.map((t) => t.topicId),
	);
	return topics.map((t) => known.get(t.topicId)?.name ?? null);
}

/**
 * Fetch: every partition is read at once without waiting; if none has records and the client allows a wait
 * (`max.wait.ms`), every partition long-polls Tributary and the first to see records answers for all (the
 * others are cancelled and answer empty), as a broker answers when `fetch.min.bytes` is reached. The response
 * then holds the pages that fit in its `maxBytes` (`withinResponseBytes`). From v13 topics are named by id; a
 * partition of an id without a topic is UNKNOWN_TOPIC_ID and not read, as KafkaApis answers it (its "erroneous"
 * partitions), and does not cut the others' wait short.
 * @param {any} request @param {RequestContext} ctx
 */
export async function fetch(request, ctx) {
	const names = await fetchTopicNames(request.topics, ctx);
	const wanted = request.topics.flatMap((t, i) =>
		names[i] === null ? [] : t.partitions.map((p) => ({ topic: names[i], p, maxBytes: partitionBytesMax(p, request.maxBytes) })),
	);
	// Every partition at once, not WORKER_REQUESTS_AT_ONCE_MAX at a time as for ListOffsets and Produce: the long polls
	// below must all be waiting together (the first with records answers for all); under a cap, a partition past the
	// first WORKER_REQUESTS_AT_ONCE_MAX would not be polled until one of theirs (up to FETCH_WAIT_MS_MAX) ended.
	let results = await Promise.all(wanted.map(({ topic, p, maxBytes }) => fetchPartition(ctx, topic, p, maxBytes, 0)));
	const waitMs = Math.min(Math.max(request.maxWaitMs, 0), FETCH_WAIT_MS_MAX);
	if (waitMs > 0 && request.minBytes > 0 && wanted.length > 0 && !results.some((r) => r.hasRecords || r.entry.errorCode !== KAFKA.NONE)) {
		results = await longPoll(ctx, wanted, results, waitMs);
	}
	const answered = withinResponseBytes(results, request.maxBytes);
	answered.forEach((result, i) => {
		const { topic, p, maxBytes } = wanted[i];
		if (result !== results[i]) readAhead(ctx, topic, p.partition, p.fetchOffset, maxBytes, results[i]);
		else if (result.nextOffset !== null) readAhead(ctx, topic, p.partition, result.nextOffset, maxBytes, null);
	});
	return {
		throttleTimeMs: 0,
		errorCode: KAFKA.NONE,
		sessionId: 0,
		responses: fetchResponses(request.topics, names, answered, ctx.version),
	};
}

/**
 * A Fetch's response topics, one per topic asked (by name before v13, by id from v13), its partitions in request
 * order: each read's entry, or UNKNOWN_TOPIC_ID for a topic without a name.
 * @param {any[]} topics @param {(string | null)[]} names @param {PartitionRead[]} reads one per partition of a named topic
 * @param {number} version
 */
function fetchResponses(topics, names, reads, version) {
	/** @type {Map<string, { topic: string | null, topicId: string, partitions: object[] }>} */
	const byTopic = new Map();
	let read = 0;
	topics.forEach((t, i) => {
		const key = version < TOPIC_IDS_FROM_FETCH_VERSION ? t.topic : t.topicId;
		const response = byTopic.get(key) ?? { topic: names[i], topicId: t.topicId, partitions: /** @type {object[]} */ ([]) };
		byTopic.set(key, response);
		for (const p of t.partitions)
			response.partitions.push(names[i] === null ? emptyPartition(p.partition, KAFKA.UNKNOWN_TOPIC_ID) : reads[read++].entry);
	});
	return [...byTopic.values()];
}

/**
 * KIP-74: a Fetch's `maxBytes` bounds the record bytes of its whole response, partitions taken in request order,
 * except that the first partition with records is answered whatever its size, so a consumer always progresses.
 * A page that does not fit is answered empty (its high watermark tells the client there is more) and kept for
 * the next Fetch; Kafka clients rotate their partitions between Fetches, so none starves.
 * @param {PartitionRead[]} results @param {number} maxBytes
 * @returns {PartitionRead[]} the same reads, those that do not fit replaced by empty ones
 */
export function withinResponseBytes(results, maxBytes) {
	let remaining = maxBytes;
	let answered = false;
	return results.map((result) => {
		if (!result.hasRecords) return result;
		const bytes = /** @type {{ records: Buffer }} */ (result.entry).records.length;
		if (answered && bytes > remaining) return { entry: { ...result.entry, records: EMPTY }, hasRecords: false, nextOffset: null };
		answered = true;
		remaining -= bytes;
		return result;
	});
}

/**
 * Every partition's long poll at once, until one answers with records (the others then cancelled), all end, or the
 * connection closes: its polls are then cancelled, as no client reads their answer.
 * @param {RequestContext} ctx @param {any[]} wanted @param {PartitionRead[]} immediate @param {number} waitMs
 */
async function longPoll(ctx, wanted, immediate, waitMs) {
	const controller = new AbortController();
	const results = [...immediate];
	const ended = ctx.tributary.signal;
	const cancel = () => controller.abort();
	if (ended?.aborted) return results;
	ended?.addEventListener("abort", cancel, { once: true });
	await new Promise((resolve) => {
		let pending = wanted.length;
		wanted.forEach(({ topic, p, maxBytes }, i) => {
			fetchPartition(ctx, topic, p, maxBytes, waitMs, controller.signal)
				.then((result) => {
					if (controller.signal.aborted) return;
					results[i] = result;
					if (result.hasRecords) {
						controller.abort();
						resolve(undefined);
					}
				})
				.catch((error) => {
					if (!controller.signal.aborted) ctx.log(`fetch ${topic}/${p.partition}: ${error.message}`);
				})
				.finally(() => {
					pending -= 1;
					if (pending === 0) resolve(undefined);
				});
		});
	}).finally(() => ended?.removeEventListener("abort", cancel));
	return results;
}

/** ListOffsets' timestamps for what a log holds rather than a time (Kafka's ListOffsetsRequest), past -2 and -1. */
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL_TIMESTAMP = -4;
const LATEST_TIERED_TIMESTAMP = -5;
/** The ListOffsets version that defined each (KIP-734, KIP-405, KIP-1005): asked below it, a broker refuses it. */
const FROM_VERSION = new Map([
	[MAX_TIMESTAMP, 7],
	[EARLIEST_LOCAL_TIMESTAMP, 8],
	[LATEST_TIERED_TIMESTAMP, 9],
]);

/**
 * One partition's ListOffsets answer. By time, Kafka answers the first record at or after it with that record's
 * own timestamp (Java's offsetsForTimes refuses a negative one), or -1/-1 when no such record exists yet. The
 * largest timestamp (-3) is the first record that has it (Tributary's `at=max_timestamp`); the local log start (-4)
 * and the last offset in remote storage (-5, -1 when none) are read from the topic's describe (`described`, asked
 * once per topic), whose offsets below `local_log_start_offset` lie in R2.
 * @param {RequestContext} ctx @param {string} topic @param {number} partition @param {number} timestamp
 * @param {() => Promise<import("../tributary.js").Answer>} described
 */
async function offsetFor(ctx, topic, partition, timestamp, described) {
	const at = LOG_END_AT.get(timestamp) ?? timestamp;
	const base = { partitionIndex: partition, errorCode: KAFKA.NONE, timestamp: -1, offset: -1, leaderEpoch: 0 };
	if (typeof at === "number" && at < 0) {
		if (ctx.version < (FROM_VERSION.get(at) ?? Number.POSITIVE_INFINITY)) return { ...base, errorCode: KAFKA.UNSUPPORTED_VERSION };
		if (at !== MAX_TIMESTAMP) return localOffset(await described(), partition, at, base);
	}
	const answer = await ctx.tributary.offsetAt(topic, partition, at === MAX_TIMESTAMP ? "max_timestamp" : at);
	const errorCode = kafkaError(answer, "topic");
	if (errorCode !== KAFKA.NONE) return { ...base, errorCode };
	if (at === MAX_TIMESTAMP) return { ...base, offset: answer.body.offset, timestamp: answer.body.timestamp };
	if (typeof at !== "number") return { ...base, offset: answer.body.offset };
	const page = await ctx.tributary.fetchRecords(topic, partition, { offset: answer.body.offset, maxBytes: 1, maxRecords: 1, waitMs: 0 });
	const found = page.status === 200 ? page.body.records[0] : undefined;
	return found === undefined ? base : { ...base, offset: found.offset, timestamp: found.timestamp };
}

/**
 * The local log start (-4), or the last offset tiered to remote storage (-5: the one below the local log start, -1
 * when R2 holds none of the partition), from a describe of its topic.
 * @param {import("../tributary.js").Answer} described @param {number} partition @param {number} at @param {any} base
 */
function localOffset(described, partition, at, base) {
	const errorCode = kafkaError(described, "topic");
	if (errorCode !== KAFKA.NONE) return { ...base, errorCode };
	const p = described.body.partitions.find((/** @type {any} */ d) => d.partition === partition);
	if (p === undefined) return { ...base, errorCode: KAFKA.UNKNOWN_TOPIC_OR_PARTITION };
	if (at === EARLIEST_LOCAL_TIMESTAMP) return { ...base, offset: p.local_log_start_offset };
	return p.remote_bytes > 0 ? { ...base, offset: p.local_log_start_offset - 1 } : { ...base, leaderEpoch: -1 };
}

/**
 * ListOffsets: earliest (-2), latest (-1), the largest timestamp (-3), the local log start (-4), the last tiered
 * offset (-5), or the first offset at or after a timestamp.
 * @param {any} request @param {RequestContext} ctx
 */
export async function listOffsets(request, ctx) {
	const asked = request.topics.map((t) => {
		/** @type {Promise<import("../tributary.js").Answer> | undefined} */
		let described;
		const describe = () => {
			described ??= ctx.tributary.describeTopic(t.name);
			return described;
		};
		return { t, describe };
	});
	const partitions = await mapGroupsAtMost(
		asked,
		({ t }) => t.partitions,
		WORKER_REQUESTS_AT_ONCE_MAX,
		(p, { t, describe }) => offsetFor(ctx, t.name, p.partitionIndex, p.timestamp, describe),
	);
	return { throttleTimeMs: 0, topics: request.topics.map((t, i) => ({ name: t.name, partitions: partitions[i] })) };
}

/** InitProducerId: Tributary's `POST /v1/producers`, so producer ids and epochs live in Tributary. @param {any} request @param {RequestContext} ctx */
export async function initProducerId(request, ctx) {
	const answer = await ctx.tributary.initProducer(request.transactionalId ?? null);
	const errorCode = kafkaError(answer, request.transactionalId === null ? "cluster" : "transactional");
	if (errorCode !== KAFKA.NONE) return { throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 };
	return { throttleTimeMs: 0, errorCode, producerId: answer.body.producer_id, producerEpoch: answer.body.epoch };
}
