/**
 * The gateway's HTTP calls to the Worker (gateway/tributary.js), against a real HTTP server on loopback: a call sends
 * its credentials and body and reads the JSON answer; calls in a row reuse kept-alive connections; an abort (a Fetch whose
 * long-poll another partition answered first) rejects the call and closes its connection, which is how the Worker
 * learns to stop waiting; a call with no answer within its deadline rejects; a credential that would split a header
 * is refused before anything is sent; every 5xx is in the gateway's log once, whichever handler made the call.
 */

import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";
import { KAFKA, kafkaError } from "../../gateway/errors.js";
import { describeGroups } from "../../gateway/handlers/group-admin.js";
import { joinGroup } from "../../gateway/handlers/groups.js";
import { offsetCommit } from "../../gateway/handlers/offsets.js";
import { credentialsFor, Tributary } from "../../gateway/tributary.js";
import { WRANGLER_PROXY_RETRY_TEXT } from "../e2e/lib/client.mjs";
import { joinRequest } from "./lib/join-request.mjs";

/**
 * A server that records each request (method, url, headers, body, client port) and answers as `answer` says:
 * `{ status, body }` as JSON, `{ status, type, text }` as it is (another layer's answer), or "hang" to never answer.
 * `closed` lists the client ports whose connection ended.
 * @param {(request: { method: string, url: string }) => { status: number, body: unknown } | { status: number, type: string, text: string } | "hang"} answer
 */
async function server(answer) {
	/** @type {{ method: string, url: string, headers: http.IncomingHttpHeaders, body: string, port: number }[]} */
	const seen = [];
	/** @type {number[]} */
	const closed = [];
	const s = http.createServer((req, res) => {
		const chunks = [];
		req.on("data", (c) => chunks.push(c));
		req.on("end", () => {
			const port = req.socket.remotePort ?? 0;
			seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString(), port });
			const a = answer({ method: req.method ?? "", url: req.url ?? "" });
			if (a === "hang") return;
			const [type, text] = "text" in a ? [a.type, a.text] : ["application/json", JSON.stringify(a.body)];
			res.writeHead(a.status, { "content-type": type, "content-length": Buffer.byteLength(text) });
			res.end(text);
		});
	});
	s.on("connection", (socket) => socket.on("close", () => closed.push(socket.remotePort ?? 0)));
	await new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve(undefined)));
	const address = s.address();
	assert.ok(address !== null && typeof address === "object");
	const stop = () => {
		s.closeAllConnections();
		return new Promise((resolve) => s.close(() => resolve(undefined)));
	};
	return { url: `http://127.0.0.1:${address.port}/base`, seen, closed, stop };
}

/** A call that should end and does not fails its test rather than hanging the suite. */
const TEST_TIMEOUT_MS = 10_000;

const until = async (/** @type {() => boolean} */ done) => {
	while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
};

test("a call sends its credentials and body, reads the JSON answer, and calls in a row reuse kept-alive connections", async () => {
	const srv = await server(() => ({ status: 200, body: { offsets: [{ partition: 0, offset: 7 }] } }));
	const tributary = new Tributary(srv.url, credentialsFor("key-1", "s3cret"));
	try {
		const body = Buffer.from('{"records":[{"value":"é"}]}');
		const first = await tributary.call("POST", "/v1/topics/orders/records", body);
		const second = await tributary.as(credentialsFor("admin", "tok")).listTopics();
		assert.deepEqual(first, { status: 200, body: { offsets: [{ partition: 0, offset: 7 }] } });
		assert.equal(second.status, 200);
		const [produce, list] = srv.seen;
		assert.ok(produce !== undefined && list !== undefined);
		assert.equal(produce.method, "POST");
		assert.equal(produce.url, "/base/v1/topics/orders/records");
		assert.equal(produce.body, body.toString());
		assert.equal(produce.headers["content-type"], "application/json");
		assert.equal(produce.headers["content-length"], String(body.length));
		assert.equal(produce.headers["accept-encoding"], "identity");
		assert.equal(produce.headers.authorization, `Basic ${Buffer.from("key-1:s3cret").toString("base64")}`);
		assert.equal(list.headers.authorization, "Bearer tok");
		// Kept alive: ten more calls in a row go over the connections already open. The pool may hand a call made as
		// the previous answer ends to a second connection while the first is being released, never to more.
		for (let k = 0; k < 10; k++) await tributary.listTopics();
		assert.ok(new Set(srv.seen.map((r) => r.port)).size <= 2, "twelve calls in a row, at most two connections");
	} finally {
		tributary.close();
		await srv.stop();
	}
});

