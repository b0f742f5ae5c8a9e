/**
 * DeleteRecords as a Kafka broker answers it, against a stand-in for Tributary's
 * `POST /v1/topics/{topic}/partitions/{p}/delete-records` that records its calls: advertised in v0-2 and decoded in
 * each (v2 flexible), every partition answered on its own with its low watermark or its error, and an offset below -1
 * refused without a call, as Kafka refuses it.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRequest } from "../../gateway/connection.js";
import { KAFKA } from "../../gateway/errors.js";
import { deleteRecords } from "../../gateway/handlers/delete-records.js";
import { WORKER_REQUESTS_AT_ONCE_MAX } from "../../gateway/limits.js";
import { APIS, advertisedApis, codecs, encodeResponse } from "../../gateway/protocol/apis.js";
import { Reader, Writer } from "../../gateway/protocol/io.js";
import { inFlight } from "./lib/in-flight.mjs";

const DELETE_RECORDS_KEY = 21;
const fail = (/** @type {number} */ status, /** @type {string} */ code) => ({ status, body: { error: { code, message: code } } });

/**
 * A Tributary with topic `t` (2 partitions, high watermark 10, log start 2), a compacted topic `c`, and `secret`,
 * which the key may not administer.
 */
function standIn() {
	/** @type {string[]} */
	const calls = [];
	const tributary = {
		/** @param {string} method @param {string} path @param {any} body */
		async call(method, path, body) {
			calls.push(`${method} ${path} ${JSON.stringify(body)}`);
			const [, topic, partition] = /^\/v1\/topics\/([^/]+)\/partitions\/(\d+)\/delete-records$/.exec(path) ?? [];
			if (topic === "secret") return fail(403, "forbidden");
			if (topic === "c") return fail(409, "policy_violation");
			if (topic !== "t") return fail(404, "topic_not_found");
			if (Number(partition) > 1) return fail(404, "partition_not_found");
			if (body.before_offset > 10) return fail(416, "offset_out_of_range");
			const logStart = body.before_offset === -1 ? 10 : Math.max(2, body.before_offset);
			return { status: 200, body: { log_start_offset: logStart } };
		},
	};
	return { tributary, calls };
}

const context = (/** @type {any} */ tributary) => /** @type {any} */ ({ tributary, version: 0, log: () => {} });
const byPartition = (/** @type {any} */ answer) =>
	answer.topics.flatMap((/** @type {any} */ t) =>
		t.partitions.map((/** @type {any} */ p) => [t.name, p.partitionIndex, p.lowWatermark, p.errorCode]),
	);

/** A request frame as a client sends it: header v1 (v2 when flexible) and body, from the message definitions. */
function requestFrame(version, body) {
	const api = /** @type {any} */ (APIS.get(DELETE_RECORDS_KEY));
	const writer = new Writer();
	const flexible = version >= api.request.flexible.min;
	codecs
		.get("RequestHeader")
		.encode(writer, { requestApiKey: api.key, requestApiVersion: version, correlationId: 7, clientId: "test" }, flexible ? 2 : 1);
	api.request.encode(writer, body, version);
	return Buffer.from(writer.done());
}

test("ApiVersions advertises DeleteRecords (21) in v0-2; every version's request and response round-trip, v2 flexible", () => {
	const advertised = new Map(advertisedApis().map((a) => [a.apiKey, [a.minVersion, a.maxVersion]]));
	assert.deepEqual(advertised.get(DELETE_RECORDS_KEY), [0, 2]);
	const api = /** @type {any} */ (APIS.get(DELETE_RECORDS_KEY));
	const request = { topics: [{ name: "t", partitions: [{ partitionIndex: 1, offset: 7 }] }], timeoutMs: 30_000 };
	const response = { throttleTimeMs: 0, topics: [{ name: "t", partitions: [{ partitionIndex: 1, lowWatermark: 7, errorCode: 0 }] }] };
	for (let version = 0; version <= 2; version++) {
		assert.deepEqual(/** @type {any} */ (parseRequest(requestFrame(version, request))).body, request, `request v${version}`);
		const reader = new Reader(encodeResponse(api, version, 7, response).subarray(4));
		codecs.get("ResponseHeader").decode(reader, version >= 2 ? 1 : 0);
		assert.deepEqual(api.response.decode(reader, version), response, `response v${version}`);
	}
});

