/**
 * @module
 * Records of a topic: produce (`POST /v1/topics/{topic}/records`, JSON or NDJSON), fetch a partition, look
 * up offsets by position or time, and delete a partition's records before an offset (Kafka's DeleteRecords).
 */

import * as z from "zod/mini";
import { ApiError, type Result, unwrap } from "../../shared/errors.ts";
import { FETCH_BYTES_DEFAULT, FETCH_RECORDS_DEFAULT, PRODUCE_RECORDS_MAX } from "../../shared/limits.ts";
import { offsetForTimestamp, readFetchBody } from "../../shared/log-reader.ts";
import { partitionLog } from "../../shared/stubs.ts";
import { type ProduceInput, type ProduceOptions, produce } from "../../topic/produce.ts";
import { checkPartition, describeTopic, invalidate } from "../../topic/topic-cache.ts";
import type { AppEnv } from "../app-env.ts";
import { audit } from "../audit.ts";
import { declaredTextBytes, mediaType, parseJson, queryOf, readJson, readText, validate } from "../body.ts";
import { clientGone } from "../client-gone.ts";
import { Hono } from "../hono.ts";
import { reportFetchedBytes } from "../middleware/quotas.ts";
import { readNdjson } from "../ndjson.ts";
import { fastProduceBody, parsesToAscii } from "../produce-fast-path.ts";
import {
	DeleteRecordsBody,
	FetchQuery,
	IdempotencyKey,
	isTopicName,
	OffsetsQuery,
	PartitionPath,
	ProduceBody,
	ProduceRecordBody,
	TopicPath,
	toProduceInput,
} from "../schemas.ts";
import { streamRecords, tailRecords, wantsEventStream, wantsWebSocket } from "./streaming.ts";

const NdjsonRecords = z.array(ProduceRecordBody).check(z.minLength(1, "the body holds no records"));

type ProduceFields = Partial<Omit<z.output<typeof ProduceBody>, "records">>;
type ProduceRequest = { records: ProduceInput[]; fields: ProduceFields; asciiText: boolean };

/**
 * A produce request, from a JSON document or from NDJSON lines (records only). A plain `{"records":[…]}`, with
 * plain exactly-once fields or none, takes the fast path (`produce-fast-path.ts`); everything else, and anything it is unsure of, the schema.
 */
async function readProduceRequest(request: Request): Promise<ProduceRequest> {
	const type = mediaType(request);
	if (type === "application/x-ndjson") {
		const records = validate(NdjsonRecords, await readNdjson(request, PRODUCE_RECORDS_MAX), "body");
		return { records: records.map(toProduceInput), fields: {}, asciiText: false };
	}
	if (type !== null && type !== "application/json") {
		throw new ApiError("unsupported_media_type", `expected application/json or application/x-ndjson, got ${type}`);
	}
	const text = await readText(request);
	const declaredBytes = declaredTextBytes(request);
	const asciiText = parsesToAscii(text, declaredBytes);
	const fast = fastProduceBody(text, declaredBytes);
	if (fast !== null) return { ...fast, asciiText };
	const { records, ...fields } = validate(ProduceBody, parseJson(text));
	return { records: records.map(toProduceInput), fields, asciiText };
}

/** The exactly-once options of a produce request: producer sequences, `Idempotency-Key`, `expected_offset`. */
function produceOptions({ fields: body, asciiText }: ProduceRequest, idempotencyHeader: string | undefined): ProduceOptions {
	const idempotencyKey = idempotencyHeader === undefined ? null : validate(IdempotencyKey, idempotencyHeader, "Idempotency-Key");
	const producer =
		body.producer_id === undefined || body.epoch === undefined
			? null
			: {
					producerId: body.producer_id,
					epoch: body.epoch,
					sequences:
						body.sequence !== undefined
							? { single: body.sequence }
							: { perPartition: new Map(Object.entries(body.sequences ?? {}).map(([p, seq]) => [Number(p), seq])) },
				};
	return { producer, idempotencyKey, expectedOffset: body.expected_offset ?? null, asciiText };
}

/** A partition read or lookup; a partition that says its topic is gone drops the cached metadata. */
function forgetIfDeleted<T>(topic: string, result: Result<T>): T {
	if (!result.ok && result.error.code === "topic_not_found") invalidate(topic);
	return unwrap(result);
}

