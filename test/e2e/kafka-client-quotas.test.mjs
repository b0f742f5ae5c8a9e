// @ts-check
/**
 * AlterClientQuotas and DescribeClientQuotas through the Kafka gateway against a real `wrangler dev`, as frames (no
 * Node Kafka client sends them): a user's producer_byte_rate set over the Kafka protocol is the key's
 * produce_bytes_per_sec in Tributary's own API, and the key's next produce is held to it.
 */

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { exchange, kafkaE2eSetup } from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-client-quotas");

test("a user's quotas altered over the Kafka protocol are its key's, and its next produce is held to them", {
	timeout: 60_000,
}, async () => {
	await setup.api.expect(201, "POST", "/v1/topics", { body: { name: "quota-orders", partitions: 1 } });
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: { name: "quota-user", acl: [{ resource: "topic:quota-orders", operations: ["produce"] }] },
	});
	const port = /** @type {number} */ (setup.gateways[0]?.port);
	const altered = await exchange(port, "AlterClientQuotas", 1, {
		entries: [
			{
				entity: [{ entityType: "user", entityName: key.id }],
				ops: [
					{ key: "producer_byte_rate", value: 1, remove: false },
					{ key: "requests_per_sec", value: 1000, remove: false },
				],
			},
		],
		validateOnly: false,
	});
	assert.deepEqual(
		altered.entries.map((/** @type {any} */ e) => [e.errorCode, e.errorMessage]),
		[[0, null]],
	);
	const { keys } = await setup.api.expect(200, "GET", "/v1/keys");
	assert.deepEqual(keys.find((/** @type {any} */ k) => k.id === key.id).quotas, { produce_bytes_per_sec: 1, requests_per_sec: 1000 });
	const described = await exchange(port, "DescribeClientQuotas", 1, {
		components: [{ entityType: "user", matchType: 0, match: key.id }],
		strict: false,
	});
	assert.deepEqual(
		described.entries.map((/** @type {any} */ e) => e.values.map((/** @type {any} */ v) => [v.key, v.value])),
		[
			[
				["producer_byte_rate", 1],
				["requests_per_sec", 1000],
			],
		],
	);
	// One byte a second from now on: a produce goes into debt for hours, so the next one is refused.
	const produce = () =>
		setup.api.request("POST", "/v1/topics/quota-orders/records", {
			auth: false,
			headers: { Authorization: `Bearer ${key.secret}`, "Idempotency-Key": randomUUID() },
			body: { records: [{ value: "x".repeat(5000) }] },
		});
	const first = await produce();
	const second = await produce();
	assert.deepEqual([first.status, second.status], [200, 429], second.text);
});
