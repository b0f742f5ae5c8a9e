// @ts-check
/**
 * CreateTopics' timeout_ms against the gateway's own retries of a create (CREATE_TOPIC_RETRIES, each honouring
 * Retry-After up to the SDK's 30 s): a broker answers within timeout_ms, REQUEST_TIMED_OUT for a topic not done by then,
 * and answers per topic, so one topic with no answer does not lose the others' answers.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { connectClient, gatewayOver } from "./lib/stand-in.mjs";

let refusals = 2;
const worker = createServer((req, res) => {
	req.resume();
	req.on("end", () => {
		res.setHeader("content-type", "application/json");
		if (req.method === "POST" && refusals-- > 0) {
			res.statusCode = 503;
			res.setHeader("retry-after", "4");
			return res.end(JSON.stringify({ error: { code: "unavailable", message: "overloaded", retriable: true } }));
		}
		res.statusCode = 201;
		res.end(JSON.stringify({ name: "slow", topic_id: "0f8fad5b-d9cb-469f-a165-70867728950e", partitions: 1, config: {} }));
	});
});
const gateway = gatewayOver(worker);

test("CreateTopics with timeoutMs 2000, its create refused 503 Retry-After: 4 twice: answered within about its timeout, not after the retries", async () => {
	const client = await connectClient(gateway.port, "create-timeout");
	try {
		const timersBefore = pendingTimers();
		const started = Date.now();
		const answer = await client.send("CreateTopics", 7, {
			topics: [{ name: "slow", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
			timeoutMs: 2_000,
			validateOnly: false,
		});
		const tookMs = Date.now() - started;
		assert.ok(tookMs < 4_000, `answered after ${tookMs} ms (timeoutMs 2000), errorCode ${answer.topics[0].errorCode}`);
		assert.equal(answer.topics[0].errorCode, KAFKA.REQUEST_TIMED_OUT);
		// The SDK's wait before its next try (Retry-After: 4, past the deadline) ends with the deadline, no timer left.
		assert.equal(pendingTimers(), timersBefore, "timers pending after the answer, as before the request");
	} finally {
		client.close();
	}
});

/** The timers keeping this process (the test and its gateway) alive. */
const pendingTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;

/** Creates "good"; every create of "bad" is served nowhere, its connection reset (no answer, tries spent). */
const twoTopics = createServer((req, res) => {
	/** @type {Buffer[]} */
	const chunks = [];
	req.on("data", (chunk) => chunks.push(chunk));
	req.on("end", () => {
		const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
		if (body.name === "bad") return req.socket.destroy();
		res.statusCode = 201;
		res.setHeader("content-type", "application/json");
		res.end(JSON.stringify({ name: body.name, topic_id: "0f8fad5b-d9cb-469f-a165-70867728950e", partitions: 1, config: {} }));
	});
});
const twoGateway = gatewayOver(twoTopics);

test("CreateTopics of two topics, one whose creates all go unanswered: the other's created is answered, per topic", async () => {
	const client = await connectClient(twoGateway.port, "create-two");
	try {
		const topic = (/** @type {string} */ name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] });
		const answer = await client.send("CreateTopics", 7, { topics: [topic("good"), topic("bad")], timeoutMs: 5_000, validateOnly: false });
		const byName = Object.fromEntries(answer.topics.map((/** @type {any} */ t) => [t.name, t.errorCode]));
		assert.equal(byName.good, KAFKA.NONE);
		assert.equal(byName.bad, KAFKA.REQUEST_TIMED_OUT);
	} finally {
		client.close();
	}
});

/** Every create is held unanswered; `createsEnded` resolves when the gateway ends one (closes its connection). */
let createEnded = () => {};
const createsEnded = new Promise((resolve) => {
	createEnded = () => resolve(undefined);
});
const hanging = createServer((req) => {
	req.resume();
	req.socket.once("close", () => createEnded());
});
const hangingGateway = gatewayOver(hanging);

/** Longer than the abort takes, far shorter than the gateway's HTTP_TIMEOUT_MS (30 s), which ended the try before. */
const CUT_OFF_WITHIN_MS = 10_000;

test("CreateTopics with timeoutMs 500 whose create is never answered: the try under way is cut off at the deadline, its topic REQUEST_TIMED_OUT (outcome unknown)", async () => {
	const client = await connectClient(hangingGateway.port, "create-cut-off");
	try {
		const answer = await client.send("CreateTopics", 7, {
			topics: [{ name: "held", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
			timeoutMs: 500,
			validateOnly: false,
		});
		const [topic] = answer.topics;
		assert.equal(topic.errorCode, KAFKA.REQUEST_TIMED_OUT);
		assert.match(topic.errorMessage, /its outcome is unknown \(the topic may exist\)/);
		const cut = await Promise.race([createsEnded.then(() => true), delay(CUT_OFF_WITHIN_MS).then(() => false)]);
		assert.ok(cut, `the create still under way ${CUT_OFF_WITHIN_MS} ms after its answer`);
	} finally {
		client.close();
	}
});

/** @param {number} ms */
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());