export const recordRoutes = new Hono<AppEnv>()
	.post("/:topic/records", async (c) => {
		const named = c.req.param("topic");
		// A plain name is checked by hand; anything else gets the schema's message.
		const topic = isTopicName(named) ? named : validate(TopicPath, c.req.param()).topic;
		const body = await readProduceRequest(c.req.raw);
		const options = produceOptions(body, c.req.header("Idempotency-Key"));
		const outcome = unwrap(await produce(c.env, topic, body.records, options));
		if (outcome.replayed && options.idempotencyKey !== null) c.header("Idempotent-Replayed", "true");
		// Tried and dropped: this answer written as text, as the produce channel writes its reports (offsetsReport),
		// which in Node takes 12 µs for 100 positions against 43 for the objects and JSON.stringify. Under bench:ab's
		// produce-1c-1p (8 rounds, load 3-7) it did not show: B − A −0.2 µs/record (−1.1 to +1.1, lower in 4 of 8). In
		// workerd the whole answer is small: 100 positions as objects, JSON.stringify and the Response 19 µs, as text 15,
		// as text encoded to bytes 16, a Response of 11 bytes 12 (medians of 5 runs of 10,000): 0.1 µs a record at most.
		// A profile (produce-1c-1p, load ~20) booked this answer's Response 5.7 % of busy samples, ~560 µs a request;
		// a bare workerd (bench/answer-shapes.mjs) puts the whole of it at ~34 µs: the text 10, the Context and the
		// headers the middleware set on it 8, the Response 13. `new Response(text, { headers })` from a prebuilt object
		// costs ~9 µs less (lower in 10 of 10 passes), all of it the Context's headers every route pays, not this
		// Response (13 either way): 0.1 µs a record, against bench:ab's A/A spread here of −4.0 to +1.8 µs. Kept.
		// The fetch below answers through the same Context and headers (c.body), over 1,000 records.
		return c.json({ offsets: outcome.positions });
	})
	.get("/:topic/partitions/:partition/records", async (c) => {
		// Live delivery: the same resource as a stream.
		if (wantsEventStream(c.req.raw)) return streamRecords(c);
		if (wantsWebSocket(c.req.raw)) return tailRecords(c);
		// Tried: the path and query read by hand, without the schemas or the URL parser (a knockout that checked
		// nothing): bench:ab fetch-1c-1p B − A −0.21 µs/record of ~12.7 (−1.2 to +0.4, lower in 3 of 5 rounds, load
		// 8-10), within the noise; the schemas and the URL parser are 4-5 % of the isolate's busy samples under bench:profile fetch.
		const { topic, partition } = validate(PartitionPath, c.req.param());
		const query = validate(FetchQuery, queryOf(c.req.url), "query");
		const meta = unwrap(await describeTopic(c.env, topic));
		unwrap(checkPartition(meta, partition));
		const result = forgetIfDeleted(
			topic,
			await readFetchBody(
				c.env,
				meta.topicId,
				partition,
				{
					topicId: meta.topicId,
					offset: query.offset ?? null,
					maxRecords: query.max_records ?? FETCH_RECORDS_DEFAULT,
					maxBytes: query.max_bytes ?? FETCH_BYTES_DEFAULT,
					waitMs: query.wait_ms ?? 0,
				},
				clientGone(c),
			),
		);
		reportFetchedBytes(c, result.bytes);
		return c.body(result.body, 200, { "Content-Type": "application/json" });
	})
	.get("/:topic/partitions/:partition/offsets", async (c) => {
		const { topic, partition } = validate(PartitionPath, c.req.param());
		const { at } = validate(OffsetsQuery, queryOf(c.req.url), "query");
		const meta = unwrap(await describeTopic(c.env, topic));
		unwrap(checkPartition(meta, partition));
		const stub = partitionLog(c.env, meta.topicId, partition);
		if (typeof at === "number") {
			return c.json(forgetIfDeleted(topic, await offsetForTimestamp(c.env, meta.topicId, partition, at)));
		}
		const offsets = await stub.offsets();
		if (at === "max_timestamp") {
			// Kafka's MAX_TIMESTAMP (KIP-734): the first record at the running maximum is the one that set it. Once
			// retention, compaction or DeleteRecords has taken that record, the partition knows no largest one left
			// (keeping it would cost every append, or a scan of the log at such a removal), and the bounded lookup may
			// stop on an offset without it: so only a record that has the maximum is answered, else -1 and -1.
			const { offset } = forgetIfDeleted(topic, await offsetForTimestamp(c.env, meta.topicId, partition, offsets.timestampHigh));
			const read = { topicId: meta.topicId, offset, maxRecords: 1, maxBytes: 1, waitMs: 0 };
			const found = offset < offsets.highWatermark && forgetIfDeleted(topic, await readFetchBody(c.env, meta.topicId, partition, read));
			const record = found && ((await new Response(found.body).json()) as { records: { offset: number; timestamp: number }[] }).records[0];
			return c.json(
				record && record.timestamp === offsets.timestampHigh
					? { offset: record.offset, timestamp: record.timestamp }
					: { offset: -1, timestamp: -1 },
			);
		}
		return c.json({ offset: at === "earliest" ? offsets.logStartOffset : offsets.highWatermark });
	})
	.post("/:topic/partitions/:partition/delete-records", async (c) => {
		const { topic, partition } = validate(PartitionPath, c.req.param());
		const body = validate(DeleteRecordsBody, await readJson(c.req.raw));
		const meta = unwrap(await describeTopic(c.env, topic));
		unwrap(checkPartition(meta, partition));
		const log = partitionLog(c.env, meta.topicId, partition);
		const { logStartOffset } = forgetIfDeleted(topic, await log.deleteRecords(meta.topicId, body.before_offset));
		await audit(c, "topic.delete_records", { topic, partition, log_start_offset: logStartOffset });
		return c.json({ log_start_offset: logStartOffset });
	});
