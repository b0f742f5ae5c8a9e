/**
 * The gateway's produce over Tributary's streaming produce channel (gateway/produce-channel.js), against a stand-in
 * Worker: Produces share one kept-open channel per partition and credentials, opened with `?checks=message`, each answered
 * by its own report; a channel dropped with a produce in flight answers that produce a retriable code on the same
 * Kafka connection, and the next produce opens another; a channel refused at its opening answers with the refusal's
 * Kafka code; a body larger than a channel message goes as `POST …/records`; no more messages are in flight on a
 * channel than the Worker takes.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { beforeEach, test } from "node:test";
import { WebSocketServer } from "ws";
import { KAFKA } from "../../gateway/errors.js";
import { CHANNEL_IN_FLIGHT_MESSAGES_MAX } from "../../gateway/limits.js";
import { ProduceChannel } from "../../gateway/produce-channel.js";
import { exchange } from "../e2e/lib/kafka.mjs";
import { connectClient, gatewayOver } from "./lib/stand-in.mjs";

const { RecordBatch } = await import("kafkajs/src/protocol/recordBatch/v0/index.js").then((m) => m.default ?? m);
const Record = await import("kafkajs/src/protocol/recordBatch/record/v0/index.js").then((m) => m.default ?? m);

/** @type {{ method: string, path: string, records: number, authorization?: string }[]} the stand-in's requests, in order */
const seen = [];
/** How the stand-in treats the next channel: "serve" (the stand-in's own), "drop" (closes on its first message), "refuse" (404). */
let nextChannel = "serve";

