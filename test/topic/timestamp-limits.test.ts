/**
 * Kafka's topic configs `message.timestamp.before.max.ms` and `message.timestamp.after.max.ms` (KIP-937, Kafka
 * 3.6): on a CreateTime topic a produce whose record timestamp is further in the past, or in the future, of the
 * broker's clock than they allow is refused whole (Kafka's INVALID_TIMESTAMP), nothing written; on a LogAppendTime
 * topic they do not apply. By default (Kafka's Long.MAX_VALUE) there is no limit. Each mount refuses in its dialect.
 */

import { describe, expect, it } from "vitest";
import { CONFIG_NUMBER_MAX, DEFAULT_TOPIC_CONFIG, TIMESTAMP_DISTANCE_UNLIMITED_MS } from "../../src/shared/topic-config.ts";
import { expectV3Error, V3 } from "../support/confluent.ts";
import { basic } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, call, createTopic, expectError, fetchRecords, json, produce } from "../support/worker.ts";

const HOUR_MS = 60 * 60 * 1000;
const BEFORE = "message.timestamp.before.max.ms";
const AFTER = "message.timestamp.after.max.ms";
/** An hour either way: far wider than the test's own running time, far narrower than the timestamps refused. */
const LIMITS = { [BEFORE]: HOUR_MS, [AFTER]: HOUR_MS };
/** Kafka's default for both, Long.MAX_VALUE, as `kafka-configs --describe` shows it and Kafka clients send it. */
const LONG_MAX = "9223372036854775807";

async function highWatermark(topic: string, partition = 0): Promise<number> {
	return (await fetchRecords(topic, partition)).high_watermark;
}

