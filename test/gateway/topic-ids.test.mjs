/**
 * Topics named by id (KIP-516) on the wire: Fetch v13–v17 and DeleteTopics v6, as frames encoded and decoded with
 * Kafka's own message definitions, through the whole gateway, against a stand-in for Tributary's HTTP API that
 * records its calls. A Fetch partition of an id without a topic is UNKNOWN_TOPIC_ID and not read (KafkaApis'
 * "erroneous" partitions); DeleteTopics v6 answers each entry as Kafka's ControllerApis does.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { APIS } from "../../gateway/protocol/apis.js";
import { decodeBatches } from "../../gateway/protocol/record-batch.js";
import { exchange as exchangeWith } from "../e2e/lib/kafka.mjs";
import { fetchRequest, gatewayOver, routeServer } from "./lib/stand-in.mjs";

const ZERO_ID = "0".repeat(32);
const NO_SUCH_ID = "5f1b0c3a9d2e4f6a8b7c6d5e4f3a2b1c";
/** Tributary's topic ids (UUIDs) and their wire form (32 hex digits). */
const UUIDS = { orders: "0a0b0c0d-0000-4000-8000-00000000000a", audit: "0a0b0c0d-0000-4000-8000-00000000000b" };
const wire = (/** @type {string} */ uuid) => uuid.replaceAll("-", "");
const ORDERS = wire(UUIDS.orders);
const AUDIT = wire(UUIDS.audit);

/** @type {string[]} */
const calls = [];
/** @type {Map<string, { topic_id: string, partitions: number }>} */
const topics = new Map();
/** Topic ids the listing gives in place of the held ones: a listing read before a topic was created again. */
const listedIds = new Map();
/** Topics the key may describe (so listed) but not consume or delete: their records and deletes are 403. */
const describeOnly = new Set();

/** Tributary's answers to what the gateway asks here: listing, describing, deleting topics and reading records. */
function route(/** @type {string} */ method, /** @type {URL} */ url) {
	const path = decodeURIComponent(url.pathname);
	calls.push(`${method} ${path}`);
	const notFound = { status: 404, body: { error: { code: "topic_not_found", message: "no such topic" } } };
	if (method === "GET" && path === "/v1/topics")
		return {
			status: 200,
			body: {
				topics: [...topics].map(([name, t]) => ({ name, ...t, topic_id: listedIds.get(name) ?? t.topic_id, config: {} })),
				next_cursor: null,
			},
		};
	const records = path.match(/^\/v1\/topics\/([^/]+)\/partitions\/(\d+)\/records$/);
	const denied = (/** @type {string} */ operation, /** @type {string} */ topic) => ({
		status: 403,
		body: { error: { code: "forbidden", message: `key "k" may not ${operation} topic "${topic}"`, resource: `topic:${topic}` } },
	});
	if (method === "GET" && records !== null) {
		if (!topics.has(records[1])) return notFound;
		if (describeOnly.has(records[1])) return denied("consume", records[1]);
		const offset = Number(url.searchParams.get("offset"));
		const held = records[2] === "0" ? 2 : 0;
		const page = Array.from({ length: Math.max(held - offset, 0) }, (_, i) => ({
			offset: offset + i,
			timestamp: 1_700_000_000_000,
			key: null,
			value: `r${offset + i}`,
		}));
		return { status: 200, body: { records: page, high_watermark: held, next_offset: offset + page.length, log_start_offset: 0 } };
	}
	const topic = path.match(/^\/v1\/topics\/([^/]+)$/)?.[1];
	if (topic === undefined || !topics.has(topic)) return notFound;
	const held = /** @type {{ topic_id: string, partitions: number }} */ (topics.get(topic));
	if (method === "GET") return { status: 200, body: { name: topic, topic_id: held.topic_id, partitions: [{ partition: 0 }] } };
	if (method === "DELETE") {
		if (describeOnly.has(topic)) return denied("admin", topic);
		topics.delete(topic);
		return { status: 204, body: null };
	}
	return notFound;
}

const worker = routeServer(route);
const gateway = gatewayOver(worker);

/** One request to the gateway, encoded and its answer decoded with Kafka's definitions. */
const exchange = (/** @type {string} */ name, /** @type {number} */ version, /** @type {object} */ body) =>
	exchangeWith(gateway.port, name, version, body);

/** A Fetch of partitions 0 and 1 of each id, from offset 0, without waiting. @param {string[]} ids */
const fetchOf = (ids) =>
	fetchRequest(
		ids.map((topicId) => ({
			topicId,
			partitions: [0, 1].map((partition) => ({ partition, fetchOffset: 0, partitionMaxBytes: 1_048_576 })),
		})),
	);

/** The versions ApiVersions advertises, by API name. */
const served = Object.fromEntries([...APIS.values()].map((api) => [api.name, [api.minVersion, api.maxVersion]]));

