/**
 * Webhook figures in `/metrics`: deliveries by outcome and dead-lettered records (equal to the subscription's
 * delivery log), lag (records not yet acknowledged, 0 once caught up), and the age of the oldest staged record.
 */

import { describe, expect, it, vi } from "vitest";
import { uniqueTopic } from "../support/names.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { call, createTopic, json, produce } from "../support/worker.ts";
import { scrapeUntil } from "./exposition.ts";

const receiver = useReceiver();

interface Delivery {
	outcome: string;
	record_count: number;
}

describe("webhook metrics", () => {
	it("count deliveries by outcome and dead letters as the delivery log shows them, and lag drops to 0", { timeout: 30_000 }, async () => {
		const path = `/metrics-${crypto.randomUUID()}`;
		receiver.on(path, (request) =>
			request.json.records.some((r) => r.value === "poison") ? new Response("nope", { status: 500 }) : new Response("ok"),
		);
		const topic = uniqueTopic("whm");
		await createTopic(topic);
		const sub = await json<{ id: string; dead_letter_topic: string }>("POST", `/v1/topics/${topic}/subscriptions`, 201, {
			body: { url: `https://receiver.test${path}`, start: "earliest", max_attempts: 2, retry_schedule_ms: [0], batch_max_records: 1 },
		});
		await produce(topic, [{ value: "poison" }, { value: "fine" }, { value: "also fine" }]);
		await vi.waitFor(() => expect(receiver.at(path).at(-1)?.json.records[0]?.value).toBe("also fine"), { timeout: 10_000, interval: 20 });
		const { deliveries } = await json<{ deliveries: Delivery[] }>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}/deliveries`, 200);
		const byOutcome = new Map<string, number>();
		for (const d of deliveries) byOutcome.set(d.outcome, (byOutcome.get(d.outcome) ?? 0) + 1);
		expect(Object.fromEntries(byOutcome)).toEqual({ failed: 2, dead_lettered: 1, delivered: 2 });

		const labels = `topic="${topic}",subscription="${sub.id}"`;
		const outcome = (o: string) => `tributary_webhook_deliveries_total{${labels},outcome="${o}"}`;
		const samples = await scrapeUntil(
			(s) => [...byOutcome].every(([o, n]) => s.get(outcome(o)) === n) && s.get(`tributary_webhook_lag{${labels}}`) === 0,
		);
		for (const [o, n] of byOutcome) expect(samples.get(outcome(o)), o).toBe(n);
		expect(samples.get(`tributary_webhook_dead_letter_records_total{${labels}}`)).toBe(1);
		expect(samples.get(`tributary_webhook_lag{${labels}}`)).toBe(0);
		expect(samples.get(`tributary_webhook_oldest_undelivered_age_seconds{${labels}}`)).toBe(0);

		// Paused: what is produced now waits, and the lag says how much.
		await json("PATCH", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200, { body: { status: "paused" } });
		await produce(topic, [{ value: 4 }, { value: 5 }]);
		const paused = await scrapeUntil((s) => s.get(`tributary_webhook_lag{${labels}}`) === 2);
		expect(paused.get(`tributary_webhook_lag{${labels}}`)).toBe(2);
		await call("DELETE", `/v1/topics/${topic}/subscriptions/${sub.id}`);
	});

	it("show the age of a record staged and not yet acknowledged", { timeout: 30_000 }, async () => {
		const path = `/failing-${crypto.randomUUID()}`;
		receiver.on(path, () => new Response("down", { status: 503 }));
		const topic = uniqueTopic("wha");
		await createTopic(topic);
		const sub = await json<{ id: string }>("POST", `/v1/topics/${topic}/subscriptions`, 201, {
			body: { url: `https://receiver.test${path}`, start: "earliest", max_attempts: 5, retry_schedule_ms: [60_000] },
		});
		const producedAtMs = Date.now();
		await produce(topic, [{ value: "stuck" }]);
		await vi.waitFor(() => expect(receiver.at(path).length).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
		const key = `tributary_webhook_oldest_undelivered_age_seconds{topic="${topic}",subscription="${sub.id}"}`;
		const lag = `tributary_webhook_lag{topic="${topic}",subscription="${sub.id}"}`;
		const samples = await scrapeUntil((s) => (s.get(key) ?? 0) > 0 && s.get(lag) === 1);
		const ageSeconds = samples.get(key) ?? 0;
		expect(ageSeconds).toBeGreaterThan(0);
		expect(ageSeconds).toBeLessThanOrEqual((Date.now() - producedAtMs) / 1000 + 1);
		expect(samples.get(lag)).toBe(1);
		await call("DELETE", `/v1/topics/${topic}/subscriptions/${sub.id}`);
	});
});