describe("message.timestamp.{before,after}.max.ms as configs", () => {
	it("default to no limit, and are accepted, described and altered on /v1", async () => {
		expect(DEFAULT_TOPIC_CONFIG[BEFORE]).toBe(TIMESTAMP_DISTANCE_UNLIMITED_MS);
		expect(DEFAULT_TOPIC_CONFIG[AFTER]).toBe(TIMESTAMP_DISTANCE_UNLIMITED_MS);
		const topic = uniqueTopic("ts-limits");
		const created = await createTopic(topic, 1, { [BEFORE]: "60000" });
		expect(created.config).toMatchObject({ [BEFORE]: 60_000, [AFTER]: TIMESTAMP_DISTANCE_UNLIMITED_MS });
		const patched = await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { [BEFORE]: null, [AFTER]: 0 } } });
		expect(patched.config).toMatchObject({ [BEFORE]: TIMESTAMP_DISTANCE_UNLIMITED_MS, [AFTER]: 0 });
	});

	it.each([-1, "soon", 1.5])("refuses %j on /v1 (400 invalid_config) and on /kafka/v3 (400 / 40002)", async (value) => {
		const error = await expectError("POST", "/v1/topics", 400, "invalid_config", {
			body: { name: uniqueTopic(), config: { [AFTER]: value } },
		});
		expect(error.config).toBe(AFTER);
		const topic = uniqueTopic("ts-limits-v3");
		await createTopic(topic, 1);
		const put = call("PUT", `${V3}/topics/${topic}/configs/${BEFORE}`, { body: { value: String(value) } });
		await expectV3Error(await put, 400, 40002, "invalid_config");
	});

	it("take Kafka's Long.MAX_VALUE written out, as a digit string or a JSON number, as no limit on /v1 and /kafka/v3", async () => {
		const raw = (body: string) => ({ raw: body, headers: { "Content-Type": "application/json" } });
		// The JSON number parses to 9223372036854775808, beyond any integer a JSON number holds exactly.
		const topic = uniqueTopic("ts-limits-long");
		const created = await json(
			"POST",
			"/v1/topics",
			201,
			raw(`{"name":"${topic}","config":{"${BEFORE}":${LONG_MAX},"${AFTER}":"${LONG_MAX}"}}`),
		);
		expect(created.config).toMatchObject({ [BEFORE]: TIMESTAMP_DISTANCE_UNLIMITED_MS, [AFTER]: TIMESTAMP_DISTANCE_UNLIMITED_MS });
		// Only a config takes such a number: elsewhere in the body it is refused, as before.
		await expectError("PATCH", `/v1/topics/${topic}`, 400, "invalid_request", raw(`{"partitions":${LONG_MAX}}`));
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { [BEFORE]: HOUR_MS } } });
		const patched = await json("PATCH", `/v1/topics/${topic}`, 200, raw(`{"config":{"${BEFORE}":${LONG_MAX}}}`));
		expect(patched.config).toMatchObject({ [BEFORE]: TIMESTAMP_DISTANCE_UNLIMITED_MS });
		const path = `${V3}/topics/${topic}/configs/${AFTER}`;
		expect((await call("PUT", path, { body: { value: "5000" } })).status).toBe(204);
		expect((await call("PUT", path, { body: { value: LONG_MAX } })).status).toBe(204);
		expect(await json("GET", path, 200)).toMatchObject({ value: String(TIMESTAMP_DISTANCE_UNLIMITED_MS), is_default: true });
		const old = Date.now() - 2 * HOUR_MS;
		await produce(topic, [{ value: "old", timestamp: old }]);
		expect(await highWatermark(topic)).toBe(1);
	});

	it("take any integer above the largest a long config holds as that largest, one rule for every such config", async () => {
		const created = await createTopic(uniqueTopic("long-configs"), 1, { "retention.ms": LONG_MAX, "retention.bytes": `${LONG_MAX}0` });
		expect(created.config).toMatchObject({ "retention.ms": CONFIG_NUMBER_MAX, "retention.bytes": CONFIG_NUMBER_MAX });
		// A config with a smaller ceiling keeps it, and a negative beyond JSON's exact integers is still refused.
		for (const config of [{ "max.message.bytes": LONG_MAX }, { [BEFORE]: `-${LONG_MAX}` }, { [AFTER]: -1e300 }]) {
			await expectError("POST", "/v1/topics", 400, "invalid_config", { body: { name: uniqueTopic(), config } });
		}
	});

	it("is listed, set and reset on the Confluent v3 mount", async () => {
		const topic = uniqueTopic("ts-limits-v3");
		await createTopic(topic, 1);
		const path = `${V3}/topics/${topic}/configs/${AFTER}`;
		expect(await json("GET", path, 200)).toMatchObject({ value: String(TIMESTAMP_DISTANCE_UNLIMITED_MS), is_default: true });
		expect((await call("PUT", path, { body: { value: "5000" } })).status).toBe(204);
		expect(await json("GET", path, 200)).toMatchObject({ value: "5000", is_default: false, source: "DYNAMIC_TOPIC_CONFIG" });
	});
});

