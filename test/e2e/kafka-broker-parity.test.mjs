// @ts-nocheck — kafkajs' shapes would make strict checking here mostly casts; the gateway is checked on its own.
/**
 * What a team with existing Kafka clients expects of a broker on day one, through the gateway against a real
 * `wrangler dev`: a producer to a missing topic on a gateway with `--auto-create-topics-enable` (Kafka's
 * `auto.create.topics.enable`) creates it and delivers, and without the option is told the topic is unknown.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import kafkajs from "kafkajs";
import { kafkaE2eSetup, kcat, kcatReadAll } from "./lib/kafka.mjs";

const { Kafka, logLevel } = kafkajs;
const setup = kafkaE2eSetup("kafka-broker-parity");

test("--auto-create-topics-enable: kcat and kafkajs produce to missing topics, created with the Worker's default partitions", {
	timeout: 90_000,
}, async () => {
	const auto = await setup.startGateway({ args: ["--auto-create-topics-enable"] });
	const produced = await kcat(["-b", auto.bootstrap, "-P", "-t", "made-by-kcat", "-X", "topic.message.timeout.ms=10000"], "first\n");
	assert.equal(produced.status, 0, produced.stderr);
	assert.deepEqual(
		(await kcatReadAll(auto.bootstrap, "made-by-kcat")).map((m) => m.payload),
		["first"],
	);
	const kafka = new Kafka({ clientId: "e2e-parity", brokers: [auto.bootstrap], logLevel: logLevel.NOTHING });
	const producer = setup.track(kafka.producer());
	await producer.connect();
	const [sent] = await producer.send({ topic: "made-by-kafkajs", messages: [{ value: "one" }] });
	assert.equal(sent.errorCode, 0);
	const described = await setup.api.describeTopic("made-by-kafkajs");
	assert.equal(described.partitions.length, (await setup.api.describeTopic("made-by-kcat")).partitions.length);
	await producer.disconnect();
});

test("without the option a producer to a missing topic is not delivered (librdkafka waits out its timeout), and nothing is created", {
	timeout: 60_000,
}, async () => {
	const produced = await kcat(
		["-b", setup.gateways[0].bootstrap, "-P", "-t", "never-made", "-X", "topic.message.timeout.ms=3000"],
		"lost\n",
	);
	assert.notEqual(produced.status, 0);
	assert.match(produced.stderr, /Delivery failed/);
	await setup.api.expect(404, "GET", "/v1/topics/never-made");
});
