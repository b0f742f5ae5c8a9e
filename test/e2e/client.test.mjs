// @ts-check
/**
 * The e2e tests' HTTP client (test/e2e/lib/client.mjs) against a stand-in on loopback that answers as wrangler dev's
 * proxy does when its forward to the Worker fails: a 503 with the proxy's text for a POST, PUT or DELETE, and for a
 * GET no answer until the next request arrives. A request that is safe to repeat (a produce with an
 * `Idempotency-Key` or an idempotent producer's sequence, which Tributary answers with the first write's offsets; a
 * read; a commit, heartbeat, /v1 PATCH that only sets, or join that names its member; a topic create, whose 409 is recognised) is
 * sent again and lands once; any other is not sent again and fails with the proxy's text; the Worker's own JSON 503
 * is never taken for the proxy's. A held read is released by the client's nudge before its timeout. The stand-in
 * applies each write before it answers the proxy's 503: the worst case, an answer lost after the write. The crash
 * tests' produce (test/e2e/lib/crash-produce.mjs) takes the proxy's 503 for an outcome unknown, the Worker's for a failure.
 */

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { client, HttpError, READ_NUDGE_MS, WRANGLER_PROXY_RETRY_TEXT } from "./lib/client.mjs";
import { produceUnderLoad } from "./lib/crash-produce.mjs";
import { listenLocal } from "./lib/local-server.mjs";

/**
 * A read held by the stand-in's proxy is sent again after this long (the client's timeout, shortened for the test,
 * below READ_NUDGE_MS so that no nudge comes first).
 */
const HELD_READ_TIMEOUT_MS = 300;
/** A read's timeout well beyond READ_NUDGE_MS: a nudge comes first. */
const NUDGED_READ_TIMEOUT_MS = 3 * READ_NUDGE_MS;

/**
 * @typedef {{ method: string, path: string, idempotencyKey: string | undefined, body: string }} Seen
 * @typedef {"proxy-503" | "worker-503" | "hold-read" | "hang-read"} Fault what the next request meets ("hang-read": a
 *   read the Worker itself never answers, which no later request releases)
 */

/** @type {Seen[]} every request the stand-in received, in order */
const seen = [];
/** @type {unknown[]} the records the stand-in's one partition holds, in offset order */
const log = [];
/** @type {Map<string, { partition: number, offset: number }[]>} the first answer's offsets of each produce that named itself */
const claimed = new Map();
/** @type {Fault[]} faults for the next requests, one each, in order */
const faults = [];
/** @type {Map<string, { name: string, topic_id: string, partitions: number, config: Record<string, unknown> }>} topics by name */
const topics = new Map();
/** @type {Map<string, string[]>} each group's member ids, in the order they joined */
const groups = new Map();
/** @type {unknown[]} every commit the stand-in stored, in order */
const commits = [];
/** @type {(() => void) | null} a GET the stand-in holds, answered when the next request arrives (as wrangler dev's proxy does) */
let held = null;

/**
 * A produce's claim to being answered exactly on a retry: its Idempotency-Key, or its producer's id and sequence.
 * @param {string | undefined} idempotencyKey @param {any} body
 */
function claimOf(idempotencyKey, body) {
	if (idempotencyKey !== undefined) return `key ${idempotencyKey}`;
	return body?.producer_id === undefined ? null : `producer ${body.producer_id}/${body.epoch}/${body.sequence}`;
}

/**
 * A topic create, join or commit, done as the Worker does it (the topic registry refuses a name taken; a join that
 * names its member joins it again; a commit stores its offsets); the answer it gives, or null for other requests.
 * @param {string} method @param {string} path @param {any} body
 * @returns {[number, string, string] | null}
 */
