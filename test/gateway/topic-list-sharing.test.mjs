/**
 * The gateway's topic list is shared by its connections that speak with the same credentials: a Fetch v13+ consumer
 * names its topics by id on every request, and a list per connection would have every consumer connection list every
 * topic (up to 11 pages) about once a second. Requests that ask while a listing is in flight wait for it rather than
 * list again; credentials never share a list (their ACLs may let them see different topics). Kafka frames over real
 * sockets to the gateway's connections, against a stand-in for Tributary's HTTP API that counts the listings by
 * `Authorization` and holds a listing's answer until told.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { after, before, test } from "node:test";
import { serveConnection } from "../../gateway/connection.js";
import { KAFKA } from "../../gateway/errors.js";
import { TopicList } from "../../gateway/topic-list.js";
import { Tributary } from "../../gateway/tributary.js";
import { connectClient } from "./lib/stand-in.mjs";

const TOKEN = "Bearer gateway-token";
const KEY = { id: "reader", secret: "s3cret" };
const KEY_AUTH = `Basic ${Buffer.from(`${KEY.id}:${KEY.secret}`).toString("base64")}`;
/** What each credentials may see: the key's ACLs let it see one of the two topics. */
const VISIBLE = new Map([
	[TOKEN, ["orders", "audit"]],
	[KEY_AUTH, ["orders"]],
]);
const idOf = (/** @type {string} */ name) =>
	name === "orders" ? "0a0b0c0d-0000-4000-8000-00000000000a" : "0a0b0c0d-0000-4000-8000-00000000000b";

/** Full listings (`GET /v1/topics?limit=…`) the stand-in received, by `Authorization`. */
const listings = new Map();
/** While set, listings are answered only when it resolves. */
let hold = /** @type {Promise<void> | null} */ (null);
/** Called on each listing received, for a test waiting for one. */
let onListing = () => {};

const worker = createServer(async (req, res) => {
	const url = new URL(req.url ?? "/", "http://worker");
	const auth = req.headers.authorization ?? "";
	const visible = VISIBLE.get(auth);
	res.setHeader("content-type", "application/json");
	if (visible === undefined || req.method !== "GET" || url.pathname !== "/v1/topics") {
		res.statusCode = visible === undefined ? 401 : 404;
		res.end(JSON.stringify({ error: { code: "unauthorized", message: "no" } }));
		return;
	}
	if (url.searchParams.has("limit")) {
		listings.set(auth, (listings.get(auth) ?? 0) + 1);
		onListing();
		if (hold !== null) await hold;
	}
	res.end(
		JSON.stringify({ topics: visible.map((name) => ({ name, topic_id: idOf(name), partitions: 1, config: {} })), next_cursor: null }),
	);
});

/** The gateway's shared list, counting the reads its connections make of it; its clock stands still, so that no
 * listing here ages past METADATA_CACHE_MS or TOPIC_ID_RELIST_MS however slow the machine. */
const topicList = new TopicList(() => 1_000_000);
let reads = 0;
let onRead = () => {};
const read = topicList.read.bind(topicList);
topicList.read = (...args) => {
	reads += 1;
	onRead();
	return read(...args);
};

/** @type {import("node:net").Server} */
let gateway;
/** @type {Tributary} */
let tributary;

before(async () => {
	await new Promise((resolve) => worker.listen(0, "127.0.0.1", () => resolve(undefined)));
	const { port } = /** @type {import("node:net").AddressInfo} */ (worker.address());
	tributary = new Tributary(`http://127.0.0.1:${port}`, { authorization: TOKEN });
	gateway = createTcpServer((socket) =>
		serveConnection(socket, { tributary, advertised: { host: "127.0.0.1", port: 9092 }, log: () => {}, topicList }),
	);
	await new Promise((resolve) => gateway.listen(0, "127.0.0.1", () => resolve(undefined)));
});

after(async () => {
	tributary.close();
	await new Promise((resolve) => gateway.close(() => resolve(undefined)));
	await new Promise((resolve) => worker.close(() => resolve(undefined)));
});

/** Resolves once `count()` reaches `n`, checked whenever `listen` is told of a change. */
function reached(/** @type {() => number} */ count, /** @type {number} */ n, /** @type {(f: () => void) => void} */ listen) {
	return new Promise((resolve) => {
		const check = () => count() >= n && resolve(undefined);
		listen(check);
		check();
	});
}

/** A Kafka client connection to the gateway (`connectClient`). */
function client() {
	const { port } = /** @type {import("node:net").AddressInfo} */ (gateway.address());
	return connectClient(port, "sharing");
}

const ALL = { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };
const names = (/** @type {any} */ answer) => answer.topics.map((/** @type {any} */ t) => t.name ?? null).sort();

