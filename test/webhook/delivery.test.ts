/**
 * Webhook subscriptions end to end inside workerd: signed, ordered, retried deliveries; dead letters;
 * 410 Gone; pause and resume; replay; secret rotation; SSRF rejections; restart durability.
 */

import { runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WEBHOOK_DEAD_LETTER_RETRY_MS } from "../../src/shared/limits.ts";
import { uniqueTopic } from "../support/names.ts";
import { appendsNeedConfig, configureBreaksOnce } from "../support/needs-config.ts";
import { dispatcherStub } from "../support/stubs.ts";
import { type ReceivedRequest, useReceiver } from "../support/webhook-receiver.ts";
import { call, createTopic, expectError, fetchRecords, json, produce } from "../support/worker.ts";

const receiver = useReceiver();
// A bound on a hung delivery, not a measure: each wait returns at the first poll that sees what it waits for, so a
// wide bound costs nothing on success and spares a loaded machine, where a delivery's alarm can run seconds late.
// The tests take the configured per-test bound (vitest.config.ts), which leaves room for a wait or two this long.
const WAIT = { timeout: 30_000, interval: 20 };

interface Subscription {
	id: string;
	secret: string;
	status: string;
	dead_letter_topic: string;
	partitions?: { partition: number; next_offset: number; pending: unknown }[];
}

const topics: string[] = [];
afterEach(async () => {
	// Deleting the topic ends the delivery lanes' long-polls, so no work outlives the test.
	for (const topic of topics.splice(0)) {
		const listed = await call("GET", `/v1/topics/${topic}/subscriptions`);
		const { subscriptions = [] } = listed.status === 200 ? ((await listed.json()) as { subscriptions?: { id: string }[] }) : {};
		for (const { id } of subscriptions) await call("DELETE", `/v1/topics/${topic}/subscriptions/${id}`);
		await call("DELETE", `/v1/topics/${topic}`);
	}
});

async function topicWithSubscription(body: Record<string, unknown>, partitions = 1): Promise<{ topic: string; sub: Subscription }> {
	const topic = uniqueTopic("wh");
	topics.push(topic);
	await createTopic(topic, partitions);
	const sub = await json<Subscription>("POST", `/v1/topics/${topic}/subscriptions`, 201, { body });
	return { topic, sub };
}

/** A subscription whose receiver always answers 500, dead-lettering each record after its one attempt. */
async function deadLetteringSubscription(name: string, partitions = 1): Promise<{ topic: string; sub: Subscription }> {
	const path = `/${name}-${crypto.randomUUID()}`;
	receiver.on(path, () => new Response("nope", { status: 500 }));
	return topicWithSubscription(
		{
			url: `https://receiver.test${path}`,
			start: "earliest",
			max_attempts: 1,
			retry_schedule_ms: [0],
			batch_max_records: 1,
		},
		partitions,
	);
}

/**
 * Runs the topic's dispatcher to completion now, with a short run: every lane it starts has finished when this
 * returns (no waiting to see whether something happens). Its handler runs in the same call that shortens the run, as
 * `runDurableObjectAlarm` runs it: the subscription and each append set the alarm for now, so workerd runs it by
 * itself too, and a run of its own ending between two calls could take or clear an alarm set here for the next.
 * Such a run is ended first: its caught-up lanes long-poll for WEBHOOK_POLL_WAIT_MS (10 s), which this run, waiting
 * for every lane still running, would otherwise wait out.
 */
async function runDispatcherNow(topic: string): Promise<void> {
	await runInDurableObject(await dispatcherStub(topic), async (instance, state) => {
		instance.runMs = 300;
		instance.pollWaitMs = 100;
		instance.deadlineMs = Date.now();
		instance.changed.wakeAll();
		await state.storage.deleteAlarm();
		await instance.alarm();
	});
}

function verify(secret: string, request: ReceivedRequest): unknown {
	return new Webhook(secret).verify(request.body, {
		"webhook-id": request.headers["webhook-id"] as string,
		"webhook-timestamp": request.headers["webhook-timestamp"] as string,
		"webhook-signature": request.headers["webhook-signature"] as string,
	});
}