function writeOf(method, path, body) {
	const json = (/** @type {number} */ status, /** @type {unknown} */ value) =>
		/** @type {[number, string, string]} */ ([status, "application/json", JSON.stringify(value)]);
	if (method !== "POST") return null;
	if (path === "/v1/topics") {
		if (topics.has(body.name)) return json(409, { error: { code: "topic_exists", message: `topic "${body.name}" exists` } });
		const config = { "retention.ms": 604800000, "cleanup.policy": "delete", ...body.config };
		const topic = { name: body.name, topic_id: randomUUID(), partitions: body.partitions ?? 1, config };
		topics.set(body.name, topic);
		return json(201, topic);
	}
	const group = /^\/v1\/groups\/([^/]+)\/(members|offsets)$/.exec(path);
	if (group === null) return null;
	const [, id = "", resource] = group;
	if (resource === "offsets") {
		commits.push(body.offsets);
		return json(200, { committed: true });
	}
	const members = groups.get(id) ?? [];
	groups.set(id, members);
	const memberId = body.member_id ?? randomUUID();
	if (!members.includes(memberId)) members.push(memberId);
	return json(200, { member_id: memberId, generation: members.length });
}

const standIn = createServer((request, response) => {
	/** @type {Buffer[]} */
	const chunks = [];
	request.on("data", (chunk) => chunks.push(chunk));
	request.on("end", () => {
		const text = Buffer.concat(chunks).toString("utf8");
		const header = request.headers["idempotency-key"];
		const idempotencyKey = Array.isArray(header) ? header[0] : header;
		seen.push({ method: request.method ?? "", path: request.url ?? "", idempotencyKey, body: text });
		held?.();
		held = null;
		/** @param {number} status @param {string} type @param {string} body */
		const answer = (status, type, body) => response.writeHead(status, { "content-type": type }).end(body);
		const fault = faults.shift();
		if (request.method === "GET" && request.url?.startsWith("/v1/topics/") && !request.url.includes("/partitions/")) {
			const topic = topics.get(request.url.slice("/v1/topics/".length));
			if (topic === undefined) return answer(404, "application/json", JSON.stringify({ error: { code: "topic_not_found" } }));
			const partitions = Array.from({ length: topic.partitions }, (_, partition) => ({ partition, high_watermark: 0 }));
			return answer(200, "application/json", JSON.stringify({ ...topic, partitions }));
		}
		if (request.method === "GET" && request.url === "/healthz") return answer(200, "application/json", '{"status":"ok"}');
		if (request.method === "GET") {
			const page = () => answer(200, "application/json", JSON.stringify({ records: log, next_offset: log.length }));
			if (fault === "hold-read") held = page;
			else if (fault !== "hang-read") page();
			return;
		}
		if (fault === "worker-503") {
			return answer(
				503,
				"application/json",
				JSON.stringify({ error: { code: "partition_unavailable", message: "moving", retriable: true } }),
			);
		}
		const body = text === "" ? {} : JSON.parse(text);
		const write = writeOf(request.method ?? "", request.url ?? "", body);
		if (write !== null) {
			return fault === "proxy-503" ? answer(503, "text/plain;charset=UTF-8", WRANGLER_PROXY_RETRY_TEXT) : answer(...write);
		}
		// A write other than a produce: only what the proxy answers matters here.
		if (request.method !== "POST" || !request.url?.endsWith("/records")) {
			return fault === "proxy-503"
				? answer(503, "text/plain;charset=UTF-8", WRANGLER_PROXY_RETRY_TEXT)
				: answer(200, "application/json", "{}");
		}
		// The worst case for a retry: the Worker took the write, and its answer was lost between it and the proxy.
		const claim = claimOf(idempotencyKey, body);
		const replayed = claim === null ? undefined : claimed.get(claim);
		const offsets = replayed ?? body.records.map((/** @type {unknown} */ record) => ({ partition: 0, offset: log.push(record) - 1 }));
		if (claim !== null) claimed.set(claim, offsets);
		if (fault === "proxy-503") return answer(503, "text/plain;charset=UTF-8", WRANGLER_PROXY_RETRY_TEXT);
		answer(200, "application/json", JSON.stringify({ offsets }));
	});
});

let api = client("http://127.0.0.1:0", "tok");
/** @type {import("./lib/local-server.mjs").LocalServer | undefined} */
let listening;
before(async () => {
	listening = await listenLocal(standIn);
	api = client(listening.url, "tok");
});
after(() => listening?.close());

/** Clears what the stand-in saw and holds, before each test's own requests. */
function fresh() {
	seen.length = 0;
	log.length = 0;
	claimed.clear();
	faults.length = 0;
	topics.clear();
	groups.clear();
	commits.length = 0;
}

