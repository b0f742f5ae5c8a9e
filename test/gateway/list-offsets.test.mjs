/**
 * ListOffsets' timestamps for what a log holds, as a broker answers them: -3 the first record with the largest
 * timestamp (KIP-734, v7+), -4 the local log start (KIP-405, v8+), -5 the last offset in remote storage, -1 when none
 * (KIP-1005, v9+); each refused (UNSUPPORTED_VERSION) in a version before the one that defined it. Frames encoded and
 * decoded with Kafka's definitions, through the whole gateway, against a stand-in for Tributary's HTTP API that
 * counts the topic describes.
 */

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { listOffsets as listOffsetsHandler } from "../../gateway/handlers/records.js";
import { WORKER_REQUESTS_AT_ONCE_MAX } from "../../gateway/limits.js";
import { exchange } from "../e2e/lib/kafka.mjs";
import { inFlight } from "./lib/in-flight.mjs";
import { gatewayOver, routeServer } from "./lib/stand-in.mjs";

/** The largest timestamp partition 0 holds, first at offset 4. */
const MAX_MS = 1_700_000_000_000;
/** Partition 0 is tiered: offsets 0–5 in R2, 6–9 local. Partition 1 holds its 3 records locally. */
const PARTITIONS = [
	{ partition: 0, log_start_offset: 0, local_log_start_offset: 6, high_watermark: 10, remote_bytes: 4_096 },
	{ partition: 1, log_start_offset: 0, local_log_start_offset: 0, high_watermark: 3, remote_bytes: 0 },
];

let describes = 0;

function route(/** @type {string} */ method, /** @type {URL} */ url) {
	const path = decodeURIComponent(url.pathname);
	if (method === "GET" && path === "/v1/topics/tiered") {
		describes += 1;
		return { status: 200, body: { name: "tiered", topic_id: "0a0b0c0d-0000-4000-8000-00000000000a", config: {}, partitions: PARTITIONS } };
	}
	const offsets = path.match(/^\/v1\/topics\/tiered\/partitions\/(\d+)\/offsets$/);
	if (method === "GET" && offsets !== null) {
		const held = PARTITIONS[Number(offsets[1])];
		const at = url.searchParams.get("at");
		if (at === "max_timestamp")
			return { status: 200, body: held.partition === 0 ? { offset: 4, timestamp: MAX_MS } : { offset: -1, timestamp: -1 } };
		if (at === "earliest") return { status: 200, body: { offset: held.log_start_offset } };
		if (at === "latest") return { status: 200, body: { offset: held.high_watermark } };
	}
	return { status: 404, body: { error: { code: "not_found", message: `${method} ${path}${url.search}` } } };
}

const worker = routeServer(route);
const gateway = gatewayOver(worker);

beforeEach(() => {
	describes = 0;
});

/**
 * ListOffsets of `version` asking each [partition, timestamp] of "tiered": its answers as [partition, error code,
 * offset, timestamp].
 * @param {number} version @param {[number, number][]} asked
 */
async function listOffsets(version, asked) {
	const partitions = asked.map(([partitionIndex, timestamp]) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp }));
	const answer = await exchange(gateway.port, "ListOffsets", version, {
		replicaId: -1,
		isolationLevel: 0,
		topics: [{ name: "tiered", partitions }],
		timeoutMs: 1_000,
	});
	return answer.topics[0].partitions.map((/** @type {any} */ p) => [p.partitionIndex, p.errorCode, p.offset, p.timestamp]);
}

test("ApiVersions advertises ListOffsets v1–v10", async () => {
	const versions = await exchange(gateway.port, "ApiVersions", 3, { clientSoftwareName: "list-offsets", clientSoftwareVersion: "1" });
	const LIST_OFFSETS_KEY = 2;
	const listed = versions.apiKeys.find((/** @type {any} */ k) => k.apiKey === LIST_OFFSETS_KEY);
	assert.deepEqual([listed.minVersion, listed.maxVersion], [1, 10]);
});

