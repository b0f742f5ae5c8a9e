// @ts-check
/**
 * CreateTopics whose create may have landed, through the whole gateway (a Kafka connection, its codec, the handler, the
 * HTTP client) against a stand-in for Tributary: as the SDK's and the CLI's `topics.create`, the gateway sends a create
 * whose answer was lost again, and takes the repeat's 409 `topic_exists` as this create's topic only when the topic is
 * as asked (its partitions, every config given, no other config set); one not as asked is TOPIC_ALREADY_EXISTS,
 * saying how it differs. Before, the lost answer closed the connection, and the Kafka client's retry met
 * TOPIC_ALREADY_EXISTS for the topic its own first try made.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { connectClient, gatewayOver } from "./lib/stand-in.mjs";

const CLUSTER = "tributary";
const TOPIC_ID = "0f8fad5b-d9cb-469f-a165-70867728950e";

/**
 * The topics the stand-in holds, by name: its partition count and the configs set on it (the rest at their defaults).
 * @type {Map<string, { partitions: number, config: Record<string, string> }>}
 */
const topics = new Map();
/** Names whose next create is served and its answer lost (the connection reset once the topic is made). */
const loseNext = new Set();
/**
 * Names whose next create is answered 201 with a body that is not JSON (cut off on its way); "gone": deleted at once;
 * "empty": answered 201 with no body at all.
 */
const unreadableNext = new Map();
/** @type {string[]} */
const calls = [];
const DEFAULTS = { "retention.ms": "604800000", "cleanup.policy": "delete" };

/** @param {import("node:http").ServerResponse} res @param {number} status @param {unknown} body */
function send(res, status, body) {
	res.statusCode = status;
	res.setHeader("content-type", "application/json");
	res.end(JSON.stringify(body));
}

const worker = createServer((req, res) => {
	/** @type {Buffer[]} */
	const chunks = [];
	req.on("data", (chunk) => chunks.push(chunk));
	req.on("end", () => {
		const path = new URL(req.url ?? "/", "http://worker").pathname;
		calls.push(`${req.method} ${path}`);
		if (req.method === "POST" && path === "/v1/topics") {
			const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
			if (topics.has(body.name)) {
				return send(res, 409, { error: { code: "topic_exists", message: `topic "${body.name}" already exists`, retriable: false } });
			}
			topics.set(body.name, { partitions: body.partitions ?? 1, config: body.config ?? {} });
			if (loseNext.delete(body.name)) return req.socket.destroy();
			const unreadable = unreadableNext.get(body.name);
			if (unreadable !== undefined) {
				unreadableNext.delete(body.name);
				if (unreadable === "gone") topics.delete(body.name);
				res.statusCode = 201;
				if (unreadable === "empty") return res.end();
				res.setHeader("content-type", "application/json");
				return res.end(`{"name":"${body.name}","topic_id":"${TOPIC_ID.slice(0, 8)}`);
			}
			return send(res, 201, {
				name: body.name,
				topic_id: TOPIC_ID,
				partitions: body.partitions ?? 1,
				config: { ...DEFAULTS, ...body.config },
			});
		}
		const described = /^\/v1\/topics\/([^/]+)$/.exec(path);
		const topic = described && topics.get(decodeURIComponent(described[1]));
		if (req.method === "GET" && described && topic) {
			const partitions = Array.from({ length: topic.partitions }, (_, partition) => ({
				partition,
				log_start_offset: 0,
				high_watermark: 0,
			}));
			const name = decodeURIComponent(described[1]);
			return send(res, 200, { name, topic_id: TOPIC_ID, partitions, config: { ...DEFAULTS, ...topic.config }, location_hint: null });
		}
		if (req.method === "GET" && path === "/kafka/v3/clusters") return send(res, 200, { data: [{ cluster_id: CLUSTER }] });
		const configs = new RegExp(`^/kafka/v3/clusters/${CLUSTER}/topics/([^/]+)/configs$`).exec(path);
		const configured = configs && topics.get(decodeURIComponent(configs[1]));
		if (req.method === "GET" && configs && configured) {
			const all = { ...DEFAULTS, ...configured.config };
			const data = Object.entries(all).map(([name, value]) => ({
				cluster_id: CLUSTER,
				name,
				value,
				is_default: !(name in configured.config),
			}));
			return send(res, 200, { data });
		}
		send(res, 404, { error: { code: "not_found", message: `${req.method} ${path}` } });
	});
});

const gateway = gatewayOver(worker);

/** @param {string} name @param {number} numPartitions @param {{ name: string, value: string }[]} [configs] */
const creatable = (name, numPartitions, configs = []) => ({ name, numPartitions, replicationFactor: 1, assignments: [], configs });

