// @ts-nocheck — kafkajs' message shapes and the loosely typed JSON of the HTTP client would make strict checking here
// mostly casts; the gateway itself (gateway/tsconfig.json) and the helpers (test/e2e/lib/kafka.mjs) are checked.
/**
 * The Kafka gateway against a real `wrangler dev`, driven by clients nobody here wrote: Debian's kcat
 * (librdkafka) and kafkajs. Metadata, produce with keys and headers, consume from the beginning to the end,
 * records crossing between Kafka clients and HTTP, compressed batches (gzip, snappy, lz4, zstd), SASL/PLAIN with
 * a scoped key, and malformed frames that close one connection and write nothing.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import LZ4Codec from "@2l/kafkajs-lz4";
import { Kafka, logLevel } from "kafkajs";
import SnappyCodec from "kafkajs-snappy";
import { FETCH_WAIT_MS_MAX } from "../../gateway/limits.js";
import { waitUntil } from "../../scripts/lib/index.mjs";
import {
	CREATE_TOPICS_TIMEOUT_MS,
	kafkaE2eSetup,
	kcat,
	kcatReadAll,
	kcatSasl,
	REQUEST_CORRELATION_ID,
	rawExchange,
	requestFrame,
} from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-gateway");
const { token, track } = setup;

/** @param {Partial<import("kafkajs").KafkaConfig>} [options] */
function kafka(options = {}) {
	return new Kafka({
		clientId: "e2e",
		brokers: [setup.gateways[0].bootstrap],
		logLevel: logLevel.NOTHING,
		retry: { retries: 2 },
		...options,
	});
}

test("kcat -L lists every topic with its partitions, led by the gateway", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("meta-a", 3);
	await setup.api.createTopic("meta-b", 1);
	const listed = await kcat(["-b", setup.gateways[0].bootstrap, "-L", "-J"]);
	assert.equal(listed.status, 0, listed.stderr);
	const metadata = JSON.parse(listed.stdout);
	assert.deepEqual(metadata.brokers, [{ id: 0, name: setup.gateways[0].bootstrap }]);
	const topics = new Map(metadata.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.leader])]));
	assert.deepEqual(topics.get("meta-a"), [
		[0, 0],
		[1, 0],
		[2, 0],
	]);
	assert.deepEqual(topics.get("meta-b"), [[0, 0]]);
});

test("kafkajs admin: CreateTopics, DescribeConfigs and DeleteTopics act on Tributary's topics", { timeout: 60_000 }, async () => {
	const admin = track(kafka().admin());
	await admin.connect();
	const created = await admin.createTopics({
		timeout: CREATE_TOPICS_TIMEOUT_MS,
		topics: [
			{
				topic: "admin-made",
				numPartitions: 3,
				configEntries: [
					{ name: "retention.ms", value: "3600000" },
					{ name: "remote.storage.enable", value: "true" },
					{ name: "local.retention.ms", value: "60000" },
				],
			},
		],
	});
	assert.equal(created, true);
	const described = await setup.api.describeTopic("admin-made");
	assert.equal(described.partitions.length, 3);
	assert.equal(described.config["retention.ms"], 3600000);
	assert.equal(described.config["remote.storage.enable"], true);
	assert.equal(described.config["local.retention.ms"], 60000);
	// TOPIC_ALREADY_EXISTS: kafkajs answers false rather than throwing.
	assert.equal(await admin.createTopics({ timeout: CREATE_TOPICS_TIMEOUT_MS, topics: [{ topic: "admin-made" }] }), false);
	const { resources } = await admin.describeConfigs({
		resources: [{ type: 2, name: "admin-made", configNames: ["retention.ms", "remote.storage.enable"] }],
		includeSynonyms: false,
	});
	assert.deepEqual(resources[0].configEntries.map((e) => [e.configName, e.configValue]).sort(), [
		["remote.storage.enable", "true"],
		["retention.ms", "3600000"],
	]);
	await admin.deleteTopics({ topics: ["admin-made"] });
	const gone = await setup.api.request("GET", "/v1/topics/admin-made");
	assert.equal(gone.status, 404);
	await admin.disconnect();
});

