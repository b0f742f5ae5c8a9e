/**
 * A topic's webhook dispatcher answers its storage failing, or a bug, inside its methods as a failure Result
 * (test/support/rpc-failure.ts), not a rejection crossing RPC, and the edge answers it 503 as it did the rejection;
 * a topic's growth whose poke failed is answered all the same (the growth is done), the failure logged.
 * A run whose registry read (or its own sync) fails goes on delivering with the lanes it has, and the next run, which
 * syncs again, comes at the lane-error back-off, not at the idle recheck. A partition whose watch fails is looked at
 * again after a back-off that doubles while it keeps failing, not at once, a restart going on with the streak; the
 * streak ends with the lanes that made it, and while every lane retries a batch (no lane tails: none watches).
 */

import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MetricsReporter } from "../../src/metrics/reporter.ts";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { WEBHOOK_ERROR_RETRY_MS, WEBHOOK_IDLE_RECHECK_MS } from "../../src/shared/limits.ts";
import { topicRegistry, webhookDispatcher } from "../../src/shared/stubs.ts";
import { invalidate } from "../../src/topic/topic-cache.ts";
import { V3 } from "../support/confluent.ts";
import { uniqueTopic } from "../support/names.ts";
import { answersWhenBroken, failureResults } from "../support/rpc-failure.ts";
import { dispatcherStub, topicIdOf } from "../support/stubs.ts";
import { failStatementOnce, throwOnce } from "../support/throw-once.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { call, createTopic, expectError, fetchRecords, json, produce } from "../support/worker.ts";

const receiver = useReceiver();
const WAIT = { timeout: 5_000, interval: 20 };

// The dispatcher's metrics report reads its lanes: held, so the statement a test breaks is the call's own.
beforeEach(() => vi.spyOn(MetricsReporter.prototype as unknown as { send(): Promise<void> }, "send").mockResolvedValue());
afterEach(() => vi.restoreAllMocks());

/** The next SQL statement of dispatcher `stub` throws `thrown`, as failing storage would. */
function dispatcherFailsOnce(stub: ReturnType<typeof webhookDispatcher>, thrown: string | Error = "SQLITE_IOERR: disk I/O error") {
	return runInDurableObject(stub, (_, state) => throwOnce(state.storage.sql, "exec", thrown));
}

const SUBSCRIPTION = "sub_0123456789abcdef0123";

