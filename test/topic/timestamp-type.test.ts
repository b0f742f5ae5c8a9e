/**
 * Kafka's topic config `message.timestamp.type`: `CreateTime` (the default) keeps the producer's timestamp,
 * `LogAppendTime` has the partition stamp every record with the time it appended it, whatever the producer sent.
 * Accepted, refused, described and altered like the other configs, on /v1 and on the Confluent v3 mount.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { DEFAULT_TOPIC_CONFIG, type TimestampType } from "../../src/shared/topic-config.ts";
import { expectV3Error, V3 } from "../support/confluent.ts";
import { uniqueTopic } from "../support/names.ts";
import { call, createTopic, expectError, fetchRecords, json, produce } from "../support/worker.ts";

/** A producer timestamp far from now, so a record stamped with its append time cannot carry it by chance. */
const PRODUCER_TIMESTAMP_MS = 1_000_000;

describe("message.timestamp.type as a config", () => {
	it("defaults to CreateTime and is accepted, described and altered on /v1", async () => {
		expect(DEFAULT_TOPIC_CONFIG["message.timestamp.type"]).toBe("CreateTime");
		const topic = uniqueTopic("ts-type");
		const created = await createTopic(topic, 1, { "message.timestamp.type": "LogAppendTime" });
		expect(created.config).toMatchObject({ "message.timestamp.type": "LogAppendTime" });
		const patched = await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "message.timestamp.type": "CreateTime" } } });
		expect(patched.config).toMatchObject({ "message.timestamp.type": "CreateTime" });
	});

	it.each(["logappendtime", "Now", "", 1])("refuses %j on /v1 (400 invalid_config) and on /kafka/v3 (400 / 40002)", async (value) => {
		const error = await expectError("POST", "/v1/topics", 400, "invalid_config", {
			body: { name: uniqueTopic(), config: { "message.timestamp.type": value } },
		});
		expect(error.config).toBe("message.timestamp.type");
		expect(error.message).toContain('"CreateTime" or "LogAppendTime"');
		const topic = uniqueTopic("ts-type-v3");
		await createTopic(topic, 1);
		const put = call("PUT", `${V3}/topics/${topic}/configs/message.timestamp.type`, { body: { value: String(value) } });
		await expectV3Error(await put, 400, 40002, "invalid_config");
	});

	it("is listed, set and reset on the Confluent v3 mount", async () => {
		const topic = uniqueTopic("ts-type-v3");
		await createTopic(topic, 1);
		const path = `${V3}/topics/${topic}/configs/message.timestamp.type`;
		expect(await json("GET", path, 200)).toMatchObject({ value: "CreateTime", is_default: true, source: "DEFAULT_CONFIG" });
		expect((await call("PUT", path, { body: { value: "LogAppendTime" } })).status).toBe(204);
		expect(await json("GET", path, 200)).toMatchObject({ value: "LogAppendTime", is_default: false, source: "DYNAMIC_TOPIC_CONFIG" });
		expect((await call("DELETE", path)).status).toBe(204);
		expect(await json("GET", path, 200)).toMatchObject({ value: "CreateTime", is_default: true });
	});
});