function offsetsOf(requests: readonly ReceivedRequest[]): number[][] {
	return requests.map((r) => r.json.records.map((record) => record.offset));
}

describe("webhook delivery", () => {
	it("delivers signed batches in offset order, one at a time, verifiable with standardwebhooks", async () => {
		const path = `/ordered-${crypto.randomUUID()}`;
		const { topic, sub } = await topicWithSubscription({ url: `https://receiver.test${path}`, start: "earliest", batch_max_records: 2 });
		expect(sub.id).toMatch(/^sub_[0-9a-f]{20}$/);
		expect(sub.secret).toMatch(/^whsec_/);
		await produce(
			topic,
			[0, 1, 2, 3, 4].map((n) => ({ value: { n }, key: `k${n}` })),
		);
		await vi.waitFor(() => expect(receiver.at(path).flatMap((r) => r.json.records)).toHaveLength(5), WAIT);
		const requests = receiver.at(path);
		expect(offsetsOf(requests).flat()).toEqual([0, 1, 2, 3, 4]);
		for (const request of requests) {
			expect(request.json.topic).toBe(topic);
			expect(request.json.partition).toBe(0);
			expect(request.json.records.length).toBeLessThanOrEqual(2);
			expect(verify(sub.secret, request)).toEqual(request.json);
			expect(Number(request.headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -2);
		}
		expect(requests[0]?.json.records[0]).toMatchObject({ partition: 0, offset: 0, key: "k0", value: { n: 0 }, headers: [] });
		expect(new Set(requests.map((r) => r.headers["webhook-id"])).size).toBe(requests.length);
		const got = await json<Subscription>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200);
		expect(got.partitions).toEqual([{ partition: 0, next_offset: 5, pending: null }]);
		expect(got).not.toHaveProperty("secret");
	});

	it("retries a failing receiver with the same webhook-id and records, then moves on in order", async () => {
		const path = `/flaky-${crypto.randomUUID()}`;
		// The third attempt is held open until the next record is produced: retries 20 ms apart must not use up the
		// batch's 30 attempts (and dead-letter it) while a slow machine produces that record.
		let release = () => {};
		const released = new Promise<void>((resolve) => {
			release = resolve;
		});
		receiver.on(path, async (_request, index) => {
			if (index === 2) await released;
			return index <= 2 ? new Response("down for maintenance", { status: 503 }) : new Response("ok");
		});
		const { topic, sub } = await topicWithSubscription({
			url: `https://receiver.test${path}`,
			start: "earliest",
			retry_schedule_ms: [0, 20, 20],
			max_attempts: 30,
		});
		await produce(topic, [{ value: "a" }, { value: "b" }]);
		await vi.waitFor(() => expect(receiver.at(path).length).toBeGreaterThanOrEqual(3), WAIT);
		await produce(topic, [{ value: "c" }]);
		release();
		await vi.waitFor(
			() =>
				expect(
					receiver
						.at(path)
						.flatMap((r) => r.json.records)
						.map((r) => r.value),
				).toContain("c"),
			WAIT,
		);
		const requests = receiver.at(path);
		const firstId = requests[0]?.headers["webhook-id"];
		const retries = requests.filter((r) => r.headers["webhook-id"] === firstId);
		// Two failures, the held one, then the acknowledgement: the batch was delivered, not dead-lettered.
		expect(retries).toHaveLength(4);
		for (const retry of retries) expect(retry.body).toBe(requests[0]?.body);
		expect(offsetsOf(retries)[0]).toEqual([0, 1]);
		expect(requests.at(-1)?.headers["webhook-id"]).not.toBe(firstId);
		expect(offsetsOf([requests.at(-1) as ReceivedRequest])).toEqual([[2]]);
		const { deliveries } = await json<{
			deliveries: { outcome: string; response_status: number; error: string | null; attempt: number }[];
		}>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}/deliveries`, 200);
		expect(deliveries[0]?.outcome).toBe("delivered");
		const failed = deliveries.find((d) => d.outcome === "failed");
		expect(failed).toMatchObject({ response_status: 503, error: "HTTP 503: down for maintenance" });
	});

	it("keeps dead-lettering a subscription made under the old naming (<topic>.<id>.dlq) to its existing topic", async () => {
		const { topic, sub } = await deadLetteringSubscription("legacy");
		// A subscription stored before the naming changed, as its row holds it.
		const legacy = `${topic}.${sub.id}.dlq`;
		topics.push(legacy);
		await runInDurableObject(await dispatcherStub(topic), (_, state) => {
			state.storage.sql.exec("UPDATE subscriptions SET dead_letter_topic = ? WHERE id = ?", legacy, sub.id);
		});
		expect((await json<Subscription>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200)).dead_letter_topic).toBe(legacy);
		await produce(topic, [{ value: "poison" }]);
		await vi.waitFor(async () => expect((await fetchRecords(legacy, 0, "offset=0")).records).toHaveLength(1), WAIT);
		expect((await call("GET", `/v1/topics/dlq.${topic}.${sub.id}`)).status).toBe(404);
	});

	it("dead-letters a batch after max_attempts with its provenance, and delivers what follows", async () => {
		const path = `/down-${crypto.randomUUID()}`;
		receiver.on(path, (request) =>
			request.json.records.some((r) => r.value === "poison") ? new Response("nope", { status: 500 }) : new Response("ok"),
		);
		const { topic, sub } = await topicWithSubscription({
			url: `https://receiver.test${path}`,
			start: "earliest",
			max_attempts: 3,
			retry_schedule_ms: [0, 10],
			batch_max_records: 1,
		});
		await produce(topic, [{ value: "poison", key: "p", headers: [{ key: "trace", value: "t1" }] }, { value: "fine" }]);
		await vi.waitFor(() => expect(receiver.at(path).at(-1)?.json.records[0]?.value).toBe("fine"), WAIT);
		expect(receiver.at(path).filter((r) => r.json.records[0]?.value === "poison")).toHaveLength(3);
		// Named so that an ACL on the topic's prefix (topic:<topic>*) never covers it; topic:dlq.* covers every one.
		expect(sub.dead_letter_topic).toBe(`dlq.${topic}.${sub.id}`);
		const dead = await fetchRecords(sub.dead_letter_topic, 0, "offset=0");
		expect(dead.records).toHaveLength(1);
		expect(dead.records[0]).toMatchObject({ key: "p", value: "poison" });
		const headers = Object.fromEntries(dead.records[0]?.headers.map((h) => [h.key, h.value]) ?? []);
		expect(headers).toMatchObject({
			trace: "t1",
			"tributary-dlq-topic": topic,
			"tributary-dlq-partition": "0",
			"tributary-dlq-offset": "0",
			"tributary-dlq-subscription": sub.id,
			"tributary-dlq-attempts": "3",
			"tributary-dlq-error": "HTTP 500: nope",
		});
		topics.push(sub.dead_letter_topic);
	});

	it("dead-letters a record as large as the topic allows, leaving out what provenance does not fit, and moves on", async () => {
		const { topic, sub } = await deadLetteringSubscription("big");
		topics.push(sub.dead_letter_topic);
		// The dead-letter topic has the default max.message.bytes too: six provenance headers would not fit beside it.
		const big = "x".repeat(1024 * 1024 - 100);
		await produce(topic, [{ value: big }, { value: "after" }]);
		for (let run = 0; run < 2; run++) await runDispatcherNow(topic);
		const got = await json<Subscription>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200);
		expect(got.partitions?.[0]?.next_offset).toBe(2);
		const dead = await fetchRecords(sub.dead_letter_topic, 0, "offset=0");
		expect(dead.records.map((r) => (r.value as string).length)).toEqual([big.length, "after".length]);
		expect(dead.records[0]?.headers).toEqual([]);
		expect(dead.records[1]?.headers.map((h) => h.key)).toContain("tributary-dlq-error");
	});

	it("tries a dead-letter write that met its partition's bug again after WEBHOOK_DEAD_LETTER_RETRY_MS, the record kept", async () => {
		// The record on partition 1: only the dead-letter topic's one partition, 0, asks for its config (and meets the bug).
		const { topic, sub } = await deadLetteringSubscription("dlq-bug", 2);
		topics.push(sub.dead_letter_topic);
		await createTopic(sub.dead_letter_topic, 1);
		const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
		await configureBreaksOnce(sub.dead_letter_topic);
		const restore = appendsNeedConfig(0, 1);
		const before = Date.now();
		try {
			await produce(topic, [{ value: "poison", partition: 1 }]);
			await runDispatcherNow(topic);
			const logged = () => error.mock.calls.map(([line]) => String(line));
			await vi.waitFor(
				() => expect(logged()).toContain(`webhook ${sub.id}: dead-letter write to "${sub.dead_letter_topic}" failed: internal error`),
				WAIT,
			);
		} finally {
			restore();
			error.mockRestore();
		}
		const lane = await runInDurableObject(await dispatcherStub(topic), (_, state) =>
			state.storage.sql
				.exec<{ next_attempt_at_ms: number }>("SELECT next_attempt_at_ms FROM lanes WHERE subscription_id = ? AND partition = 1", sub.id)
				.one(),
		);
		expect(lane.next_attempt_at_ms).toBeGreaterThanOrEqual(before + WEBHOOK_DEAD_LETTER_RETRY_MS);
		expect((await fetchRecords(sub.dead_letter_topic, 0, "offset=0")).records).toEqual([]);
	});

	it("dead-letters a record whose time the dead-letter topic's timestamp window refuses, with the append time", async () => {
		const { topic, sub } = await deadLetteringSubscription("old");
		topics.push(sub.dead_letter_topic);
		// Made before the first dead letter: a record a day old is outside this topic's window.
		await createTopic(sub.dead_letter_topic, 1, { "message.timestamp.before.max.ms": 60_000 });
		const dayAgo = Date.now() - 86_400_000;
		await produce(topic, [{ value: "late", timestamp: dayAgo }]);
		const before = Date.now();
		for (let run = 0; run < 2; run++) await runDispatcherNow(topic);
		const got = await json<Subscription>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200);
		expect(got.partitions?.[0]?.next_offset).toBe(1);
		const dead = await fetchRecords(sub.dead_letter_topic, 0, "offset=0");
		expect(dead.records.map((r) => r.value)).toEqual(["late"]);
		expect(dead.records[0]?.timestamp).toBeGreaterThanOrEqual(before);
		expect(dead.records[0]?.headers.find((h) => h.key === "tributary-dlq-offset")?.value).toBe("0");
	});

	it("sends a batch again when a subscription disabled by 410 on its last attempt is resumed", async () => {
		const path = `/gone-last-${crypto.randomUUID()}`;
		let gone = true;
		receiver.on(path, () => new Response(null, { status: gone ? 410 : 200 }));
		const { topic, sub } = await topicWithSubscription({
			url: `https://receiver.test${path}`,
			start: "earliest",
			max_attempts: 1,
			retry_schedule_ms: [0],
		});
		topics.push(sub.dead_letter_topic);
		await produce(topic, [{ value: 1 }]);
		await vi.waitFor(async () => {
			expect((await json<Subscription>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200)).status).toBe("disabled");
		}, WAIT);
		gone = false;
		await json("PATCH", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200, { body: { status: "active" } });
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(2), WAIT);
		const got = await json<Subscription>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200);
		expect(got.partitions?.[0]?.next_offset).toBe(1);
		expect((await fetchRecords(sub.dead_letter_topic, 0, "offset=0").catch(() => ({ records: [] }))).records).toEqual([]);
	});

	it("disables the subscription when the receiver answers 410 Gone, and resumes when asked", async () => {
		const path = `/gone-${crypto.randomUUID()}`;
		let gone = true;
		receiver.on(path, () => new Response(null, { status: gone ? 410 : 200 }));
		const { topic, sub } = await topicWithSubscription({ url: `https://receiver.test${path}`, start: "earliest" });
		await produce(topic, [{ value: 1 }]);
		await vi.waitFor(async () => {
			const got = await json<Subscription & { disabled_reason: string }>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200);
			expect(got.status).toBe("disabled");
			expect(got.disabled_reason).toContain("410");
		}, WAIT);
		gone = false;
		await json("PATCH", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200, { body: { status: "active" } });
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(2), WAIT);
		expect(receiver.at(path).map((r) => r.headers["webhook-id"])).toEqual([
			receiver.at(path)[0]?.headers["webhook-id"],
			receiver.at(path)[0]?.headers["webhook-id"],
		]);
	});

	it("pauses and resumes; replays from an offset", async () => {
		const path = `/pause-${crypto.randomUUID()}`;
		const { topic, sub } = await topicWithSubscription({ url: `https://receiver.test${path}` });
		await produce(topic, [{ value: "live-1" }]);
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(1), WAIT);
		const paused = await json<Subscription>("PATCH", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200, { body: { status: "paused" } });
		expect(paused.status).toBe("paused");
		await produce(topic, [{ value: "while-paused" }]);
		await runDispatcherNow(topic);
		expect(receiver.at(path), "a dispatcher run delivered nothing while paused").toHaveLength(1);
		const quiet = await json<Subscription>("GET", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200);
		expect(
			quiet.partitions?.map((p) => p.next_offset),
			"the position stayed after live-1",
		).toEqual([1]);
		await json("PATCH", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200, { body: { status: "active" } });
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(2), WAIT);
		expect(receiver.at(path)[1]?.json.records.map((r) => r.value)).toEqual(["while-paused"]);
		const replayed = await json<{ partitions: unknown[] }>("POST", `/v1/topics/${topic}/subscriptions/${sub.id}/replay`, 200, {
			body: { offset: 0 },
		});
		expect(replayed.partitions).toEqual([{ partition: 0, offset: 0 }]);
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(3), WAIT);
		expect(receiver.at(path)[2]?.json.records.map((r) => r.value)).toEqual(["live-1", "while-paused"]);
	});

	it("signs with both secrets during a rotation's grace period", async () => {
		const path = `/rotate-${crypto.randomUUID()}`;
		const { topic, sub } = await topicWithSubscription({ url: `https://receiver.test${path}` });
		const rotated = await json<Subscription>("PATCH", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200, {
			body: { rotate_secret: true },
		});
		expect(rotated.secret).toMatch(/^whsec_/);
		expect(rotated.secret).not.toBe(sub.secret);
		await produce(topic, [{ value: "signed twice" }]);
		await vi.waitFor(() => expect(receiver.at(path)).toHaveLength(1), WAIT);
		const request = receiver.at(path)[0] as ReceivedRequest;
		expect(request.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
		expect(verify(rotated.secret, request)).toEqual(request.json);
		expect(verify(sub.secret, request)).toEqual(request.json);
	});
});