test("a produce with an Idempotency-Key that met the proxy's 503 is sent again with the same key and body, and lands once", async () => {
	fresh();
	faults.push("proxy-503");
	const answer = await api.expect(200, "POST", "/v1/topics/t/records", {
		body: { records: [{ value: "once" }] },
		headers: { "Idempotency-Key": "order-1" },
	});
	assert.deepEqual(answer.offsets, [{ partition: 0, offset: 0 }]);
	assert.deepEqual(log, [{ value: "once" }]);
	assert.equal(seen.length, 2);
	assert.deepEqual(seen[1], seen[0], "the same request, key and body");
});

test("the client's produce() names each produce with an Idempotency-Key of its own, so a retry after the proxy's 503 lands once", async () => {
	fresh();
	faults.push("proxy-503");
	const offsets = await api.produce("t", [{ value: "a" }, { value: "b" }]);
	assert.deepEqual(offsets, [
		{ partition: 0, offset: 0 },
		{ partition: 0, offset: 1 },
	]);
	await api.produce("t", [{ value: "c" }]);
	assert.deepEqual(log, [{ value: "a" }, { value: "b" }, { value: "c" }]);
	assert.deepEqual(
		seen.map((s) => s.idempotencyKey),
		[seen[0]?.idempotencyKey, seen[0]?.idempotencyKey, seen[2]?.idempotencyKey],
	);
	assert.ok(seen[0]?.idempotencyKey !== undefined && seen[0].idempotencyKey !== seen[2]?.idempotencyKey, "one key per produce");
});

test("an idempotent producer's produce (producer id, epoch, sequence) that met the proxy's 503 is sent again and lands once", async () => {
	fresh();
	faults.push("proxy-503");
	const body = { producer_id: 7, epoch: 0, sequence: 0, records: [{ value: "seq-0" }] };
	const answer = await api.expect(200, "POST", "/v1/topics/t/records", { body });
	assert.deepEqual(answer.offsets, [{ partition: 0, offset: 0 }]);
	assert.deepEqual(log, [{ value: "seq-0" }]);
	assert.equal(seen.length, 2);
});

test("a POST that is not safe to repeat is sent once: the proxy's 503 fails it with the proxy's text", async () => {
	fresh();
	faults.push("proxy-503");
	const sent = api.expect(200, "POST", "/v1/topics/t/records", { body: { records: [{ value: "plain" }] } });
	await assert.rejects(sent, (error) => {
		assert.ok(error instanceof HttpError);
		assert.equal(error.status, 503);
		assert.equal(error.body, WRANGLER_PROXY_RETRY_TEXT);
		assert.match(error.message, /^POST \/v1\/topics\/t\/records → 503: Your worker restarted mid-request\./);
		return true;
	});
	assert.equal(seen.length, 1);
	assert.deepEqual(log, [{ value: "plain" }], "written once (the Worker took it), not twice");
});

test("a conditional write (If-Match) is sent once: sent again after it landed unseen, it would be answered 412", async () => {
	fresh();
	faults.push("proxy-503", "proxy-503");
	const conditional = api.expect(200, "PUT", "/v1/anonymous", { body: { acl: [] }, headers: { "If-Match": '"t1"' } });
	await assert.rejects(conditional, (error) => error instanceof HttpError && error.status === 503);
	assert.equal(seen.length, 1);
	// The same PUT without If-Match leaves the same state however often it lands: sent again.
	fresh();
	faults.push("proxy-503");
	await api.expect(200, "PUT", "/v1/anonymous", { body: { acl: [] } });
	assert.deepEqual(
		seen.map((r) => r.method),
		["PUT", "PUT"],
	);
});

test("the Worker's own JSON 503 is answered as it is, never sent again, even for a produce that is safe to repeat", async () => {
	fresh();
	faults.push("worker-503");
	const answer = await api.request("POST", "/v1/topics/t/records", {
		body: { records: [{ value: "x" }] },
		headers: { "Idempotency-Key": "order-2" },
	});
	assert.equal(answer.status, 503);
	assert.equal(answer.json?.error?.code, "partition_unavailable");
	assert.equal(seen.length, 1);
});

