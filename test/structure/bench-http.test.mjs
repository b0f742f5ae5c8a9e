// @ts-check
/**
 * The bench's HTTP client (bench/lib/http.mjs), and the same client served by a thread of its own
 * (bench/lib/http-thread.mjs), against a real server that answers in many small writes: a body kept whole, only its
 * end (`keepTail`) or read into the caller's buffer (`into`, joined as usual when it does not fit), with every byte
 * counted however much is kept; an error's body always whole; a request's body sent as given.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
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

/**
 * A raw HTTP/1.1 server that answers with no Keep-Alive header (as workerd does) and, per `onRequest`, either answers
 * 200 "ok" on the same connection or closes it without an answer. Counts connections and requests seen.
 * @param {(seen: { connection: number, onConnection: number }) => "answer" | "close"} onRequest
 */
async function rawServer(onRequest) {
	const seen = { connections: 0, requests: 0 };
	/** @type {Set<import("node:net").Socket>} */
	const open = new Set();
	/** @type {((socket: import("node:net").Socket) => void)[]} */
	const closedByClient = [];
	const server = createNetServer((socket) => {
		const connection = ++seen.connections;
		let onConnection = 0;
		let pending = "";
		open.add(socket);
		socket.on("end", () => {
			for (const resolve of closedByClient.splice(0)) resolve(socket);
			socket.end();
		});
		socket.on("close", () => open.delete(socket));
		socket.on("data", (data) => {
			pending += data.toString("latin1");
			for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
				pending = pending.slice(end + 4);
				seen.requests++;
				if (onRequest({ connection, onConnection: ++onConnection }) === "close") socket.destroy();
				else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
			}
		});
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
	const address = /** @type {import("node:net").AddressInfo} */ (server.address());
	return {
		url: `http://127.0.0.1:${address.port}`,
		seen,
		/** Resolves when a client half-closes a connection of its own accord. */
		clientClosed: () => new Promise((resolve) => closedByClient.push(resolve)),
		close() {
			for (const socket of open) socket.destroy();
			server.close();
		},
	};
}

for (const [name, make] of /** @type {const} */ ([
	["client", createClient],
	["thread client", createThreadClient],
])) {
	test(`${name}: a request on a kept-alive connection the server closes as it arrives is sent again on a new one`, async () => {
		// workerd closes a connection idle for 5 s; a request sent on it just then meets the close unanswered.
		const raw = await rawServer(({ onConnection }) => (onConnection === 2 ? "close" : "answer"));
		const client = make(raw.url, { token: "t", sockets: 1 });
		try {
			assert.equal((await client.request("GET", "/")).status, 200);
			const again = await client.request("POST", "/", Buffer.from("{}"));
			assert.equal(again.status, 200);
			assert.equal(again.resent, 1);
			assert.deepEqual(raw.seen, { connections: 2, requests: 3 });
		} finally {
			await client.close();
			raw.close();
		}
	});

	test(`${name}: a request the server closes unanswered on a new connection is not sent again`, async () => {
		const raw = await rawServer(() => "close");
		const client = make(raw.url, { token: "t", sockets: 1 });
		try {
			await assert.rejects(client.request("GET", "/"), /socket hang up|ECONNRESET/);
			assert.deepEqual(raw.seen, { connections: 1, requests: 1 });
		} finally {
			await client.close();
			raw.close();
		}
	});

	// The thread serves the same client: its 4 s wait is not spent twice.
	if (name !== "client") continue;
	test(`${name}: a connection left idle is closed by the client before a server's idle close can meet a request`, async () => {
		const raw = await rawServer(() => "answer");
		const client = make(raw.url, { token: "t", sockets: 1 });
		try {
			const closed = raw.clientClosed();
			assert.equal((await client.request("GET", "/")).status, 200);
			await closed;
			assert.equal((await client.request("GET", "/")).status, 200);
			assert.deepEqual(raw.seen, { connections: 2, requests: 2 });
		} finally {
			await client.close();
			raw.close();
		}
	});
}