test("a create whose answer was lost is sent again, and its topic_exists is the topic made: answered created", async () => {
	calls.length = 0;
	loseNext.add("orders");
	const client = await connectClient(gateway.port, "lost-create");
	try {
		const configs = [{ name: "retention.ms", value: "3600000" }];
		const answer = await client.send("CreateTopics", 7, {
			topics: [creatable("orders", 2, configs)],
			timeoutMs: 5_000,
			validateOnly: false,
		});
		const [result] = answer.topics;
		assert.equal(result.errorCode, KAFKA.NONE, result.errorMessage);
		assert.equal(result.numPartitions, 2);
		assert.equal(result.configs.find((/** @type {any} */ c) => c.name === "retention.ms")?.value, "3600000");
		assert.deepEqual(
			calls.filter((c) => c.startsWith("POST")),
			["POST /v1/topics", "POST /v1/topics"],
		);
	} finally {
		client.close();
	}
});

test("a create whose answer was lost, refused topic_exists for a topic not as asked: TOPIC_ALREADY_EXISTS, saying how it differs", async () => {
	calls.length = 0;
	// Another admin made "payments" with 3 partitions; this create's first try reached nothing, its answer lost.
	topics.set("payments", { partitions: 3, config: {} });
	const client = await connectClient(gateway.port, "lost-create-unlike");
	try {
		worker.once("request", (req) => {
			if (req.method === "POST") req.socket.destroy();
		});
		const answer = await client.send("CreateTopics", 7, { topics: [creatable("payments", 1)], timeoutMs: 5_000, validateOnly: false });
		const [result] = answer.topics;
		assert.equal(result.errorCode, KAFKA.TOPIC_ALREADY_EXISTS);
		assert.match(result.errorMessage, /not as asked: 3 partitions, not 1/);
	} finally {
		client.close();
	}
});

test("a create refused topic_exists at its first try is TOPIC_ALREADY_EXISTS, the topic not read", async () => {
	calls.length = 0;
	topics.set("existing", { partitions: 1, config: {} });
	const client = await connectClient(gateway.port, "exists");
	try {
		const answer = await client.send("CreateTopics", 7, { topics: [creatable("existing", 1)], timeoutMs: 5_000, validateOnly: false });
		assert.equal(answer.topics[0].errorCode, KAFKA.TOPIC_ALREADY_EXISTS);
		assert.deepEqual(calls, ["POST /v1/topics"]);
	} finally {
		client.close();
	}
});

test("a create answered 201 with a body that cannot be read is the topic made: read back, answered created with its id", async () => {
	calls.length = 0;
	unreadableNext.set("unread", "kept");
	const client = await connectClient(gateway.port, "unreadable-create");
	try {
		const answer = await client.send("CreateTopics", 7, { topics: [creatable("unread", 2)], timeoutMs: 5_000, validateOnly: false });
		const [result] = answer.topics;
		assert.equal(result.errorCode, KAFKA.NONE, result.errorMessage);
		assert.equal(result.topicId, TOPIC_ID.replaceAll("-", ""), "the topic's id, read back");
		assert.equal(result.numPartitions, 2);
		assert.deepEqual(calls, ["POST /v1/topics", "GET /v1/topics/unread", `GET /kafka/v3/clusters/${CLUSTER}/topics/unread/configs`]);
	} finally {
		client.close();
	}
});

test("a create answered 201 unreadably whose topic cannot be read back: REQUEST_TIMED_OUT, its outcome unknown", async () => {
	unreadableNext.set("unread-gone", "gone");
	const client = await connectClient(gateway.port, "unreadable-gone");
	try {
		const answer = await client.send("CreateTopics", 7, { topics: [creatable("unread-gone", 1)], timeoutMs: 5_000, validateOnly: false });
		const [result] = answer.topics;
		assert.equal(result.errorCode, KAFKA.REQUEST_TIMED_OUT, result.errorMessage);
		assert.match(result.errorMessage, /outcome is unknown/);
		assert.equal(result.topicId, "00000000000000000000000000000000");
	} finally {
		client.close();
	}
});

test("a create answered 201 with no body at all is the topic made: read back, answered created with its id", async () => {
	calls.length = 0;
	unreadableNext.set("unread-empty", "empty");
	const client = await connectClient(gateway.port, "empty-create");
	try {
		const answer = await client.send("CreateTopics", 7, { topics: [creatable("unread-empty", 2)], timeoutMs: 5_000, validateOnly: false });
		const [result] = answer.topics;
		assert.equal(result.errorCode, KAFKA.NONE, result.errorMessage);
		assert.equal(result.topicId, TOPIC_ID.replaceAll("-", ""), "the topic's id, read back");
		assert.equal(result.numPartitions, 2);
		assert.deepEqual(calls, [
			"POST /v1/topics",
			"GET /v1/topics/unread-empty",
			`GET /kafka/v3/clusters/${CLUSTER}/topics/unread-empty/configs`,
		]);
	} finally {
		client.close();
	}
});
