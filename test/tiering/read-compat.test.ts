/**
 * Tiered storage, read side, on the Upstash mount: fetch and consume read across the
 * local log start with the real `@upstash/kafka` client. (The Confluent v3 mount has no record reads.)
 */

import { describe, expect, it } from "vitest";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { everyRecord, offloadBatches, produceBatches } from "../support/tiering.ts";
import { kafka, routeClientToWorker } from "../support/upstash.ts";
import { createTopic } from "../support/worker.ts";

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
