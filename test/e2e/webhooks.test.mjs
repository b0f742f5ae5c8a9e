// @ts-check
/**
 * Webhooks against a real `wrangler dev` and a real HTTP receiver on 127.0.0.1: a receiver that
 * fails its first attempts gets every record, in order, signed (verified with `standardwebhooks`); a receiver
 * that stays down past `max_attempts` sends the batch to the dead-letter topic.
 *
 * The Worker runs with `WEBHOOK_ALLOW_PRIVATE=true` to deliver to 127.0.0.1 over http.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { generateToken, startWranglerDev, stopAllWranglerDevs, waitUntil } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { listenLocal } from "./lib/local-server.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

/**
 * One request the receiver got; `json` is the delivery body (`{ topic, partition, records: [...] }`).
 * @typedef {{ path: string, headers: Record<string, string>, body: string, json: any, atMs: number }} Entry
 * @typedef {Awaited<ReturnType<typeof startReceiver>>} Receiver
 * @typedef {import("./lib/client.mjs").FetchedRecord} FetchedRecord
 * @typedef {{ outcome: string, response_status: number | null }} Delivery
 */

/**
 * A receiver whose answer to each request is decided by `respond(request, index)`.
 * @param {(entry: Entry, index: number) => number} respond
 */
function startReceiver(respond) {
	/** @type {Entry[]} */
	const received = [];
	const server = createServer((req, res) => {
		/** @type {Buffer[]} */
		const chunks = [];
		req.on("data", (chunk) => chunks.push(chunk));
		req.on("end", () => {
			const body = Buffer.concat(chunks).toString("utf8");
			const headers = /** @type {Record<string, string>} */ (req.headers);
			/** @type {Entry} */
			const entry = { path: req.url ?? "", headers, body, json: JSON.parse(body), atMs: Date.now() };
			const status = respond(entry, received.filter((r) => r.path === entry.path).length);
			received.push(entry);
			res.writeHead(status, { "Content-Type": "text/plain" }).end(status < 300 ? "ok" : "try again");
		});
	});
	return listenLocal(server).then(({ url, close }) => ({ received, url, close }));
}

const state = tempDir("webhooks");
/** @type {import("../../scripts/lib/wrangler-dev.mjs").WranglerDev} */
let dev;
/** @type {ReturnType<typeof client>} */
let api;
/** @type {Receiver} */
let receiver;
/** Whether /restart answers 2xx yet. */
let receiverUp = false;

before(async () => {
	const token = generateToken();
	dev = await startWranglerDev({ persistTo: state.path, token, vars: { WEBHOOK_ALLOW_PRIVATE: "true" } });
	api = client(dev.url, token);
	// /flaky fails its first two attempts; /down never answers 2xx; /fast acknowledges at once.
	receiver = await startReceiver((entry, index) => {
		if (entry.path === "/flaky") return index < 2 ? 503 : 200;
		if (entry.path === "/down") return 500;
		if (entry.path === "/restart") return receiverUp ? 200 : 500;
		return 204;
	});
});

after(async () => {
	await receiver?.close();
	await stopAllWranglerDevs();
	state.remove();
});

/**
 * The delivery's payload if its signature verifies with `secret` (throws otherwise).
 * @param {string} secret
 * @param {Entry} entry
 */
function verified(secret, entry) {
	return new Webhook(secret).verify(entry.body, {
		"webhook-id": entry.headers["webhook-id"] ?? "",
		"webhook-timestamp": entry.headers["webhook-timestamp"] ?? "",
		"webhook-signature": entry.headers["webhook-signature"] ?? "",
	});
}

test("a receiver that fails its first attempts gets every record, in order, signed, with retries under one id", {
	timeout: 120_000,
}, async () => {
	await api.createTopic("hooked", 1);
	const sub = await api.expect(201, "POST", "/v1/topics/hooked/subscriptions", {
		body: { url: `${receiver.url}/flaky`, start: "earliest", batch_max_records: 5, retry_schedule_ms: [0, 200, 200], max_attempts: 10 },
	});
	for (let i = 0; i < 4; i++)
		await api.produce(
			"hooked",
			Array.from({ length: 5 }, (_, n) => ({ value: i * 5 + n })),
		);
	const acknowledged = () => {
		/** @type {Map<string | undefined, Entry>} */
		const seen = new Map();
		for (const entry of receiver.received.filter((r) => r.path === "/flaky")) seen.set(entry.headers["webhook-id"], entry);
		return [...seen.values()];
	};
	await waitUntil(() => acknowledged().flatMap((e) => e.json.records).length >= 20, {
		timeoutMs: 30_000,
		message: "20 records at the receiver",
	});
	const attempts = receiver.received.filter((r) => r.path === "/flaky");
	assert.ok(attempts.length >= 3, "the first two attempts failed and were retried");
	assert.equal(attempts[0]?.headers["webhook-id"], attempts[2]?.headers["webhook-id"], "retries keep the webhook-id");
	assert.equal(attempts[0]?.body, attempts[2]?.body, "retries resend the same records");
	const offsets = acknowledged().flatMap((e) => e.json.records.map((/** @type {FetchedRecord} */ r) => r.offset));
	assert.deepEqual(
		offsets,
		Array.from({ length: 20 }, (_, i) => i),
		"in order, no loss, no duplicate batch",
	);
	for (const entry of attempts) assert.deepEqual(verified(sub.secret, entry), entry.json);
	const { deliveries } = await api.expect(200, "GET", `/v1/topics/hooked/subscriptions/${sub.id}/deliveries`);
	assert.ok(deliveries.some((/** @type {Delivery} */ d) => d.outcome === "failed" && d.response_status === 503));
});

