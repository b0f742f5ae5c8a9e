// @ts-check
/**
 * The gateway's wait on a key over its quota (a 429 and its Retry-After, sat out before sending again, as a broker
 * delays its answer) ends with the Kafka request: at its timeout_ms (Produce's, DeleteTopics', DeleteRecords',
 * CreatePartitions', a validateOnly CreateTopics'), or when its connection ends. Past either no client reads what a send again would answer, and
 * each send counts against the key's quota.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { encodeBatch } from "../../gateway/protocol/record-batch.js";
import { NO_TOPIC_ID } from "../../gateway/topic-list.js";
import { connectClient, gatewayOver, routeServer } from "./lib/stand-in.mjs";

/** The stand-in's Retry-After: under the gateway's QUOTA_WAIT_MS_MAX, so the gateway sits it out. */
const RETRY_AFTER_MS = 4_000;
/** A bound on what takes milliseconds (a closed socket seen by the gateway), well under RETRY_AFTER_MS. */
const SEEN_WITHIN_MS = 3_000;

/** Produce channels the gateway opened: each refused 429, as the Worker refuses one over the key's quota. */
let opened = 0;
let onOpen = () => {};
/** The stand-in's 429, as the Worker answers a key over its quota. */
const OVER_QUOTA = { code: "quota_exceeded", message: "over its quota", retriable: true, retry_after_ms: RETRY_AFTER_MS };
/**
 * Topic admin calls received (a topic's delete and its describe, a partition's delete-records, a partition count's
 * update, a create's dry run): each refused 429.
 */
let adminSends = 0;
const worker = routeServer((method, url) => {
	const admin =
		method === "DELETE" ||
		method === "PATCH" ||
		url.pathname.endsWith("/delete-records") ||
		url.pathname.endsWith("/topics") ||
		url.pathname === "/v1/topics/t";
	if (!admin) return { status: 200, body: { name: "message.timestamp.type", value: "CreateTime" } };
	adminSends += 1;
	return { status: 429, body: { error: OVER_QUOTA } };
});
const gateway = gatewayOver(worker, {
	claim: (_req, socket) => {
		opened += 1;
		onOpen();
		const error = { code: "quota_exceeded", message: "over its produce quota", retriable: true, retry_after_ms: RETRY_AFTER_MS };
		const body = JSON.stringify({ error });
		socket.end(
			`HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
		);
		return true;
	},
});

/** A Produce v9 of one record to t/0, acks -1. @param {number} timeoutMs */
async function produceRequest(timeoutMs) {
	const records = await encodeBatch([{ offset: 0, timestamp: 1_700_000_000_000, key: null, value: "a", headers: [] }]);
	return { transactionalId: null, acks: -1, timeoutMs, topicData: [{ name: "t", partitionData: [{ index: 0, records }] }] };
}

/** The timers keeping this process (the test and its gateway) alive: a quota wait is one. */
const pendingTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;

/** Whether `done` held within `boundMs`, checked every few milliseconds. @param {() => boolean} done @param {number} boundMs */
async function within(done, boundMs) {
	const until = Date.now() + boundMs;
	while (!done()) {
		if (Date.now() > until) return false;
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
	return true;
}

test("a Produce answered 429 (Retry-After 4 s) past its timeout_ms of 500: its partition is answered REQUEST_TIMED_OUT then, not sent again", async () => {
	opened = 0;
	const client = await connectClient(gateway.port, "quota-deadline");
	try {
		const started = Date.now();
		const answer = await client.send("Produce", 9, await produceRequest(500));
		const tookMs = Date.now() - started;
		assert.equal(opened, 1, "produce channels opened (one a send)");
		assert.equal(answer.responses[0].partitionResponses[0].errorCode, KAFKA.REQUEST_TIMED_OUT);
		assert.ok(tookMs < RETRY_AFTER_MS, `answered after ${tookMs} ms, not at its timeout`);
	} finally {
		client.close();
	}
});

test("a Produce waiting out a 429 when its connection closes: the wait ends with it, its timer cleared, nothing sent again", async () => {
	opened = 0;
	const client = await connectClient(gateway.port, "quota-closed");
	const timersBefore = pendingTimers();
	const refused = new Promise((resolve) => {
		onOpen = () => resolve(undefined);
	});
	void client.send("Produce", 9, await produceRequest(30_000)).catch(() => {});
	await refused;
	assert.ok(await within(() => pendingTimers() > timersBefore, SEEN_WITHIN_MS), "the gateway waits out the 429");
	client.close();
	const ended = await within(() => pendingTimers() === timersBefore, SEEN_WITHIN_MS);
	assert.ok(ended, `the quota wait still pending ${SEEN_WITHIN_MS} ms after its connection closed`);
	assert.equal(opened, 1, "produce channels opened (one a send)");
});

/** Each topic admin request, over its key's quota: its wait ends at its timeoutMs, as Produce's does. */
const ADMIN_REQUESTS = [
	{
		api: "CreateTopics",
		version: 5,
		body: {
			topics: [{ name: "t", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
			timeoutMs: 500,
			validateOnly: true,
		},
		errorOf: (/** @type {any} */ a) => a.topics[0].errorCode,
	},
	{
		api: "DeleteTopics",
		version: 5,
		body: { topicNames: ["t"], timeoutMs: 500 },
		errorOf: (/** @type {any} */ a) => a.responses[0].errorCode,
	},
	// v6 describes the topic first (its id): a describe still over quota at the deadline ends it, no delete sent after it.
	{
		api: "DeleteTopics",
		version: 6,
		body: { topics: [{ name: "t", topicId: NO_TOPIC_ID }], timeoutMs: 500 },
		errorOf: (/** @type {any} */ a) => a.responses[0].errorCode,
	},
	{
		api: "DeleteRecords",
		version: 2,
		body: { topics: [{ name: "t", partitions: [{ partitionIndex: 0, offset: 1 }] }], timeoutMs: 500 },
		errorOf: (/** @type {any} */ a) => a.topics[0].partitions[0].errorCode,
	},
	{
		api: "CreatePartitions",
		version: 3,
		body: { topics: [{ name: "t", count: 2, assignments: null }], timeoutMs: 500, validateOnly: false },
		errorOf: (/** @type {any} */ a) => a.results[0].errorCode,
	},
];

for (const { api, version, body, errorOf } of ADMIN_REQUESTS)
	test(`a ${api} v${version} answered 429 (Retry-After 4 s) past its timeoutMs of 500: REQUEST_TIMED_OUT then, not sent again`, async () => {
		adminSends = 0;
		const client = await connectClient(gateway.port, `quota-${api}`);
		try {
			const started = Date.now();
			const answer = await client.send(api, version, body);
			const tookMs = Date.now() - started;
			assert.equal(adminSends, 1, `${api}'s sends to the Worker`);
			assert.equal(errorOf(answer), KAFKA.REQUEST_TIMED_OUT);
			assert.ok(tookMs < RETRY_AFTER_MS, `answered after ${tookMs} ms, not at its timeout`);
		} finally {
			client.close();
		}
	});
