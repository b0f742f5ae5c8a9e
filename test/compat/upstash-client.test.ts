/**
 * The real `@upstash/kafka` 1.3.5 client, unmodified, against the Worker: every call it makes, with the
 * values it returns checked against what Tributary stored (through `/v1`, independently of the mount).
 */
import { describe, expect, it } from "vitest";
import { untilWaiting, waitingReads } from "../support/long-poll.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { kafka, routeClientToWorker } from "../support/upstash.ts";
import { createTopic, fetchRecords, json, produce as produceV1 } from "../support/worker.ts";

routeClientToWorker();

/** A consume request of instance `instanceId` of `group` on `topic`, from the earliest offset, without waiting. */
function instanceOf(group: string, topic: string, instanceId: string) {
	return { consumerGroupId: group, instanceId, topics: [topic], autoOffsetReset: "earliest" as const, timeout: 0 };
}

describe("producer", () => {
	it("produce: a string as is, an object as its JSON, with key, partition, timestamp and headers", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 3);
		const p = kafka().producer();
		const first = await p.produce(topic, "hello");
		expect(first).toEqual({ topic, partition: expect.any(Number), offset: 0, timestamp: expect.any(Number) });
		// Recent enough that retention (7 days by default) keeps it.
		const timestamp = Date.now() - 60_000;
		const second = await p.produce(
			topic,
			{ hello: "world", n: 12345678901234567890n.toString() },
			{
				partition: 2,
				timestamp,
				key: "k-1",
				headers: [{ key: "traceId", value: "85a9f12" }],
			},
		);
		expect(second).toEqual({ topic, partition: 2, offset: first.partition === 2 ? 1 : 0, timestamp });
		const stored = await fetchRecords(topic, 2);
		const record = stored.records.at(-1);
		expect(record).toMatchObject({
			offset: second.offset,
			timestamp,
			key: "k-1",
			value: JSON.stringify({ hello: "world", n: "12345678901234567890" }),
			headers: [{ key: "traceId", value: "85a9f12" }],
		});
	});

	it("produceMany: several topics in one call, answered in request order", async () => {
		const a = uniqueTopic("up");
		const b = uniqueTopic("up");
		await createTopic(a, 1);
		await createTopic(b, 1);
		const answers = await kafka()
			.producer()
			.produceMany([
				{ topic: a, value: "a0" },
				{ topic: b, value: { b: 0 } },
				{ topic: a, value: "a1", key: "k" },
			]);
		expect(answers.map(({ topic, partition, offset }) => ({ topic, partition, offset }))).toEqual([
			{ topic: a, partition: 0, offset: 0 },
			{ topic: b, partition: 0, offset: 0 },
			{ topic: a, partition: 0, offset: 1 },
		]);
		expect((await fetchRecords(a, 0)).records.map((r) => [r.key, r.value])).toEqual([
			[null, "a0"],
			["k", "a1"],
		]);
		expect((await fetchRecords(b, 0)).records.map((r) => r.value)).toEqual(['{"b":0}']);
	});

	it("a key goes to the partition Kafka's default partitioner picks, like /v1", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 8);
		const viaUpstash = await kafka().producer().produce(topic, "x", { key: "customer-42" });
		const viaV1 = await produceV1(topic, [{ key: "customer-42", value: "y" }]);
		expect(viaUpstash.partition).toBe(viaV1.offsets[0]?.partition);
	});
});