test("kcat -P -K: writes keys and headers; kcat -C -e reads them back; HTTP sees the same records", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("kcat-io", 2);
	const input = "user-1:first\nuser-2:second\nuser-1:third ✓\n";
	const produced = await kcat(
		[
			"-b",
			setup.gateways[0].bootstrap,
			"-P",
			"-t",
			"kcat-io",
			"-K:",
			"-H",
			"source=kcat",
			"-H",
			"trace=t-1",
			"-X",
			"partitioner=murmur2_random",
		],
		input,
	);
	assert.equal(produced.status, 0, produced.stderr);

	const messages = await kcatReadAll(setup.gateways[0].bootstrap, "kcat-io");
	assert.equal(messages.length, 3);

	const http = [...(await setup.api.fetchAll("kcat-io", 0)).records, ...(await setup.api.fetchAll("kcat-io", 1)).records];
	assert.equal(http.length, 3);
	for (const m of messages) {
		const same = http.find((r) => r.partition === m.partition && r.offset === m.offset);
		assert.ok(same, `HTTP has ${m.partition}/${m.offset}`);
		assert.equal(same.key, m.key);
		assert.equal(same.value, m.payload);
		assert.equal(same.timestamp, m.ts);
		assert.deepEqual(same.headers, [
			{ key: "source", value: "kcat" },
			{ key: "trace", value: "t-1" },
		]);
		assert.deepEqual(m.headers, ["source", "kcat", "trace", "t-1"]);
	}
	// librdkafka's murmur2_random places a key where Tributary's own partitioner (Java's) would.
	const httpPlaced = await setup.api.produce("kcat-io", [{ key: "user-1", value: "via http" }]);
	const kafkaPlaced = messages.find((m) => m.key === "user-1");
	assert.equal(httpPlaced[0].partition, kafkaPlaced.partition);
	// Per partition, the offsets are dense from 0.
	for (const p of [0, 1]) {
		const offsets = messages.filter((m) => m.partition === p).map((m) => m.offset);
		assert.deepEqual(
			offsets,
			offsets.map((_, i) => i),
		);
	}
});

test("kcat -G: a librdkafka consumer group reads to the end and commits into Tributary's coordinator", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("kcat-group", 2);
	await setup.api.produce("kcat-group", [
		{ key: "a", value: "1", partition: 0 },
		{ key: "b", value: "2", partition: 1 },
		{ key: "c", value: "3", partition: 1 },
	]);
	const read = await kcat([
		"-b",
		setup.gateways[0].bootstrap,
		"-G",
		"kcat-readers",
		"kcat-group",
		"-e",
		"-X",
		"auto.offset.reset=earliest",
		"-f",
		"%p/%o %k=%s\n",
	]);
	assert.equal(read.status, 0, read.stderr);
	assert.deepEqual(read.stdout.trim().split("\n").sort(), ["0/0 a=1", "1/0 b=2", "1/1 c=3"]);
	const group = await setup.api.expect(200, "GET", "/v1/groups/kcat-readers");
	assert.deepEqual(
		group.offsets.map((o) => [o.partition, o.committed]),
		[
			[0, 1],
			[1, 2],
		],
	);
});

test("kcat -G with a pattern: a topic created later that matches it is read once librdkafka rejoins with it", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("pattern-a", 1);
	await setup.api.produce("pattern-a", [{ value: "a1" }]);
	const consumer = spawn(
		"kcat",
		[
			"-b",
			setup.gateways[0].bootstrap,
			"-G",
			"pattern-readers",
			"-X",
			"auto.offset.reset=earliest",
			"-X",
			"topic.metadata.refresh.interval.ms=1000",
			"-q",
			"-u", // unbuffered: each record as it is read, not when kcat exits
			"-f",
			"%t %s\n",
			"^pattern-.*",
		],
		{ stdio: ["ignore", "pipe", "pipe"] },
	);
	let out = "";
	consumer.stdout.on("data", (chunk) => {
		out += chunk;
	});
	try {
		await waitUntil(() => out.includes("pattern-a a1"), { timeoutMs: 30_000, message: "kcat to read the first topic" });
		// librdkafka sees the new topic at its next metadata refresh and joins again with both topics (same member id).
		await setup.api.createTopic("pattern-b", 1);
		await setup.api.produce("pattern-b", [{ value: "b1" }]);
		await waitUntil(() => out.includes("pattern-b b1"), { timeoutMs: 30_000, message: "kcat to read the topic created later" });
		const group = await setup.api.expect(200, "GET", "/v1/groups/pattern-readers");
		assert.deepEqual(
			group.members.map((m) => [...m.topics].sort()),
			[["pattern-a", "pattern-b"]],
		);
	} finally {
		consumer.kill();
	}
});

