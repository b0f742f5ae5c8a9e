// @ts-check
/**
 * The real `@upstash/kafka` client in Node, over the network, against a real `wrangler dev`:
 * produce, fetch, and a consumer group's consume + commit, with an API key as the Basic credentials. Under
 * `npm run test:e2e` its `wrangler dev` is the one other files share too (lib/shared-dev.mjs): its topic and group are
 * named in no other sharer.
 */

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Kafka } from "@upstash/kafka";
import { stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { plainDevToken, plainWranglerDev } from "./lib/shared-dev.mjs";

/** @type {Awaited<ReturnType<typeof plainWranglerDev>> | undefined} */
let dev;
after(async () => {
	await stopAllWranglerDevs();
	dev?.remove();
});

test("@upstash/kafka against wrangler dev: produce, fetch, consume and commit in a group", { timeout: 120_000 }, async () => {
	const token = plainDevToken();
	dev = await plainWranglerDev("upstash", token);
	const api = client(dev.url, token);
	await api.createTopic("upstash-orders", 2);
	const key = await api.request("POST", "/v1/keys", {
		body: {
			name: "upstash-e2e",
			acl: [
				{ resource: "topic:upstash-orders", operations: ["produce", "consume"] },
				{ resource: "group:upstash-billing", operations: ["consume"] },
			],
		},
	});
	assert.equal(key.status, 201, key.text);

	const kafka = new Kafka({ url: `${dev.url}/upstash`, username: key.json.id, password: key.json.secret });
	const producer = kafka.producer();
	const first = await producer.produce("upstash-orders", { id: 1 }, { partition: 0, key: "order-1" });
	assert.deepEqual({ ...first, timestamp: 0 }, { topic: "upstash-orders", partition: 0, offset: 0, timestamp: 0 });
	const many = await producer.produceMany([
		{ topic: "upstash-orders", value: "two", partition: 1 },
		{ topic: "upstash-orders", value: "three", partition: 0, headers: [{ key: "trace", value: "t-3" }] },
	]);
	assert.deepEqual(
		many.map(({ partition, offset }) => [partition, offset]),
		[
			[1, 0],
			[0, 1],
		],
	);

	const consumer = kafka.consumer();
	const fetched = await consumer.fetch({ topic: "upstash-orders", partition: 0, offset: 0, timeout: 0 });
	assert.deepEqual(
		fetched.map(({ offset, key, value, headers }) => ({ offset, key, value, headers })),
		[
			{ offset: 0, key: "order-1", value: '{"id":1}', headers: [] },
			{ offset: 1, key: "", value: "three", headers: [{ key: "trace", value: "t-3" }] },
		],
	);

	/** @type {Parameters<import("@upstash/kafka").Consumer["consume"]>[0]} */
	const request = {
		consumerGroupId: "upstash-billing",
		instanceId: "worker-1",
		topics: ["upstash-orders"],
		autoCommit: false,
		autoOffsetReset: "earliest",
		timeout: 0,
	};
	const consumed = await consumer.consume(request);
	assert.deepEqual(consumed.map((m) => m.value).sort(), ["three", "two", '{"id":1}'].sort());
	await consumer.commit({ consumerGroupId: "upstash-billing", instanceId: "worker-1" });
	const committed = await consumer.committed({
		consumerGroupId: "upstash-billing",
		instanceId: "worker-1",
		topicPartitions: [
			{ topic: "upstash-orders", partition: 0 },
			{ topic: "upstash-orders", partition: 1 },
		],
	});
	assert.deepEqual(committed, [
		{ topic: "upstash-orders", partition: 0, offset: 2 },
		{ topic: "upstash-orders", partition: 1, offset: 1 },
	]);

	// A new instance after the first is removed starts from the commits: only what came after.
	await kafka.admin().removeConsumerInstance("upstash-billing", "worker-1");
	await producer.produce("upstash-orders", "four", { partition: 1 });
	const resumed = await consumer.consume({ ...request, instanceId: "worker-2" });
	assert.deepEqual(
		resumed.map(({ partition, offset, value }) => [partition, offset, value]),
		[[1, 1, "four"]],
	);
});
