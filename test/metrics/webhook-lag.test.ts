/**
 * A webhook's series in `/metrics` (lag, age of the oldest undelivered record) stay what the subscription's own
 * state shows (`GET …/subscriptions/{id}`: each lane's acknowledged offset and staged batch) through deliveries, a
 * failing receiver, a subscription deleted and added again, and a restart: the dispatcher reports what it keeps in
 * memory, not what it reads back from SQLite for each report, so each write to a lane must keep that copy right,
 * and a restarted dispatcher must rebuild it.
 */

import { abortAllDurableObjects, env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { metricsHub } from "../../src/shared/stubs.ts";
import { uniqueTopic } from "../support/names.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { call, createTopic, fetchRecords, json, produce } from "../support/worker.ts";
import { scrape } from "./exposition.ts";

const receiver = useReceiver();
const WAIT = { timeout: 15_000, interval: 50 };

interface Lane {
	partition: number;
	next_offset: number;
	pending: { first_offset: number; attempts: number } | null;
}

/** The topic's webhook series in a scrape, by series key, in key order. */
function seriesOf(samples: Map<string, number>, topic: string): Record<string, number> {
	return Object.fromEntries(
		[...samples]
			.filter(([key]) => key.startsWith("tributary_webhook_lag{") || key.startsWith("tributary_webhook_oldest_undelivered_age_seconds{"))
			.filter(([key]) => key.includes(`topic="${topic}"`))
			.sort(([x], [y]) => x.localeCompare(y)),
	);
}

/**
 * What `/metrics` should show for `subscriptions` of `topic`, from the API: lag, the records past each lane's
 * acknowledged offset; and the time (ms) the oldest staged record was written, or null with none staged.
 */
async function expected(topic: string, subscriptions: readonly string[]) {
	const described = await json<{ partitions: { partition: number; high_watermark: number; log_start_offset: number }[] }>(
		"GET",
		`/v1/topics/${topic}`,
		200,
	);
	const lag: Record<string, number> = {};
	const stagedAtMs: Record<string, number | null> = {};
	for (const id of subscriptions) {
		const { partitions } = await json<{ partitions: Lane[] }>("GET", `/v1/topics/${topic}/subscriptions/${id}`, 200);
		const labels = `{topic="${topic}",subscription="${id}"}`;
		lag[`tributary_webhook_lag${labels}`] = partitions.reduce((n, lane) => {
			const p = described.partitions[lane.partition] as { high_watermark: number; log_start_offset: number };
			return n + Math.max(0, p.high_watermark - Math.max(lane.next_offset, p.log_start_offset));
		}, 0);
		let oldest: number | null = null;
		for (const lane of partitions) {
			if (lane.pending === null) continue;
			const [record] = (await fetchRecords(topic, lane.partition, `offset=${lane.pending.first_offset}&max_records=1`)).records;
			const at = (record as { timestamp: number }).timestamp;
			oldest = Math.min(oldest ?? at, at);
		}
		stagedAtMs[`tributary_webhook_oldest_undelivered_age_seconds${labels}`] = oldest;
	}
	return { lag, stagedAtMs };
}

/** Scrapes until the topic's webhook series are what the API shows (figures reach the hub within a report interval). */
async function expectAsApi(topic: string, subscriptions: readonly string[], step: string): Promise<void> {
	const want = await expected(topic, subscriptions);
	const matches = (samples: Map<string, number>, beforeMs: number, afterMs: number) => {
		const got = seriesOf(samples, topic);
		const keys = [...Object.keys(want.lag), ...Object.keys(want.stagedAtMs)].sort((x, y) => x.localeCompare(y));
		if (JSON.stringify(Object.keys(got)) !== JSON.stringify(keys)) return false;
		if (Object.entries(want.lag).some(([key, n]) => got[key] !== n)) return false;
		// The age is rendered at the scrape: between what it was when the scrape began and when it ended.
		return Object.entries(want.stagedAtMs).every(([key, at]) =>
			at === null
				? got[key] === 0
				: (got[key] as number) >= (beforeMs - at) / 1000 - 0.001 && (got[key] as number) <= (afterMs - at) / 1000 + 0.001,
		);
	};
	let last: Record<string, number> = {};
	const untilMs = Date.now() + 20_000;
	for (;;) {
		const beforeMs = Date.now();
		const samples = await scrape();
		if (matches(samples, beforeMs, Date.now())) return;
		last = seriesOf(samples, topic);
		if (Date.now() > untilMs) break;
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	expect(last, step).toEqual({ ...want.lag, ...want.stagedAtMs });
}

/** Waits until `lanes` lanes of `id` hold a staged batch that was attempted at least once. */
async function untilStaged(topic: string, id: string, lanes: number): Promise<void> {
	await vi.waitFor(async () => {
		const { partitions } = await json<{ partitions: Lane[] }>("GET", `/v1/topics/${topic}/subscriptions/${id}`, 200);
		expect(partitions.filter((lane) => (lane.pending?.attempts ?? 0) > 0)).toHaveLength(lanes);
	}, WAIT);
}

/** Waits until every lane of `id` has acknowledged everything the topic holds. */
async function untilCaughtUp(topic: string, id: string, records: number): Promise<void> {
	await vi.waitFor(async () => {
		const { partitions } = await json<{ partitions: Lane[] }>("GET", `/v1/topics/${topic}/subscriptions/${id}`, 200);
		expect(partitions.reduce((n, lane) => n + lane.next_offset, 0)).toBe(records);
	}, WAIT);
}

describe("a webhook's lag in /metrics", () => {
	it("stays what the subscription shows through deliveries, a failing receiver, a deletion, a re-add and a restart", {
		timeout: 120_000,
	}, async () => {
		const topic = uniqueTopic("whlag");
		await createTopic(topic, 2);
		const ok = `/ok-${crypto.randomUUID()}`;
		const failing = `/failing-${crypto.randomUUID()}`;
		let failingUp = false;
		receiver.on(failing, () => (failingUp ? new Response("ok") : new Response("down", { status: 503 })));
		const create = (path: string, start = "earliest") =>
			json<{ id: string }>("POST", `/v1/topics/${topic}/subscriptions`, 201, {
				body: { url: `https://receiver.test${path}`, start, max_attempts: 5, retry_schedule_ms: [3_600_000], batch_max_records: 2 },
			});
		const delivered = await create(ok);
		const stuck = await create(failing);
		await produce(topic, [
			{ value: 1, partition: 0 },
			{ value: 2, partition: 0 },
			{ value: 3, partition: 0 },
			{ value: 4, partition: 1 },
		]);
		await untilCaughtUp(topic, delivered.id, 4);
		await untilStaged(topic, stuck.id, 2);
		await expectAsApi(topic, [delivered.id, stuck.id], "after deliveries and a failing receiver");

		// Deleted: its series go; added again (a new id), it delivers the topic from the start.
		expect((await call("DELETE", `/v1/topics/${topic}/subscriptions/${delivered.id}`)).status).toBe(204);
		await expectAsApi(topic, [stuck.id], "after a subscription was deleted");
		const again = await create(ok);
		await untilCaughtUp(topic, again.id, 4);
		await produce(topic, [{ value: 5, partition: 1 }]);
		await untilCaughtUp(topic, again.id, 5);
		await expectAsApi(topic, [again.id, stuck.id], "after the subscription was added again");

		// The receiver recovers: resuming sends the staged batches at once, and the lanes catch up.
		failingUp = true;
		await json("PATCH", `/v1/topics/${topic}/subscriptions/${stuck.id}`, 200, { body: { status: "paused" } });
		await json("PATCH", `/v1/topics/${topic}/subscriptions/${stuck.id}`, 200, { body: { status: "active" } });
		await untilCaughtUp(topic, stuck.id, 5);
		await expectAsApi(topic, [again.id, stuck.id], "after the receiver recovered");

		// It fails again on a new record, whose batch stays staged through a restart. The hub writes what it holds first
		// (its alarm), so only the dispatcher's figures are rebuilt, from SQLite.
		failingUp = false;
		await produce(topic, [{ value: 6, partition: 0 }]);
		await untilStaged(topic, stuck.id, 1);
		await untilCaughtUp(topic, again.id, 6);
		for (let runs = 0; runs < 100 && (await runDurableObjectAlarm(metricsHub(env))); runs++);
		await abortAllDurableObjects();
		await produce(topic, [{ value: 7, partition: 1 }]);
		await expectAsApi(topic, [again.id, stuck.id], "after a restart");
		await call("DELETE", `/v1/topics/${topic}`);
	});
});
