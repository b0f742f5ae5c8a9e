/**
 * Tiered storage, read side, on the Upstash mount: fetch and consume read across the
 * local log start with the real `@upstash/kafka` client, and a Durable Streams stream whose topic enabled remote
 * storage reads the same bytes (the partition reads its streams through the same reader). The Confluent v3 mount has
 * no record reads.
 */

import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { everyRecord, offloadBatches, produceBatches } from "../support/tiering.ts";
import { kafka, routeClientToWorker } from "../support/upstash.ts";
import { call, createTopic, json } from "../support/worker.ts";

routeClientToWorker();

async function filledTopic() {
	const topic = uniqueTopic("tier");
	await createTopic(topic);
	const count = await produceBatches(topic, 12, 4);
	const all = await everyRecord(topic);
	expect(all).toHaveLength(count);
	return { topic, count, all };
}

describe("Upstash mount across the local log start", () => {
	it("fetch and consume return every record once", async () => {
		const { topic, count, all } = await filledTopic();
		await offloadBatches(topic, 30);
		const fetched = await kafka().consumer().fetch({ topic, partition: 0, offset: 1, timeout: 0 });
		expect(fetched.map((m) => m.value)).toEqual(all.slice(1).map((r) => r.value));
		expect(fetched.map((m) => m.offset)).toEqual(all.slice(1).map((r) => r.offset));
		const group = uniqueGroup("up");
		const consumed: unknown[] = [];
		for (let i = 0; i < 10 && consumed.length < count; i++) {
			const batch = await kafka()
				.consumer()
				.consume({ consumerGroupId: group, instanceId: "i1", topics: [topic], autoOffsetReset: "earliest", timeout: 0 });
			consumed.push(...batch.map((m) => m.value));
		}
		expect(consumed).toEqual(all.map((r) => r.value));
	});
});

describe("Durable Streams across the local log start", () => {
	it.each([
		["text/plain", (i: number) => `m${i};`, (bodies: string[]) => bodies.join("")],
		[
			"application/json",
			(i: number) => JSON.stringify([{ i }, `m${i}`]),
			(bodies: string[]) => `[${bodies.map((b) => b.slice(1, -1)).join(",")}]`,
		],
	])("a %s stream whose topic offloaded to R2 reads the same bytes from the start and from an offset", async (type, body, whole) => {
		const path = uniqueTopic("ds-tier");
		const DS = `/ds/v1/stream/${path}`;
		expect((await call("PUT", DS, { headers: { "Content-Type": type }, raw: body(0) })).status).toBe(201);
		for (let i = 1; i < 12; i++) {
			expect((await call("POST", DS, { headers: { "Content-Type": type }, raw: body(i) })).status).toBe(204);
		}
		const all = await (await call("GET", `${DS}?offset=-1`)).text();
		const fromThree = await (await call("GET", `${DS}?offset=0000000000000000_0000000000000003`)).text();
		expect(all).toBe(whole(Array.from({ length: 12 }, (_, i) => body(i))));
		expect(fromThree).toBe(whole(Array.from({ length: 9 }, (_, i) => body(i + 3))));
		const topic = streamTopic(path);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "remote.storage.enable": true, "local.retention.bytes": 1 } } });
		// The registry pushes the new config to the partition; its alarm then offloads.
		await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => instance.alarm());
		const described = await json<{ partitions: { local_log_start_offset: number }[] }>("GET", `/v1/topics/${topic}`, 200);
		expect(described.partitions[0]?.local_log_start_offset).toBeGreaterThan(3);
		expect(await (await call("GET", `${DS}?offset=-1`)).text()).toBe(all);
		expect(await (await call("GET", `${DS}?offset=0000000000000000_0000000000000003`)).text()).toBe(fromThree);
	});
});
