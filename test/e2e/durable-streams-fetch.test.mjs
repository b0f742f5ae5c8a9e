// @ts-check
/**
 * The Durable Streams conformance suite's fetch (test/e2e/lib/durable-streams-fetch.mjs) against a stand-in on loopback
 * that keeps streams as the Worker does (a create, a close, appends with and without `Stream-Seq` or a producer's
 * sequence) and, asked to, answers a request as wrangler dev's proxy does when its forward to the Worker failed: a
 * 503 with the proxy's text, the request never applied (as with the 12 of 320 creates that met it in bursts of 16
 * against a real wrangler dev, none of which the Worker logged), or applied and its answer lost (the worst case).
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { WRANGLER_PROXY_RETRY_TEXT } from "./lib/client.mjs";
import { durableStreamsFetch } from "./lib/durable-streams-fetch.mjs";
import { listenLocal } from "./lib/local-server.mjs";

/**
 * @typedef {"proxy-503" | "proxy-503-after-write" | "worker-503" | "none"} Fault what the next request meets
 * @typedef {{ contentType: string, closed: boolean, records: string[], lastSeq: string | null, producerSeq: number }} Stream
 */

/** @type {Map<string, Stream>} streams by path */
const streams = new Map();
/** @type {Fault[]} faults for the next requests, one each, in order */
const faults = [];
/** @type {{ method: string, path: string }[]} every request the stand-in received, in order */
const seen = [];

/**
 * A request done as the Worker does it: its status and JSON body.
 * @param {string} method @param {string} path @param {import("node:http").IncomingHttpHeaders} headers @param {string} body
 * @returns {[number, unknown]}
 */
function apply(method, path, headers, body) {
	const stream = streams.get(path);
	const notFound = /** @type {[number, unknown]} */ ([404, { error: { code: "NOT_FOUND", message: "no stream at this path" } }]);
	if (method === "PUT") {
		if (stream !== undefined) return [200, null];
		streams.set(path, { contentType: String(headers["content-type"]), closed: false, records: [], lastSeq: null, producerSeq: -1 });
		return [201, null];
	}
	if (method !== "POST") return [405, null];
	if (stream === undefined) return notFound;
	if (body === "" && headers["stream-closed"] === "true") {
		stream.closed = true;
		return [204, null];
	}
	if (stream.closed) return [409, { error: { code: "STREAM_CLOSED" } }];
	const seq = headers["stream-seq"];
	if (typeof seq === "string") {
		if (stream.lastSeq !== null && seq <= stream.lastSeq) return [409, { error: { code: "CONFLICT_SEQ" } }];
		stream.lastSeq = seq;
	}
	const producerSeq = headers["producer-seq"];
	if (typeof producerSeq === "string") {
		if (Number(producerSeq) <= stream.producerSeq) return [204, null];
		stream.producerSeq = Number(producerSeq);
	}
	stream.records.push(body);
	return [204, null];
}

const standIn = createServer((request, response) => {
	/** @type {Buffer[]} */
	const chunks = [];
	request.on("data", (chunk) => chunks.push(chunk));
	request.on("end", () => {
		const method = request.method ?? "";
		const path = request.url ?? "";
		seen.push({ method, path });
		const fault = faults.shift();
		const proxy503 = () =>
			response.writeHead(503, { "content-type": "text/plain;charset=UTF-8", "retry-after": "0" }).end(WRANGLER_PROXY_RETRY_TEXT);
		if (fault === "proxy-503") return proxy503();
		if (fault === "worker-503") {
			const body = { error: { code: "BUSY", message: "the stream's topic could not be created; retry", retriable: true } };
			return response.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify(body));
		}
		const [status, body] = apply(method, path, request.headers, Buffer.concat(chunks).toString("utf8"));
		if (fault === "proxy-503-after-write") return proxy503();
		if (body === null) return response.writeHead(status).end();
		response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
	});
});

let origin = "http://127.0.0.1:0";
/** @type {typeof fetch} */
let send = fetch;
/** What the fetch said of each request wrangler dev failed that it could not send again. */
const unrepeatable = /** @type {string[]} */ ([]);
/** @type {import("./lib/local-server.mjs").LocalServer | undefined} */
let listening;
before(async () => {
	listening = await listenLocal(standIn);
	origin = listening.url;
	send = durableStreamsFetch(fetch, `${origin}/ds`, (said) => unrepeatable.push(said));
});
after(() => listening?.close());

