/**
 * Produce and Fetch need their topic's timestamp type (`message.timestamp.type`: a LogAppendTime topic's Produce
 * answers the append time, its Fetch batches carry the type bit). They look up that one topic's config, never the
 * listing of every topic (up to 11 pages of 1,000), at most once per TOPIC_CONFIG_CACHE_MS for all connections with
 * the same credentials (never one begun before the connection opened), and afresh after this gateway alters the
 * topic's configs or creates or deletes it. Kafka
 * frames through the whole gateway against a stand-in for Tributary's HTTP API that counts the listings and each
 * topic's config lookups; the gateway's clock is the test's, moved by hand.
 */

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { TOPIC_CONFIG_CACHE_MS } from "../../gateway/limits.js";
import { decodeBatches, encodeBatch } from "../../gateway/protocol/record-batch.js";
import { exchange } from "../e2e/lib/kafka.mjs";
import { connectClient, fetchRequest, gatewayOver, routeServer } from "./lib/stand-in.mjs";

/** Kafka's record batch attribute bit for LogAppendTime (RecordBatch.TIMESTAMP_TYPE_MASK). */
const TIMESTAMP_TYPE_BIT = 0x08;
const PRODUCER_MS = 1_600_000_000_000;
/** The time the stand-in's partitions append at. */
const APPEND_MS = 1_700_000_000_000;
const CONFIG_PATH = /^\/kafka\/v3\/clusters\/tributary\/topics\/([^/]+)\/configs\/message\.timestamp\.type$/;

/** Each topic's timestamp type; several topics exist, as on any cluster with traffic. @type {Map<string, string>} */
const types = new Map();
/** Listings (`GET /v1/topics`) and each topic's config lookups the stand-in received. */
let listings = 0;
/** @type {Map<string, number>} */
const lookups = new Map();

/** Tributary's answers: the listing, one config, produce, records, a config change, create and delete. */
function route(/** @type {string} */ method, /** @type {URL} */ url, /** @type {any} */ body) {
	const path = decodeURIComponent(url.pathname);
	if (method === "GET" && path === "/v1/topics") {
		listings += 1;
		const topics = [...types].map(([name, type], i) => ({
			name,
			topic_id: `0a0b0c0d-0000-4000-8000-${String(i).padStart(12, "0")}`,
			partitions: 1,
			config: { "message.timestamp.type": type },
		}));
		return { status: 200, body: { topics, next_cursor: null } };
	}
	const config = path.match(CONFIG_PATH);
	if (method === "GET" && config !== null) {
		lookups.set(config[1], (lookups.get(config[1]) ?? 0) + 1);
		const type = types.get(config[1]);
		if (type === undefined) return { status: 404, body: { error: { code: "not_found", message: "no such topic" } } };
		return { status: 200, body: { name: "message.timestamp.type", value: type } };
	}
	const altered = path.match(/^\/kafka\/v3\/clusters\/tributary\/topics\/([^/]+)\/configs:alter$/);
	if (method === "POST" && altered !== null) {
		for (const change of body.data) if (!body.validate_only) types.set(altered[1], change.value ?? "CreateTime");
		return { status: 204, body: null };
	}
	if (method === "POST" && path === "/v1/topics") {
		types.set(body.name, body.config["message.timestamp.type"] ?? "CreateTime");
		const topicId = "0a0b0c0d-0000-4000-8000-0000000000ff";
		return { status: 201, body: { name: body.name, topic_id: topicId, partitions: 1, config: body.config } };
	}
	const topic = path.match(/^\/v1\/topics\/([^/]+)$/);
	if (method === "DELETE" && topic !== null) {
		types.delete(topic[1]);
		return { status: 204, body: null };
	}
	const produced = path.match(/^\/v1\/topics\/([^/]+)\/records$/);
	if (method === "POST" && produced !== null) {
		const stamped = types.get(produced[1]) === "LogAppendTime";
		const offsets = body.records.map((/** @type {any} */ r, i) => ({
			partition: 0,
			offset: i,
			timestamp: stamped ? APPEND_MS : r.timestamp,
		}));
		return { status: 200, body: { offsets } };
	}
	const read = path.match(/^\/v1\/topics\/([^/]+)\/partitions\/0\/records$/);
	if (method === "GET" && read !== null) {
		const records = [{ offset: 0, timestamp: APPEND_MS, key: null, value: "r0" }];
		return { status: 200, body: { records, high_watermark: 1, next_offset: 1, log_start_offset: 0 } };
	}
	return { status: 404, body: { error: { code: "not_found", message: `${method} ${path}` } } };
}