/** A caught-up kcat's Fetch wait: the longest the gateway keeps, so a Fetch not woken by an append shows. */
const CAUGHT_UP_WAIT_MS = FETCH_WAIT_MS_MAX;
/**
 * Longest a record may take from its produce's answer to a caught-up kcat: a Fetch that an append does not wake answers
 * when its wait ends, more than CAUGHT_UP_WAIT_MS minus the second between the record before and this one; one woken
 * answers within a Worker round trip (at most 177 ms measured, docs/kafka-gateway.md).
 */
const CAUGHT_UP_DELIVERY_MS_MAX = 5_000;

test("a caught-up kcat gets each record produced over HTTP as it is appended, not when its fetch.wait.max.ms ends", {
	timeout: 180_000,
}, async () => {
	await setup.api.createTopic("caught-up", 1);
	const consumer = spawn(
		"kcat",
		[
			"-b",
			setup.gateways[0].bootstrap,
			"-C",
			"-t",
			"caught-up",
			"-o",
			"beginning",
			"-X",
			`fetch.wait.max.ms=${CAUGHT_UP_WAIT_MS}`,
			"-q",
			"-u",
			"-f",
			"%o\n",
		],
		{ stdio: ["ignore", "pipe", "pipe"] },
	);
	/** When each offset was printed. */
	const printedAt = new Map();
	let rest = "";
	consumer.stdout.on("data", (chunk) => {
		const lines = (rest + chunk).split("\n");
		rest = lines.pop();
		for (const line of lines) printedAt.set(Number(line), performance.now());
	});
	try {
		// The first record only shows kcat reading (it may start after the record's append); each one after it is
		// produced a second after the one before was printed, when kcat's next Fetch is waiting for it.
		await setup.api.produce("caught-up", [{ value: "r0" }]);
		await waitUntil(() => printedAt.has(0), { timeoutMs: CAUGHT_UP_WAIT_MS + 10_000, message: "kcat to print offset 0" });
		const deliveriesMs = [];
		for (let offset = 1; offset <= 3; offset++) {
			await new Promise((resolve) => setTimeout(resolve, 1_000));
			await setup.api.produce("caught-up", [{ value: `r${offset}` }]);
			const answeredAt = performance.now();
			await waitUntil(() => printedAt.has(offset), { timeoutMs: CAUGHT_UP_WAIT_MS + 10_000, message: `kcat to print offset ${offset}` });
			deliveriesMs.push(Math.round(printedAt.get(offset) - answeredAt));
		}
		console.log(JSON.stringify({ deliveriesMs }));
		assert.ok(
			deliveriesMs.every((ms) => ms < CAUGHT_UP_DELIVERY_MS_MAX),
			`each record within ${CAUGHT_UP_DELIVERY_MS_MAX} ms: ${deliveriesMs}`,
		);
	} finally {
		consumer.kill();
	}
});

