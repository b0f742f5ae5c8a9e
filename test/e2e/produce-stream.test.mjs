// @ts-check
/**
 * The streaming produce channel against a real `wrangler dev`: the SDK's producer with many unawaited sends
 * takes the NDJSON channel (Node's own fetch, full duplex) and every send gets its offset, in order; and a
 * WebSocket client (the `ws` package) gets one report per message, in order, a bad message answered alone, or with
 * `?reports=array` the same reports as arrays, several to a frame.
 */

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Tributary } from "tributary/client";
import { WebSocket } from "ws";
import { generateToken, startWranglerDev, stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const state = tempDir("produce-stream");
after(async () => {
	await stopAllWranglerDevs();
	state.remove();
});

test("produce stream on wrangler dev: the SDK's channel and a WebSocket", { timeout: 120_000 }, async () => {
	const token = generateToken();
	const dev = await startWranglerDev({ persistTo: state.path, token });
	const client = new Tributary({ url: dev.url, token });
	await client.topics.create({ name: "streamed", partitions: 2 });

	// Which paths the SDK asks for: it uses the global fetch, so watching that one sees every request.
	/** @type {string[]} */
	const paths = [];
	const realFetch = globalThis.fetch;
	globalThis.fetch = (input, init) => {
		paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
		return realFetch(input, init);
	};
	try {
		const producer = client.producer();
		const count = 3_000;
		const sends = Array.from({ length: count }, (_, i) => producer.send("streamed", { key: `k${i % 7}`, value: { i } }));
		const written = await Promise.all(sends);
		await producer.close();
		assert.ok(paths.includes("/v1/topics/streamed/records/stream"), `the producer opened the channel: ${[...new Set(paths)].join(", ")}`);
		/** @type {Map<number, number[]>} */
		const offsets = new Map();
		for (const w of written) offsets.set(w.partition, [...(offsets.get(w.partition) ?? []), w.offset]);
		const described = await client.topics.describe("streamed");
		for (const p of described.partitions) {
			const seen = offsets.get(p.partition) ?? [];
			assert.deepEqual(
				seen,
				seen.map((_, i) => i),
				`partition ${p.partition}: offsets dense and in send order`,
			);
			assert.equal(p.high_watermark, seen.length, `partition ${p.partition}: written once`);
		}
	} finally {
		globalThis.fetch = realFetch;
	}

	const ws = new WebSocket(`${dev.url.replace(/^http/, "ws")}/v1/topics/streamed/records/stream`, {
		headers: { Authorization: `Bearer ${token}` },
	});
	await new Promise((resolve, reject) => {
		ws.once("open", resolve);
		ws.once("error", reject);
	});
	/** @type {any[]} */
	const reports = [];
	const messages = [
		...Array.from({ length: 50 }, (_, i) => JSON.stringify({ value: i, partition: 1 })),
		"{oops",
		JSON.stringify({ value: "last", partition: 1 }),
	];
	const done = new Promise((resolve) => {
		ws.on("message", (data) => {
			reports.push(JSON.parse(data.toString()));
			if (reports.length === messages.length) resolve(undefined);
		});
	});
	const base = (await client.topics.describe("streamed")).partitions[1]?.high_watermark ?? 0;
	for (const message of messages) ws.send(message);
	await done;
	ws.close(1000, "done");
	assert.deepEqual(
		reports.slice(0, 50).map((r) => r.offsets[0].offset),
		Array.from({ length: 50 }, (_, i) => base + i),
	);
	assert.equal(reports[50].error.code, "invalid_json");
	assert.equal(reports[51].offsets[0].offset, base + 50, "no gap after a bad message");

	const arrays = new WebSocket(`${dev.url.replace(/^http/, "ws")}/v1/topics/streamed/records/stream?reports=array`, {
		headers: { Authorization: `Bearer ${token}` },
	});
	await new Promise((resolve, reject) => {
		arrays.once("open", resolve);
		arrays.once("error", reject);
	});
	/** @type {any[][]} */
	const frames = [];
	const answered = new Promise((resolve) => {
		arrays.on("message", (data) => {
			frames.push(JSON.parse(data.toString()));
			if (frames.flat().length >= messages.length) resolve(undefined);
		});
	});
	for (const message of messages) arrays.send(message);
	await answered;
	arrays.close(1000, "done");
	assert.ok(
		frames.every((frame) => Array.isArray(frame) && frame.length > 0),
		"every frame is a non-empty array of reports",
	);
	assert.ok(frames.length < messages.length, `reports shared frames: ${frames.length} frames for ${messages.length} messages`);
	const flat = frames.flat();
	assert.equal(flat.length, messages.length, "one report per message");
	assert.deepEqual(
		flat.slice(0, 50).map((r) => r.offsets[0].offset),
		Array.from({ length: 50 }, (_, i) => base + 51 + i),
	);
	assert.equal(flat[50].error.code, "invalid_json");
	assert.equal(flat[51].offsets[0].offset, base + 101, "no gap after a bad message");
});
