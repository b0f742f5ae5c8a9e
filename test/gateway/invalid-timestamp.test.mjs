/**
 * A produce Tributary refuses for a record timestamp outside the topic's `message.timestamp.{before,after}.max.ms`
 * window (its `invalid_timestamp`) is Kafka's INVALID_TIMESTAMP (32) for that partition, as a broker answers a batch
 * its LogValidator refuses (KIP-937), while the request's other partitions are answered on their own. Frames go
 * through the whole gateway against a stand-in for Tributary's HTTP API that refuses timestamps before a cutoff.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { encodeBatch } from "../../gateway/protocol/record-batch.js";
import { exchange } from "../e2e/lib/kafka.mjs";
import { gatewayOver } from "./lib/stand-in.mjs";

/** The stand-in's window starts here: a record timestamped earlier is refused, its whole request unwritten. */
const EARLIEST_MS = 1_700_000_000_000;

/** @type {{ topic: string, timestamps: number[] }[]} */
const written = [];

const worker = createServer((req, res) => {
	/** @type {Buffer[]} */
	const chunks = [];
	req.on("data", (chunk) => chunks.push(chunk));
	req.on("end", () => {
		const path = decodeURIComponent(new URL(req.url ?? "/", "http://worker").pathname);
		const produced = path.match(/^\/v1\/topics\/([^/]+)\/records$/);
		/** @type {{ status: number, body: any }} */
		let answer = { status: 200, body: { topics: [], next_cursor: null } };
		if (req.method === "POST" && produced !== null) {
			const records = JSON.parse(Buffer.concat(chunks).toString("utf8")).records;
			const timestamps = records.map((/** @type {any} */ r) => r.timestamp);
			const index = timestamps.findIndex((/** @type {number} */ t) => t < EARLIEST_MS);
			if (index >= 0) {
				const message = `records[${index}]: timestamp ${timestamps[index]} is outside ${EARLIEST_MS} to …`;
				answer = { status: 400, body: { error: { code: "invalid_timestamp", message, retriable: false, index } } };
			} else {
				written.push({ topic: produced[1], timestamps });
				answer = {
					status: 200,
					body: { offsets: records.map((/** @type {any} */ r, i) => ({ partition: r.partition, offset: i, timestamp: r.timestamp })) },
				};
			}
		}
		res.statusCode = answer.status;
		res.setHeader("content-type", "application/json");
		res.end(JSON.stringify(answer.body));
	});
});
const gateway = gatewayOver(worker);

/** @param {number[]} timestamps */
function batch(timestamps) {
	return encodeBatch(timestamps.map((timestamp, offset) => ({ offset, timestamp, key: null, value: `v${offset}`, headers: [] })));
}

test("a partition whose batch holds a timestamp Tributary refuses is INVALID_TIMESTAMP; the other partition is written", async () => {
	const request = {
		transactionalId: null,
		acks: -1,
		timeoutMs: 1_000,
		topicData: [
			{
				name: "events",
				partitionData: [
					{ index: 0, records: await batch([EARLIEST_MS + 5, EARLIEST_MS - 1]) },
					{ index: 1, records: await batch([EARLIEST_MS + 7]) },
				],
			},
		],
	};
	const answer = await exchange(gateway.port, "Produce", 9, request);
	const [refused, taken] = answer.responses[0].partitionResponses;
	assert.deepEqual([refused.index, refused.errorCode, refused.baseOffset], [0, KAFKA.INVALID_TIMESTAMP, -1]);
	assert.match(refused.errorMessage, /^records\[1\]: timestamp 1699999999999 is outside/);
	assert.deepEqual([taken.index, taken.errorCode], [1, KAFKA.NONE]);
	assert.deepEqual(written, [{ topic: "events", timestamps: [EARLIEST_MS + 7] }]);
});