test("records cross between HTTP and kafkajs: same offsets, keys, values, headers, timestamps", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("crossing", 1);
	const positions = await setup.api.produce("crossing", [
		{ key: "order-42", value: { sku: "A1", qty: 2 }, headers: [{ key: "source", value: "web" }], timestamp: 1767225600000 },
		{ key: null, value: "plain text" },
		{ value: "AAEC/w==", value_encoding: "base64", headers: [{ key: "empty", value: null }] },
	]);
	const producer = track(kafka().producer());
	await producer.connect();
	const binary = Buffer.from([0xff, 0x00, 0xfe]);
	const [sent] = await producer.send({
		topic: "crossing",
		messages: [{ key: "k-bin", value: binary, headers: { h: "v" }, timestamp: "1767225601000" }],
	});
	await producer.disconnect();
	assert.equal(Number(sent.baseOffset), 3);

	const consumer = track(kafka().consumer({ groupId: "crossing-reader" }));
	await consumer.connect();
	await consumer.subscribe({ topic: "crossing", fromBeginning: true });
	const seen = [];
	await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
	const deadline = Date.now() + 30_000;
	while (seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
	await consumer.disconnect();
	assert.equal(seen.length, 4);

	assert.deepEqual(
		seen.map((m) => Number(m.offset)),
		[0, 1, 2, 3],
	);
	assert.equal(seen[0].key.toString(), "order-42");
	assert.deepEqual(JSON.parse(seen[0].value.toString()), { sku: "A1", qty: 2 });
	assert.equal(seen[0].headers.source.toString(), "web");
	assert.equal(Number(seen[0].timestamp), 1767225600000);
	assert.equal(seen[1].key, null);
	assert.equal(seen[1].value.toString(), "plain text");
	assert.equal(Number(seen[1].timestamp), positions[1].timestamp);
	assert.deepEqual(seen[2].value, Buffer.from([0, 1, 2, 255]));
	assert.equal(seen[2].headers.empty, null);

	// ListOffsets by time: the first record at or after it (offset 1, appended after the explicit timestamp).
	const admin = track(kafka().admin());
	await admin.connect();
	assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp("crossing", 1767225600001), [{ partition: 0, offset: "1" }]);
	await admin.disconnect();

	const { records } = await setup.api.fetchAll("crossing", 0);
	assert.equal(records[3].key, "k-bin");
	assert.equal(records[3].value_encoding, "base64");
	assert.deepEqual(Buffer.from(records[3].value, "base64"), binary);
	assert.deepEqual(records[3].headers, [{ key: "h", value: "v" }]);
	assert.equal(records[3].timestamp, 1767225601000);
});

test("a backlog of many Fetch pages (read ahead) reaches kafkajs exact and in order, and a seek back reads from there", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("paged", 1);
	const values = Array.from({ length: 40 }, (_, i) => `record ${i} `.repeat(30));
	await setup.api.produce(
		"paged",
		values.map((value) => ({ value })),
	);
	// 2 KiB per partition and Fetch: a handful of records per page, so every page after the first is read ahead.
	const consumer = track(kafka().consumer({ groupId: "paged-reader", maxBytesPerPartition: 2048 }));
	await consumer.connect();
	await consumer.subscribe({ topic: "paged", fromBeginning: true });
	const seen = [];
	let sought = false;
	await consumer.run({
		eachMessage: async ({ message }) => {
			seen.push([Number(message.offset), message.value.toString()]);
			if (!sought && Number(message.offset) === 25) {
				sought = true;
				consumer.seek({ topic: "paged", partition: 0, offset: "5" });
			}
		},
	});
	const deadline = Date.now() + 30_000;
	while (!(sought && seen.at(-1)?.[0] === 39) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
	await consumer.disconnect();
	for (const [offset, value] of seen) assert.equal(value, values[offset]);
	assert.deepEqual(
		seen.slice(0, 26).map(([offset]) => offset),
		Array.from({ length: 26 }, (_, i) => i),
	);
	assert.deepEqual(
		seen.slice(-35).map(([offset]) => offset),
		Array.from({ length: 35 }, (_, i) => 5 + i),
	);
});