describe("fetch", () => {
	it("one partition from an offset, with the message fields Upstash returns", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 2);
		const produced = await produceV1(topic, [
			{ key: "k", value: "v0", partition: 1, headers: [{ key: "h", value: "1" }] },
			{ value: { json: true }, partition: 1 },
			{ value: null, partition: 1 },
			{ value: "AAEC/w==", value_encoding: "base64", partition: 1 },
		]);
		const messages = await kafka().consumer().fetch({ topic, partition: 1, offset: 0, timeout: 0 });
		expect(messages).toEqual([
			{
				topic,
				partition: 1,
				offset: 0,
				timestamp: produced.offsets[0]?.timestamp,
				key: "k",
				value: "v0",
				headers: [{ key: "h", value: "1" }],
			},
			{ topic, partition: 1, offset: 1, timestamp: produced.offsets[1]?.timestamp, key: "", value: '{"json":true}', headers: [] },
			{ topic, partition: 1, offset: 2, timestamp: produced.offsets[2]?.timestamp, key: "", value: "", headers: [] },
			{
				topic,
				partition: 1,
				offset: 3,
				timestamp: produced.offsets[3]?.timestamp,
				key: "",
				value: "\u0000\u0001\u0002\ufffd",
				headers: [],
			},
		]);
		const later = await kafka().consumer().fetch({ topic, partition: 1, offset: 2, timeout: 0 });
		expect(later.map((m) => m.offset)).toEqual([2, 3]);
	});

	it("several topics, in parallel (one request each) and in one request", async () => {
		const a = uniqueTopic("up");
		const b = uniqueTopic("up");
		await createTopic(a, 2);
		await createTopic(b, 1);
		await produceV1(a, [
			{ value: "a0-0", partition: 0 },
			{ value: "a1-0", partition: 1 },
			{ value: "a1-1", partition: 1 },
		]);
		await produceV1(b, [{ value: "b0-0", partition: 0 }]);
		const request = {
			topic: a,
			partition: 1,
			offset: 1,
			topicPartitionOffsets: [
				{ topic: a, partition: 0, offset: 0 },
				{ topic: b, partition: 0, offset: 0 },
			],
			timeout: 0,
		};
		const sorted = (ms: { value: string }[]) => ms.map((m) => m.value).sort();
		expect(sorted(await kafka().consumer().fetch(request))).toEqual(["a0-0", "a1-1", "b0-0"]);
		expect(sorted(await kafka().consumer().fetch(request, { parallel: false }))).toEqual(["a0-0", "a1-1", "b0-0"]);
	});

	it("waits up to timeout for records that arrive", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 1);
		const waiting = kafka().consumer().fetch({ topic, partition: 0, offset: 0, timeout: 5_000 });
		await untilWaiting(topic, 0);
		await produceV1(topic, [{ value: "late" }]);
		expect(await waitingReads(topic, 0), "the append woke the waiting fetch").toBe(0);
		expect((await waiting).map((m) => m.value)).toEqual(["late"]);
	});
});