test("an abort rejects the call and closes its connection, ending the Worker's long-poll", { timeout: TEST_TIMEOUT_MS }, async () => {
	const srv = await server(() => "hang");
	const tributary = new Tributary(srv.url, { authorization: null });
	try {
		const controller = new AbortController();
		const call = tributary.fetchRecords("orders", 0, {
			offset: 0,
			maxBytes: 1024,
			maxRecords: 10,
			waitMs: 30_000,
			signal: controller.signal,
		});
		await until(() => srv.seen.length === 1);
		controller.abort(new Error("another partition answered"));
		await assert.rejects(call);
		await until(() => srv.closed.includes(srv.seen[0]?.port ?? -1));
		assert.equal(srv.seen[0]?.headers.authorization, undefined, "no credentials, no Authorization header");
	} finally {
		tributary.close();
		await srv.stop();
	}
});

test("a call with no answer within its deadline rejects", { timeout: TEST_TIMEOUT_MS }, async () => {
	const srv = await server(() => "hang");
	const tributary = new Tributary(srv.url, { authorization: null });
	try {
		await assert.rejects(tributary.send("GET", "/v1/topics", {}, undefined, undefined, 200), /timeout/i);
	} finally {
		tributary.close();
		await srv.stop();
	}
});

test("a credential with a line break is refused before anything is sent", async () => {
	const srv = await server(() => ({ status: 200, body: {} }));
	const tributary = new Tributary(srv.url, credentialsFor("admin", "tok\r\nX-Injected: 1"));
	try {
		await assert.rejects(tributary.listTopics());
		assert.equal(srv.seen.length, 0);
	} finally {
		tributary.close();
		await srv.stop();
	}
});

test("a 5xx that is not the Worker's (empty, or not JSON, as a proxy or the platform answers) reads as its retriable internal error, and is logged", async () => {
	const answers = [
		{ status: 503, type: "text/plain", text: "" },
		{ status: 502, type: "text/html", text: "<html>Bad gateway</html>" },
		{ status: 500, type: "text/plain", text: "" },
		// wrangler dev's proxy, for any POST whose forward to the Worker failed, whether or not the Worker restarted
		// (its ProxyWorker.ts): the 503 behind a kcat "Unknown broker error" in the Kafka gateway's e2e test.
		{
			status: 503,
			type: "text/plain;charset=UTF-8",
			text: WRANGLER_PROXY_RETRY_TEXT,
		},
	];
	let next = 0;
	const srv = await server(() => answers[next++] ?? "hang");
	/** @type {string[]} */
	const logged = [];
	// As a connection's own view (`as`) calls: the log is the gateway's, shared.
	const tributary = new Tributary(srv.url, credentialsFor(null, null), undefined, (line) => logged.push(line)).as(credentialsFor("k", "s"));
	try {
		for (const { status } of answers) {
			const answer = await tributary.call("GET", "/v1/topics");
			assert.equal(answer.status, status);
			assert.equal(answer.body?.error?.code, "internal", `HTTP ${status}`);
			assert.equal(kafkaError(answer, "group"), KAFKA.COORDINATOR_NOT_AVAILABLE, `HTTP ${status}`);
		}
		// JSON, but not the Worker's error shape (a proxy's own): retried all the same, and logged as it came.
		answers.push({ status: 503, type: "application/json", text: '{"message":"upstream reset"}' });
		assert.equal(kafkaError(await tributary.call("GET", "/v1/topics"), "topic"), KAFKA.LEADER_NOT_AVAILABLE);
		// Each is in the gateway's log, whichever handler made the call: an operator sees what the client was told to retry.
		assert.deepEqual(logged, [
			"GET /v1/topics: 503 internal: HTTP 503 with no body",
			"GET /v1/topics: 502 internal: <html>Bad gateway</html>",
			"GET /v1/topics: 500 internal: HTTP 500 with no body",
			`GET /v1/topics: 503 internal: ${answers[3]?.text}`,
			'GET /v1/topics: 503 {"message":"upstream reset"}',
		]);
	} finally {
		tributary.close();
		await srv.stop();
	}
});

