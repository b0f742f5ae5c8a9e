/**
 * DescribeClientQuotas and AlterClientQuotas as frames, through the whole gateway, against a stand-in for Tributary's
 * key API: a Kafka user is a key id, producer_byte_rate and consumer_byte_rate are its produce and fetch byte quotas,
 * an alteration is one merge patch per user (never a read of the quotas and a write of the whole set back, which loses
 * one of two concurrent alters), and what Tributary has no quotas for (client ids, the default user) is refused per
 * entry or matches nothing.
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

/** The stand-in's keys; listed one a page, so the gateway must follow the cursor. @type {Map<string, Record<string, number>>} */
const keys = new Map([
	[WRITER, { produce_bytes_per_sec: 1_048_576, requests_per_sec: 50 }],
	[READER, { fetch_bytes_per_sec: 4_194_304 }],
	[PLAIN, {}],
]);
/** Every request the gateway sent: `METHOD path`, and the body of a write. @type {[string, unknown][]} */
const requests = [];
/**
 * Listings held until this many are waiting, then answered together: two clients that each read the quotas before
 * either writes, the interleaving that loses an update when a client writes the whole set back.
 */
let listingsHeld = 0;
/** @type {(() => void)[]} */
const heldListings = [];
/** Whether the stand-in refuses every request as the key API refuses credentials without admin on the cluster. */
let denied = false;

/** @param {string} id */
const keyView = (id) => ({ id, name: "k", acl: [], quotas: keys.get(id), created_at_ms: 0 });
const notFound = (/** @type {string} */ id) => ({ error: { code: "key_not_found", message: `key "${id}" does not exist` } });

/** @param {string} method @param {URL} url @param {any} body @returns {Promise<[number, unknown]>} */
async function answer(method, url, body) {
	requests.push([`${method} ${url.pathname}${url.search}`, body]);
	if (denied) return [403, { error: { code: "forbidden", message: "this key may not admin cluster" } }];
	if (method === "GET" && url.pathname === "/v1/keys") {
		if (listingsHeld > 0) {
			await new Promise((resolve) => {
				heldListings.push(() => resolve(undefined));
				if (heldListings.length === listingsHeld) for (const release of heldListings.splice(0)) release();
			});
		}
		const ids = [...keys.keys()];
		const at = url.searchParams.has("cursor") ? ids.indexOf(url.searchParams.get("cursor") ?? "") + 1 : 0;
		const id = /** @type {string} */ (ids[at]);
		return [200, { keys: [{ ...keyView(id), created_at_ms: at }], next_cursor: at + 1 < ids.length ? id : null }];
	}
	const one = /^\/v1\/keys\/([0-9a-f]{20})(\/quotas)?$/.exec(url.pathname);
	const id = /** @type {string} */ (one?.[1]);
	if (one === null || (method === "GET") === (one[2] !== undefined))
		return [404, { error: { code: "not_found", message: "no such route" } }];
	if (!keys.has(id)) return [404, notFound(id)];
	if (method === "PUT") keys.set(id, body);
	else if (method === "PATCH") {
		const next = { ...keys.get(id) };
		for (const [quota, rate] of Object.entries(body)) {
			if (rate === null) delete next[quota];
			else next[quota] = rate;
		}
		keys.set(id, next);
	} else if (method !== "GET") return [405, { error: { code: "method_not_allowed", message: method } }];
	return [200, keyView(id)];
}