test("a GET the proxy holds (its forward failed) is sent again after its timeout, which releases it; held twice, it fails", async () => {
	fresh();
	log.push({ value: "kept" });
	faults.push("hold-read");
	const page = await api.expect(200, "GET", "/v1/topics/t/partitions/0/records", { timeoutMs: HELD_READ_TIMEOUT_MS });
	assert.deepEqual(page.records, [{ value: "kept" }]);
	assert.equal(seen.length, 2);

	fresh();
	faults.push("hold-read", "hold-read");
	await assert.rejects(api.request("GET", "/v1/topics/t/partitions/0/records", { timeoutMs: HELD_READ_TIMEOUT_MS }), {
		name: "TimeoutError",
	});
	assert.equal(seen.length, 2, "sent twice, no more");
});

test("a GET the proxy holds is released by the client's nudge (a GET /healthz) long before its timeout, and is sent once", async () => {
	fresh();
	log.push({ value: "kept" });
	faults.push("hold-read");
	const page = await api.expect(200, "GET", "/v1/topics/t/partitions/0/records", { timeoutMs: NUDGED_READ_TIMEOUT_MS });
	assert.deepEqual(page.records, [{ value: "kept" }]);
	assert.deepEqual(
		seen.map((s) => `${s.method} ${s.path}`),
		["GET /v1/topics/t/partitions/0/records", "GET /healthz"],
	);
});

test("a commit that met the proxy's 503 after it landed is sent again: the same offsets stored twice leave what once does", async () => {
	fresh();
	faults.push("proxy-503");
	const offsets = [{ topic: "t", partition: 0, offset: 5 }];
	const answer = await api.expect(200, "POST", "/v1/groups/g/offsets", { body: { member_id: "m", generation: 1, offsets } });
	assert.deepEqual(answer, { committed: true });
	assert.deepEqual(commits, [offsets, offsets]);
	// A reset to "latest" is read again at its second send: it may land elsewhere, so it is sent once.
	fresh();
	faults.push("proxy-503");
	const reset = api.expect(200, "POST", "/v1/groups/g/offsets/reset", { body: { topic: "t", to: "latest" } });
	await assert.rejects(reset, (error) => error instanceof HttpError && error.status === 503);
	assert.equal(seen.length, 1);
});

test("a heartbeat that met the proxy's 503 is sent again: a second one only moves the session's deadline again", async () => {
	fresh();
	faults.push("proxy-503");
	await api.expect(200, "POST", "/v1/groups/g/members/m/heartbeat", { body: {} });
	assert.deepEqual(
		seen.map((s) => s.path),
		["/v1/groups/g/members/m/heartbeat", "/v1/groups/g/members/m/heartbeat"],
	);
});

test("a join that names no member is sent with a member id of its own: one that met the proxy's 503 after it landed is sent again, and the group holds one member", async () => {
	fresh();
	faults.push("proxy-503");
	const joined = await api.expect(200, "POST", "/v1/groups/g/members", { body: { topics: ["t"] } });
	assert.deepEqual(groups.get("g"), [joined.member_id]);
	assert.equal(seen.length, 2);
	assert.deepEqual(seen[1], seen[0], "the same join, member id and all");
	// A static member (instance_id) is the same member however often it joins: sent as it is, and again.
	fresh();
	faults.push("proxy-503");
	await api.expect(200, "POST", "/v1/groups/g/members", { body: { topics: ["t"], instance_id: "reader-1" } });
	assert.equal(JSON.parse(seen[0]?.body ?? "").member_id, undefined);
	assert.equal(seen.length, 2);
});

test("a PATCH under /v1 without If-Match is sent again: a merge patch applied twice leaves what it left once", async () => {
	fresh();
	faults.push("proxy-503");
	await api.expect(200, "PATCH", "/v1/keys/k1/quotas", { body: { requests_per_sec: 200 } });
	assert.deepEqual(
		seen.map((s) => s.method),
		["PATCH", "PATCH"],
	);
});

