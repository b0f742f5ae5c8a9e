// @ts-check
/**
 * The bench's HTTP client (bench/lib/http.mjs), and the same client served by a thread of its own
 * (bench/lib/http-thread.mjs), against a real server that answers in many small writes: a body kept whole, only its
 * end (`keepTail`) or read into the caller's buffer (`into`, joined as usual when it does not fit), with every byte
 * counted however much is kept; an error's body always whole; a request's body sent as given.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { createClient } from "../../bench/lib/http.mjs";
import { createThreadClient, sharedBuffer } from "../../bench/lib/http-thread.mjs";

/** 200 KB of distinct bytes, sent in 1,000-byte writes so the client reads it in several chunks. */
const BODY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => 32 + (i % 90)));
const ERROR_BODY = Buffer.from(JSON.stringify({ error: { code: "not_found", message: "x".repeat(500) } }));

/** @type {import("node:http").Server} */
let server;
/** @type {{ name: string, client: Pick<ReturnType<typeof createClient>, "request" | "close"> }[]} */
const clients = [];

before(async () => {
	server = createServer(async (req, res) => {
		if (req.url === "/echo") {
			const chunks = [];
			for await (const chunk of req) chunks.push(chunk);
			const echoed = Buffer.concat(chunks);
			res.writeHead(200, {
				"Content-Length": echoed.length,
				"X-Auth": req.headers.authorization ?? "",
				"X-Extra": req.headers["x-extra"] ?? "",
			});
			res.end(echoed);
			return;
		}
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
	const url = `http://127.0.0.1:${address.port}`;
	clients.push({ name: "client", client: createClient(url, { token: "t", sockets: 1 }) });
	clients.push({ name: "thread client", client: createThreadClient(url, { token: "t", sockets: 2 }) });
});

after(async () => {
	for (const { client } of clients) await client.close();
	server.close();
});

for (const name of ["client", "thread client"]) {
	const use = () => /** @type {(typeof clients)[number]} */ (clients.find((c) => c.name === name)).client;
	test(`${name}: a body is kept whole by default`, async () => {
		const response = await use().request("GET", "/");
		assert.equal(response.status, 200);
		assert.deepEqual(response.body, BODY);
		assert.equal(response.receivedBytes, BODY.length);
	});

	test(`${name}: with keepTail only the body's end is kept, and every byte is still counted`, async () => {
		for (const keepTail of [1, 160, 999, 1000, 1001, 5000]) {
			const response = await use().request("GET", "/", undefined, undefined, { keepTail });
			assert.deepEqual(response.body, BODY.subarray(BODY.length - keepTail), `keepTail ${keepTail}`);
			assert.equal(response.receivedBytes, BODY.length);
		}
	});

	test(`${name}: with into the body is read into the caller's buffer, and one that does not fit is joined whole`, async () => {
		const into = sharedBuffer(BODY.length + 10);
		const response = await use().request("GET", "/", undefined, undefined, { into });
		assert.deepEqual(response.body, BODY);
		assert.equal(response.body.buffer, into.buffer, "the body is a view of the caller's buffer");
		const small = sharedBuffer(BODY.length - 1);
		const joined = await use().request("GET", "/", undefined, undefined, { into: small });
		assert.deepEqual(joined.body, BODY);
		assert.notEqual(joined.body.buffer, small.buffer);
		assert.equal(joined.receivedBytes, BODY.length);
	});

	test(`${name}: an error's body is kept whole whatever was asked`, async () => {
		for (const options of [{ keepTail: 10 }, { into: sharedBuffer(1 << 16) }]) {
			const response = await use().request("GET", "/missing", undefined, undefined, options);
			assert.equal(response.status, 404);
			assert.deepEqual(response.body, ERROR_BODY);
		}
	});

	test(`${name}: a request's body and headers go as given, a body read into a buffer twice is the second answer`, async () => {
		const sent = Buffer.from("x".repeat(70_000) + "end");
		const response = await use().request("POST", "/echo", sent, { "X-Extra": "yes" });
		assert.deepEqual(response.body, sent);
		assert.equal(response.headers["x-auth"], "Bearer t");
		assert.equal(response.headers["x-extra"], "yes");
		const into = sharedBuffer(1 << 17);
		await use().request("POST", "/echo", Buffer.from("first answer"), undefined, { into });
		const second = await use().request("POST", "/echo", Buffer.from("second"), undefined, { into });
		assert.equal(second.body.toString(), "second");
	});
}

test("the thread client refuses a buffer it cannot share, and rejects a request that cannot connect or comes after close", async () => {
	const thread = /** @type {ReturnType<typeof createThreadClient>} */ (clients[1]?.client);
	await assert.rejects(thread.request("GET", "/", undefined, undefined, { into: Buffer.alloc(10) }), /SharedArrayBuffer/);
	const nowhere = createThreadClient("http://127.0.0.1:1", { token: "t", sockets: 1 });
	await assert.rejects(nowhere.request("GET", "/"), /ECONNREFUSED/);
	await nowhere.close();
	// A closed client's thread is gone: a request fails at once instead of waiting for an answer that never comes.
	await assert.rejects(nowhere.request("GET", "/"), /thread exited/);
});
