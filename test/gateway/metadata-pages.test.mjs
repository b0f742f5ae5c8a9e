/**
 * Metadata of every topic when the Worker lists them in pages: `GET /v1/topics` answers at most 1,000 topics
 * (LIST_PAGE_LIMIT_MAX) and a `next_cursor`, and the gateway must follow it, or kafkajs' `listTopics()`, kcat -L and
 * a Java consumer's pattern subscription never see the topics past the first page. The Worker here is a stand-in
 * that pages as the real one does (by name, `limit` capped at 1,000, an opaque cursor); the clients are real.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { startGateway } from "../../gateway/server.js";
import { kcat } from "../e2e/lib/kafka.mjs";

/** The Worker's page cap (src/shared/limits.ts LIST_PAGE_LIMIT_MAX). */
const PAGE_LIMIT_MAX = 1_000;
const TOPIC_COUNT = 2_345;
const TOPICS = Array.from({ length: TOPIC_COUNT }, (_, i) => `t-${String(i).padStart(5, "0")}`);

/** A Worker stand-in that lists TOPICS in pages; every other path is 404. */
async function pagingWorker() {
	const server = createServer((req, res) => {
		const url = new URL(req.url ?? "/", "http://worker");
		res.setHeader("content-type", "application/json");
		if (req.method !== "GET" || url.pathname !== "/v1/topics") {
			res.statusCode = 404;
			res.end(JSON.stringify({ error: { code: "topic_not_found", message: "no such topic" } }));
			return;
		}
		const limit = Math.min(Number(url.searchParams.get("limit") ?? PAGE_LIMIT_MAX), PAGE_LIMIT_MAX);
		const cursor = url.searchParams.get("cursor");
		const after = cursor === null ? null : Buffer.from(cursor, "base64url").toString();
		const rest = after === null ? TOPICS : TOPICS.filter((name) => name > after);
		const page = rest.slice(0, limit);
		const more = rest.length > limit;
		res.end(
			JSON.stringify({
				topics: page.map((name) => ({ name, partitions: 1, config: {} })),
				next_cursor: more ? Buffer.from(page[page.length - 1]).toString("base64url") : null,
			}),
		);
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
	const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
	return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.close(() => resolve(undefined))) };
}

test("Metadata of all topics follows the Worker's pages: kafkajs listTopics() and kcat -L see every topic", {
	timeout: 60_000,
}, async () => {
	const worker = await pagingWorker();
	const gateway = await startGateway({ host: "127.0.0.1", port: 0, url: worker.url, token: "t", log: () => {} });
	const admin = new Kafka({ clientId: "pages", brokers: [`127.0.0.1:${gateway.port}`], logLevel: logLevel.NOTHING }).admin();
	try {
		await admin.connect();
		const names = (await admin.listTopics()).sort();
		assert.equal(names.length, TOPIC_COUNT);
		assert.deepEqual(names, TOPICS);
		// The gateway answering kcat runs in this process: `kcat` waits for it without blocking the event loop.
		const listed = await kcat(["-b", `127.0.0.1:${gateway.port}`, "-L", "-J"]);
		assert.equal(listed.status, 0, listed.stderr);
		assert.equal(JSON.parse(listed.stdout).topics.length, TOPIC_COUNT);
	} finally {
		await admin.disconnect();
		await gateway.close();
		await worker.stop();
	}
});