test("a PATCH that rotates a webhook secret or grows partitions is not sent again: a second send is a new secret, or a refusal", async () => {
	for (const { path, body } of [
		{ path: "/v1/topics/t/subscriptions/s1", body: { rotate_secret: true } },
		{ path: "/v1/topics/t", body: { partitions: 6 } },
	]) {
		fresh();
		faults.push("proxy-503");
		await assert.rejects(api.expect(200, "PATCH", path, { body }), (error) => String(error).includes(WRANGLER_PROXY_RETRY_TEXT));
		assert.equal(seen.length, 1, `${path} ${JSON.stringify(body)} sent once`);
	}
});

test("a read still unanswered after the client's nudges is the test's to see (a Worker that hangs), not sent again", async () => {
	fresh();
	faults.push("hang-read");
	await assert.rejects(api.request("GET", "/v1/topics/t/partitions/0/records", { timeoutMs: NUDGED_READ_TIMEOUT_MS }), {
		name: "TimeoutError",
	});
	assert.deepEqual(
		seen.filter((s) => s.path !== "/healthz").map((s) => `${s.method} ${s.path}`),
		["GET /v1/topics/t/partitions/0/records"],
	);
	assert.ok(
		seen.some((s) => s.path === "/healthz"),
		"the client nudged first",
	);
});

test("a topic create whose answer the proxy lost is sent again; its 409 topic_exists is taken for the creation when a describe shows the asked partitions and config", async () => {
	fresh();
	faults.push("proxy-503");
	const created = await api.expect(201, "POST", "/v1/topics", {
		body: { name: "orders", partitions: 3, config: { "retention.ms": 60000 } },
	});
	const stored = topics.get("orders");
	assert.deepEqual(created, stored);
	assert.deepEqual(
		seen.map((s) => `${s.method} ${s.path}`),
		["POST /v1/topics", "POST /v1/topics", "GET /v1/topics/orders"],
	);
	// The client's own helper too.
	faults.push("proxy-503");
	assert.equal((await api.createTopic("payments", 2)).partitions, 2);
});

test("a topic create's 409 is the test's to see when it was the first send's answer, or when the topic has other partitions or config", async () => {
	fresh();
	await api.expect(201, "POST", "/v1/topics", { body: { name: "orders", partitions: 1 } });
	await assert.rejects(api.expect(201, "POST", "/v1/topics", { body: { name: "orders", partitions: 1 } }), (error) => {
		assert.ok(error instanceof HttpError);
		assert.equal(error.status, 409);
		return true;
	});
	// The proxy failed the create, and the topic turns out to exist with other partitions: not this create's doing.
	faults.push("proxy-503");
	await assert.rejects(api.expect(201, "POST", "/v1/topics", { body: { name: "orders", partitions: 4 } }), (error) => {
		assert.ok(error instanceof HttpError);
		assert.equal(error.status, 409);
		assert.match(error.body, /topic_exists/);
		return true;
	});
	assert.equal((await api.request("POST", "/v1/topics", { body: { name: "orders", partitions: 1 } })).status, 409);
});

test("a crash test's unkeyed produce answered the proxy's 503 is sent once and is an outcome unknown (it may be written), not a failure; the Worker's JSON 503 is a failure", async () => {
	fresh();
	faults.push("proxy-503");
	const lost = await produceUnderLoad(api, "t", { records: [{ value: "maybe" }] });
	assert.deepEqual(lost, { kind: "unknown", reason: `503 ${WRANGLER_PROXY_RETRY_TEXT}` });
	assert.equal(seen.length, 1, "sent once: sent again, a write that landed unseen would be stored twice");
	assert.deepEqual(log, [{ value: "maybe" }], "the stand-in wrote it before the proxy's 503: why the outcome is unknown");
	faults.push("worker-503");
	const refused = await produceUnderLoad(api, "t", { records: [{ value: "refused" }] });
	assert.equal(refused.kind, "failed");
	assert.match(refused.kind === "failed" ? refused.reason : "", /^503 .*partition_unavailable/);
	const acknowledged = await produceUnderLoad(api, "t", { records: [{ value: "kept" }] });
	assert.deepEqual(acknowledged, { kind: "acknowledged", offsets: [{ partition: 0, offset: 1 }] });
});