describe("LogAppendTime stamps records", () => {
	it("keeps the producer's timestamp on a CreateTime topic", async () => {
		const topic = uniqueTopic("ts-create");
		await createTopic(topic, 1, { "retention.ms": -1 });
		const { offsets } = await produce(topic, [{ value: "a", timestamp: PRODUCER_TIMESTAMP_MS }]);
		expect(offsets[0]?.timestamp).toBe(PRODUCER_TIMESTAMP_MS);
		expect((await fetchRecords(topic, 0)).records[0]?.timestamp).toBe(PRODUCER_TIMESTAMP_MS);
	});

	it("stamps every record of an append with its one append time, answered and stored alike", async () => {
		const topic = uniqueTopic("ts-append");
		await createTopic(topic, 1, { "message.timestamp.type": "LogAppendTime" });
		const before = Date.now();
		const { offsets } = await produce(topic, [
			{ value: "a", timestamp: PRODUCER_TIMESTAMP_MS },
			{ value: "b", timestamp: PRODUCER_TIMESTAMP_MS + 1 },
			{ value: "c" },
		]);
		const after = Date.now();
		const stamped = offsets[0]?.timestamp as number;
		expect(stamped).toBeGreaterThanOrEqual(before);
		expect(stamped).toBeLessThanOrEqual(after);
		expect(offsets.map((o) => o.timestamp)).toEqual([stamped, stamped, stamped]);
		const { records } = await fetchRecords(topic, 0);
		expect(records.map((r) => r.timestamp)).toEqual([stamped, stamped, stamped]);
	});

	it("answers a replayed append (Idempotency-Key) with the append time it was stamped with, not the producer's", async () => {
		const topic = uniqueTopic("ts-replay");
		await createTopic(topic, 1, { "message.timestamp.type": "LogAppendTime" });
		const request = {
			body: { records: [{ value: "once", timestamp: PRODUCER_TIMESTAMP_MS }] },
			headers: { "Idempotency-Key": `ts-${crypto.randomUUID()}` },
		};
		const first = await json<{ offsets: { timestamp: number }[] }>("POST", `/v1/topics/${topic}/records`, 200, request);
		const replayed = await call("POST", `/v1/topics/${topic}/records`, request);
		expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await replayed.json()).toEqual(first);
		expect(first.offsets[0]?.timestamp).not.toBe(PRODUCER_TIMESTAMP_MS);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.timestamp)).toEqual([first.offsets[0]?.timestamp]);
	});

	it("stamps from the append after a topic is altered to LogAppendTime, and stops when altered back", async () => {
		const topic = uniqueTopic("ts-alter");
		await createTopic(topic, 1, { "retention.ms": -1 });
		await produce(topic, [{ value: "kept", timestamp: PRODUCER_TIMESTAMP_MS }]);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "message.timestamp.type": "LogAppendTime" } } });
		const before = Date.now();
		await produce(topic, [{ value: "stamped", timestamp: PRODUCER_TIMESTAMP_MS }]);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "message.timestamp.type": null } } });
		await produce(topic, [{ value: "own again", timestamp: PRODUCER_TIMESTAMP_MS }]);
		const [kept, stamped, own] = (await fetchRecords(topic, 0)).records;
		expect(kept?.timestamp).toBe(PRODUCER_TIMESTAMP_MS);
		expect(stamped?.timestamp).toBeGreaterThanOrEqual(before);
		expect(own?.timestamp).toBe(PRODUCER_TIMESTAMP_MS);
	});
});

describe("the produce answer's timestamps", () => {
	/**
	 * Alters the topic in the registry alone, as another edge instance would: this edge's cached metadata keeps the
	 * old type for `TOPIC_CACHE_TTL_MS`, while the partition is given the new config.
	 */
	async function alterElsewhere(topic: string, type: TimestampType): Promise<void> {
		const altered = await topicRegistry(env).updateTopic(topic, { config: { "message.timestamp.type": type } });
		expect(altered.ok).toBe(true);
	}

	it.each([
		["CreateTime", "LogAppendTime"],
		["LogAppendTime", "CreateTime"],
	] as const)("are the stored ones when a %s topic became %s where this edge has not seen it", async (from, to) => {
		const topic = uniqueTopic("ts-stale");
		await createTopic(topic, 1, { "message.timestamp.type": from });
		await produce(topic, [{ value: "caches the topic at this edge" }]);
		await alterElsewhere(topic, to);
		const { offsets } = await produce(topic, [
			{ value: "a", timestamp: PRODUCER_TIMESTAMP_MS },
			{ value: "b", timestamp: PRODUCER_TIMESTAMP_MS + 1 },
		]);
		const stored = (await fetchRecords(topic, 0)).records.slice(1).map((r) => r.timestamp);
		expect(offsets.map((o) => o.timestamp)).toEqual(stored);
		expect(stored[0] === PRODUCER_TIMESTAMP_MS).toBe(to === "CreateTime");
	});
});
