/**
 * A Fetch that waits (`maxWaitMs`, as a caught-up consumer sends it) is answered as soon as one of its partitions gets a
 * record, not when its wait is over: the gateway long-polls every partition at once, the first to answer with records
 * answers for all, and the others' long polls are cancelled (their connections closed, which ends the Worker's wait).
 * Against a stand-in that holds each long poll until the test appends to its partition or its `wait_ms` ends, so the
 * bound is the mechanism's, not a time: the Fetch must be answered while the other partitions' polls are still held.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { decodeBatches } from "../../gateway/protocol/record-batch.js";
import { waitUntil } from "../../scripts/lib/index.mjs";
import { exchange } from "../e2e/lib/kafka.mjs";
import { connectClient, fetchRequest, gatewayOver } from "./lib/stand-in.mjs";

const TOPIC = "waited";
const PARTITIONS = 3;
/** The Fetch's wait: far past the test's own timeout, so an answer that waited for it fails the test. */
const FETCH_WAIT_MS = 25_000;
const TEST_TIMEOUT_MS = 10_000;

/**
 * @typedef {{ partition: number, offset: number, answer: (records: object[]) => void, closedEarly: boolean }} HeldPoll
 * a long poll the stand-in holds: `answer` ends it with records; `closedEarly` once the gateway closed it unanswered
 */

/** @type {HeldPoll[]} */
const held = [];
/** Each partition's records (by offset). */
const logs = Array.from({ length: PARTITIONS }, () => /** @type {object[]} */ ([]));

/** A Tributary fetch page of `records` from `offset` of partition `partition`. @param {number} partition @param {number} offset @param {object[]} records */
const page = (partition, offset, records) => ({
	records,
	high_watermark: logs[partition].length,
	next_offset: offset + records.length,
	log_start_offset: 0,
});

const worker = createServer((req, res) => {
	const url = new URL(req.url ?? "/", "http://worker");
	const read = decodeURIComponent(url.pathname).match(/^\/v1\/topics\/([^/]+)\/partitions\/(\d+)\/records$/);
	const send = (/** @type {number} */ status, /** @type {unknown} */ body) => {
		res.statusCode = status;
		res.setHeader("content-type", "application/json");
		res.end(JSON.stringify(body));
	};
	if (read === null || read[1] !== TOPIC) return send(404, { error: { code: "not_found", message: "not here" } });
	const partition = Number(read[2]);
	const offset = Number(url.searchParams.get("offset"));
	const waitMs = Number(url.searchParams.get("wait_ms"));
	const found = logs[partition].slice(offset);
	if (found.length > 0 || waitMs === 0) return send(200, page(partition, offset, found));
	/** @type {HeldPoll} */
	const poll = {
		partition,
		offset,
		closedEarly: false,
		answer: (records) => {
			clearTimeout(timer);
			held.splice(held.indexOf(poll), 1);
			send(200, page(partition, offset, records));
		},
	};
	const timer = setTimeout(() => poll.answer([]), waitMs);
	res.once("close", () => {
		if (res.writableFinished) return;
		poll.closedEarly = true;
		clearTimeout(timer);
		held.splice(held.indexOf(poll), 1);
	});
	held.push(poll);
});
const gateway = gatewayOver(worker);

/** Appends a record to `partition` and hands it to that partition's held long poll, as an append wakes the Worker's. @param {number} partition */
function append(partition) {
	const offset = logs[partition].length;
	const record = { offset, timestamp: 1_700_000_000_000, key: null, value: `r${offset}` };
	logs[partition].push(record);
	for (const poll of held.filter((p) => p.partition === partition)) poll.answer(logs[partition].slice(poll.offset));
}

test("a waiting Fetch is answered as soon as one partition gets a record, its other partitions' long polls cancelled, not after maxWaitMs", {
	timeout: TEST_TIMEOUT_MS,
}, async () => {
	const partitions = Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, fetchOffset: 0, partitionMaxBytes: 1_048_576 }));
	const answered = exchange(gateway.port, "Fetch", 11, { ...fetchRequest([{ topic: TOPIC, partitions }]), maxWaitMs: FETCH_WAIT_MS });
	await waitUntil(() => held.length === PARTITIONS, { timeoutMs: TEST_TIMEOUT_MS / 2, message: "every partition to long-poll" });
	const polls = [...held];
	append(1);
	const answer = await answered;
	const byPartition = answer.responses[0].partitions.map((/** @type {any} */ p) => [p.partitionIndex, p.errorCode, p.highWatermark]);
	assert.deepEqual(byPartition, [
		[0, KAFKA.NONE, 0],
		[1, KAFKA.NONE, 1],
		[2, KAFKA.NONE, 0],
	]);
	const [batch] = await decodeBatches(answer.responses[0].partitions[1].records);
	assert.equal(batch.records[0].value.toString(), "r0");
	// The others were still held when the answer came (the stand-in holds them for FETCH_WAIT_MS), and the gateway
	// closed them rather than leave them to wait.
	await waitUntil(() => held.length === 0, { timeoutMs: TEST_TIMEOUT_MS / 2, message: "the other long polls to be closed" });
	assert.deepEqual(
		polls.filter((p) => p.closedEarly).map((p) => p.partition),
		[0, 2],
	);
});

test("a waiting Fetch whose connection closes: its long polls are closed with it, none left waiting", {
	timeout: TEST_TIMEOUT_MS,
}, async () => {
	// From each log's end: nothing to read, so every partition long-polls.
	const partitions = logs.map((log, partition) => ({ partition, fetchOffset: log.length, partitionMaxBytes: 1_048_576 }));
	const client = await connectClient(gateway.port, "fetch-wait-closed");
	void client.send("Fetch", 11, { ...fetchRequest([{ topic: TOPIC, partitions }]), maxWaitMs: FETCH_WAIT_MS }).catch(() => {});
	await waitUntil(() => held.length === PARTITIONS, { timeoutMs: TEST_TIMEOUT_MS / 2, message: "every partition to long-poll" });
	const polls = [...held];
	client.close();
	// The stand-in would hold them for FETCH_WAIT_MS, and the gateway wait past it: only the connection's close ends them.
	await waitUntil(() => held.length === 0, {
		timeoutMs: TEST_TIMEOUT_MS / 2,
		message: "the long polls of the closed connection to be closed",
	});
	assert.deepEqual(
		polls.map((p) => p.closedEarly),
		[true, true, true],
	);
});