test("a Fetch's maxBytes bounds its whole response (KIP-74): kafkajs reads every partition exactly, a few pages at a time", {
	timeout: 60_000,
}, async () => {
	await setup.api.createTopic("bounded", 3);
	const values = Array.from({ length: 60 }, (_, i) => `record ${i} `.repeat(40));
	await setup.api.produce(
		"bounded",
		values.map((value, i) => ({ value, partition: i % 3 })),
	);
	// Each partition's 20 records (~10 KiB) fit its own cap; the response's 4 KiB cap holds a few of them in all.
	const maxBytes = 4096;
	const consumer = track(kafka().consumer({ groupId: "bounded-reader", maxBytes, maxBytesPerPartition: 64 * 1024 }));
	const fetchSizes = [];
	consumer.on(consumer.events.REQUEST, ({ payload }) => {
		if (payload.apiName === "Fetch") fetchSizes.push(payload.size);
	});
	await consumer.connect();
	await consumer.subscribe({ topic: "bounded", fromBeginning: true });
	const seen = [];
	await consumer.run({
		eachMessage: async ({ partition, message }) => void seen.push([partition, Number(message.offset), message.value.toString()]),
	});
	const deadline = Date.now() + 30_000;
	while (seen.length < values.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
	await consumer.disconnect();
	for (let partition = 0; partition < 3; partition++) {
		const mine = seen.filter(([p]) => p === partition);
		assert.deepEqual(
			mine.map(([, offset]) => offset),
			Array.from({ length: 20 }, (_, i) => i),
		);
		assert.deepEqual(
			mine.map(([, , value]) => value),
			values.filter((_, i) => i % 3 === partition),
		);
	}
	// A response's records stay within maxBytes; what is left is the response's framing (about 100 bytes a partition).
	assert.ok(fetchSizes.length > 3, `${fetchSizes.length} Fetches`);
	assert.ok(Math.max(...fetchSizes) <= maxBytes + 512, `Fetch responses of ${fetchSizes.join(", ")} bytes`);
});

test("gzip, snappy and lz4 batches from kafkajs are inflated; the records land as sent", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("compressed", 1);
	const { CompressionCodecs, CompressionTypes } = (await import("kafkajs")).default;
	CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
	CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;
	const producer = track(kafka().producer());
	await producer.connect();
	const messages = Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: `value ${i} `.repeat(20) }));
	await producer.send({ topic: "compressed", compression: CompressionTypes.GZIP, messages: messages.slice(0, 20) });
	await producer.send({ topic: "compressed", compression: CompressionTypes.Snappy, messages: messages.slice(20, 40) });
	await producer.send({ topic: "compressed", compression: CompressionTypes.LZ4, messages: messages.slice(40) });
	await producer.disconnect();
	const { records } = await setup.api.fetchAll("compressed", 0);
	assert.deepEqual(
		records.map((r) => [r.offset, r.key, r.value]),
		messages.map((m, i) => [i, m.key, m.value]),
	);
});

test("kcat -z lz4 and -z zstd: librdkafka's compressed batches land as sent, and kcat reads them back", { timeout: 60_000 }, async () => {
	for (const codec of ["lz4", "zstd"]) {
		const topic = `kcat-${codec}`;
		await setup.api.createTopic(topic, 1);
		// Repetitive lines, so that librdkafka's compressed batch is smaller and it sends it compressed.
		const lines = Array.from({ length: 2000 }, (_, i) => `${codec} record ${i} ${"x".repeat(i % 100)}`);
		const produced = await kcat(["-b", setup.gateways[0].bootstrap, "-P", "-t", topic, "-z", codec], `${lines.join("\n")}\n`);
		assert.equal(produced.status, 0, produced.stderr);
		assert.doesNotMatch(produced.stderr, /ERROR/);
		const messages = await kcatReadAll(setup.gateways[0].bootstrap, topic);
		assert.deepEqual(
			messages.map((m) => [m.offset, m.payload]),
			lines.map((line, i) => [i, line]),
		);
		const { records } = await setup.api.fetchAll(topic, 0);
		assert.deepEqual(
			records.map((r) => r.value),
			lines,
		);
	}
});

