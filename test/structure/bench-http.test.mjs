// @ts-check
/**
 * The bench's HTTP client (bench/lib/http.mjs) against a real server that answers in many small writes: a body kept
 * whole, only its end (`keepTail`) or read into the caller's buffer (`into`, joined as usual when it does not fit),
 * with every byte counted however much is kept; an error's body always whole.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { createClient } from "../../bench/lib/http.mjs";

/** 200 KB of distinct bytes, sent in 1,000-byte writes so the client reads it in several chunks. */
const BODY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => 32 + (i % 90)));
const ERROR_BODY = Buffer.from(JSON.stringify({ error: { code: "not_found", message: "x".repeat(500) } }));

/** @type {import("node:http").Server} */
let server;
/** @type {ReturnType<typeof createClient>} */
let client;

before(async () => {
	server = createServer(async (req, res) => {
		if (req.url === "/missing") {
			res.writeHead(404, { "Content-Length": ERROR_BODY.length });
			res.end(ERROR_BODY);
			return;
		}
		res.writeHead(200, { "Content-Length": BODY.length });
		for (let at = 0; at < BODY.length; at += 1000) {
			res.write(BODY.subarray(at, at + 1000));
			// Let each write reach the socket on its own.
			if (at % 20_000 === 0) await new Promise((resolve) => setImmediate(resolve));
		}
		res.end();
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
	const address = /** @type {import("node:net").AddressInfo} */ (server.address());
	client = createClient(`http://127.0.0.1:${address.port}`, { token: "t", sockets: 1 });
});

after(() => {
	client.close();
	server.close();
});

test("a body is kept whole by default", async () => {
	const response = await client.request("GET", "/");
	assert.equal(response.status, 200);
	assert.deepEqual(response.body, BODY);
	assert.equal(response.receivedBytes, BODY.length);
});

test("with keepTail only the body's end is kept, and every byte is still counted", async () => {
	for (const keepTail of [1, 160, 999, 1000, 1001, 5000]) {
		const response = await client.request("GET", "/", undefined, undefined, { keepTail });
		assert.deepEqual(response.body, BODY.subarray(BODY.length - keepTail), `keepTail ${keepTail}`);
		assert.equal(response.receivedBytes, BODY.length);
	}
});

test("with into the body is read into the caller's buffer, and one that does not fit is joined whole", async () => {
	const into = Buffer.alloc(BODY.length + 10);
	const response = await client.request("GET", "/", undefined, undefined, { into });
	assert.deepEqual(response.body, BODY);
	assert.equal(response.body.buffer, into.buffer, "the body is a view of the caller's buffer");
	const small = Buffer.alloc(BODY.length - 1);
	const joined = await client.request("GET", "/", undefined, undefined, { into: small });
	assert.deepEqual(joined.body, BODY);
	assert.notEqual(joined.body.buffer, small.buffer);
	assert.equal(joined.receivedBytes, BODY.length);
});

test("an error's body is kept whole whatever was asked", async () => {
	for (const options of [{ keepTail: 10 }, { into: Buffer.alloc(1 << 16) }]) {
		const response = await client.request("GET", "/missing", undefined, undefined, options);
		assert.equal(response.status, 404);
		assert.deepEqual(response.body, ERROR_BODY);
	}
});
