// @ts-nocheck — kafkajs' admin shapes and errors would make strict checking here mostly casts; the gateway is checked on its own.
/**
 * DeleteRecords through the gateway against a real `wrangler dev`, by clients nobody here wrote: kafkajs'
 * `admin.deleteTopicRecords` moves each partition's low watermark (`fetchTopicOffsets` shows it), an offset past the
 * high watermark is OFFSET_OUT_OF_RANGE for that partition, and kcat (librdkafka) consuming from the beginning
 * starts at the new low watermark.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { kafkaE2eSetup, kcat } from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-delete-records");

function admin() {
	const kafka = new Kafka({
		clientId: "e2e-delete-records",
		brokers: [setup.gateways[0].bootstrap],
		logLevel: logLevel.NOTHING,
		retry: { retries: 0 },
	});
	return setup.track(kafka.admin());
}

/** Partition `partition` of `topic` from the beginning to its end, read by kcat: the offsets it got. */
async function kcatOffsets(topic, partition) {
	const consumed = await kcat([
		"-b",
		setup.gateways[0].bootstrap,
		"-C",
		"-t",
		topic,
		"-p",
		String(partition),
		"-o",
		"beginning",
		"-e",
		"-J",
	]);
	assert.equal(consumed.status, 0, consumed.stderr);
	return consumed.stdout
		.trim()
		.split("\n")
		.filter(Boolean)
		.map((line) => JSON.parse(line).offset);
}

test("deleteTopicRecords moves each partition's low watermark; kcat then reads from it", { timeout: 90_000 }, async () => {
	await setup.api.createTopic("trimmed", 2);
	await setup.api.produce(
		"trimmed",
		Array.from({ length: 10 }, (_, i) => ({ value: `a${i}`, partition: 0 })),
	);
	await setup.api.produce(
		"trimmed",
		Array.from({ length: 3 }, (_, i) => ({ value: `b${i}`, partition: 1 })),
	);
	const client = admin();
	await client.connect();
	// kafkajs' deleteTopicRecords reads the partitions' leaders from metadata it does not load itself.
	await client.fetchTopicMetadata({ topics: ["trimmed"] });
	await client.deleteTopicRecords({
		topic: "trimmed",
		partitions: [
			{ partition: 0, offset: "6" },
			{ partition: 1, offset: "-1" },
		],
	});
	const offsets = (await client.fetchTopicOffsets("trimmed")).sort((a, b) => a.partition - b.partition);
	assert.deepEqual(
		offsets.map((o) => [o.partition, o.low, o.high]),
		[
			[0, "6", "10"],
			[1, "3", "3"],
		],
	);
	assert.deepEqual(await kcatOffsets("trimmed", 0), [6, 7, 8, 9]);
	assert.deepEqual(await kcatOffsets("trimmed", 1), []);

	await assert.rejects(client.deleteTopicRecords({ topic: "trimmed", partitions: [{ partition: 0, offset: "11" }] }), (error) => {
		// kafkajs' retrier wraps the broker's answer (KafkaJSDeleteTopicRecordsError) as the cause of a non-retriable error.
		assert.equal(error.cause?.name, "KafkaJSDeleteTopicRecordsError", String(error));
		assert.deepEqual(
			error.cause.partitions.map((p) => [p.partition, p.error.type]),
			[[0, "OFFSET_OUT_OF_RANGE"]],
		);
		return true;
	});
	assert.equal((await client.fetchTopicOffsets("trimmed")).find((o) => o.partition === 0).low, "6");
	await client.disconnect();
});
