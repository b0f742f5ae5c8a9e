// @ts-check
/**
 * A lookup the gateway's connections share (the topic listing, a topic's timestamp type) is not ended by the
 * connection that happened to start it: when that one closes during the lookup's quota wait (a 429 sat out), the
 * connections still waiting for it get its answer, not the 429 the closed one would have been left with. Two views of
 * Tributary, each with its own connection's signal (`Tributary.withSignal`), against a stand-in that answers each
 * lookup's first send 429 and the next one.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { TopicList } from "../../gateway/topic-list.js";
import { Tributary } from "../../gateway/tributary.js";

/** The stand-in's Retry-After: under QUOTA_WAIT_MS_MAX, so the lookup sits it out. */
const RETRY_AFTER_MS = 300;
const TOPIC = "orders";

/** Sends of each lookup (by path) the stand-in received. */
const sends = new Map();
/** Called on each send received, for a test waiting for the first. */
let onSend = () => {};

const worker = createServer((req, res) => {
	const url = new URL(req.url ?? "/", "http://worker");
	const count = (sends.get(url.pathname) ?? 0) + 1;
	sends.set(url.pathname, count);
	onSend();
	res.setHeader("content-type", "application/json");
	if (count === 1) {
		res.statusCode = 429;
		const error = { code: "quota_exceeded", message: "over its quota", retriable: true, retry_after_ms: RETRY_AFTER_MS };
		return res.end(JSON.stringify({ error }));
	}
	if (url.pathname === "/v1/topics")
		return res.end(JSON.stringify({ topics: [{ name: TOPIC, topic_id: "0a0b0c0d-0000-4000-8000-00000000000a", partitions: 1 }] }));
	res.end(JSON.stringify({ name: "message.timestamp.type", value: "LogAppendTime" }));
});

/** @type {Tributary} */
let tributary;
before(async () => {
	await new Promise((resolve) => worker.listen(0, "127.0.0.1", () => resolve(undefined)));
	const { port } = /** @type {import("node:net").AddressInfo} */ (worker.address());
	tributary = new Tributary(`http://127.0.0.1:${port}`, { authorization: "Bearer t" });
});
after(async () => {
	tributary.close();
	await new Promise((resolve) => worker.close(() => resolve(undefined)));
});

/**
 * Two connections' views; `lookup` run on both (the first starts it, the second shares it), the first's connection
 * closed once the stand-in has refused the first send. Resolves to what each got.
 * @template T @param {(view: Tributary) => Promise<T>} lookup
 */
async function firstClosesDuringWait(lookup) {
	sends.clear();
	const refused = new Promise((resolve) => {
		onSend = () => resolve(undefined);
	});
	const [first, second] = [new AbortController(), new AbortController()];
	const started = lookup(tributary.withSignal(first.signal));
	const shared = lookup(tributary.withSignal(second.signal));
	await refused;
	first.abort();
	return Promise.all([started, shared]);
}

test("the shared topic listing goes on when the connection that started it closes during its quota wait", async () => {
	const list = new TopicList();
	const [, shared] = await firstClosesDuringWait((view) => list.read(view));
	assert.equal(shared.status, 200, "the sharing connection's listing");
	assert.deepEqual(
		shared.body.topics.map((/** @type {{ name: string }} */ t) => t.name),
		[TOPIC],
	);
	assert.equal(sends.get("/v1/topics"), 2, "listings sent: the refused one and the one after its wait");
});

test("the shared timestamp-type lookup goes on when the connection that started it closes during its quota wait", async () => {
	const list = new TopicList();
	const [, shared] = await firstClosesDuringWait((view) => list.appendTimed(view, TOPIC));
	assert.equal(shared, true, "the sharing connection's timestamp type (LogAppendTime)");
});
