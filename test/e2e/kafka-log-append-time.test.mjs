// @ts-nocheck — kafkajs' result shapes would make strict checking here mostly casts; the gateway is checked on its own.
/**
 * A topic with `message.timestamp.type` LogAppendTime through the gateway against a real `wrangler dev`, by clients
 * nobody here wrote: kafkajs' producer is answered the append time (`logAppendTime`) where the producer's own
 * timestamp was sent, and kcat (librdkafka) reads every record with that time and the type `logappend`; a CreateTime
 * topic keeps the producer's timestamp, as `create`.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { kafkaE2eSetup, kcat, kcatReadAll } from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-log-append-time");

/** A producer timestamp far from now, so a record stamped with its append time cannot carry it by chance. */
const PRODUCER_MS = 1_000_000_000_000;

/** Kept forever: a CreateTime record dated `PRODUCER_MS` would otherwise be past retention at once. @param {string} name @param {string} type */
async function createTopic(name, type) {
	const config = { "message.timestamp.type": type, "retention.ms": -1 };
	await setup.api.expect(201, "POST", "/v1/topics", { body: { name, partitions: 1, config } });
}

/** kafkajs sends two records with the producer's timestamp; its answer for the partition. @param {string} topic */
async function send(topic) {
	const kafka = new Kafka({ clientId: "e2e-log-append-time", brokers: [setup.gateways[0].bootstrap], logLevel: logLevel.NOTHING });
	const producer = setup.track(kafka.producer());
	await producer.connect();
	const timestamp = String(PRODUCER_MS);
	const [answer] = await producer.send({
		topic,
		messages: [
			{ value: "a", timestamp },
			{ value: "b", timestamp },
		],
	});
	await producer.disconnect();
	return answer;
}

test("LogAppendTime: kafkajs is answered the append time, and kcat reads each record at it, typed logappend", {
	timeout: 60_000,
}, async () => {
	await createTopic("stamped", "LogAppendTime");
	const before = Date.now();
	const answer = await send("stamped");
	const after = Date.now();
	const appendMs = Number(answer.logAppendTime);
	assert.ok(appendMs >= before - 1_000 && appendMs <= after + 1_000, `logAppendTime ${answer.logAppendTime} is the append time`);
	const read = await kcatReadAll(setup.gateways[0].bootstrap, "stamped");
	assert.deepEqual(
		read.map((m) => [m.payload, m.tstype, m.ts]),
		[
			["a", "logappend", appendMs],
			["b", "logappend", appendMs],
		],
	);
	const formatted = await kcat(["-b", setup.gateways[0].bootstrap, "-C", "-t", "stamped", "-o", "beginning", "-e", "-f", "%T %s\n"]);
	assert.equal(formatted.status, 0, formatted.stderr);
	assert.equal(formatted.stdout, `${appendMs} a\n${appendMs} b\n`);
	assert.deepEqual(
		(await setup.api.fetchRecords("stamped", 0, null)).records.map((r) => r.timestamp),
		[appendMs, appendMs],
	);
});

test("CreateTime: kafkajs is answered -1, and kcat reads the producer's timestamp, typed create", { timeout: 60_000 }, async () => {
	await createTopic("own", "CreateTime");
	const answer = await send("own");
	assert.equal(answer.logAppendTime, "-1");
	const read = await kcatReadAll(setup.gateways[0].bootstrap, "own");
	assert.deepEqual(
		read.map((m) => [m.payload, m.tstype, m.ts]),
		[
			["a", "create", PRODUCER_MS],
			["b", "create", PRODUCER_MS],
		],
	);
});

test("kafkajs admin: alterConfigs sets message.timestamp.type, describeConfigs shows it, another value is INVALID_CONFIG", {
	timeout: 60_000,
}, async () => {
	await createTopic("stamp-altered", "CreateTime");
	const kafka = new Kafka({
		clientId: "e2e-log-append-time",
		brokers: [setup.gateways[0].bootstrap],
		logLevel: logLevel.NOTHING,
		retry: { retries: 0 },
	});
	const admin = setup.track(kafka.admin());
	await admin.connect();
	const resource = (value) => ({ type: 2, name: "stamp-altered", configEntries: [{ name: "message.timestamp.type", value }] });
	await admin.alterConfigs({ validateOnly: false, resources: [resource("LogAppendTime")] });
	const { resources } = await admin.describeConfigs({
		resources: [{ type: 2, name: "stamp-altered", configNames: ["message.timestamp.type"] }],
	});
	assert.deepEqual(
		resources[0].configEntries.map((e) => [e.configName, e.configValue]),
		[["message.timestamp.type", "LogAppendTime"]],
	);
	await assert.rejects(admin.alterConfigs({ validateOnly: false, resources: [resource("WallClock")] }), (error) => {
		assert.equal(error.type, "INVALID_CONFIG", String(error));
		return true;
	});
	await admin.disconnect();
});