describe("the webhook dispatcher's methods", () => {
	it("answer a storage failure or a bug as a failure Result", async () => {
		// A dispatcher of its own, for a topic that does not exist: every call's first step is a statement.
		const ref = { topic: uniqueTopic(), topicId: crypto.randomUUID(), partitions: 1 };
		const stub = webhookDispatcher(env, ref.topicId);
		const input = {
			url: "https://receiver.test/x",
			start: "earliest" as const,
			batchMaxRecords: 1,
			batchMaxWaitMs: 0,
			maxAttempts: 1,
			retryScheduleMs: [1000],
			filter: null,
		};
		const calls: [string, () => Promise<unknown>][] = [
			["createSubscription", () => stub.createSubscription(ref, input)],
			["listSubscriptions", () => stub.listSubscriptions(ref, { after: null, limit: 10 })],
			["getSubscription", () => stub.getSubscription(ref, SUBSCRIPTION)],
			["updateSubscription", () => stub.updateSubscription(ref, SUBSCRIPTION, {})],
			["deleteSubscription", () => stub.deleteSubscription(SUBSCRIPTION)],
			["replay", () => stub.replay(ref, SUBSCRIPTION, "earliest", null)],
			["deliveries", () => stub.deliveries(SUBSCRIPTION, 10)],
			["poke", () => stub.poke()],
		];
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(calls, (_, thrown) => dispatcherFailsOnce(stub, thrown), new TypeError("x is not a function"));
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});

	it("answer each subscription request 503 service_unavailable", async () => {
		const topic = uniqueTopic("wh-fail");
		await createTopic(topic, 1);
		const stub = await dispatcherStub(topic);
		const subscriptions = `/v1/topics/${topic}/subscriptions`;
		const one = `${subscriptions}/${SUBSCRIPTION}`;
		const cases: [string, string, unknown][] = [
			["POST", subscriptions, { url: "https://receiver.test/wh-fail" }],
			["GET", subscriptions, undefined],
			["GET", one, undefined],
			["PATCH", one, { status: "paused" }],
			["DELETE", one, undefined],
			["POST", `${one}/replay`, { offset: "earliest" }],
			["GET", `${one}/deliveries`, undefined],
		];
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		for (const [method, path, body] of cases) {
			await dispatcherFailsOnce(stub);
			await expectError(method, path, 503, "service_unavailable", { body });
		}
		expect((await call("GET", subscriptions)).status, "the repeat is served").toBe(200);
	});

	// The growth is done before the poke: answered 503, a Kafka REST client's retry (the count must grow) was refused 400.
	it("leave a topic's growth whose poke failed answered, audited and logged", async () => {
		const topic = uniqueTopic("v3-poke");
		await createTopic(topic, 1);
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		await dispatcherFailsOnce(await dispatcherStub(topic));
		const grown = await call("PATCH", `${V3}/topics/${topic}`, { body: { partitions_count: 2 } });
		expect(grown.status, `the growth answered ${await grown.text()}`).toBe(200);
		expect(logged.mock.calls.map((args) => String(args[0]))).toContainEqual(expect.stringContaining("dispatcher not poked"));
		const { records } = await fetchRecords("_audit", 0, "offset=0&max_records=10000");
		const actions = records.map((r) => r.value as Record<string, unknown>).filter((v) => v.topic === topic);
		expect(actions.map((v) => v.action)).toEqual(["topic.create", "topic.update"]);
	});
});

/** Ms until the dispatcher's next run (Infinity when none is set). */
async function untilNextRun(stub: ReturnType<typeof webhookDispatcher>): Promise<number> {
	const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
	return (alarm ?? Number.POSITIVE_INFINITY) - Date.now();
}

/** Ends the dispatcher's run now (later runs last 300 ms), and waits until its next is set a minute or more away. */
async function endRunLater(stub: ReturnType<typeof webhookDispatcher>): Promise<void> {
	await runInDurableObject(stub, (instance) => {
		instance.runMs = 300;
		instance.pollWaitMs = 100;
		instance.deadlineMs = Date.now();
		instance.changed.wakeAll();
	});
	await vi.waitFor(async () => expect(await untilNextRun(stub)).toBeGreaterThan(60_000), WAIT);
}

/** A one-partition topic whose subscription delivered a record, its dispatcher idle (its runs then 300 ms). */
async function idleDispatcher(name: string): Promise<{ topic: string; stub: ReturnType<typeof webhookDispatcher>; id: string }> {
	const topic = uniqueTopic(name);
	await createTopic(topic, 1);
	const path = `/${name}-${crypto.randomUUID()}`;
	receiver.on(path, () => new Response(null, { status: 204 }));
	const { id } = await json<{ id: string }>("POST", `/v1/topics/${topic}/subscriptions`, 201, {
		body: { url: `https://receiver.test${path}`, start: "earliest" },
	});
	await produce(topic, [{ value: "a" }]);
	await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(1), WAIT);
	const stub = await dispatcherStub(topic);
	await endRunLater(stub);
	return { topic, stub, id };
}