test("two connections with the same credentials list once: a request asking while the listing is in flight waits for it, a later one (pipelined, or by topic id) reuses it", async () => {
	listings.clear();
	let release = () => {};
	hold = new Promise((resolve) => {
		release = () => resolve(undefined);
	});
	const [a, b] = [await client(), await client()];
	try {
		const first = a.send("Metadata", 9, ALL);
		await reached(
			() => listings.get(TOKEN) ?? 0,
			1,
			(f) => (onListing = f),
		);
		const readsBefore = reads;
		const second = b.send("Metadata", 9, ALL);
		const pipelined = b.send("Metadata", 12, {
			...ALL,
			topics: [{ name: null, topicId: idOf("audit").replaceAll("-", "") }],
		});
		// b's request has asked the list, or (a list per connection) b listed on its own.
		await Promise.race([
			reached(
				() => reads - readsBefore,
				1,
				(f) => (onRead = f),
			),
			reached(
				() => listings.get(TOKEN) ?? 0,
				2,
				(f) => (onListing = f),
			),
		]);
		release();
		assert.deepEqual(names(await first), ["audit", "orders"]);
		assert.deepEqual(names(await second), ["audit", "orders"]);
		const byId = await pipelined;
		assert.deepEqual(
			byId.topics.map((/** @type {any} */ t) => [t.name, t.errorCode]),
			[["audit", KAFKA.NONE]],
		);
		assert.equal(listings.get(TOKEN), 1, "one listing for both connections' three requests");
	} finally {
		hold = null;
		a.close();
		b.close();
	}
});

test("connections with other credentials (SASL/PLAIN as a key) list on their own and see only their topics", async () => {
	listings.clear();
	topicList.forget();
	const [gatewayCredentials, key] = [await client(), await client()];
	try {
		assert.deepEqual(names(await gatewayCredentials.send("Metadata", 9, ALL)), ["audit", "orders"]);
		assert.equal((await key.send("SaslHandshake", 1, { mechanism: "PLAIN" })).errorCode, KAFKA.NONE);
		const authBytes = Buffer.from(`\0${KEY.id}\0${KEY.secret}`);
		assert.equal((await key.send("SaslAuthenticate", 2, { authBytes })).errorCode, KAFKA.NONE);
		assert.deepEqual(names(await key.send("Metadata", 9, ALL)), ["orders"], "not the gateway credentials' list");
		const audit = await key.send("Metadata", 12, { ...ALL, topics: [{ name: null, topicId: idOf("audit").replaceAll("-", "") }] });
		assert.equal(audit.topics[0].errorCode, KAFKA.UNKNOWN_TOPIC_ID, "an id only the other credentials may see");
		assert.deepEqual(names(await gatewayCredentials.send("Metadata", 9, ALL)), ["audit", "orders"]);
		assert.deepEqual(Object.fromEntries(listings), { [TOKEN]: 1, [KEY_AUTH]: 1 });
	} finally {
		gatewayCredentials.close();
		key.close();
	}
});

test("a listing's topics by id are built once and reused by every request that resolves ids from it", async () => {
	listings.clear();
	topicList.forget();
	const wireIds = ["orders", "audit"].map((name) => idOf(name).replaceAll("-", ""));
	const first = await topicList.byId(tributary, wireIds);
	const second = await topicList.byId(tributary, wireIds.slice(1));
	assert.deepEqual(
		[...first.values()].map((t) => t.name),
		["orders", "audit"],
	);
	assert.equal(listings.get(TOKEN), 1, "one listing");
	assert.equal(second, first, "the second request reuses the map the first built from the same listing");
	topicList.forget();
	assert.notEqual(await topicList.byId(tributary, wireIds), first, "a new listing, a new map");
});

test("a connection opened after its credentials' topics were listed lists them afresh: a topic created before it connected is in its first Metadata", async () => {
	listings.clear();
	topicList.forget();
	const visible = /** @type {string[]} */ (VISIBLE.get(TOKEN));
	const earlier = await client();
	try {
		assert.deepEqual(names(await earlier.send("Metadata", 9, ALL)), ["audit", "orders"]);
		visible.push("created-then-connected");
		const later = await client();
		try {
			assert.deepEqual(names(await later.send("Metadata", 9, ALL)), ["audit", "created-then-connected", "orders"]);
			assert.equal(listings.get(TOKEN), 2, "the later connection did not take the listing from before it opened");
			// The earlier connection shares that newer listing from then on.
			assert.deepEqual(names(await earlier.send("Metadata", 9, ALL)), ["audit", "created-then-connected", "orders"]);
			assert.equal(listings.get(TOKEN), 2);
		} finally {
			later.close();
		}
	} finally {
		visible.pop();
		earlier.close();
	}
});