test("ApiVersions advertises Fetch v4–v17", () => {
	assert.deepEqual(served.Fetch, [4, 17]);
});

test("Fetch v13–v17 reads topics by id and answers by id; an unknown id (the zero id too) is UNKNOWN_TOPIC_ID per partition, not read", {
	timeout: 10_000,
}, async () => {
	topics.set("orders", { topic_id: UUIDS.orders, partitions: 2 });
	for (const version of [13, 14, 15, 16, 17]) {
		calls.length = 0;
		const answer = await exchange("Fetch", version, fetchOf([NO_SUCH_ID, ORDERS, ZERO_ID]));
		assert.equal(answer.errorCode, KAFKA.NONE);
		const shape = answer.responses.map((/** @type {any} */ t) => [
			t.topicId,
			t.partitions.map((/** @type {any} */ p) => [p.partitionIndex, p.errorCode, p.highWatermark, p.lastStableOffset, p.logStartOffset]),
		]);
		assert.deepEqual(
			shape,
			[
				[
					NO_SUCH_ID,
					[
						[0, KAFKA.UNKNOWN_TOPIC_ID, -1, -1, -1],
						[1, KAFKA.UNKNOWN_TOPIC_ID, -1, -1, -1],
					],
				],
				[
					ORDERS,
					[
						[0, KAFKA.NONE, 2, 2, 0],
						[1, KAFKA.NONE, 0, 0, 0],
					],
				],
				[
					ZERO_ID,
					[
						[0, KAFKA.UNKNOWN_TOPIC_ID, -1, -1, -1],
						[1, KAFKA.UNKNOWN_TOPIC_ID, -1, -1, -1],
					],
				],
			],
			`v${version}`,
		);
		const [batch] = await decodeBatches(answer.responses[1].partitions[0].records);
		assert.deepEqual(
			batch.records.map((/** @type {any} */ r) => [batch.baseOffset + r.offsetDelta, r.value.toString()]),
			[
				[0, "r0"],
				[1, "r1"],
			],
			`v${version}`,
		);
		assert.deepEqual(
			calls.filter((c) => c.includes("/partitions/")),
			["GET /v1/topics/orders/partitions/0/records", "GET /v1/topics/orders/partitions/1/records"],
			`v${version}: only the known topic's partitions are read`,
		);
		// A single broker leads every partition it answers: no NOT_LEADER_OR_FOLLOWER, so no NodeEndpoints (KIP-951).
		if (version >= 16) assert.deepEqual(answer.nodeEndpoints, [], `v${version}`);
	}
});

test("Fetch v12 still names topics; v13 with only unknown ids answers at once, whatever max.wait.ms", { timeout: 15_000 }, async () => {
	topics.set("orders", { topic_id: UUIDS.orders, partitions: 2 });
	const named = await exchange("Fetch", 12, {
		...fetchOf([]),
		topics: [{ topic: "orders", partitions: [{ partition: 0, fetchOffset: 1, partitionMaxBytes: 1_048_576 }] }],
	});
	assert.deepEqual(
		named.responses.map((/** @type {any} */ t) => [t.topic, t.partitions[0].errorCode, t.partitions[0].highWatermark]),
		[["orders", KAFKA.NONE, 2]],
	);
	const startedMs = Date.now();
	const unknown = await exchange("Fetch", 13, { ...fetchOf([NO_SUCH_ID]), maxWaitMs: 20_000 });
	assert.equal(unknown.responses[0].partitions[0].errorCode, KAFKA.UNKNOWN_TOPIC_ID);
	assert.ok(Date.now() - startedMs < 10_000, "nothing to wait for: answered before max.wait.ms");
});

test("ApiVersions advertises DeleteTopics v1–v6", () => {
	assert.deepEqual(served.DeleteTopics, [1, 6]);
});

