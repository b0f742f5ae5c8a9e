/**
 * Confluent REST v3's produce names a refused record by its index in the request (`records[i]`, `error.index`),
 * whatever call of Tributary's produce refused it: a partition's share of many refused before anything is written is
 * retried record by record, each named by its own index; a batch entry refused for a partition the topic lacks is
 * answered by its id alone. Driven through the Worker's fetch handler.
 */

import { describe, expect, it } from "vitest";
import { batch, chunked, JSON_TYPE, type Report, records, reportsOf } from "../support/confluent.ts";
import { uniqueTopic } from "../support/names.ts";
import { call, createTopic, fetchRecords, json } from "../support/worker.ts";

/**
 * Records to one partition of a `refusingTopic`, all but the first refused before anything is written, each for its
 * own reason: over max.message.bytes, no key on a compacted topic, a timestamp outside the window, a lone surrogate.
 */
const REFUSED_ENTRIES = [
	{ partition_id: 0, key: { type: "STRING", data: "k0" }, value: { type: "STRING", data: "fits" } },
	{ partition_id: 0, key: { type: "STRING", data: "k1" }, value: { type: "STRING", data: "x".repeat(500) } },
	{ partition_id: 0, value: { type: "STRING", data: "no key" } },
	{ partition_id: 0, key: { type: "STRING", data: "k3" }, value: { type: "STRING", data: "old" }, timestamp: "2000-01-01T00:00:00Z" },
	{ partition_id: 0, key: { type: "STRING", data: "\ud800" }, value: { type: "STRING", data: "lone surrogate" } },
];
const REFUSED_CODES = ["record_too_large", "invalid_record", "invalid_timestamp", "invalid_record"];

/** A compacted topic with a small max.message.bytes and a one-day timestamp window, for `REFUSED_ENTRIES`. */
async function refusingTopic(prefix: string): Promise<string> {
	const topic = uniqueTopic(prefix);
	await createTopic(topic, 1, { "cleanup.policy": "compact", "max.message.bytes": 200, "message.timestamp.before.max.ms": 86_400_000 });
	return topic;
}

describe("streaming produce (chunked body of concatenated records)", () => {
	it("names each failing record's own index in the stream, whole or chunked (each is retried alone)", async () => {
		const topic = await refusingTopic("v3-stream-index");
		const texts = REFUSED_ENTRIES.map((entry) => JSON.stringify(entry));
		for (const raw of [texts.join(""), chunked(texts)]) {
			const reports = await reportsOf(await call("POST", records(topic), { raw, headers: JSON_TYPE }));
			expect(
				reports.map((r) => [r.message?.match(/^records\[\d+\]/)?.[0] ?? null, (r.error as { index?: number } | undefined)?.index]),
			).toEqual([
				[null, undefined],
				["records[1]", 1],
				["records[2]", 2],
				["records[3]", 3],
				["records[4]", 4],
			]);
		}
		expect((await fetchRecords(topic, 0, "offset=0")).records.map((r) => r.key)).toEqual(["k0", "k0"]);
	});
});

describe("records:batch", () => {
	it("names no batch index in a failure: each entry is answered by its id", async () => {
		const topic = uniqueTopic("v3-batch-partition");
		await createTopic(topic, 3);
		const entries = [
			{ id: "a", partition_id: 0, value: { type: "STRING", data: "fits" } },
			{ id: "b", partition_id: 5, value: { type: "STRING", data: "no such partition" } },
		];
		const response = await json<{ failures: (Report & { id: string })[] }>("POST", batch(topic), 207, { body: { entries } });
		expect(response.failures).toMatchObject([
			{ id: "b", error_code: 40403, message: `topic "${topic}" has partitions 0 to 2`, error: { code: "partition_not_found" } },
		]);
	});

	it("names each failing entry's own index in the batch (each is retried alone after its share is refused)", async () => {
		const topic = await refusingTopic("v3-batch-index");
		const response = await json<{ failures: (Report & { id: string })[] }>("POST", batch(topic), 207, {
			body: { entries: REFUSED_ENTRIES.map((entry, i) => ({ id: `e${i}`, ...entry })) },
		});
		expect(response.failures.map((f) => [f.id, f.message?.match(/^records\[\d+\]/)?.[0], (f.error as { index?: number }).index])).toEqual([
			["e1", "records[1]", 1],
			["e2", "records[2]", 2],
			["e3", "records[3]", 3],
			["e4", "records[4]", 4],
		]);
		expect(response.failures.map((f) => f.error?.code)).toEqual(REFUSED_CODES);
	});
});