describe("subscription API", () => {
	it("rejects URLs that are not https or that point at private, loopback or link-local hosts", async () => {
		const topic = uniqueTopic("wh");
		topics.push(topic);
		await createTopic(topic);
		for (const url of [
			"http://receiver.test/hook",
			"https://localhost/hook",
			"https://10.0.0.1/hook",
			"https://127.0.0.1:8080/hook",
			"https://169.254.169.254/latest/meta-data",
			"https://[::1]/hook",
			"https://[fd00::1]/hook",
			"https://user:pass@receiver.test/hook",
			"https://private.test/hook",
			"https://loopback.test/hook",
			"https://metadata.internal/hook",
			"ftp://receiver.test/hook",
			"not a url",
		]) {
			await expectError("POST", `/v1/topics/${topic}/subscriptions`, 400, "invalid_webhook_url", { body: { url } });
		}
	});

	it("lists, validates, 404s and deletes", async () => {
		const { topic, sub } = await topicWithSubscription({ url: "https://receiver.test/list" });
		const { subscriptions } = await json<{ subscriptions: Subscription[] }>("GET", `/v1/topics/${topic}/subscriptions`, 200);
		expect(subscriptions.map((s) => s.id)).toEqual([sub.id]);
		expect(subscriptions[0]).not.toHaveProperty("secret");
		await expectError("POST", `/v1/topics/${topic}/subscriptions`, 400, "invalid_request", {
			body: { url: "https://receiver.test/x", batch_max_records: 0 },
		});
		await expectError("POST", `/v1/topics/${topic}/subscriptions`, 400, "invalid_request", {
			body: { url: "https://receiver.test/x", start: "middle" },
		});
		await expectError("POST", `/v1/topics/${topic}/subscriptions`, 400, "invalid_request", {
			body: { url: "https://receiver.test/x", colour: "red" },
		});
		// Parsed into an object, "__proto__" would set its prototype: the condition would vanish and match every record.
		await expectError("POST", `/v1/topics/${topic}/subscriptions`, 400, "invalid_request", {
			raw: '{"url":"https://receiver.test/x","filter":{"headers":{"__proto__":"x"}}}',
			headers: { "Content-Type": "application/json" },
		});
		await expectError("PATCH", `/v1/topics/${topic}/subscriptions/${sub.id}`, 400, "invalid_request", { body: {} });
		await expectError("POST", `/v1/topics/${topic}/subscriptions/${sub.id}/replay`, 400, "invalid_request", {
			body: { offset: 0, timestamp: 0 },
		});
		await expectError("GET", `/v1/topics/${topic}/subscriptions/sub_00000000000000000000`, 404, "subscription_not_found");
		await expectError("GET", `/v1/topics/${topic}/subscriptions/nope`, 400, "invalid_request");
		await expectError("GET", `/v1/topics/no-such-${topic}/subscriptions`, 404, "topic_not_found");
		const deleted = await call("DELETE", `/v1/topics/${topic}/subscriptions/${sub.id}`);
		expect(deleted.status).toBe(204);
		await expectError("DELETE", `/v1/topics/${topic}/subscriptions/${sub.id}`, 404, "subscription_not_found");
	});
});