describe("a produce outside the topic's timestamp window", () => {
	it("is refused whole on /v1 (400 invalid_timestamp, the record named), nothing written in any partition", async () => {
		const topic = uniqueTopic("ts-window");
		await createTopic(topic, 2, LIMITS);
		const now = Date.now();
		for (const timestamp of [now - 2 * HOUR_MS, now + 2 * HOUR_MS]) {
			const error = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_timestamp", {
				body: {
					records: [
						{ value: "fine", partition: 0, timestamp: now },
						{ value: "stale", partition: 1, timestamp },
					],
				},
			});
			expect(error).toMatchObject({ index: 1, timestamp, retriable: false });
			expect(error.message).toMatch(
				/^records\[1\]: timestamp \d+ is outside \d+ to \d+ \(now minus the topic's message\.timestamp\.before\.max\.ms/,
			);
		}
		expect([await highWatermark(topic, 0), await highWatermark(topic, 1)]).toEqual([0, 0]);
	});

	it("takes timestamps inside the window, and records without one (they get the append time)", async () => {
		const topic = uniqueTopic("ts-window-in");
		await createTopic(topic, 1, LIMITS);
		const now = Date.now();
		const { offsets } = await produce(topic, [
			{ value: "a", timestamp: now - HOUR_MS / 2 },
			{ value: "b", timestamp: now + HOUR_MS / 2 },
			{ value: "c" },
		]);
		expect(offsets.map((o) => o.offset)).toEqual([0, 1, 2]);
	});

	it("applies no limit by default, and none on a LogAppendTime topic (Kafka ignores them then)", async () => {
		const open = uniqueTopic("ts-window-default");
		await createTopic(open, 1);
		await produce(open, [{ value: "ancient", timestamp: 1 }]);
		const stamped = uniqueTopic("ts-window-append");
		await createTopic(stamped, 1, { ...LIMITS, "message.timestamp.type": "LogAppendTime" });
		await produce(stamped, [{ value: "ancient", timestamp: 1 }]);
		expect([await highWatermark(open), await highWatermark(stamped)]).toEqual([1, 1]);
	});

	it("follows an alter: a limit set later refuses, and reset to its default takes again", async () => {
		const topic = uniqueTopic("ts-window-alter");
		await createTopic(topic, 1);
		const old = Date.now() - 2 * HOUR_MS;
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { [BEFORE]: HOUR_MS } } });
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_timestamp", {
			body: { records: [{ value: "x", timestamp: old }] },
		});
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { [BEFORE]: null } } });
		await produce(topic, [{ value: "x", timestamp: old }]);
		expect(await highWatermark(topic)).toBe(1);
	});

	it("is refused on /kafka/v3 with 400 / 40002 and on /upstash in its shape, nothing written", async () => {
		const topic = uniqueTopic("ts-window-compat");
		await createTopic(topic, 1, LIMITS);
		const old = Date.now() - 2 * HOUR_MS;
		const v3 = call("POST", `${V3}/topics/${topic}/records`, {
			body: { value: { type: "STRING", data: "x" }, timestamp: new Date(old).toISOString() },
		});
		await expectV3Error(await v3, 400, 40002, "invalid_timestamp");
		const upstash = await call("POST", "/upstash/produce", {
			token: null,
			headers: basic("admin", ADMIN_TOKEN),
			body: [
				{ topic, value: "fine" },
				{ topic, value: "stale", timestamp: old },
			],
		});
		const text = await upstash.text();
		expect(upstash.status, text).toBe(400);
		expect(JSON.parse(text)).toEqual({ error: expect.stringContaining(BEFORE), status: 400 });
		expect(await highWatermark(topic)).toBe(0);
	});

	it("fails only its own record in a v3 batch, as Kafka REST produces each record on its own", async () => {
		const topic = uniqueTopic("ts-window-v3-batch");
		await createTopic(topic, 1, LIMITS);
		const at = (ms: number) => JSON.stringify({ value: { type: "STRING", data: String(ms) }, timestamp: new Date(ms).toISOString() });
		const now = Date.now();
		const body = [at(now), at(now - 2 * HOUR_MS), at(now)].join("\n");
		const response = await call("POST", `${V3}/topics/${topic}/records`, { raw: body, headers: { "Content-Type": "application/json" } });
		const text = await response.text();
		expect(response.status, text).toBe(200);
		const reports = text
			.split("\n")
			.filter((line) => line !== "")
			.map((line) => JSON.parse(line) as { error_code: number; offset?: number });
		expect(reports.map((r) => [r.error_code, r.offset])).toEqual([
			[200, 0],
			[40002, undefined],
			[200, 1],
		]);
	});

	it("refuses an idempotent retry whose timestamp has since left the window, as Kafka does, not answering the duplicate", async () => {
		// Kafka's UnifiedLog.append runs LogValidator (the window) before the producer state that finds a duplicate.
		const topic = uniqueTopic("ts-window-retry");
		await createTopic(topic, 1);
		const { producer_id, epoch } = await json<{ producer_id: number; epoch: number }>("POST", "/v1/producers", 200, {});
		const body = { producer_id, epoch, sequence: 0, records: [{ value: "x", timestamp: Date.now() - 2 * HOUR_MS }] };
		await json("POST", `/v1/topics/${topic}/records`, 200, { body });
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { [BEFORE]: HOUR_MS } } });
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_timestamp", { body });
		expect(error).toMatchObject({ index: 0, retriable: false });
		expect(await highWatermark(topic)).toBe(1);
	});
});