describe("consume", () => {
	it("with auto-commit (the default): a consume commits what earlier ones returned, the first at once, then every 5 s", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 1);
		await produceV1(topic, [{ value: "m0" }, { value: "m1" }]);
		const group = uniqueGroup("ug");
		const c = kafka().consumer();
		const request = instanceOf(group, topic, "i1");
		expect((await c.consume(request)).map((m) => [m.topic, m.offset, m.value])).toEqual([
			[topic, 0, "m0"],
			[topic, 1, "m1"],
		]);
		const tp = [{ topic, partition: 0 }];
		// Kafka's auto-commit: nothing is committed before the records were handed out and the consumer came back.
		expect(await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tp })).toEqual([
			{ topic, partition: 0, offset: -1 },
		]);
		await produceV1(topic, [{ value: "m2" }]);
		expect((await c.consume(request)).map((m) => m.value)).toEqual(["m2"]);
		expect(await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tp })).toEqual([
			{ topic, partition: 0, offset: 2 },
		]);
		// Upstash's default interval (Kafka's auto.commit.interval.ms, 5 s) has not passed since that commit: "m2"'s
		// waits. The instance keeps the interval it was made with: a later header changes nothing (Upstash reads them
		// on the first request only); removing the instance commits what it was handed.
		expect(await c.consume(request)).toEqual([]);
		expect((await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tp }))[0]?.offset).toBe(2);
		expect(await c.consume({ ...request, autoCommitInterval: 0 })).toEqual([]);
		expect((await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tp }))[0]?.offset).toBe(2);
		await kafka().admin().removeConsumerInstance(group, "i1");
		expect((await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tp }))[0]?.offset).toBe(3);
	});

	it("Kafka-Enable-Auto-Commit false: only commit() commits; no body commits what was consumed", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 2);
		await produceV1(topic, [
			{ value: "p0", partition: 0 },
			{ value: "p1a", partition: 1 },
			{ value: "p1b", partition: 1 },
		]);
		const group = uniqueGroup("ug");
		const c = kafka().consumer();
		const request = { ...instanceOf(group, topic, "i1"), autoCommit: false };
		expect((await c.consume(request)).map((m) => m.value).sort()).toEqual(["p0", "p1a", "p1b"]);
		expect(await c.consume(request)).toEqual([]);
		const tps = [
			{ topic, partition: 0 },
			{ topic, partition: 1 },
		];
		expect((await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tps })).map((o) => o.offset)).toEqual([-1, -1]);
		await c.commit({ consumerGroupId: group, instanceId: "i1" });
		expect(await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tps })).toEqual([
			{ topic, partition: 0, offset: 1 },
			{ topic, partition: 1, offset: 2 },
		]);
	});

	it("commit with explicit offsets stores them unchanged (Kafka's next offset to read), one or several", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 2);
		await produceV1(topic, [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 0 },
			{ value: "c", partition: 1 },
		]);
		const group = uniqueGroup("ug");
		const c = kafka().consumer();
		await c.consume({ ...instanceOf(group, topic, "i1"), autoCommit: false });
		await c.commit({ consumerGroupId: group, instanceId: "i1", offset: { topic, partition: 0, offset: 1 } });
		const tps = [
			{ topic, partition: 1 },
			{ topic, partition: 0 },
		];
		expect(await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tps })).toEqual([
			{ topic, partition: 1, offset: -1 },
			{ topic, partition: 0, offset: 1 },
		]);
		await c.commit({
			consumerGroupId: group,
			instanceId: "i1",
			offset: [
				{ topic, partition: 0, offset: 2 },
				{ topic, partition: 1, offset: 1 },
			],
		});
		expect((await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tps })).map((o) => o.offset)).toEqual([1, 2]);
		// The admin view of the same offsets, and Tributary's own.
		expect(
			await kafka()
				.admin()
				.committedOffsets({ consumerGroupId: group, instanceId: "i1", topicPartition: { topic, partition: 0 } }),
		).toEqual([{ topic, partition: 0, offset: 2 }]);
		const described = await json<{ offsets: { partition: number; committed: number | null }[] }>("GET", `/v1/groups/${group}`, 200);
		expect(described.offsets.map((o) => [o.partition, o.committed])).toEqual([
			[0, 2],
			[1, 1],
		]);
	});

	it("Kafka-Auto-Offset-Reset latest (the default) skips what was there before the instance joined", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 1);
		await produceV1(topic, [{ value: "old" }]);
		const group = uniqueGroup("ug");
		const c = kafka().consumer();
		const request = { consumerGroupId: group, instanceId: "i1", topics: [topic], timeout: 0 };
		expect(await c.consume(request)).toEqual([]);
		await produceV1(topic, [{ value: "new" }]);
		expect((await c.consume(request)).map((m) => m.value)).toEqual(["new"]);
	});

	it("Kafka-Auto-Commit-Interval: a consume commits what earlier ones returned once the interval has passed", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 1);
		await produceV1(topic, [{ value: "x" }]);
		const group = uniqueGroup("ug");
		const c = kafka().consumer();
		const request = { ...instanceOf(group, topic, "i1"), autoCommit: true, autoCommitInterval: 60_000 };
		expect((await c.consume(request)).map((m) => m.value)).toEqual(["x"]);
		const tp = [{ topic, partition: 0 }];
		const committed = async () => (await c.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: tp }))[0]?.offset;
		expect(await committed()).toBe(-1);
		// The first auto-commit is due at once (none before it), then not again for 60 s: "y" is handed out and its
		// commit waits, as a Kafka consumer's with auto.commit.interval.ms.
		expect(await c.consume(request)).toEqual([]);
		expect(await committed()).toBe(1);
		await produceV1(topic, [{ value: "y" }]);
		expect((await c.consume(request)).map((m) => m.value)).toEqual(["y"]);
		expect(await c.consume(request)).toEqual([]);
		expect(await committed()).toBe(1);
		// Later requests without the header, or with another interval, keep the instance's 60 s.
		expect(await c.consume(instanceOf(group, topic, "i1"))).toEqual([]);
		expect(await c.consume({ ...instanceOf(group, topic, "i1"), autoCommitInterval: 0 })).toEqual([]);
		expect(await committed()).toBe(1);
		await kafka().admin().removeConsumerInstance(group, "i1");
		expect(await committed()).toBe(2);
	});

	it("two instances of a group share a topic: each gets a share, together every record once", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 4);
		const group = uniqueGroup("ug");
		const c = kafka().consumer();
		const as = (instanceId: string) => instanceOf(group, topic, instanceId);
		// Both join before anything is read, so the second join's rebalance moves no records already handed out.
		expect(await c.consume(as("a"))).toEqual([]);
		expect(await c.consume(as("b"))).toEqual([]);
		const values = Array.from({ length: 40 }, (_, i) => `v${i}`);
		await produceV1(
			topic,
			values.map((value, i) => ({ value, partition: i % 4 })),
		);
		const fromA = await c.consume(as("a"));
		const fromB = await c.consume(as("b"));
		expect(fromA.length).toBeGreaterThan(0);
		expect(fromB.length).toBeGreaterThan(0);
		const partitionsA = new Set(fromA.map((m) => m.partition));
		const partitionsB = new Set(fromB.map((m) => m.partition));
		expect([...partitionsA].filter((p) => partitionsB.has(p))).toEqual([]);
		expect([...fromA, ...fromB].map((m) => m.value).sort()).toEqual([...values].sort());
		// The admin view lists both instances and their partitions.
		const consumers = await kafka().admin().consumers();
		const listed = consumers.find((g) => g.name === group);
		expect(listed?.instances.map((i) => [i.name, i.topics.flatMap((t) => t.partitions)])).toEqual([
			["a", [...partitionsA].sort()],
			["b", [...partitionsB].sort()],
		]);
	});

	it("commits survive the instance: a new instance starts where the old one committed", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 1);
		await produceV1(topic, [{ value: "r0" }, { value: "r1" }, { value: "r2" }]);
		const group = uniqueGroup("ug");
		const c = kafka().consumer();
		const first = await c.consume({ ...instanceOf(group, topic, "old"), autoCommit: false });
		expect(first.map((m) => m.value)).toEqual(["r0", "r1", "r2"]);
		await c.commit({ consumerGroupId: group, instanceId: "old", offset: { topic, partition: 0, offset: 2 } });
		await kafka().admin().removeConsumerInstance(group, "old");
		expect((await kafka().admin().consumers()).find((g) => g.name === group)).toBeUndefined();
		const next = await c.consume(instanceOf(group, topic, "new"));
		expect(next.map((m) => [m.offset, m.value])).toEqual([[2, "r2"]]);
	});

	it("several topics in one consume", async () => {
		const a = uniqueTopic("up");
		const b = uniqueTopic("up");
		await createTopic(a, 1);
		await createTopic(b, 1);
		await produceV1(a, [{ value: "from-a" }]);
		await produceV1(b, [{ value: "from-b" }]);
		const messages = await kafka()
			.consumer()
			.consume({ consumerGroupId: uniqueGroup("ug"), instanceId: "i", topics: [a, b], autoOffsetReset: "earliest", timeout: 0 });
		expect(messages.map((m) => [m.topic, m.value]).sort()).toEqual(
			[
				[a, "from-a"],
				[b, "from-b"],
			].sort(),
		);
	});
});

