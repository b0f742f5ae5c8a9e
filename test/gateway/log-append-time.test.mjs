/**
 * A topic whose config `message.timestamp.type` is LogAppendTime, as a broker shows it on the wire: Produce answers
 * the append time in `logAppendTimeMs` (-1 for a CreateTime topic), and Fetch's record batches carry the timestamp
 * type bit (attributes bit 3), one batch per append time, since a consumer gives every record of such a batch the
 * batch's max timestamp. Frames are encoded and decoded with Kafka's own message definitions, through the whole
 * gateway, against a stand-in for Tributary's HTTP API.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { decodeBatches, encodeBatch } from "../../gateway/protocol/record-batch.js";
import { exchange as exchangeWith } from "../e2e/lib/kafka.mjs";
import { fetchRequest, gatewayOver, routeServer } from "./lib/stand-in.mjs";

/** Kafka's record batch attribute bit for LogAppendTime (RecordBatch.TIMESTAMP_TYPE_MASK). */
const TIMESTAMP_TYPE_BIT = 0x08;
/** The producer's timestamp, and the two append times the stand-in's partition gave its records. */
const PRODUCER_MS = 1_600_000_000_000;
const FIRST_APPEND_MS = 1_700_000_000_000;
const SECOND_APPEND_MS = 1_700_000_000_005;

/** Each topic's config type and the records its partition 0 holds. */
const TOPICS = {
	stamped: {
		type: "LogAppendTime",
		timestamps: [FIRST_APPEND_MS, FIRST_APPEND_MS, SECOND_APPEND_MS],
	},
	own: { type: "CreateTime", timestamps: [PRODUCER_MS, PRODUCER_MS + 7, PRODUCER_MS + 3] },
};

/** Tributary's answers: the listing (with each topic's config), one topic's timestamp type, produce and records. */
function route(/** @type {string} */ method, /** @type {URL} */ url, /** @type {any} */ body) {
	const path = decodeURIComponent(url.pathname);
	const config = path.match(/^\/kafka\/v3\/clusters\/tributary\/topics\/([^/]+)\/configs\/message\.timestamp\.type$/);
	if (method === "GET" && config !== null) {
		const { type } = TOPICS[/** @type {keyof typeof TOPICS} */ (config[1])];
		return { status: 200, body: { name: "message.timestamp.type", value: type } };
	}
	if (method === "GET" && path === "/v1/topics") {
		const topics = Object.entries(TOPICS).map(([name, t], i) => ({
			name,
			topic_id: `0a0b0c0d-0000-4000-8000-00000000000${i}`,
			partitions: 1,
			config: { "message.timestamp.type": t.type },
		}));
		return { status: 200, body: { topics, next_cursor: null } };
	}
	const produced = path.match(/^\/v1\/topics\/([^/]+)\/records$/);
	if (method === "POST" && produced !== null) {
		const stamped = produced[1] === "stamped";
		const offsets = body.records.map((/** @type {any} */ r, i) => ({
			partition: 0,
			offset: i,
			timestamp: stamped ? FIRST_APPEND_MS : r.timestamp,
		}));
		return { status: 200, body: { offsets } };
	}
	const read = path.match(/^\/v1\/topics\/([^/]+)\/partitions\/0\/records$/);
	if (method === "GET" && read !== null) {
		const { timestamps } = TOPICS[/** @type {keyof typeof TOPICS} */ (read[1])];
		const records = timestamps.map((timestamp, offset) => ({ offset, timestamp, key: null, value: `r${offset}` }));
		return { status: 200, body: { records, high_watermark: 3, next_offset: 3, log_start_offset: 0 } };
	}
	return { status: 404, body: { error: { code: "not_found", message: `${method} ${path}` } } };
}

const worker = routeServer(route);
const gateway = gatewayOver(worker);

/** @param {string} topic */
async function produceTo(topic) {
	const records = await encodeBatch([{ offset: 0, timestamp: PRODUCER_MS, key: null, value: "v", headers: [] }]);
	const request = {
		transactionalId: null,
		acks: -1,
		timeoutMs: 1_000,
		topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
	};
	const answer = await exchangeWith(gateway.port, "Produce", 9, request);
	return answer.responses[0].partitionResponses[0];
}

/** @param {string} topic */
async function fetchFrom(topic) {
	const partitions = [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1_048_576, logStartOffset: -1, currentLeaderEpoch: -1 }];
	const request = fetchRequest([{ topic, partitions }]);
	const answer = await exchangeWith(gateway.port, "Fetch", 12, request);
	const [partition] = answer.responses[0].partitions;
	assert.equal(partition.errorCode, KAFKA.NONE);
	return decodeBatches(partition.records);
}

test("Produce answers a LogAppendTime topic's append time in logAppendTimeMs, and -1 for a CreateTime topic", async () => {
	const stamped = await produceTo("stamped");
	assert.equal(stamped.errorCode, KAFKA.NONE);
	assert.equal(stamped.logAppendTimeMs, FIRST_APPEND_MS);
	const own = await produceTo("own");
	assert.equal(own.errorCode, KAFKA.NONE);
	assert.equal(own.logAppendTimeMs, -1);
});

test("Fetch of a LogAppendTime topic: batches with the timestamp type bit, one per append time, each at its own time", async () => {
	const batches = await fetchFrom("stamped");
	assert.deepEqual(
		batches.map((b) => [b.baseOffset, b.attributes & TIMESTAMP_TYPE_BIT, b.maxTimestamp, b.records.map((r) => r.timestamp)]),
		[
			[0, TIMESTAMP_TYPE_BIT, FIRST_APPEND_MS, [FIRST_APPEND_MS, FIRST_APPEND_MS]],
			[2, TIMESTAMP_TYPE_BIT, SECOND_APPEND_MS, [SECOND_APPEND_MS]],
		],
	);
	assert.deepEqual(
		batches.flatMap((b) => b.records.map((r) => b.baseOffset + r.offsetDelta)),
		[0, 1, 2],
	);
});

test("Fetch of a CreateTime topic: one batch without the bit, each record at its own timestamp", async () => {
	const batches = await fetchFrom("own");
	assert.deepEqual(
		batches.map((b) => [b.attributes & TIMESTAMP_TYPE_BIT, b.maxTimestamp, b.records.map((r) => r.timestamp)]),
		[[0, PRODUCER_MS + 7, TOPICS.own.timestamps]],
	);
});
