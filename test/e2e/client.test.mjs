// @ts-check
/**
 * The e2e tests' HTTP client (test/e2e/lib/client.mjs) against a stand-in on loopback that answers as wrangler dev's
 * proxy does when its forward to the Worker fails: a 503 with the proxy's text for a POST, PUT or DELETE, and for a
 * GET no answer until the next request arrives. A request that is safe to repeat (a produce with an
 * `Idempotency-Key` or an idempotent producer's sequence, which Tributary answers with the first write's offsets; a
 * read) is sent again and lands once; any other is not sent again and fails with the proxy's text; the Worker's own
 * JSON 503 is never taken for the proxy's.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { client, HttpError, WRANGLER_PROXY_RETRY_TEXT } from "./lib/client.mjs";

/** A read held by the stand-in's proxy is sent again after this long (the client's timeout, shortened for the test). */
const HELD_READ_TIMEOUT_MS = 300;

/**
 * @typedef {{ method: string, path: string, idempotencyKey: string | undefined, body: string }} Seen
 * @typedef {"proxy-503" | "worker-503" | "hold-read"} Fault what the next request meets
 */

/** @type {Seen[]} every request the stand-in received, in order */
const seen = [];
/** @type {unknown[]} the records the stand-in's one partition holds, in offset order */
const log = [];
/** @type {Map<string, { partition: number, offset: number }[]>} the first answer's offsets of each produce that named itself */
const claimed = new Map();
/** @type {Fault[]} faults for the next requests, one each, in order */
const faults = [];
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
		if (request.method === "GET") {
			const page = () => answer(200, "application/json", JSON.stringify({ records: log, next_offset: log.length }));
			if (fault === "hold-read") held = page;
			else page();
			return;
		}
		if (fault === "worker-503") {
			return answer(
				503,
				"application/json",
				JSON.stringify({ error: { code: "partition_unavailable", message: "moving", retriable: true } }),
			);
		}
		// A write other than a produce: only what the proxy answers matters here.
		if (request.method !== "POST") {
			return fault === "proxy-503"
				? answer(503, "text/plain;charset=UTF-8", WRANGLER_PROXY_RETRY_TEXT)
				: answer(200, "application/json", "{}");
		}
		// The worst case for a retry: the Worker took the write, and its answer was lost between it and the proxy.
		const body = JSON.parse(text);
		const claim = claimOf(idempotencyKey, body);
		const replayed = claim === null ? undefined : claimed.get(claim);
		const offsets = replayed ?? body.records.map((/** @type {unknown} */ record) => ({ partition: 0, offset: log.push(record) - 1 }));
		if (claim !== null) claimed.set(claim, offsets);
		if (fault === "proxy-503") return answer(503, "text/plain;charset=UTF-8", WRANGLER_PROXY_RETRY_TEXT);
		answer(200, "application/json", JSON.stringify({ offsets }));
	});
});

let api = client("http://127.0.0.1:0", "tok");
before(async () => {
	await new Promise((resolve) => standIn.listen(0, "127.0.0.1", () => resolve(undefined)));
	const { port } = /** @type {import("node:net").AddressInfo} */ (standIn.address());
	api = client(`http://127.0.0.1:${port}`, "tok");
});
after(() => {
	standIn.closeAllConnections();
	return new Promise((resolve) => standIn.close(() => resolve(undefined)));
});

/** Clears what the stand-in saw and holds, before each test's own requests. */
function fresh() {
	seen.length = 0;
	log.length = 0;
	claimed.clear();
	faults.length = 0;
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