test("-3 is the first record with the largest timestamp, -4 the local log start, -5 the last offset in remote storage (-1 when none); one describe for the topic", async () => {
	for (const version of [9, 10]) {
		describes = 0;
		const answers = await listOffsets(version, [
			[0, -3],
			[1, -3],
			[0, -4],
			[1, -4],
			[0, -5],
			[1, -5],
			[0, -2],
			[0, -1],
		]);
		assert.deepEqual(answers, [
			[0, KAFKA.NONE, 4, MAX_MS],
			[1, KAFKA.NONE, -1, -1],
			[0, KAFKA.NONE, 6, -1],
			[1, KAFKA.NONE, 0, -1],
			[0, KAFKA.NONE, 5, -1],
			[1, KAFKA.NONE, -1, -1],
			[0, KAFKA.NONE, 0, -1],
			[0, KAFKA.NONE, 10, -1],
		]);
		assert.equal(describes, 1, `v${version}: the topic is described once for all its partitions`);
	}
});

test("each is UNSUPPORTED_VERSION in a version before the one that defined it (-3 before v7, -4 before v8, -5 before v9)", async () => {
	assert.deepEqual(await listOffsets(6, [[0, -3]]), [[0, KAFKA.UNSUPPORTED_VERSION, -1, -1]]);
	assert.deepEqual(await listOffsets(7, [[0, -3]]), [[0, KAFKA.NONE, 4, MAX_MS]]);
	assert.deepEqual(await listOffsets(7, [[0, -4]]), [[0, KAFKA.UNSUPPORTED_VERSION, -1, -1]]);
	assert.deepEqual(await listOffsets(8, [[0, -4]]), [[0, KAFKA.NONE, 6, -1]]);
	assert.deepEqual(await listOffsets(8, [[0, -5]]), [[0, KAFKA.UNSUPPORTED_VERSION, -1, -1]]);
	assert.deepEqual(await listOffsets(9, [[0, -6]]), [[0, KAFKA.UNSUPPORTED_VERSION, -1, -1]]);
	assert.equal(describes, 1, "a refused timestamp describes nothing");
});

test("a ListOffsets of many partitions asks the Worker at most WORKER_REQUESTS_AT_ONCE_MAX at a time, each answer in its place", async () => {
	const partitions = 128;
	const calls = inFlight();
	// Partition p of topic t answers offset 1000·t + p at the log's end, p at its start, and the record there for a time.
	const offsetOf = (/** @type {string} */ topic, /** @type {number} */ p, /** @type {unknown} */ at) =>
		at === "earliest" ? p : 1_000 * Number(topic.slice(1)) + p;
	const tributary = {
		offsetAt: (/** @type {string} */ topic, /** @type {number} */ p, /** @type {unknown} */ at) =>
			calls.answer(() => ({ status: 200, body: { offset: offsetOf(topic, p, at) } })),
		fetchRecords: (/** @type {string} */ _topic, /** @type {number} */ p, /** @type {{ offset: number }} */ q) =>
			calls.answer(() => ({ status: 200, body: { records: [{ offset: q.offset, timestamp: MAX_MS + p }] } })),
	};
	const timestampOf = (/** @type {number} */ p) => [-1, -2, MAX_MS][p % 3];
	const topics = ["t1", "t2"].map((name) => ({
		name,
		partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: timestampOf(p) })),
	}));
	const ctx = /** @type {any} */ ({ tributary, version: 9, log: () => {} });
	const answer = await listOffsetsHandler({ replicaId: -1, isolationLevel: 0, topics, timeoutMs: 1_000 }, ctx);
	assert.deepEqual(
		answer.topics.map((/** @type {any} */ t) =>
			t.partitions.map((/** @type {any} */ p) => [t.name, p.partitionIndex, p.errorCode, p.offset, p.timestamp]),
		),
		topics.map((t) =>
			t.partitions.map(({ partitionIndex: p, timestamp }) => {
				const at = timestamp === -1 ? "latest" : timestamp === -2 ? "earliest" : timestamp;
				return [t.name, p, KAFKA.NONE, offsetOf(t.name, p, at), timestamp === MAX_MS ? MAX_MS + p : -1];
			}),
		),
	);
	assert.ok(calls.counts.max <= WORKER_REQUESTS_AT_ONCE_MAX, `${calls.counts.max} requests at once`);
	assert.ok(calls.counts.max > 1, "the requests still overlap");
});