const worker = routeServer(route);
/** The gateway's clock: it stands still unless a test moves it, so no cache expires on a slow machine. */
let nowMs = 1_000_000;
const gateway = gatewayOver(worker, { now: () => nowMs });

beforeEach(() => {
	types.clear();
	for (const name of ["busy", "quiet", "audit"]) types.set(name, "CreateTime");
	// Past every cache the previous test filled.
	nowMs += 10 * TOPIC_CONFIG_CACHE_MS;
	listings = 0;
	lookups.clear();
});

/** @typedef {(name: string, version: number, body: object) => Promise<any>} Send one request and its answer */

/** A connection of its own for each request. @type {Send} */
const apart = (name, version, body) => exchange(gateway.port, name, version, body);

/** Runs `steps` with a Kafka client connection, as a producer or consumer keeps one. @param {(send: Send) => Promise<void>} steps */
async function onOneConnection(steps) {
	const client = await connectClient(gateway.port, "timestamp-types");
	try {
		await steps(client.send);
	} finally {
		client.close();
	}
}

/** Produce v9 of one record to partition 0 of `topic`: its partition answer. @param {Send} send @param {string} topic */
async function produceTo(send, topic) {
	const records = await encodeBatch([{ offset: 0, timestamp: PRODUCER_MS, key: null, value: "v", headers: [] }]);
	const request = {
		transactionalId: null,
		acks: -1,
		timeoutMs: 1_000,
		topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
	};
	const [partition] = (await send("Produce", 9, request)).responses[0].partitionResponses;
	assert.equal(partition.errorCode, KAFKA.NONE);
	return partition;
}

/** Fetch v12 of partition 0 of `topic` from offset 0: its batches' attributes. @param {Send} send @param {string} topic */
async function fetchAttributes(send, topic) {
	const partitions = [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1_048_576, logStartOffset: -1, currentLeaderEpoch: -1 }];
	const request = fetchRequest([{ topic, partitions }]);
	const [partition] = (await send("Fetch", 12, request)).responses[0].partitions;
	assert.equal(partition.errorCode, KAFKA.NONE);
	return (await decodeBatches(partition.records)).map((b) => b.attributes & TIMESTAMP_TYPE_BIT);
}

test("repeated Produce and Fetch to one topic list no topics, and look its config up once per TOPIC_CONFIG_CACHE_MS, one lookup in flight", async () => {
	await onOneConnection(async (send) => {
		for (let i = 0; i < 3; i++) {
			assert.equal((await produceTo(send, "busy")).logAppendTimeMs, -1);
			assert.deepEqual(await fetchAttributes(send, "busy"), [0]);
		}
	});
	assert.equal(listings, 0, "no listing of every topic on the data path");
	assert.deepEqual([...lookups], [["busy", 1]]);
	nowMs += TOPIC_CONFIG_CACHE_MS;
	// Connections of their own, open before any of them asks, all asking at once: one lookup answers them all.
	const clients = await Promise.all(Array.from({ length: 4 }, () => connectClient(gateway.port, "timestamp-types")));
	try {
		// Answered, so each is open on the gateway's side too before the first lookup begins.
		for (const c of clients) assert.equal((await c.send("ApiVersions", 2, {})).errorCode, KAFKA.NONE);
		const answers = await Promise.all([
			produceTo(clients[0].send, "busy"),
			produceTo(clients[1].send, "busy"),
			fetchAttributes(clients[2].send, "busy"),
			fetchAttributes(clients[3].send, "busy"),
		]);
		assert.deepEqual(
			answers.map((a) => ("logAppendTimeMs" in a ? a.logAppendTimeMs : a)),
			[-1, -1, [0], [0]],
		);
	} finally {
		for (const c of clients) c.close();
	}
	assert.equal(listings, 0);
	assert.deepEqual([...lookups], [["busy", 2]]);
});