test("SASL/PLAIN: a scoped key produces to its topic, is refused on another, a wrong secret is refused", { timeout: 90_000 }, async () => {
	await setup.api.createTopic("scoped.orders", 1);
	await setup.api.createTopic("private", 1);
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: { name: "kafka-app", acl: [{ resource: "topic:scoped.*", operations: ["produce", "consume"] }] },
	});
	const open = await setup.startGateway({ token: null }); // no token: clients must authenticate
	const sasl = (password) => ({ mechanism: "plain", username: key.id, password });
	const scoped = new Kafka({
		clientId: "scoped",
		brokers: [open.bootstrap],
		sasl: sasl(key.secret),
		logLevel: logLevel.NOTHING,
		retry: { retries: 1 },
	});

	const producer = track(scoped.producer());
	await producer.connect();
	const [ok] = await producer.send({ topic: "scoped.orders", messages: [{ key: "a", value: "allowed" }] });
	assert.equal(ok.errorCode, 0);
	await assert.rejects(producer.send({ topic: "private", messages: [{ value: "forbidden" }] }), (error) => {
		assert.match(String(error.type ?? error.message), /TOPIC_AUTHORIZATION_FAILED|Not authorized/i);
		return true;
	});
	await producer.disconnect();
	assert.equal((await setup.api.fetchAll("private", 0)).records.length, 0);
	assert.equal((await setup.api.fetchAll("scoped.orders", 0)).records[0].value, "allowed");

	const wrong = new Kafka({
		clientId: "wrong",
		brokers: [open.bootstrap],
		sasl: sasl("trb_wrong"),
		logLevel: logLevel.NOTHING,
		retry: { retries: 0 },
	});
	const refused = track(wrong.producer());
	await assert.rejects(refused.connect(), /SASL|auth/i);

	// kcat (librdkafka) with the same key: it sees only the topics the key may describe.
	const saslArgs = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN", "-X", `sasl.username=${key.id}`];
	const listed = await kcat(["-b", open.bootstrap, ...saslArgs, "-X", `sasl.password=${key.secret}`, "-L", "-J"]);
	assert.equal(listed.status, 0, listed.stderr);
	assert.deepEqual(
		JSON.parse(listed.stdout).topics.map((t) => t.topic),
		["scoped.orders"],
	);
	const admin = await kcat(["-b", open.bootstrap, ...kcatSasl("admin", token), "-L", "-J"]);
	assert.equal(admin.status, 0, admin.stderr);
	assert.ok(JSON.parse(admin.stdout).topics.some((t) => t.topic === "private"));
});

test("kcat over a key's produce quota: the gateway's answer is one kcat retries, and every record lands", { timeout: 90_000 }, async () => {
	const topic = "quota.orders";
	await setup.api.createTopic(topic, 1);
	// Each record is 7.5 seconds of the key's quota: past what the gateway sits out (5 s), so kcat sees the refusal.
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: {
			name: "kafka-quota",
			acl: [{ resource: `topic:${topic}`, operations: ["produce", "describe"] }],
			quotas: { produce_bytes_per_sec: 20_000 },
		},
	});
	const open = await setup.startGateway({ token: null });
	const sasl = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN", "-X", `sasl.username=${key.id}`];
	const lines = ["a", "b"].map((c) => c.repeat(150_000));
	const produced = await kcat(
		[
			"-b",
			open.bootstrap,
			...sasl,
			"-X",
			`sasl.password=${key.secret}`,
			"-P",
			"-t",
			topic,
			"-X",
			"linger.ms=0",
			"-X",
			"batch.num.messages=1",
		],
		`${lines.join("\n")}\n`,
	);
	assert.equal(produced.status, 0, produced.stderr);
	const records = (await setup.api.fetchAll(topic, 0)).records;
	assert.deepEqual(
		records.map((r) => r.value.length),
		[150_000, 150_000],
	);
});

test("malformed frames close only their connection, write nothing, and are logged", { timeout: 60_000 }, async () => {
	await setup.api.createTopic("untouched", 1);
	const garbage = [
		Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]), // a size far over the frame limit
		Buffer.from([0xff, 0xff, 0xff, 0xf0]), // a negative size
		requestFrame(0, 7, Buffer.from([0, 0, 0xff])), // Produce v7 cut short
		requestFrame(1000, 0), // an API that does not exist
		requestFrame(0, 1), // Produce v1: not served (record batches v2 only)
	];
	for (const bytes of garbage) {
		const { closed } = await rawExchange(setup.gateways[0].port, bytes);
		assert.equal(closed, true, `closed after ${bytes.toString("hex")}`);
	}
	assert.match(setup.gateways[0].output(), /closing: malformed frame/);
	assert.equal((await setup.api.describeTopic("untouched")).partitions[0].high_watermark, 0);

	// ApiVersions of a version the gateway does not know is answered (v0, UNSUPPORTED_VERSION, the served ranges).
	const { answer } = await rawExchange(setup.gateways[0].port, requestFrame(18, 99), 1_000);
	assert.equal(answer.readInt32BE(4), REQUEST_CORRELATION_ID);
	assert.equal(answer.readInt16BE(8), 35);
	assert.ok(answer.readInt32BE(10) >= 18);

	const listed = await kcat(["-b", setup.gateways[0].bootstrap, "-L", "-t", "untouched"]);
	assert.equal(listed.status, 0, listed.stderr);
	assert.match(listed.stdout, /topic "untouched" with 1 partitions/);
});
