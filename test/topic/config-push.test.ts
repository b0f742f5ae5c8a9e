/**
 * A config change the registry could not push to a partition reaches it without an append: the registry's alarm
 * pushes it again until every partition took it, so an idle partition's retention and offload follow the new config.
 */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { runDueAlarm } from "../support/alarm.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { createTopic, json, produce } from "../support/worker.ts";

async function partitionConfigVersion(topic: string): Promise<number> {
	return runInDurableObject(
		await partitionStub(topic),
		(_, state) => state.storage.sql.exec<{ v: number }>("SELECT config_version AS v FROM partition_state").one().v,
	);
}

/** Runs `work` with every partition's `configure` throwing, as an RPC to an object that cannot be reached would. */
async function unreachablePartitions<T>(work: () => Promise<T>): Promise<T> {
	const configure = PartitionLog.prototype.configure;
	PartitionLog.prototype.configure = () => {
		throw new Error("injected: the partition is unreachable");
	};
	try {
		return await work();
	} finally {
		PartitionLog.prototype.configure = configure;
	}
}

describe("a config push that fails", () => {
	it("is retried by the registry's alarm until the idle partition has the new config", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		await produce(topic, [{ value: "old", timestamp: Date.now() - 60_000 }]);
		await produce(topic, [{ value: "new" }]);
		expect(await partitionConfigVersion(topic)).toBe(1);
		await unreachablePartitions(() => json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "retention.ms": 30_000 } } }));
		expect(await partitionConfigVersion(topic)).toBe(1);
		// No append comes; the registry's alarm pushes the config again. It is due CLEANUP_RETRY_MS after the failed push
		// (a slow step lets workerd run it first): the partition's new config version proves a run.
		// A run workerd began itself may still be pushing when runDueAlarm answers: wait for what it leaves.
		await runDueAlarm(topicRegistry(env));
		await vi.waitFor(async () => expect(await partitionConfigVersion(topic)).toBe(2), { timeout: 10_000 });
		// The partition acts on it: the old batch leaves the window.
		await runDurableObjectAlarm(await partitionStub(topic));
		expect(
			(await json<{ partitions: { log_start_offset: number }[] }>("GET", `/v1/topics/${topic}`, 200)).partitions[0]?.log_start_offset,
		).toBe(1);
	});
});
