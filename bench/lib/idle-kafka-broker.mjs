#!/usr/bin/env node
// @ts-check
/**
 * @module
 * A Kafka broker that does nothing: every Produce is answered at once (offsets counted, records not even read),
 * Metadata names one partition of whatever topic is asked, with this broker its leader. `npm run bench:kafka` runs
 * kafkajs against it, as its own process like the gateway, to measure what kafkajs alone costs a produce: its
 * encoding of the batch (a JavaScript CRC-32C and an encoder that grows its buffer by copying) and its own socket
 * writes, which the HTTP side of the comparison does not pay. Tributary's produce is then the only work kafkajs →
 * gateway adds, so this row bounds what the gateway's ratio can reach on the same machine.
 *
 * Run as `node bench/lib/idle-kafka-broker.mjs`; prints `listening on HOST:PORT ` on stderr once it listens.
 */

import { createServer } from "node:net";

// The gateway's codec, loaded by URL as test/e2e/lib/kafka.mjs loads it: the gateway is typechecked under its own
// tsconfig (gateway/tsconfig.json), not the tools' stricter one.
const { FrameBuffer } = await import(new URL("../../gateway/frames.js", import.meta.url).href);
const { API_VERSIONS_KEY, advertisedApis, decodeBody, decodeRequest, encodeResponse } = await import(
	new URL("../../gateway/protocol/apis.js", import.meta.url).href
);

const HOST = "127.0.0.1";
const NODE_ID = 0;
/** Kafka's "not asked for" authorized operations. */
const NO_OPERATIONS = -2147483648;
/** Kafka's "no topic id" (Uuid.ZERO_UUID). */
const NO_TOPIC_ID = "0".repeat(32);

let nextOffset = 0;

/**
 * The answer to one request, or an Error for an API this broker does not play.
 * @param {string} name @param {any} body @param {number} port
 */
function answer(name, body, port) {
	if (name === "Metadata") {
		const topics = (body.topics ?? []).map((/** @type {{ name: string }} */ t) => ({
			errorCode: 0,
			name: t.name,
			topicId: NO_TOPIC_ID,
			isInternal: false,
			partitions: [
				{
					errorCode: 0,
					partitionIndex: 0,
					leaderId: NODE_ID,
					leaderEpoch: 0,
					replicaNodes: [NODE_ID],
					isrNodes: [NODE_ID],
					offlineReplicas: [],
				},
			],
			topicAuthorizedOperations: NO_OPERATIONS,
		}));
		const brokers = [{ nodeId: NODE_ID, host: HOST, port, rack: null }];
		return { throttleTimeMs: 0, brokers, clusterId: "idle", controllerId: NODE_ID, topics, clusterAuthorizedOperations: NO_OPERATIONS };
	}
	if (name === "Produce") {
		const responses = body.topicData.map((/** @type {any} */ t) => ({
			name: t.name,
			partitionResponses: t.partitionData.map((/** @type {{ index: number }} */ p) => {
				const baseOffset = nextOffset;
				nextOffset += 1;
				return { index: p.index, errorCode: 0, baseOffset, logAppendTimeMs: -1, logStartOffset: 0 };
			}),
		}));
		return { throttleTimeMs: 0, responses };
	}
	if (name === "InitProducerId") return { throttleTimeMs: 0, errorCode: 0, producerId: 1, producerEpoch: 0 };
	return new Error(`the idle broker does not answer ${name}`);
}

const server = createServer((socket) => {
	socket.setNoDelay(true);
	const frames = new FrameBuffer();
	socket.on("data", (chunk) => {
		for (const frame of frames.push(chunk)) {
			const { apiKey, apiVersion, correlationId, api, reader } = decodeRequest(frame);
			if (api === undefined) throw new Error(`API key ${apiKey} is not served`);
			// KIP-511: ApiVersions answers in v0 whatever version asked, so any client can read it.
			if (apiKey === API_VERSIONS_KEY) {
				socket.write(encodeResponse(api, 0, correlationId, { errorCode: 0, apiKeys: advertisedApis(), throttleTimeMs: 0 }));
				continue;
			}
			const response = answer(api.name, decodeBody(api, apiVersion, reader).body, port);
			if (response instanceof Error) throw response;
			socket.write(encodeResponse(api, apiVersion, correlationId, response));
		}
	});
});

let port = 0;
server.listen(0, HOST, () => {
	port = /** @type {import("node:net").AddressInfo} */ (server.address()).port;
	console.error(`idle-kafka-broker: listening on ${HOST}:${port} `);
});
process.once("SIGTERM", () => process.exit(0));