describe("admin", () => {
	it("topics: each name with its partition count", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 5);
		const topics = await kafka().admin().topics();
		expect(topics[topic]).toBe(5);
	});

	it("topicPartitionOffsets: earliest, latest and by timestamp", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 2);
		const t0 = Date.now() - 60_000;
		await produceV1(topic, [
			{ value: "a", partition: 0, timestamp: t0 },
			{ value: "b", partition: 0, timestamp: t0 + 1_000 },
			{ value: "c", partition: 0, timestamp: t0 + 2_000 },
		]);
		const admin = kafka().admin();
		const tps = [
			{ topic, partition: 0 },
			{ topic, partition: 1 },
		];
		expect(await admin.topicPartitionOffsets({ timestamp: "earliest", topicPartitions: tps })).toEqual([
			{ topic, partition: 0, offset: 0 },
			{ topic, partition: 1, offset: 0 },
		]);
		expect(await admin.topicPartitionOffsets({ timestamp: "latest", topicPartitions: tps })).toEqual([
			{ topic, partition: 0, offset: 3 },
			{ topic, partition: 1, offset: 0 },
		]);
		expect(await admin.topicPartitionOffsets({ timestamp: t0 + 500, topicPartition: { topic, partition: 0 } })).toEqual([
			{ topic, partition: 0, offset: 1 },
		]);
		expect(await admin.topicPartitionOffsets({ timestamp: t0 + 2_000, topicPartition: { topic, partition: 0 } })).toEqual([
			{ topic, partition: 0, offset: 2 },
		]);
	});

	it("removeConsumerInstance: the group rebalances, and the other instance takes every partition", async () => {
		const topic = uniqueTopic("up");
		await createTopic(topic, 2);
		const group = uniqueGroup("ug");
		const c = kafka().consumer();
		const as = (instanceId: string) => instanceOf(group, topic, instanceId);
		await c.consume(as("a"));
		await c.consume(as("b"));
		await kafka().admin().removeConsumerInstance(group, "b");
		await produceV1(topic, [
			{ value: "x", partition: 0 },
			{ value: "y", partition: 1 },
		]);
		expect((await c.consume(as("a"))).map((m) => m.value).sort()).toEqual(["x", "y"]);
		const listed = (await kafka().admin().consumers()).find((g) => g.name === group);
		expect(listed).toEqual({ name: group, instances: [{ name: "a", topics: [{ topic, partitions: [0, 1] }] }] });
	});
});
