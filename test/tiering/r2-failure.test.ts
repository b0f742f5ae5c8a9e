/**
 * An R2 read that throws (R2 unavailable, the connection lost) is the platform's failure: a read that must go to R2
 * is answered 503 `service_unavailable`, retriable, in the mount's dialect, not 500 and not "not found"; the repeat,
 * R2 back, is served. workerd marks none of R2's errors as it marks a Durable Object's, so the reader says it.
 */
import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { runDueAlarm } from "../support/alarm.ts";
import { join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { openTail } from "../support/tail.ts";
import { everyRecord, offloadBatches, produceBatches } from "../support/tiering.ts";
import { ADMIN_TOKEN, BASE, call, createTopic } from "../support/worker.ts";

/** `env.SEGMENTS` whose every get throws as R2's binding does when R2 cannot be reached. */
const unreachable = Object.create(env.SEGMENTS, {
	get: { value: () => Promise.reject(new Error("get: We encountered an internal error. Please try again. (10001)")) },
});

/** The next R2 get of `topic`'s partition 0, inside its object (its tails, its streams' reads), throws as R2's does. */
async function partitionR2FailsOnce(topic: string): Promise<void> {
	await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => {
		const real = instance.segments;
		instance.segments = Object.create(real, {
			get: {
				value: () => {
					instance.segments = real;
					return Promise.reject(new Error("get: We encountered an internal error. Please try again. (10001)"));
				},
			},
		});
	});
}

/** The Worker's fetch handler with R2 unreachable, for a request of `path` (the admin's, as `call` sends it). */
async function callWithoutR2(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
	const fake = Object.create(env, { SEGMENTS: { value: unreachable } });
	const request = new Request(`${BASE}${path}`, {
		method,
		headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json", ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return worker.fetch(request, fake, createExecutionContext());
}

/** A topic whose records 0–27 are in R2 only. */
async function tieredTopic(): Promise<string> {
	const topic = uniqueTopic("r2fail");
	await createTopic(topic);
	await produceBatches(topic, 12, 4);
	expect(await offloadBatches(topic, 30)).toBe(28);
	return topic;
}

async function answer(response: Response): Promise<[number, unknown]> {
	const text = await response.text();
	return [response.status, JSON.parse(text)];
}

describe("a read that must go to R2 while R2 fails", () => {
	it("answers a fetch, a group poll and an SSE stream's start 503 service_unavailable, and the repeat is served", async () => {
		const topic = await tieredTopic();
		const records = `/v1/topics/${topic}/partitions/0/records?offset=0`;
		const group = uniqueGroup();
		const member = (await join(group, { topics: [topic], auto_offset_reset: "earliest" })).member_id;
		const poll = `/v1/groups/${group}/members/${member}/poll`;
		const answers = [
			await answer(await callWithoutR2("GET", records)),
			await answer(await callWithoutR2("POST", poll, { max_records: 5 })),
			await answer(await callWithoutR2("GET", records, undefined, { Accept: "text/event-stream" })),
		];
		const unavailable = { error: { code: "service_unavailable", retriable: true } };
		expect(answers).toMatchObject([
			[503, unavailable],
			[503, unavailable],
			[503, unavailable],
		]);
		expect(((await (await call("GET", records)).json()) as { records: unknown[] }).records).toHaveLength(48);
		const polled = (await (await call("POST", poll, { body: { max_records: 5 } })).json()) as { records: { offset: number }[] };
		expect(polled.records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
	});

	it("answers in each mount's dialect: Upstash's fetch 503 with its status", async () => {
		const topic = await tieredTopic();
		const response = await callWithoutR2("POST", "/upstash/fetch", { topic, partition: 0, offset: 0 });
		expect(await answer(response)).toMatchObject([503, { status: 503 }]);
	});

	it("answers a seek by time that must read R2 503 service_unavailable", async () => {
		const topic = await tieredTopic();
		const response = await callWithoutR2("GET", `/v1/topics/${topic}/partitions/0/offsets?at=1`);
		expect(await answer(response)).toMatchObject([503, { error: { code: "service_unavailable" } }]);
	});
});

describe("a read inside the partition's object that must go to R2 while R2 fails", () => {
	it("leaves a WebSocket tail open and resumes its catch-up from the partition's alarm, as after any failed read", async () => {
		const topic = await tieredTopic();
		const all = await everyRecord(topic);
		await partitionR2FailsOnce(topic);
		const tail = await openTail(topic, "?offset=0");
		// Due TAIL_RESUME_MS after the tail opened: the catch-up proves the run, and that the tail stayed open.
		await runDueAlarm(await partitionStub(topic));
		await tail.until(() => tail.values().length >= all.length || tail.closed() !== null);
		expect([tail.closed(), tail.values()]).toEqual([null, all.map((r) => r.value)]);
		tail.ws.close(1000, "done");
	});

	it("answers a Durable Streams fork whose source must be read from R2 503 BUSY, retriable, not 400", async () => {
		const stream = `/ds/v1/stream/${uniqueTopic("ds-fork-r2")}`;
		const text = { "Content-Type": "text/plain" };
		expect((await call("PUT", stream, { headers: text, raw: "m0;" })).status).toBe(201);
		for (let i = 1; i < 12; i++) expect((await call("POST", stream, { headers: text, raw: `m${i};` })).status).toBe(204);
		const topic = streamTopic(stream.slice("/ds/v1/stream/".length));
		const tiered = { config: { "remote.storage.enable": true, "local.retention.bytes": 1 } };
		expect((await call("PATCH", `/v1/topics/${topic}`, { body: tiered })).status).toBe(200);
		await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => instance.alarm());
		await partitionR2FailsOnce(topic);
		const fork = await call("PUT", `${stream}-fork`, { headers: { ...text, "Stream-Forked-From": stream } });
		expect([fork.status, await fork.json()]).toMatchObject([503, { error: { code: "BUSY", retriable: true } }]);
		expect((await call("PUT", `${stream}-fork`, { headers: { ...text, "Stream-Forked-From": stream } })).status, "the repeat").toBe(201);
	});
});