test("a join, commit or describe that fails is one line in the gateway's log: the call's for a 5xx, the handler's for a refusal", async () => {
	/** @type {Record<string, { status: number, body: unknown }>} each call's answer, by method and path */
	const answers = {
		"POST /base/v1/groups/billing/members": { status: 503, body: { error: { code: "unavailable", message: "coordinator restarting" } } },
		"POST /base/v1/groups/billing/offsets": { status: 500, body: { error: { code: "internal", message: "commit lost" } } },
		"GET /base/v1/groups/billing": { status: 503, body: { error: { code: "unavailable", message: "coordinator restarting" } } },
		"POST /base/v1/groups/ledger/members": { status: 409, body: { error: { code: "group_full", message: "group is full" } } },
		"POST /base/v1/groups/ledger/offsets": { status: 409, body: { error: { code: "rebalance_in_progress", message: "rebalancing" } } },
		"GET /base/v1/groups/ledger": { status: 403, body: { error: { code: "forbidden", message: "no describe on group ledger" } } },
	};
	const srv = await server(
		({ method, url }) => answers[`${method} ${url}`] ?? { status: 404, body: { error: { code: "not_found", message: url } } },
	);
	/** @type {string[]} */
	const logged = [];
	const log = (/** @type {string} */ line) => logged.push(line);
	// One sink for both, as in the gateway: the Tributary client's log and each connection's (there with its peer).
	const ctx = { tributary: new Tributary(srv.url, { authorization: null }, undefined, log), version: 3, log };
	try {
		for (const groupId of ["billing", "ledger"]) {
			const join = await joinGroup(joinRequest(groupId, ["orders"]), ctx);
			const commit = await offsetCommit(
				{
					groupId,
					memberId: "m-1",
					generationIdOrMemberEpoch: 1,
					topics: [{ name: "orders", partitions: [{ partitionIndex: 0, committedOffset: 5, committedMetadata: null }] }],
				},
				ctx,
			);
			const described = await describeGroups({ groups: [groupId] }, ctx);
			assert.notEqual(join.errorCode, KAFKA.NONE, `${groupId}: join`);
			assert.notEqual(commit.topics[0].partitions[0].errorCode, KAFKA.NONE, `${groupId}: commit`);
			assert.notEqual(described.groups[0].errorCode, KAFKA.NONE, `${groupId}: describe`);
		}
		assert.equal(srv.seen.length, 6, "one call each, none sent again");
		assert.deepEqual(logged, [
			"POST /v1/groups/billing/members: 503 unavailable: coordinator restarting",
			"POST /v1/groups/billing/offsets: 500 internal: commit lost",
			"GET /v1/groups/billing: 503 unavailable: coordinator restarting",
			"join ledger: 409 group is full",
			"commit ledger: 409 rebalancing",
			"describe ledger: 403 no describe on group ledger",
		]);
	} finally {
		ctx.tributary.close();
		await srv.stop();
	}
});