test("a receiver down past max_attempts: the batch goes to the dead-letter topic", { timeout: 120_000 }, async () => {
	await api.createTopic("doomed", 1);
	const sub = await api.expect(201, "POST", "/v1/topics/doomed/subscriptions", {
		body: { url: `${receiver.url}/down`, start: "earliest", retry_schedule_ms: [0, 100], max_attempts: 3 },
	});
	await api.produce("doomed", [{ key: "k", value: "lost?" }]);
	/** @type {FetchedRecord[]} */
	const dead = await waitUntil(
		async () => {
			const response = await api.request("GET", `/v1/topics/${sub.dead_letter_topic}/partitions/0/records?offset=0`);
			return response.status === 200 && response.json.records.length > 0 ? response.json.records : null;
		},
		{ timeoutMs: 30_000, message: "the dead-letter topic to hold the batch" },
	);
	assert.equal(receiver.received.filter((r) => r.path === "/down").length, 3);
	const [first] = dead;
	assert.ok(first);
	assert.deepEqual([first.key, first.value], ["k", "lost?"]);
	const headers = Object.fromEntries(first.headers.map((h) => [h.key, h.value]));
	assert.equal(headers["tributary-dlq-topic"], "doomed");
	assert.equal(headers["tributary-dlq-offset"], "0");
	assert.match(headers["tributary-dlq-error"] ?? "", /HTTP 500/);
});

test("latency from produce request to receipt, for a receiver that answers at once", { timeout: 120_000 }, async () => {
	await api.createTopic("timed", 1);
	await api.expect(201, "POST", "/v1/topics/timed/subscriptions", { body: { url: `${receiver.url}/fast`, start: "latest" } });
	/** @type {number[]} */
	const latencies = [];
	for (let i = 0; i < 30; i++) {
		const before = receiver.received.filter((r) => r.path === "/fast").length;
		// Measured from sending the produce request: the receipt often lands before its acknowledgement does.
		const sentMs = Date.now();
		await api.produce("timed", [{ value: i }]);
		const entry = await waitUntil(() => receiver.received.filter((r) => r.path === "/fast")[before], {
			timeoutMs: 10_000,
			intervalMs: 1,
			message: `record ${i}`,
		});
		assert.ok(entry);
		latencies.push(entry.atMs - sentMs);
	}
	latencies.sort((a, b) => a - b);
	const p = (/** @type {number} */ q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
	console.log(`# webhook latency over wrangler dev: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (n=${latencies.length})`);
	assert.ok(p(0.5) < 1_000);
});

// Runs last: it replaces the wrangler dev every other test uses.
test("progress and a pending retry survive a crash of workerd: the retry after restart keeps its webhook-id", {
	timeout: 120_000,
}, async () => {
	await api.createTopic("durable-hook", 1);
	const sub = await api.expect(201, "POST", "/v1/topics/durable-hook/subscriptions", {
		body: { url: `${receiver.url}/restart`, start: "earliest", retry_schedule_ms: [0, 500], max_attempts: 32 },
	});
	await api.produce("durable-hook", [{ value: "before the crash" }]);
	const attempts = () => receiver.received.filter((r) => r.path === "/restart");
	await waitUntil(() => attempts().length >= 1, { timeoutMs: 30_000, message: "a first (failed) attempt" });
	const firstId = attempts()[0]?.headers["webhook-id"];
	await dev.crash();
	dev = await dev.restart();
	api = client(dev.url, dev.token);
	receiverUp = true;
	const delivered = await waitUntil(
		() => {
			const ok = attempts().filter((r) => r.atMs > 0 && r.headers["webhook-id"] === firstId);
			return receiverUp && ok.length >= 2 ? ok.at(-1) : null;
		},
		{ timeoutMs: 60_000, message: "the pending batch retried after the restart" },
	);
	assert.ok(delivered);
	assert.deepEqual(
		delivered.json.records.map((/** @type {FetchedRecord} */ r) => r.value),
		["before the crash"],
	);
	assert.deepEqual(verified(sub.secret, delivered), delivered.json);
	await waitUntil(
		async () => {
			const { deliveries } = await api.expect(200, "GET", `/v1/topics/durable-hook/subscriptions/${sub.id}/deliveries`);
			/** @type {Delivery[]} */
			const log = deliveries;
			return log.some((d) => d.outcome === "delivered") && log.some((d) => d.outcome === "failed");
		},
		{ timeoutMs: 30_000, message: "the attempt log (kept across the crash) to record the failure and the success" },
	);
});