describe("inbound webhooks", () => {
	it("turns a request into a record: JSON body as the value, headers without credentials, key from the query", async () => {
		const topic = uniqueTopic("in");
		topics.push(topic);
		await createTopic(topic);
		const posted = await json<{ partition: number; offset: number }>("POST", `/v1/topics/${topic}/webhook?key=repo-1`, 200, {
			body: { action: "opened", id: 12345678901234567890n.toString() },
			headers: { "X-GitHub-Event": "issues", Cookie: "session=secret" },
		});
		expect(posted).toMatchObject({ partition: 0, offset: 0 });
		const text = await call("POST", `/v1/topics/${topic}/webhook`, { raw: "plain text", headers: { "Content-Type": "text/plain" } });
		expect(text.status).toBe(200);
		const binary = await call("POST", `/v1/topics/${topic}/webhook`, {
			raw: new Uint8Array([0, 255]),
			headers: { "Content-Type": "application/octet-stream" },
		});
		expect(binary.status).toBe(200);
		const fetched = await fetchRecords(topic, 0, "offset=0");
		expect(fetched.records[0]).toMatchObject({ key: "repo-1", value: { action: "opened" } });
		const headers = fetched.records[0]?.headers.map((h) => h.key) ?? [];
		expect(headers).toContain("x-github-event");
		expect(headers).not.toContain("authorization");
		expect(headers).not.toContain("cookie");
		expect(fetched.records[1]).toMatchObject({ value: "plain text" });
		expect(fetched.records[2]).toMatchObject({ value: "AP8=", value_encoding: "base64" });
	});
});
