/**
 * An idle topic's webhook dispatcher sleeps (no alarm for `WEBHOOK_IDLE_RECHECK_MS`) with a watch on each
 * partition, and the next append pokes it awake: delivery goes on without a polling object. A replay (as a resume or a
 * new subscription) made while a run's end sets that sleep runs at once all the same.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { WEBHOOK_IDLE_RECHECK_MS } from "../../src/shared/limits.ts";
import { partitionLog, topicRegistry, webhookDispatcher } from "../../src/shared/stubs.ts";
import { describeTopic, invalidate } from "../../src/topic/topic-cache.ts";
import { uniqueTopic } from "../support/names.ts";
import { dispatcherStub } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { call, createTopic, json, produce } from "../support/worker.ts";

const receiver = useReceiver();
const WAIT = { timeout: 5_000, interval: 20 };

const topics: string[] = [];
afterEach(async () => {
	vi.restoreAllMocks();
	for (const topic of topics.splice(0)) await call("DELETE", `/v1/topics/${topic}`);
});

async function watchersOf(topicId: string, partition: number): Promise<{ watcher: string; from_offset: number }[]> {
	return runInDurableObject(partitionLog(env, topicId, partition), (_, state) =>
		state.storage.sql.exec<{ watcher: string; from_offset: number }>("SELECT watcher, from_offset FROM append_watchers").toArray(),
	);
}

/** Ends the dispatcher's current run now (it would last WEBHOOK_RUN_MS) and makes later runs short. */
async function endRunAndShortenRuns(dispatcher: ReturnType<typeof webhookDispatcher>): Promise<void> {
	await runInDurableObject(dispatcher, (instance) => {
		instance.runMs = 300;
		instance.pollWaitMs = 100;
		instance.deadlineMs = Date.now();
		instance.changed.wakeAll();
	});
}

/**
 * A one-partition topic whose subscription delivered its first record: its dispatcher's run goes on for
 * WEBHOOK_RUN_MS, the lane waiting on partition 0.
 */
async function runningOnOnePartition(name: string): Promise<{ topic: string; path: string; id: string }> {
	const topic = uniqueTopic(name);
	topics.push(topic);
	await createTopic(topic, 1);
	const path = `/${name}-${crypto.randomUUID()}`;
	const { id } = await json<{ id: string }>("POST", `/v1/topics/${topic}/subscriptions`, 201, {
		body: { url: `https://receiver.test${path}`, start: "earliest" },
	});
	await produce(topic, [{ value: "old-partition", partition: 0 }]);
	await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(1), WAIT);
	return { topic, path, id };
}