test("a config altered elsewhere (over HTTP, another gateway) shows to a connection opened since at once, and to an older one within TOPIC_CONFIG_CACHE_MS", async () => {
	await onOneConnection(async (send) => {
		assert.equal((await produceTo(send, "busy")).logAppendTimeMs, -1);
		types.set("busy", "LogAppendTime");
		// Still within the older connection's lookup: a broker's config lags as much.
		assert.equal((await produceTo(send, "busy")).logAppendTimeMs, -1);
		assert.equal((await produceTo(apart, "busy")).logAppendTimeMs, APPEND_MS, "a new connection's first Produce");
		assert.deepEqual(await fetchAttributes(apart, "busy"), [TIMESTAMP_TYPE_BIT], "a new connection's first Fetch");
		types.set("busy", "CreateTime");
		nowMs += TOPIC_CONFIG_CACHE_MS;
		assert.equal((await produceTo(send, "busy")).logAppendTimeMs, -1, "the older connection, once its lookup is that old");
		assert.deepEqual(await fetchAttributes(send, "busy"), [0]);
	});
	assert.equal(listings, 0);
});

test("a config altered through the gateway is seen by the connection's next Produce and Fetch (LogAppendTime's append time and batch bit)", async () => {
	await onOneConnection(async (send) => {
		assert.equal((await produceTo(send, "busy")).logAppendTimeMs, -1);
		const change = { name: "message.timestamp.type", configOperation: 0, value: "LogAppendTime" };
		const altered = await send("IncrementalAlterConfigs", 1, {
			resources: [{ resourceType: 2, resourceName: "busy", configs: [change] }],
			validateOnly: false,
		});
		assert.equal(altered.responses[0].errorCode, KAFKA.NONE);
		assert.equal((await produceTo(send, "busy")).logAppendTimeMs, APPEND_MS);
		assert.deepEqual(await fetchAttributes(send, "busy"), [TIMESTAMP_TYPE_BIT]);
	});
	assert.equal(listings, 0);
});

test("a topic deleted and created again through the gateway is looked up afresh: the new topic's timestamp type answers", async () => {
	await onOneConnection(async (send) => {
		assert.equal((await produceTo(send, "busy")).logAppendTimeMs, -1);
		const deleted = await send("DeleteTopics", 4, { topicNames: ["busy"], timeoutMs: 1_000 });
		assert.equal(deleted.responses[0].errorCode, KAFKA.NONE);
		const configs = [{ name: "message.timestamp.type", value: "LogAppendTime" }];
		const created = await send("CreateTopics", 5, {
			topics: [{ name: "busy", numPartitions: 1, replicationFactor: 1, assignments: [], configs }],
			timeoutMs: 1_000,
			validateOnly: false,
		});
		assert.equal(created.topics[0].errorCode, KAFKA.NONE);
		assert.equal((await produceTo(send, "busy")).logAppendTimeMs, APPEND_MS);
	});
});

test("a lookup Tributary refuses is answered as CreateTime and not kept: the next request looks the topic up again", async () => {
	await onOneConnection(async (send) => {
		for (let i = 0; i < 2; i++) assert.equal((await produceTo(send, "unknown-config")).logAppendTimeMs, -1);
	});
	assert.deepEqual([...lookups], [["unknown-config", 2]]);
});
