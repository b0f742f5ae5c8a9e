/**
 * Turning remote storage off on a topic whose partitions hold segments in R2 is refused, as Kafka 3.6 to 3.8 refuse
 * it ("Disabling remote storage feature on the topic level is not supported"), on each mount that changes configs:
 * its segments would otherwise stay in R2 under a topic that no longer offloads, swept and retained by rules the
 * topic says are off. Once retention has dropped every segment, it may be turned off.
 */

import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { expectV3Error, V3 } from "../support/confluent.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { call, createTopic, expectError, json, produce } from "../support/worker.ts";

interface Described {
	config: Record<string, unknown>;
	partitions: { log_start_offset: number; local_log_start_offset: number; remote_bytes: number }[];
}

function fetchV3(path: string, body: unknown): Promise<Response> {
	return call(path.endsWith(":alter") ? "POST" : "PUT", path, { body });
}

async function alarm(topic: string, partition = 0) {
	await runInDurableObject(await partitionStub(topic, partition), (instance: PartitionLog) => instance.alarm());
}

const OFF = { "remote.storage.enable": false };

describe("turning remote storage off", () => {
	it("is refused with invalid_config on /v1 and /kafka/v3 while a partition holds remote segments, and allowed once none is left", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2, { "remote.storage.enable": true, "local.retention.bytes": 1 });
		// Only partition 1 offloads: one partition holding segments is enough to refuse.
		for (let i = 0; i < 3; i++) await produce(topic, [{ value: `v${i}`, partition: 1 }]);
		await alarm(topic, 1);
		const held = await json<Described>("GET", `/v1/topics/${topic}`, 200);
		expect(held.partitions[1]?.remote_bytes).toBeGreaterThan(0);
		const refused = await expectError("PATCH", `/v1/topics/${topic}`, 400, "invalid_config", { body: { config: OFF } });
		expect(refused.config).toBe("remote.storage.enable");
		const put = await fetchV3(`${V3}/topics/${topic}/configs/remote.storage.enable`, { value: "false" });
		await expectV3Error(put, 400, 40002, "invalid_config");
		const alter = await fetchV3(`${V3}/topics/${topic}/configs:alter`, { data: [{ name: "remote.storage.enable", value: "false" }] });
		await expectV3Error(alter, 400, 40002, "invalid_config");
		expect((await json<Described>("GET", `/v1/topics/${topic}`, 200)).config["remote.storage.enable"]).toBe(true);
		// Retention drops every segment (the newest batch stays local); then nothing is left in R2 to strand.
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "retention.bytes": 1 } } });
		await alarm(topic, 1);
		const dropped = await json<Described>("GET", `/v1/topics/${topic}`, 200);
		expect(dropped.partitions[1]).toMatchObject({ remote_bytes: 0, log_start_offset: 2, local_log_start_offset: 2 });
		const off = await json<Described>("PATCH", `/v1/topics/${topic}`, 200, { body: { config: OFF } });
		expect(off.config["remote.storage.enable"]).toBe(false);
	});
});