const worker = createServer((req, res) => {
	/** @type {Buffer[]} */
	const chunks = [];
	req.on("data", (c) => chunks.push(c));
	req.on("end", () => {
		const path = new URL(req.url ?? "/", "http://w").pathname;
		const body = chunks.length === 0 ? null : JSON.parse(Buffer.concat(chunks).toString("utf8"));
		seen.push({ method: req.method ?? "", path, records: body?.records?.length ?? 0 });
		res.setHeader("content-type", "application/json");
		if (path.endsWith("/records")) {
			const offsets = body.records.map((/** @type {unknown} */ _, i) => ({ partition: 0, offset: i, timestamp: 1 }));
			return res.end(JSON.stringify({ offsets }));
		}
		res.end(JSON.stringify({ topics: [], next_cursor: null }));
	});
});
const dropping = new WebSocketServer({ noServer: true });
const gateway = gatewayOver(worker, {
	claim(req, socket, head) {
		const how = nextChannel;
		nextChannel = "serve";
		const url = new URL(req.url ?? "/", "http://w");
		seen.push({ method: "GET", path: `${url.pathname}${url.search}`, records: 0, authorization: req.headers.authorization });
		if (how === "refuse") {
			const text = JSON.stringify({ error: { code: "topic_not_found", message: 'topic "t" does not exist' } });
			socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${text.length}\r\n\r\n${text}`);
		} else if (how === "drop") dropping.handleUpgrade(req, socket, head, (ws) => ws.on("message", () => ws.terminate()));
		return how !== "serve";
	},
});

beforeEach(() => {
	seen.length = 0;
});

/** @param {number} count @param {number} [valueBytes] */
async function batch(count, valueBytes = 3) {
	const records = Array.from({ length: count }, (_, offsetDelta) =>
		Record({ offsetDelta, timestampDelta: 0, key: null, value: Buffer.alloc(valueBytes, "v") }),
	);
	return (await RecordBatch({ firstTimestamp: 1, maxTimestamp: 1, lastOffsetDelta: count - 1, records })).buffer;
}

/** Produce v9 of `records` to t-0. @param {Buffer} records */
const produceRequest = (records) => ({
	transactionalId: null,
	acks: -1,
	timeoutMs: 1_000,
	topicData: [{ name: "t", partitionData: [{ index: 0, records }] }],
});

/** The partition's [error code, base offset]. @param {any} answer */
const partitionOf = (answer) => {
	const [partition] = answer.responses[0].partitionResponses;
	return [partition.errorCode, partition.baseOffset];
};

/** Produce v9 of `records` to t-0 on a connection of its own. @param {Buffer} records */
const produce = async (records) => partitionOf(await exchange(gateway.port, "Produce", 9, produceRequest(records)));

const opened = () => seen.filter((r) => r.method === "GET" && r.path.startsWith("/v1/topics/t/records/stream")).length;

/** A WebSocket server on a free port, for one ProduceChannel. */
async function channelServer() {
	const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
	await once(server, "listening");
	const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
	return { server, url: `ws://127.0.0.1:${port}/v1/topics/t/records/stream` };
}

/**
 * A ProduceChannel to `url` whose answers are parsed JSON, with `options` over the defaults.
 * @param {string} url @param {Partial<ConstructorParameters<typeof ProduceChannel>[0]>} [options]
 */
const channelTo = (url, options = {}) =>
	new ProduceChannel({
		url,
		headers: {},
		timeoutMs: 10_000,
		answer: (status, chunks) => ({ status, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }),
		...options,
	});

/** Closes every channel the stand-in holds, and waits for them to be closed (the gateway has its close frame then). */
async function dropAll() {
	for (const ws of gateway.channels) ws.close(1001, "going away");
	await Promise.all(gateway.channels.map((ws) => (ws.readyState === ws.CLOSED ? null : once(ws, "close"))));
}

test("Produces share one kept-open channel, opened with checks=message, each answered by its own report", async () => {
	for (const n of [1, 2, 3]) assert.deepEqual(await produce(await batch(n)), [KAFKA.NONE, 0]);
	assert.equal(opened(), 1, "one channel for three Produces");
	const open = seen.find((r) => r.method === "GET" && r.path.includes("/records/stream"));
	assert.equal(open?.path, "/v1/topics/t/records/stream?checks=message", "each message held to what a request is");
	assert.equal(open?.authorization, "Bearer t", "opened with the connection's credentials");
	assert.deepEqual(
		seen.filter((r) => r.method === "POST").map((r) => r.records),
		[1, 2, 3],
	);
});

test("a channel dropped with a produce in flight answers it LEADER_NOT_AVAILABLE on the same connection; the next opens another", async () => {
	await dropAll();
	const client = await connectClient(gateway.port, "c");
	try {
		nextChannel = "drop";
		assert.deepEqual(partitionOf(await client.send("Produce", 9, produceRequest(await batch(2)))), [KAFKA.LEADER_NOT_AVAILABLE, -1]);
		assert.deepEqual(partitionOf(await client.send("Produce", 9, produceRequest(await batch(3)))), [KAFKA.NONE, 0]);
	} finally {
		client.close();
	}
	assert.equal(opened(), 2, "a new channel after the drop");
	assert.deepEqual(
		seen.filter((r) => r.method === "POST").map((r) => r.records),
		[3],
		"the dropped produce was not written by anyone else",
	);
});

test("a channel refused at its opening answers with the refusal's Kafka code", async () => {
	await dropAll();
	nextChannel = "refuse";
	assert.deepEqual(await produce(await batch(1)), [KAFKA.UNKNOWN_TOPIC_OR_PARTITION, -1]);
	assert.deepEqual(await produce(await batch(1)), [KAFKA.NONE, 0], "the next produce opens a channel again");
});

test("a body larger than a channel message goes as POST …/records", async () => {
	await dropAll();
	assert.deepEqual(await produce(await batch(3, 1024 * 1024)), [KAFKA.NONE, 0]);
	assert.deepEqual(
		seen.filter((r) => r.path.startsWith("/v1/topics/t/records")).map((r) => [r.method, r.path, r.records]),
		[["POST", "/v1/topics/t/records", 3]],
	);
});

test("a channel with no report within its deadline answers what it sent a retriable 503, what it did not yet send another", async () => {
	const { server, url } = await channelServer();
	const channel = channelTo(url, { timeoutMs: 200 });
	try {
		const answer = channel.send(Buffer.from('{"n":0}'));
		const [ws] = await once(server, "connection");
		await once(ws, "message");
		const { status, body } = await answer;
		assert.equal(status, 503);
		assert.equal(body.error.code, "service_unavailable", "it may have been written");
		assert.match(body.error.message, /no report within 200 ms/);
	} finally {
		server.close();
	}
});

test("no more messages are in flight on a channel than the Worker takes: the next goes when a report frees room", async () => {
	const { server, url } = await channelServer();
	const channel = channelTo(url);
	const [ws] = await once(server, "connection");
	try {
		/** @type {Buffer[]} */
		const received = [];
		ws.on("message", (/** @type {Buffer} */ data) => received.push(data));
		const answers = Array.from({ length: CHANNEL_IN_FLIGHT_MESSAGES_MAX + 1 }, (_, i) => channel.send(Buffer.from(`{"n":${i}}`)));
		while (received.length < CHANNEL_IN_FLIGHT_MESSAGES_MAX) await once(ws, "message");
		// The server answers the first only after reading everything the channel sent so far: a ping's pong follows it.
		await new Promise((resolve) => ws.ping(undefined, undefined, resolve));
		await once(ws, "pong");
		assert.equal(received.length, CHANNEL_IN_FLIGHT_MESSAGES_MAX, "the one past the bound waits");
		ws.send('{"offsets":[{"partition":0,"offset":0,"timestamp":1}]}');
		await once(ws, "message");
		assert.equal(received.at(-1)?.toString(), `{"n":${CHANNEL_IN_FLIGHT_MESSAGES_MAX}}`);
		assert.deepEqual(await answers[0], { status: 200, body: { offsets: [{ partition: 0, offset: 0, timestamp: 1 }] } });
		channel.end("done");
		await Promise.all(answers);
	} finally {
		server.close();
	}
});

test("each partition has a channel of its own: a partition that stalls holds no other partition's answers", async () => {
	await dropAll();
	const client = await connectClient(gateway.port, "c");
	try {
		const two = {
			...produceRequest(await batch(1)),
			topicData: [
				{
					name: "t",
					partitionData: [
						{ index: 0, records: await batch(1) },
						{ index: 1, records: await batch(1) },
					],
				},
			],
		};
		await client.send("Produce", 9, two);
	} finally {
		client.close();
	}
	assert.equal(opened(), 2, "one channel for partition 0, one for partition 1");
});

test("a channel with nothing in flight for its idle time is closed 1000, and says it ended (its entry dropped)", async () => {
	const { server, url } = await channelServer();
	let ended = 0;
	const channel = channelTo(url, { timeoutMs: 100, idleMs: 300, onEnd: () => ended++ });
	try {
		const answer = channel.send(Buffer.from('{"n":0}'));
		const [ws] = await once(server, "connection");
		await once(ws, "message");
		ws.send('{"offsets":[{"partition":0,"offset":0,"timestamp":1}]}');
		assert.equal((await answer).status, 200);
		// Past the report deadline (nothing in flight: not a lost report), then the idle time: a clean close.
		const [code, reason] = await once(ws, "close");
		assert.deepEqual([code, reason.toString()], [1000, "idle"]);
		assert.equal(ended, 1);
	} finally {
		server.close();
	}
});

test("a channel that ends (dropped) says so once: the gateway forgets it", async () => {
	const { server, url } = await channelServer();
	let ended = 0;
	const channel = channelTo(url, { onEnd: () => ended++ });
	try {
		const answer = channel.send(Buffer.from('{"n":0}'));
		const [ws] = await once(server, "connection");
		await once(ws, "message");
		ws.terminate();
		assert.equal((await answer).status, 503);
		assert.equal(ended, 1);
		assert.equal(channel.usable, false);
	} finally {
		server.close();
	}
});