/** Clears the streams, faults and requests seen, before each test's own requests. */
function fresh() {
	streams.clear();
	faults.length = 0;
	seen.length = 0;
	unrepeatable.length = 0;
}

/** Sends the requests, one after another (as a test of the suite does); their statuses. @param {[string, RequestInit][]} requests */
async function statuses(requests) {
	const answered = [];
	for (const [path, init] of requests) {
		const response = await send(`${origin}${path}`, init);
		await response.arrayBuffer();
		answered.push(response.status);
	}
	return answered;
}

test("a create that met the proxy's 503 is sent again, so the close after it finds the stream (close-only-ignores-content-type)", async () => {
	fresh();
	faults.push("proxy-503");
	const path = "/ds/v1/stream/close-ignores-ct-1";
	const answered = await statuses([
		[path, { method: "PUT", headers: { "Content-Type": "application/json" } }],
		[path, { method: "POST", headers: { "Content-Type": "text/plain", "Stream-Closed": "true" } }],
	]);
	assert.deepEqual(answered, [201, 204]);
	assert.deepEqual(
		seen.map((r) => r.method),
		["PUT", "PUT", "POST"],
	);
});

test("a create whose answer the proxy lost after the Worker made the stream is sent again and answered 200, as a repeat is", async () => {
	fresh();
	faults.push("proxy-503-after-write");
	assert.deepEqual(await statuses([["/ds/v1/stream/s", { method: "PUT", headers: { "Content-Type": "text/plain" } }]]), [200]);
	assert.equal(streams.size, 1);
});

test("a Stream-Seq append, a producer's append and a close that met the proxy's 503 are sent again and land once", async () => {
	fresh();
	const path = "/ds/v1/stream/s";
	await statuses([[path, { method: "PUT", headers: { "Content-Type": "text/plain" } }]]);
	faults.push("proxy-503", "none", "proxy-503-after-write", "none", "proxy-503-after-write", "none");
	const answered = await statuses([
		[path, { method: "POST", headers: { "Content-Type": "text/plain", "Stream-Seq": "a" }, body: "one" }],
		[
			path,
			{
				method: "POST",
				headers: { "Content-Type": "text/plain", "Producer-Id": "p", "Producer-Epoch": "0", "Producer-Seq": "0" },
				body: "two",
			},
		],
		[path, { method: "POST", headers: { "Stream-Closed": "true" } }],
	]);
	assert.deepEqual(answered, [204, 204, 204]);
	assert.deepEqual(
		seen.map((r) => r.method),
		["PUT", "POST", "POST", "POST", "POST", "POST", "POST"],
	);
	assert.deepEqual(streams.get(path)?.records, ["one", "two"]);
	assert.equal(streams.get(path)?.closed, true);
});

test("an append that names no place (no Stream-Seq, no producer) is sent once: the proxy's 503 is the suite's to see", async () => {
	fresh();
	const path = "/ds/v1/stream/s";
	await statuses([[path, { method: "PUT", headers: { "Content-Type": "text/plain" } }]]);
	faults.push("proxy-503-after-write");
	assert.deepEqual(await statuses([[path, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "one" }]]), [503]);
	assert.deepEqual(streams.get(path)?.records, ["one"]);
	// Told, so that the test meeting it can be run again rather than fail on wrangler dev's word.
	assert.deepEqual(unrepeatable, [`POST ${path}: wrangler dev's proxy answered 503`]);
	faults.push("worker-503");
	assert.deepEqual(await statuses([[path, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "two" }]]), [503]);
	assert.equal(unrepeatable.length, 1, "the Worker's own 503 is the suite's, and no fault of wrangler dev");
});

test("the Worker's own 503 is not sent again, nor a second proxy 503", async () => {
	fresh();
	faults.push("worker-503", "proxy-503", "proxy-503");
	const create = /** @type {[string, RequestInit]} */ (["/ds/v1/stream/s", { method: "PUT", headers: { "Content-Type": "text/plain" } }]);
	assert.deepEqual(await statuses([create, create]), [503, 503]);
	assert.deepEqual(
		seen.map((r) => r.method),
		["PUT", "PUT", "PUT"],
	);
	assert.equal(streams.size, 0);
});

test("a request outside the /ds mount is sent once, whatever it met", async () => {
	fresh();
	faults.push("proxy-503");
	assert.deepEqual(await statuses([["/v1/stream/s", { method: "PUT", headers: { "Content-Type": "text/plain" } }]]), [503]);
	assert.deepEqual(
		seen.map((r) => r.method),
		["PUT"],
	);
});
