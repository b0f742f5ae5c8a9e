/**
 * DescribeClientQuotas and AlterClientQuotas as frames, through the whole gateway, against a stand-in for Tributary's
 * key API: a Kafka user is a key id, producer_byte_rate and consumer_byte_rate are its produce and fetch byte quotas,
 * an alteration writes the key's whole quota set back with each op applied, and what Tributary has no quotas for
 * (client ids, the default user) is refused per entry or matches nothing.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { APIS } from "../../gateway/protocol/apis.js";
import { exchange as exchangeWith } from "../e2e/lib/kafka.mjs";
import { gatewayOver } from "./lib/stand-in.mjs";

const WRITER = "0123456789abcdef0001";
const READER = "0123456789abcdef0002";
const PLAIN = "0123456789abcdef0003";

/** The stand-in's keys; listed one a page, so the gateway must follow the cursor. */
const keys = new Map([
	[WRITER, { produce_bytes_per_sec: 1_048_576, requests_per_sec: 50 }],
	[READER, { fetch_bytes_per_sec: 4_194_304 }],
	[PLAIN, {}],
]);
/** Bodies of the PUTs the gateway sent, by key id. @type {[string, unknown][]} */
const puts = [];

const worker = createServer((req, res) => {
	const url = new URL(req.url ?? "/", "http://stand-in");
	res.setHeader("content-type", "application/json");
	if (req.method === "GET" && url.pathname === "/v1/keys") {
		const ids = [...keys.keys()];
		const at = url.searchParams.has("cursor") ? ids.indexOf(url.searchParams.get("cursor") ?? "") + 1 : 0;
		const id = /** @type {string} */ (ids[at]);
		const next = at + 1 < ids.length ? id : null;
		res.end(JSON.stringify({ keys: [{ id, name: "k", acl: [], quotas: keys.get(id), created_at_ms: at }], next_cursor: next }));
		return;
	}
	const put = /^\/v1\/keys\/([0-9a-f]{20})\/quotas$/.exec(url.pathname);
	if (req.method === "PUT" && put !== null) {
		let text = "";
		req.on("data", (chunk) => {
			text += chunk;
		});
		req.on("end", () => {
			const id = /** @type {string} */ (put[1]);
			puts.push([id, JSON.parse(text)]);
			if (!keys.has(id)) {
				res.statusCode = 404;
				res.end(JSON.stringify({ error: { code: "key_not_found", message: `key "${id}" does not exist` } }));
				return;
			}
			keys.set(id, JSON.parse(text));
			res.end(JSON.stringify({ id, name: "k", acl: [], quotas: keys.get(id), created_at_ms: 0 }));
		});
		return;
	}
	res.statusCode = 404;
	res.end(JSON.stringify({ error: { code: "not_found", message: "no such route" } }));
});
const gateway = gatewayOver(worker);

/** Entries as [user, {key: value}] pairs, in answer order. @param {any} answer */
const described = (answer) =>
	answer.entries.map((/** @type {any} */ e) => [
		e.entity.map((/** @type {any} */ x) => `${x.entityType}=${x.entityName}`).join(","),
		Object.fromEntries(e.values.map((/** @type {any} */ v) => [v.key, v.value])),
	]);

test("ApiVersions advertises DescribeClientQuotas and AlterClientQuotas v0–v1", () => {
	for (const name of ["DescribeClientQuotas", "AlterClientQuotas"]) {
		const api = /** @type {any} */ ([...APIS.values()].find((a) => a.name === name));
		assert.deepEqual([api.key, api.minVersion, api.maxVersion], [name === "DescribeClientQuotas" ? 48 : 49, 0, 1]);
	}
});

test("DescribeClientQuotas answers every user with quotas, by Kafka's keys, and filters by user", { timeout: 10_000 }, async () => {
	for (const version of [0, 1]) {
		const all = await exchangeWith(gateway.port, "DescribeClientQuotas", version, { components: [], strict: false });
		assert.equal(all.errorCode, KAFKA.NONE);
		assert.deepEqual(described(all), [
			[`user=${WRITER}`, { producer_byte_rate: 1_048_576, requests_per_sec: 50 }],
			[`user=${READER}`, { consumer_byte_rate: 4_194_304 }],
		]);
	}
	const one = await exchangeWith(gateway.port, "DescribeClientQuotas", 1, {
		components: [{ entityType: "user", matchType: 0, match: READER }],
		strict: true,
	});
	assert.deepEqual(described(one), [[`user=${READER}`, { consumer_byte_rate: 4_194_304 }]]);
	// Tributary has no default user quota and no client-id quotas: such filters match nothing.
	for (const component of [
		{ entityType: "user", matchType: 1, match: null },
		{ entityType: "client-id", matchType: 2, match: null },
	]) {
		const none = await exchangeWith(gateway.port, "DescribeClientQuotas", 1, { components: [component], strict: false });
		assert.deepEqual([none.errorCode, described(none)], [KAFKA.NONE, []]);
	}
	const bad = await exchangeWith(gateway.port, "DescribeClientQuotas", 1, {
		components: [{ entityType: "user", matchType: 7, match: null }],
		strict: false,
	});
	assert.equal(bad.errorCode, KAFKA.INVALID_REQUEST);
});

test("AlterClientQuotas writes each user's whole quota set back with its ops applied; refuses what Tributary has no quota for", {
	timeout: 10_000,
}, async () => {
	puts.length = 0;
	const user = (name) => [{ entityType: "user", entityName: name }];
	const answer = await exchangeWith(gateway.port, "AlterClientQuotas", 1, {
		entries: [
			{
				entity: user(WRITER),
				ops: [
					{ key: "consumer_byte_rate", value: 2_000_000, remove: false },
					{ key: "requests_per_sec", value: 0, remove: true },
				],
			},
			{ entity: user(PLAIN), ops: [{ key: "request_percentage", value: 200, remove: false }] },
			{ entity: user(PLAIN), ops: [{ key: "producer_byte_rate", value: 1.5, remove: false }] },
			{ entity: [{ entityType: "client-id", entityName: "app" }], ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
			{ entity: [{ entityType: "user", entityName: null }], ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
			{ entity: user("0123456789abcdef9999"), ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
		],
		validateOnly: false,
	});
	assert.deepEqual(
		answer.entries.map((/** @type {any} */ e) => e.errorCode),
		[KAFKA.NONE, KAFKA.INVALID_REQUEST, KAFKA.INVALID_REQUEST, KAFKA.INVALID_REQUEST, KAFKA.INVALID_REQUEST, KAFKA.RESOURCE_NOT_FOUND],
	);
	assert.match(answer.entries[1].errorMessage, /request_percentage is not a quota Tributary keeps/);
	assert.deepEqual(puts, [[WRITER, { produce_bytes_per_sec: 1_048_576, fetch_bytes_per_sec: 2_000_000 }]]);
	const after = await exchangeWith(gateway.port, "DescribeClientQuotas", 0, {
		components: [{ entityType: "user", matchType: 0, match: WRITER }],
		strict: false,
	});
	assert.deepEqual(described(after), [[`user=${WRITER}`, { producer_byte_rate: 1_048_576, consumer_byte_rate: 2_000_000 }]]);
	// validateOnly checks the same and writes nothing.
	puts.length = 0;
	const validated = await exchangeWith(gateway.port, "AlterClientQuotas", 0, {
		entries: [{ entity: user(PLAIN), ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] }],
		validateOnly: true,
	});
	assert.deepEqual([validated.entries[0].errorCode, puts], [KAFKA.NONE, []]);
});