const worker = createServer((req, res) => {
	let text = "";
	req.on("data", (chunk) => {
		text += chunk;
	});
	req.on("end", async () => {
		const [status, body] = await answer(
			req.method ?? "GET",
			new URL(req.url ?? "/", "http://stand-in"),
			text === "" ? null : JSON.parse(text),
		);
		res.statusCode = status;
		res.setHeader("content-type", "application/json");
		res.end(JSON.stringify(body));
	});
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
	requests.length = 0;
	const one = await exchangeWith(gateway.port, "DescribeClientQuotas", 1, {
		components: [{ entityType: "user", matchType: 0, match: READER }],
		strict: true,
	});
	assert.deepEqual(described(one), [[`user=${READER}`, { consumer_byte_rate: 4_194_304 }]]);
	// One named user is read alone, not found among every key.
	assert.deepEqual(
		requests.map(([request]) => request),
		[`GET /v1/keys/${READER}`],
	);
	for (const match of ["0123456789abcdef9999", "not-a-key"]) {
		const nobody = await exchangeWith(gateway.port, "DescribeClientQuotas", 1, {
			components: [{ entityType: "user", matchType: 0, match }],
			strict: true,
		});
		assert.deepEqual([nobody.errorCode, described(nobody)], [KAFKA.NONE, []]);
	}
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

test("AlterClientQuotas sends each user's ops as one merge patch; refuses what Tributary has no quota for", {
	timeout: 10_000,
}, async () => {
	requests.length = 0;
	const user = (/** @type {string | null} */ name) => [{ entityType: "user", entityName: name }];
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
			{ entity: user(PLAIN), ops: [{ key: "producer_byte_rate", value: 2 ** 31, remove: false }] },
			{ entity: [{ entityType: "client-id", entityName: "app" }], ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
			{ entity: user(null), ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
			{ entity: user("0123456789abcdef9999"), ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
			{ entity: user("not-a-key"), ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
		],
		validateOnly: false,
	});
	assert.deepEqual(
		answer.entries.map((/** @type {any} */ e) => e.errorCode),
		[
			KAFKA.NONE,
			KAFKA.INVALID_REQUEST,
			KAFKA.INVALID_REQUEST,
			KAFKA.INVALID_REQUEST,
			KAFKA.INVALID_REQUEST,
			KAFKA.INVALID_REQUEST,
			KAFKA.RESOURCE_NOT_FOUND,
			KAFKA.RESOURCE_NOT_FOUND,
		],
	);
	assert.match(answer.entries[1].errorMessage, /request_percentage is not a quota Tributary keeps/);
	assert.match(answer.entries[3].errorMessage, /producer_byte_rate must be a whole number from 1 to 1073741824/);
	// One request per user the ops were valid for: a merge patch (null removes), never a read or a whole-set write.
	assert.deepEqual(requests, [
		[`PATCH /v1/keys/${WRITER}/quotas`, { fetch_bytes_per_sec: 2_000_000, requests_per_sec: null }],
		["PATCH /v1/keys/0123456789abcdef9999/quotas", { produce_bytes_per_sec: 1000 }],
	]);
	const after = await exchangeWith(gateway.port, "DescribeClientQuotas", 0, {
		components: [{ entityType: "user", matchType: 0, match: WRITER }],
		strict: false,
	});
	assert.deepEqual(described(after), [[`user=${WRITER}`, { producer_byte_rate: 1_048_576, consumer_byte_rate: 2_000_000 }]]);
	// validateOnly checks the same, reads the key (so an unknown user is still RESOURCE_NOT_FOUND) and writes nothing.
	requests.length = 0;
	const validated = await exchangeWith(gateway.port, "AlterClientQuotas", 0, {
		entries: [
			{ entity: user(PLAIN), ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
			{ entity: user(PLAIN), ops: [{ key: "producer_byte_rate", value: 0, remove: false }] },
			{ entity: user("0123456789abcdef9999"), ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
		],
		validateOnly: true,
	});
	assert.deepEqual(
		validated.entries.map((/** @type {any} */ e) => e.errorCode),
		[KAFKA.NONE, KAFKA.INVALID_REQUEST, KAFKA.RESOURCE_NOT_FOUND],
	);
	assert.deepEqual(
		requests.map(([request]) => request),
		[`GET /v1/keys/${PLAIN}`, "GET /v1/keys/0123456789abcdef9999"],
	);
	assert.deepEqual(keys.get(PLAIN), {});
});

test("two AlterClientQuotas of one user at once, for different quotas, both land", { timeout: 10_000 }, async () => {
	keys.set(PLAIN, {});
	listingsHeld = 2;
	try {
		const alter = (/** @type {string} */ key, /** @type {number} */ value) =>
			exchangeWith(gateway.port, "AlterClientQuotas", 1, {
				entries: [{ entity: [{ entityType: "user", entityName: PLAIN }], ops: [{ key, value, remove: false }] }],
				validateOnly: false,
			});
		const answers = await Promise.all([alter("producer_byte_rate", 1000), alter("consumer_byte_rate", 2000)]);
		assert.deepEqual(
			answers.map((a) => a.entries[0].errorCode),
			[KAFKA.NONE, KAFKA.NONE],
		);
		assert.deepEqual(keys.get(PLAIN), { produce_bytes_per_sec: 1000, fetch_bytes_per_sec: 2000 }, "neither alter was lost");
	} finally {
		listingsHeld = 0;
		for (const release of heldListings.splice(0)) release();
	}
});

test("AlterClientQuotas without the cluster's admin right refuses every entry as unauthorized, those it could refuse itself too", {
	timeout: 10_000,
}, async () => {
	// Kafka authorizes the whole request (ALTER_CONFIGS on the cluster) before it looks at an entry: a caller without
	// the right learns nothing of which entries were valid.
	const user = (/** @type {string | null} */ name) => [{ entityType: "user", entityName: name }];
	denied = true;
	try {
		for (const validateOnly of [false, true]) {
			requests.length = 0;
			const answer = await exchangeWith(gateway.port, "AlterClientQuotas", 1, {
				entries: [
					{ entity: user(PLAIN), ops: [{ key: "request_percentage", value: 200, remove: false }] },
					{ entity: user("not-a-key"), ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
					{ entity: [{ entityType: "client-id", entityName: "app" }], ops: [{ key: "producer_byte_rate", value: 1000, remove: false }] },
				],
				validateOnly,
			});
			assert.deepEqual(
				answer.entries.map((/** @type {any} */ e) => e.errorCode),
				[KAFKA.CLUSTER_AUTHORIZATION_FAILED, KAFKA.CLUSTER_AUTHORIZATION_FAILED, KAFKA.CLUSTER_AUTHORIZATION_FAILED],
			);
			// No entry reached Tributary: one listing asked whether the caller may change quotas at all.
			assert.deepEqual(
				requests.map(([request]) => request),
				["GET /v1/keys?limit=1"],
			);
		}
	} finally {
		denied = false;
	}
});