test("each partition gets its low watermark or its own error; an offset below -1 is OFFSET_OUT_OF_RANGE without a call", async () => {
	const { tributary, calls } = standIn();
	const partitions = (/** @type {[number, number][]} */ list) => list.map(([partitionIndex, offset]) => ({ partitionIndex, offset }));
	const request = {
		topics: [
			{
				name: "t",
				partitions: partitions([
					[0, 5],
					[1, -1],
					[2, 0],
					[0, 11],
					[1, -2],
					[0, 1],
				]),
			},
			{ name: "c", partitions: partitions([[0, 1]]) },
			{ name: "secret", partitions: partitions([[0, 1]]) },
			{ name: "gone", partitions: partitions([[0, 1]]) },
		],
		timeoutMs: 1_000,
	};
	const answer = await deleteRecords(request, context(tributary));
	assert.deepEqual(byPartition(answer), [
		["t", 0, 5, KAFKA.NONE],
		["t", 1, 10, KAFKA.NONE],
		["t", 2, -1, KAFKA.UNKNOWN_TOPIC_OR_PARTITION],
		["t", 0, -1, KAFKA.OFFSET_OUT_OF_RANGE],
		["t", 1, -1, KAFKA.OFFSET_OUT_OF_RANGE],
		["t", 0, 2, KAFKA.NONE],
		["c", 0, -1, KAFKA.POLICY_VIOLATION],
		["secret", 0, -1, KAFKA.TOPIC_AUTHORIZATION_FAILED],
		["gone", 0, -1, KAFKA.UNKNOWN_TOPIC_OR_PARTITION],
	]);
	assert.equal(calls.length, 8, "every partition but the one at -2 was asked for");
	assert.ok(calls.includes('POST /v1/topics/t/partitions/1/delete-records {"before_offset":-1}'), calls.join("\n"));
});

test("a DeleteRecords of many partitions asks the Worker at most WORKER_REQUESTS_AT_ONCE_MAX at a time, each answer in its place", async () => {
	const calls = inFlight();
	const { tributary: standInTributary } = standIn();
	const tributary = {
		call: (/** @type {string} */ method, /** @type {string} */ path, /** @type {any} */ body) =>
			calls.answer(() => standInTributary.call(method, path, body)),
	};
	// Topic t's partitions 0 and 1, and a partition it does not have, each asked many times with offsets around its end.
	const partitions = Array.from({ length: 256 }, (_, i) => ({ partitionIndex: i % 3, offset: (i % 13) - 1 }));
	const request = {
		topics: [
			{ name: "t", partitions },
			{ name: "c", partitions: partitions.slice(0, 8) },
		],
		timeoutMs: 1_000,
	};
	const answer = await deleteRecords(request, context(tributary));
	const expected = (/** @type {string} */ name, /** @type {{ partitionIndex: number, offset: number }} */ p) => {
		if (name === "c") return [name, p.partitionIndex, -1, KAFKA.POLICY_VIOLATION];
		if (p.partitionIndex > 1) return [name, p.partitionIndex, -1, KAFKA.UNKNOWN_TOPIC_OR_PARTITION];
		if (p.offset > 10) return [name, p.partitionIndex, -1, KAFKA.OFFSET_OUT_OF_RANGE];
		return [name, p.partitionIndex, p.offset === -1 ? 10 : Math.max(2, p.offset), KAFKA.NONE];
	};
	assert.deepEqual(
		byPartition(answer),
		request.topics.flatMap((t) => t.partitions.map((p) => expected(t.name, p))),
	);
	assert.ok(calls.counts.max <= WORKER_REQUESTS_AT_ONCE_MAX, `${calls.counts.max} requests at once`);
	assert.ok(calls.counts.max > 1, "the requests still overlap");
});