describe("a dispatcher's run whose registry read fails", () => {
	/** Runs `work` while every read of the registry fails (the isolate's copy of `topic` dropped first). */
	async function whileRegistryFails(topic: string, work: () => Promise<unknown>): Promise<void> {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await runInDurableObject(topicRegistry(env), (instance) => {
			Object.assign(instance, {
				find: () => {
					throw new Error("SQLITE_IOERR: disk I/O error");
				},
			});
		});
		try {
			invalidate(topic);
			await work();
		} finally {
			await runInDurableObject(topicRegistry(env), (instance) => void delete (instance as unknown as { find?: unknown }).find);
		}
	}

	it("still delivers on the lanes it has", { timeout: 20_000 }, async () => {
		const topic = uniqueTopic("wh-sync");
		await createTopic(topic, 1);
		const path = `/wh-sync-${crypto.randomUUID()}`;
		// The first attempt fails, and the retry is due far past the run: the batch waits in its lane.
		receiver.on(path, (_, index) => new Response(null, { status: index === 0 ? 500 : 204 }));
		const body = { url: `https://receiver.test${path}`, start: "earliest", retry_schedule_ms: [600_000], max_attempts: 2 };
		await json("POST", `/v1/topics/${topic}/subscriptions`, 201, { body });
		await produce(topic, [{ value: "a" }]);
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(1), WAIT);
		const stub = await dispatcherStub(topic);
		// The run ends: the next is set for the retry.
		await endRunLater(stub);
		// The registry fails every read until the retry is sent; the dispatcher's topic is read from it.
		await whileRegistryFails(topic, async () => {
			await runInDurableObject(stub, (_, state) => state.storage.sql.exec("UPDATE lanes SET next_attempt_at_ms = 0"));
			await runDurableObjectAlarm(stub);
			await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(2), WAIT);
		});
	});

	it("is followed soon by a run that syncs again, not only at the idle recheck", { timeout: 20_000 }, async () => {
		// The run ends caught up: the next is the idle recheck.
		const { topic, stub } = await idleDispatcher("wh-resync");
		await whileRegistryFails(topic, () => runDurableObjectAlarm(stub));
		expect(await untilNextRun(stub), "ms until the run that syncs again").toBeLessThan(60_000);
	});

	it("or whose sync's own storage fails, is answered and followed soon by a run that syncs again", { timeout: 20_000 }, async () => {
		const { stub } = await idleDispatcher("wh-sync-throws");
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await runInDurableObject(stub, (_, state) =>
			failStatementOnce(state.storage.sql, /FROM subscriptions WHERE status/, "SQLITE_IOERR: disk I/O error"),
		);
		const ran = await runDurableObjectAlarm(stub).then(
			() => "answered",
			(e: unknown) => `rejected: ${String(e)}`,
		);
		expect(await untilNextRun(stub), "ms until the run that syncs again").toBeLessThan(60_000);
		expect(ran).toBe("answered");
		// That run syncs, and the one after it is the idle recheck again: the failure is not carried on.
		await runDurableObjectAlarm(stub);
		expect(await untilNextRun(stub)).toBeGreaterThan(60_000);
	});
});

/** From now on the watches of `topicId`'s partitions throw "overloaded" (others' as they do); the real method, to put back. */
function overloadedWatches(topicId: string): PartitionLog["watchAppends"] {
	const watchAppends = PartitionLog.prototype.watchAppends;
	vi.spyOn(PartitionLog.prototype, "watchAppends").mockImplementation(async function (this: PartitionLog, ...args) {
		if (args[0] !== topicId) return watchAppends.apply(this, args);
		throw new Error("overloaded");
	});
	return watchAppends;
}

