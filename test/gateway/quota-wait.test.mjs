// @ts-check
/**
 * The gateway's wait on a key over its quota (a 429 and its Retry-After, sat out before sending again, as a broker
 * delays its answer) ends with the Kafka request: at its Produce's timeout_ms, or when its connection ends. Past
 * either no client reads what a send again would answer, and each send counts against the key's quota.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { encodeBatch } from "../../gateway/protocol/record-batch.js";
import { connectClient, gatewayOver, routeServer } from "./lib/stand-in.mjs";

/** The stand-in's Retry-After: under the gateway's QUOTA_WAIT_MS_MAX, so the gateway sits it out. */
const RETRY_AFTER_MS = 4_000;
/** A bound on what takes milliseconds (a closed socket seen by the gateway), well under RETRY_AFTER_MS. */
const SEEN_WITHIN_MS = 3_000;

/** Produce channels the gateway opened: each refused 429, as the Worker refuses one over the key's quota. */
let opened = 0;
let onOpen = () => {};
const worker = routeServer(() => ({ status: 200, body: { name: "message.timestamp.type", value: "CreateTime" } }));
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