/** A DeleteTopics v6 of `entries` ([name, id]), and its results as [name, id, error code], sorted. */
async function deleteV6(/** @type {[string | null, string][]} */ entries) {
	const answer = await exchange("DeleteTopics", 6, { topics: entries.map(([name, topicId]) => ({ name, topicId })), timeoutMs: 1_000 });
	return answer.responses
		.map((/** @type {any} */ r) => [r.name, r.topicId, r.errorCode])
		.sort((/** @type {any[]} */ a, /** @type {any[]} */ b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

test("DeleteTopics v6 deletes by id or by name, and refuses each entry as ControllerApis does, deleting none of those", {
	timeout: 10_000,
}, async () => {
	topics.clear();
	topics.set("orders", { topic_id: UUIDS.orders, partitions: 2 });
	topics.set("audit", { topic_id: UUIDS.audit, partitions: 1 });
	topics.set("kept", { topic_id: "0a0b0c0d-0000-4000-8000-00000000000c", partitions: 1 });
	calls.length = 0;
	const results = await deleteV6([
		[null, ZERO_ID],
		["kept", wire("0a0b0c0d-0000-4000-8000-00000000000c")],
		[null, NO_SUCH_ID],
		["gone", ZERO_ID],
		[null, AUDIT],
		[null, AUDIT],
		["dup", ZERO_ID],
		["dup", ZERO_ID],
		[null, ORDERS],
		["orders", ZERO_ID],
	]);
	assert.deepEqual(
		results,
		[
			["dup", ZERO_ID, KAFKA.INVALID_REQUEST],
			["gone", ZERO_ID, KAFKA.UNKNOWN_TOPIC_OR_PARTITION],
			["kept", wire("0a0b0c0d-0000-4000-8000-00000000000c"), KAFKA.INVALID_REQUEST],
			["orders", ORDERS, KAFKA.INVALID_REQUEST],
			["orders", ORDERS, KAFKA.NONE],
			[null, AUDIT, KAFKA.INVALID_REQUEST],
			[null, NO_SUCH_ID, KAFKA.UNKNOWN_TOPIC_ID],
			[null, ZERO_ID, KAFKA.INVALID_REQUEST],
		].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
	);
	assert.deepEqual(
		calls.filter((c) => c.startsWith("DELETE")),
		["DELETE /v1/topics/gone", "DELETE /v1/topics/orders"],
		"only 'orders' (once, by its id) and the unknown name are deleted",
	);
	assert.deepEqual([...topics.keys()].sort(), ["audit", "kept"]);
});

test("DeleteTopics v6 by name answers the deleted topic's id, as ControllerApis does (the zero id for an unknown name)", {
	timeout: 10_000,
}, async () => {
	topics.clear();
	topics.set("orders", { topic_id: UUIDS.orders, partitions: 2 });
	assert.deepEqual(
		await deleteV6([
			["orders", ZERO_ID],
			["gone", ZERO_ID],
		]),
		[
			["gone", ZERO_ID, KAFKA.UNKNOWN_TOPIC_OR_PARTITION],
			["orders", ORDERS, KAFKA.NONE],
		],
	);
	assert.equal(topics.has("orders"), false);
});

test("DeleteTopics v6 by the id of a topic since deleted and created again leaves the new incarnation alone (UNKNOWN_TOPIC_ID)", {
	timeout: 10_000,
}, async () => {
	topics.clear();
	topics.set("audit", { topic_id: "0a0b0c0d-0000-4000-8000-0000000000bb", partitions: 1 });
	// The listing the id is resolved from still holds the old incarnation's id.
	listedIds.set("audit", UUIDS.audit);
	try {
		assert.deepEqual(await deleteV6([[null, AUDIT]]), [[null, AUDIT, KAFKA.UNKNOWN_TOPIC_ID]]);
		assert.ok(topics.has("audit"), "the new incarnation is not deleted");
	} finally {
		listedIds.clear();
	}
});

test("DeleteTopics v5 still takes names only, a name given twice refused", { timeout: 10_000 }, async () => {
	topics.clear();
	topics.set("orders", { topic_id: UUIDS.orders, partitions: 2 });
	const answer = await exchange("DeleteTopics", 5, { topicNames: ["orders", "twice", "twice"], timeoutMs: 1_000 });
	assert.deepEqual(answer.responses.map((/** @type {any} */ r) => [r.name, r.errorCode]).sort(), [
		["orders", KAFKA.NONE],
		["twice", KAFKA.INVALID_REQUEST],
	]);
	assert.equal(topics.has("orders"), false);
});

test("the id of a topic the key may see but not read or delete is TOPIC_AUTHORIZATION_FAILED, as KafkaApis answers a resolved id", {
	timeout: 10_000,
}, async () => {
	topics.clear();
	topics.set("orders", { topic_id: UUIDS.orders, partitions: 2 });
	describeOnly.add("orders");
	try {
		const fetched = await exchange("Fetch", 13, fetchOf([ORDERS, NO_SUCH_ID]));
		assert.deepEqual(
			fetched.responses.map((/** @type {any} */ t) => [t.topicId, t.partitions.map((/** @type {any} */ p) => p.errorCode)]),
			[
				[ORDERS, [KAFKA.TOPIC_AUTHORIZATION_FAILED, KAFKA.TOPIC_AUTHORIZATION_FAILED]],
				[NO_SUCH_ID, [KAFKA.UNKNOWN_TOPIC_ID, KAFKA.UNKNOWN_TOPIC_ID]],
			],
		);
		assert.deepEqual(await deleteV6([[null, ORDERS]]), [["orders", ORDERS, KAFKA.TOPIC_AUTHORIZATION_FAILED]]);
		assert.ok(topics.has("orders"), "not deleted");
	} finally {
		describeOnly.clear();
	}
});