describe("a dispatcher whose watch of a partition keeps failing", () => {
	it("looks again after a back-off that doubles each run, logged once a streak, not at once", { timeout: 30_000 }, async () => {
		const { topic, stub } = await idleDispatcher("wh-watch");
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const topicId = await topicIdOf(topic);
		const watchAppends = PartitionLog.prototype.watchAppends;
		let watches = 0;
		/** The topic's watches answer `answer()` from now on (null: as they do). */
		const failing = (answer: (() => Awaited<ReturnType<typeof watchAppends>>) | null) =>
			vi.spyOn(PartitionLog.prototype, "watchAppends").mockImplementation(async function (this: PartitionLog, ...args) {
				if (args[0] !== topicId || answer === null) return watchAppends.apply(this, args);
				watches++;
				return answer();
			});
		const overloaded = () => {
			throw new Error("overloaded");
		};
		// Overloaded, then a failure Result (an answer for another topic): each a failed watch.
		failing(overloaded);
		const delays: number[] = [];
		for (let run = 0; run < 4; run++) {
			if (run === 2) failing(() => ({ ok: false, error: { code: "topic_not_found", message: "no" } }));
			await runDurableObjectAlarm(stub);
			delays.push(await untilNextRun(stub));
		}
		const errorMs = WEBHOOK_ERROR_RETRY_MS;
		expect(
			delays.map((ms) => Math.round(ms / errorMs)),
			"each next run's delay, in lane-error back-offs",
		).toEqual([1, 2, 4, 8]);
		expect(watches, "one watch a run, no run of the dispatcher's own between").toBe(4);
		const watchLogs = () => logged.mock.calls.map((args) => String(args[0])).filter((line) => line.includes("watch failed"));
		expect(watchLogs()).toHaveLength(1);
		// The watch answers again: the streak ends (the next run is the idle recheck); a new one is logged again.
		failing(null);
		await runDurableObjectAlarm(stub);
		expect(await untilNextRun(stub)).toBeGreaterThan(WEBHOOK_IDLE_RECHECK_MS - 60_000);
		failing(overloaded);
		await runDurableObjectAlarm(stub);
		expect(Math.round((await untilNextRun(stub)) / errorMs), "a new streak starts over").toBe(1);
		expect(watchLogs()).toHaveLength(2);
	});

	it("goes on with its streak after a restart, not back at the lane-error back-off, and logs it once", { timeout: 30_000 }, async () => {
		const idle = await idleDispatcher("wh-watch-evict");
		const { topic } = idle;
		let { stub } = idle;
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const topicId = await topicIdOf(topic);
		const watchAppends = overloadedWatches(topicId);
		const delays: number[] = [];
		for (let run = 0; run < 4; run++) {
			// The dispatcher restarts (an eviction) before its third run: what it kept in memory is gone.
			if (run === 2) {
				await abortAllDurableObjects();
				stub = await dispatcherStub(topic);
				await runInDurableObject(stub, (instance) => {
					instance.runMs = 300;
					instance.pollWaitMs = 100;
				});
			}
			await runDurableObjectAlarm(stub);
			delays.push(Math.round((await untilNextRun(stub)) / WEBHOOK_ERROR_RETRY_MS));
		}
		expect(delays, "each next run's delay, in lane-error back-offs").toEqual([1, 2, 4, 8]);
		expect(logged.mock.calls.filter((args) => String(args[0]).includes("watch failed"))).toHaveLength(1);
		// The watch answers again: the stored streak goes with the one in memory.
		vi.mocked(PartitionLog.prototype.watchAppends).mockImplementation(watchAppends);
		await runDurableObjectAlarm(stub);
		expect(await runInDurableObject(stub, (_, state) => state.storage.kv.get("watch_backoffs"))).toBeUndefined();
	});

	it("ends its streak with the lanes that made it: a paused subscription's, resumed, starts a new one, logged", {
		timeout: 30_000,
	}, async () => {
		const { topic, stub, id } = await idleDispatcher("wh-watch-paused");
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const topicId = await topicIdOf(topic);
		overloadedWatches(topicId);
		for (let run = 0; run < 3; run++) await runDurableObjectAlarm(stub);
		const subscription = `/v1/topics/${topic}/subscriptions/${id}`;
		await json("PATCH", subscription, 200, { body: { status: "paused" } });
		// Paused, no lane tails: the run asks no watch and sets no next run.
		await runDurableObjectAlarm(stub);
		const storedWhilePaused = await runInDurableObject(stub, (_, state) => state.storage.kv.get("watch_backoffs"));
		logged.mockClear();
		await json("PATCH", subscription, 200, { body: { status: "active" } });
		// The resume's alarm, run here or by workerd: either way the next is set once the resumed lane's watch failed.
		await runDurableObjectAlarm(stub);
		await vi.waitFor(async () => expect(await untilNextRun(stub)).toBeLessThan(Number.POSITIVE_INFINITY), WAIT);
		expect({
			storedWhilePaused,
			delay: Math.round((await untilNextRun(stub)) / WEBHOOK_ERROR_RETRY_MS),
			logged: logged.mock.calls.some((args) => String(args[0]).includes("watch failed")),
		}).toEqual({ storedWhilePaused: undefined, delay: 1, logged: true });
	});

	it("ends its streak while every active lane retries a batch: none tails, so none watches", { timeout: 30_000 }, async () => {
		const topic = uniqueTopic("wh-watch-pending");
		await createTopic(topic, 1);
		const path = `/wh-watch-pending-${crypto.randomUUID()}`;
		let status = 204;
		receiver.on(path, () => new Response(null, { status }));
		await json("POST", `/v1/topics/${topic}/subscriptions`, 201, { body: { url: `https://receiver.test${path}`, start: "earliest" } });
		await produce(topic, [{ value: "a" }]);
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(1), WAIT);
		const stub = await dispatcherStub(topic);
		await endRunLater(stub);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		overloadedWatches(await topicIdOf(topic));
		for (let run = 0; run < 3; run++) await runDurableObjectAlarm(stub);
		const stored = () => runInDurableObject(stub, (_, state) => state.storage.kv.get<number>("watch_backoffs"));
		const streak = await stored();
		// The receiver fails the next record's delivery: its batch stays pending, to be retried; the lane no longer tails.
		status = 500;
		await produce(topic, [{ value: "b" }]);
		await runDurableObjectAlarm(stub);
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(2), WAIT);
		await vi.waitFor(async () => expect(await runInDurableObject(stub, (instance) => instance.deadlineMs)).toBe(0), WAIT);
		await runDurableObjectAlarm(stub);
		expect({ streak: (streak ?? 0) > 0, whilePending: await stored() }).toEqual({ streak: true, whilePending: undefined });
	});

	it("starts its streak at the lane-error back-off after runs at once another partition caused, which served no back-off", {
		timeout: 30_000,
	}, async () => {
		const topic = uniqueTopic("wh-watch2");
		await createTopic(topic, 2);
		const path = `/wh-watch2-${crypto.randomUUID()}`;
		receiver.on(path, () => new Response(null, { status: 204 }));
		await json("POST", `/v1/topics/${topic}/subscriptions`, 201, { body: { url: `https://receiver.test${path}`, start: "earliest" } });
		await produce(topic, [{ value: "a", partition: 0 }]);
		await produce(topic, [{ value: "b", partition: 1 }]);
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(2), WAIT);
		const stub = await dispatcherStub(topic);
		await endRunLater(stub);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const topicId = await topicIdOf(topic);
		const watchAppends = PartitionLog.prototype.watchAppends;
		let busy = true;
		let failedWatches = 0;
		// Partition 1's watch fails; partition 0 answers "behind" while busy, so each run sets the next at once.
		vi.spyOn(PartitionLog.prototype, "watchAppends").mockImplementation(async function (this: PartitionLog, ...args) {
			if (args[0] !== topicId) return watchAppends.apply(this, args);
			if ((this as unknown as { partition: number }).partition === 1) {
				failedWatches++;
				throw new Error("overloaded");
			}
			return busy ? { ok: true, value: { behind: true } } : watchAppends.apply(this, args);
		});
		await runDurableObjectAlarm(stub);
		// workerd runs each next alarm, set at once, by itself: six runs back to back, each watching partition 1.
		await vi.waitFor(() => expect(failedWatches).toBeGreaterThanOrEqual(6), { timeout: 15_000, interval: 20 });
		busy = false;
		// The run that finds partition 0 caught up sets a later alarm (null while a run goes: Infinity here).
		await vi.waitFor(async () => {
			const ms = await untilNextRun(stub);
			expect(ms > 1_000 && Number.isFinite(ms)).toBe(true);
		}, WAIT);
		expect(Math.round((await untilNextRun(stub)) / WEBHOOK_ERROR_RETRY_MS), "the first back-off waited, in lane-error back-offs").toBe(1);
	});
});