describe("idle webhook dispatcher", () => {
	it("sleeps once its lanes are caught up, and an append wakes it", { timeout: 20_000 }, async () => {
		const topic = uniqueTopic("idle");
		topics.push(topic);
		await createTopic(topic, 2);
		const path = `/idle-${crypto.randomUUID()}`;
		await json("POST", `/v1/topics/${topic}/subscriptions`, 201, { body: { url: `https://receiver.test${path}`, start: "earliest" } });
		await produce(topic, [{ value: "first", partition: 0 }]);
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(1), WAIT);

		const meta = await describeTopic(env, topic);
		if (!meta.ok) throw new Error(meta.error.message);
		const { topicId } = meta.value;
		const dispatcher = webhookDispatcher(env, topicId);
		await endRunAndShortenRuns(dispatcher);
		await vi.waitFor(async () => {
			expect(await watchersOf(topicId, 0)).toEqual([{ watcher: topicId, from_offset: 1 }]);
			expect(await watchersOf(topicId, 1)).toEqual([{ watcher: topicId, from_offset: 0 }]);
		}, WAIT);
		const alarm = await runInDurableObject(dispatcher, (_, state) => state.storage.getAlarm());
		expect(alarm).not.toBeNull();
		expect(alarm as number).toBeGreaterThan(Date.now() + WEBHOOK_IDLE_RECHECK_MS - 60_000);

		// The next append on either partition pokes the sleeping dispatcher.
		await produce(topic, [{ value: "second", partition: 1 }]);
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(2), WAIT);
		expect(receiver.at(path).map((r) => [r.json.partition, r.json.records.map((x) => x.value)])).toEqual([
			[0, ["first"]],
			[1, ["second"]],
		]);
		// And after that short run it sleeps again, watching from past what it delivered.
		await vi.waitFor(async () => expect(await watchersOf(topicId, 1)).toEqual([{ watcher: topicId, from_offset: 1 }]), WAIT);
	});

	it("a topic that grows while its dispatcher sleeps: the new partition is delivered too", { timeout: 20_000 }, async () => {
		const topic = uniqueTopic("idle-grow");
		topics.push(topic);
		await createTopic(topic, 1);
		const path = `/grow-${crypto.randomUUID()}`;
		await json("POST", `/v1/topics/${topic}/subscriptions`, 201, { body: { url: `https://receiver.test${path}`, start: "earliest" } });
		const meta = await describeTopic(env, topic);
		if (!meta.ok) throw new Error(meta.error.message);
		const dispatcher = webhookDispatcher(env, meta.value.topicId);
		await endRunAndShortenRuns(dispatcher);
		await vi.waitFor(async () => expect(await watchersOf(meta.value.topicId, 0)).toHaveLength(1), WAIT);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { partitions: 2 } });
		// Wait for the run the PATCH started to take up partition 1, then append there.
		await vi.waitFor(async () => expect(await watchersOf(meta.value.topicId, 1)).toHaveLength(1), WAIT);
		await produce(topic, [{ value: "new-partition", partition: 1 }]);
		await vi.waitFor(() => expect(receiver.at(path).map((r) => r.json.partition)).toEqual([1]), WAIT);
	});

	it("a topic that grows while a run is going: the new partition gets a lane in that run and is delivered", {
		timeout: 20_000,
	}, async () => {
		const { topic, path } = await runningOnOnePartition("run-grow");
		// The PATCH's poke lands in the run.
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { partitions: 2 } });
		await produce(topic, [{ value: "new-partition", partition: 1 }]);
		await vi.waitFor(() => expect(receiver.at(path).map((r) => r.json.partition)).toEqual([0, 1]), WAIT);
	});

	it("a poke during a run whose topic read fails answers all the same (the PATCH awaits it), and the next run takes the partition", {
		timeout: 20_000,
	}, async () => {
		const { topic, path } = await runningOnOnePartition("run-grow-fail");
		// Grown behind the dispatcher's back (no poke yet), the new partition's record waiting for a lane.
		expect((await topicRegistry(env).updateTopic(topic, { partitions: 2 })).ok).toBe(true);
		invalidate(topic);
		await produce(topic, [{ value: "new-partition", partition: 1 }]);
		const meta = await describeTopic(env, topic);
		if (!meta.ok) throw new Error(meta.error.message);
		const dispatcher = webhookDispatcher(env, meta.value.topicId);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await runInDurableObject(topicRegistry(env), (instance) => throwOnce(instance as unknown as { find(): void }, "find"));
		invalidate(topic); // the dispatcher shares this isolate's cache here: its topic read goes to the registry
		await runInDurableObject(dispatcher, (instance) => {
			instance.runMs = 300;
			instance.pollWaitMs = 100;
		});
		expect(
			await dispatcher.poke().then(
				() => "answered",
				(e: unknown) => `rejected: ${String(e)}`,
			),
		).toBe("answered");
		await endRunAndShortenRuns(dispatcher);
		await vi.waitFor(() => expect(receiver.at(path).map((r) => r.json.partition)).toEqual([0, 1]), WAIT);
	});

	it("a replay made while a run's end sets the next alarm is delivered at once, not at the idle recheck", { timeout: 20_000 }, async () => {
		const { topic, path, id } = await runningOnOnePartition("replay-at-end");
		const dispatcher = await dispatcherStub(topic);
		// The run's end asks the partition to watch; its answer is held until the replay has set its alarm.
		const watching = Promise.withResolvers<void>();
		const held = Promise.withResolvers<void>();
		const watchAppends = PartitionLog.prototype.watchAppends;
		vi.spyOn(PartitionLog.prototype, "watchAppends").mockImplementationOnce(async function (this: PartitionLog, ...args) {
			watching.resolve();
			await held.promise;
			return watchAppends.apply(this, args);
		});
		await endRunAndShortenRuns(dispatcher);
		await watching.promise;
		await json("POST", `/v1/topics/${topic}/subscriptions/${id}/replay`, 200, { body: { offset: 0 } });
		held.resolve();
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(2), WAIT);
	});
});
