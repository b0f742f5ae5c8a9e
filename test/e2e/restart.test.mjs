// @ts-check
/**
 * Restarts keep the log: `wrangler dev` stopped gracefully and started again on the same --persist-to dir, and
 * the `npm start` path (scripts/lib/local-broker.mjs, Miniflare) disposed and started again. The Miniflare state
 * is then opened by `wrangler dev`, proving both use the same on-disk layout.
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import {
	bundleWorker,
	generateToken,
	startLocalBroker,
	startWranglerDev,
	stopAllWranglerDevs,
	underLoad,
	waitForPortClosed,
} from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

/**
 * Each test's hang bound: 90 s held at load 15-19 (2 cores); the Miniflare test was cut off at it near load 22.
 * Stretched above 16 (`underLoad`).
 */
const TEST_TIMEOUT_MS = underLoad(90_000, 16);
const wranglerState = tempDir("restart-wrangler");
const miniflareState = tempDir("restart-miniflare");
/** @type {Set<{ dispose(): Promise<void> }>} */
const brokers = new Set();

after(async () => {
	await Promise.all([...brokers].map((broker) => broker.dispose().catch(() => {})));
	await stopAllWranglerDevs();
	wranglerState.remove();
	miniflareState.remove();
});

/**
 * @typedef {ReturnType<typeof client>} Api
 * @typedef {Awaited<ReturnType<typeof snapshot>>} TopicState
 */

/**
 * Creates `topic` with two partitions and produces a few records of every shape to both.
 * @param {Api} api
 * @param {string} topic
 */
async function seed(api, topic) {
	await api.createTopic(topic, 2);
	const records = [
		{ key: "a", value: { n: 1 }, partition: 0 },
		{ value: "two", partition: 1, headers: [{ key: "h", value: "v" }] },
		{ key: "c", value: [3], partition: 0, timestamp: 1_767_225_600_000 },
		{ value: null, partition: 1 },
		{ key: "AAEC/w==", key_encoding: "base64", value: "AAEC/w==", value_encoding: "base64", partition: 0 },
	];
	const offsets = await api.produce(topic, records);
	assert.deepEqual(
		offsets.map((o) => [o.partition, o.offset]),
		[
			[0, 0],
			[1, 0],
			[0, 1],
			[1, 1],
			[0, 2],
		],
	);
}

/**
 * The full observable state of a topic: its description and every record of every partition.
 * @param {Api} api
 * @param {string} topic
 */
async function snapshot(api, topic) {
	/** @type {{ partitions: { partition: number, log_start_offset: number, high_watermark: number }[] }} */
	const description = await api.describeTopic(topic);
	const partitions = [];
	for (const { partition } of description.partitions) partitions.push(await api.fetchAll(topic, partition));
	return { description, partitions };
}

/** @param {TopicState} state */
function assertSeeded(state) {
	assert.deepEqual(
		state.description.partitions.map((p) => [p.partition, p.log_start_offset, p.high_watermark]),
		[
			[0, 0, 3],
			[1, 0, 2],
		],
	);
	assert.equal(state.partitions[0]?.records.length, 3);
	assert.equal(state.partitions[1]?.records.length, 2);
}

test("wrangler dev: graceful stop and restart keep topics, high watermarks and records", { timeout: TEST_TIMEOUT_MS }, async () => {
	const token = generateToken();
	const first = await startWranglerDev({ persistTo: wranglerState.path, token });
	let api = client(first.url, token);
	await seed(api, "durable");
	const before = await snapshot(api, "durable");
	assertSeeded(before);

	const { forced } = await first.stop();
	assert.equal(forced, false, "wrangler dev stopped on SIGTERM");
	await waitForPortClosed(first.port);

	const second = await first.restart();
	api = client(second.url, token);
	assert.deepEqual(await snapshot(api, "durable"), before);
	const [next] = await api.produce("durable", [{ value: "after restart", partition: 1 }]);
	assert.equal(next?.offset, 2, "appends continue at the high watermark");
	await second.stop();
});

test("npm start path (Miniflare): dispose and start again keep the log, in wrangler dev's layout", {
	timeout: TEST_TIMEOUT_MS,
}, async () => {
	const token = generateToken();
	const scriptPath = await bundleWorker({ outdir: join(miniflareState.path, "dist") });
	const persistTo = join(miniflareState.path, "state");

	const first = await startLocalBroker({ token, port: 0, persistTo, scriptPath, quiet: true });
	brokers.add(first);
	let api = client(first.url, token);
	await seed(api, "local");
	const before = await snapshot(api, "local");
	assertSeeded(before);
	await first.dispose();
	brokers.delete(first);
	await waitForPortClosed(first.port);

	// The same files wrangler dev would use: <persistTo>/v3/do/<worker>-<class>/<object id>.sqlite
	for (const className of ["PartitionLog", "TopicRegistry"]) {
		const dir = join(persistTo, "v3", "do", `tributary-${className}`);
		assert.ok(existsSync(dir), `${dir} exists`);
		assert.ok(
			readdirSync(dir).some((file) => /^[0-9a-f]{64}\.sqlite$/.test(file)),
			`${dir} holds a Durable Object database`,
		);
	}

	const second = await startLocalBroker({ token, port: 0, persistTo, scriptPath, quiet: true });
	brokers.add(second);
	api = client(second.url, token);
	assert.deepEqual(await snapshot(api, "local"), before);
	const [next] = await api.produce("local", [{ value: "after restart", partition: 0 }]);
	assert.equal(next?.offset, 3, "appends continue at the high watermark");
	const after = await snapshot(api, "local");
	await second.dispose();
	brokers.delete(second);

	// wrangler dev on the same directory sees the same log.
	const dev = await startWranglerDev({ persistTo, token });
	assert.deepEqual(await snapshot(client(dev.url, token), "local"), after);
	await dev.stop();
});
