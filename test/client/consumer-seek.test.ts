/**
 * The SDK consumer's `seek`, `pause` and `resume` against the real Worker (inside workerd): a seek drops what was
 * fetched of the partition and reads from the offset; a paused partition stays the member's and is neither handed
 * out nor read, and once resumed it goes on from the first record not handed out.
 */

import { describe, expect, it } from "vitest";
import type { ConsumerRecord } from "../../client/index.ts";
import { uniqueTopic } from "../support/names.ts";
import { wiredClient } from "../support/sdk.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { createTopic, json, produce } from "../support/worker.ts";

/** A topic of `partitions`, each holding `count` records, and a group name. */
async function filled(partitions: number, count: number) {
	const topic = uniqueTopic("seek");
	await createTopic(topic, partitions);
	await produce(
		topic,
		Array.from({ length: partitions * count }, (_, i) => ({ value: i, partition: Math.floor(i / count) })),
	);
	return { topic, group: uniqueTopic("g") };
}

async function take(it: AsyncIterator<ConsumerRecord>, n: number): Promise<ConsumerRecord[]> {
	const got: ConsumerRecord[] = [];
	for (let i = 0; i < n; i++) got.push((await it.next()).value as ConsumerRecord);
	return got;
}

const offsets = (records: ConsumerRecord[]) => records.map((r) => r.offset);

describe("SDK consumer seek, pause and resume", { timeout: 30_000 }, () => {
	it("seek reads a partition from the offset, back or forward, dropping what was fetched of it", async () => {
		const { topic, group } = await filled(1, 20);
		const { client } = wiredClient();
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", maxRecords: 5, waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		expect(offsets(await take(it, 8))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // 8 and 9 are fetched, not handed out
		consumer.seek({ topic, partition: 0, offset: 2 });
		expect(offsets(await take(it, 3))).toEqual([2, 3, 4]);
		consumer.seek({ topic, partition: 0, offset: 15 });
		expect(offsets(await take(it, 5))).toEqual([15, 16, 17, 18, 19]);
		expect(() => consumer.seek({ topic, partition: 1, offset: 0 })).toThrow(/not assigned/);
		expect(() => consumer.seek({ topic, partition: 0, offset: -1 })).toThrow(/offset/);
		await it.return?.();
	});

	it("pause keeps a partition without reading it; resume reads it on from the first record not handed out", async () => {
		const { topic, group } = await filled(2, 10);
		const wire = wiredClient();
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", maxRecords: 4, waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		const [first] = await take(it, 1); // the poll fetched two records of each partition
		const kept = first?.partition as number;
		const other = { topic, partition: 1 - kept };
		consumer.pause([other]);
		expect(consumer.paused()).toEqual([other]);
		const whilePaused = await take(it, 9);
		expect(whilePaused.map((r) => [r.partition, r.offset])).toEqual(Array.from({ length: 9 }, (_, i) => [kept, i + 1]));
		expect(consumer.assignment).toHaveLength(2);
		const polls = wire.sent.filter((r) => r.path.endsWith("/poll")).map((r) => JSON.parse(r.body));
		expect(polls.at(-1)?.paused).toEqual([other]);
		consumer.resume([other]);
		expect(consumer.paused()).toEqual([]);
		const resumed = await take(it, 10);
		expect(resumed.map((r) => [r.partition, r.offset])).toEqual(Array.from({ length: 10 }, (_, i) => [other.partition, i]));
		await it.return?.();
		const end = await json<{ offsets: { partition: number; committed: number | null }[] }>("GET", `/v1/groups/${group}`, 200);
		expect(end.offsets.map((o) => o.committed)).toEqual([10, 10]);
	});

	it("a partition paused while a poll is under way: that poll's records of it wait for resume, none skipped", async () => {
		const { topic, group } = await filled(1, 10);
		const wire = wiredClient();
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", maxRecords: 5, waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		expect(offsets(await take(it, 5))).toEqual([0, 1, 2, 3, 4]);
		// The next poll is served (it reads 5–9 and moves the member's position) but its answer is slow to come back.
		const slow = wire.delayAnswer((r) => r.path.endsWith("/poll"));
		let handedOut: ConsumerRecord | null = null;
		const pending = it.next().then((next) => (handedOut = next.value as ConsumerRecord));
		await slow.served;
		const tp = { topic, partition: 0 };
		consumer.pause([tp]);
		const pollsBefore = wire.sent.filter((r) => r.path.endsWith("/poll")).length;
		slow.release();
		// The loop goes on polling, with the partition paused and its read position sought back to offset 5.
		await expect.poll(() => wire.sent.filter((r) => r.path.endsWith("/poll")).length, UNTIL_SEEN).toBeGreaterThan(pollsBefore + 1);
		const sentWhilePaused = wire.sent.filter((r) => r.path.endsWith("/poll")).map((r) => JSON.parse(r.body));
		expect(sentWhilePaused.at(pollsBefore)).toMatchObject({ seek: [{ topic, partition: 0, offset: 5 }], paused: [tp] });
		expect(handedOut, "nothing of the paused partition is handed out").toBeNull();
		consumer.resume([tp]);
		await pending;
		expect(offsets([handedOut as unknown as ConsumerRecord, ...(await take(it, 4))])).toEqual([5, 6, 7, 8, 9]);
		await it.return?.();
	});
	it("stopWhenIdle does not end while a partition is paused: a paused partition has not reached its end", async () => {
		const { topic, group } = await filled(2, 10);
		const wire = wiredClient();
		const consumer = wire.client.consumer({ group, topics: [topic], from: "earliest", maxRecords: 4, waitMs: 50, stopWhenIdle: true });
		const it = consumer[Symbol.asyncIterator]();
		const [first] = await take(it, 1);
		const kept = first?.partition as number;
		const other = { topic, partition: 1 - kept };
		consumer.pause([other]);
		expect((await take(it, 9)).map((r) => r.partition)).toEqual(Array(9).fill(kept));
		// The kept partition is at its end, the paused one is not: the loop polls on instead of ending.
		const pollsBefore = wire.sent.filter((r) => r.path.endsWith("/poll")).length;
		let settled = false;
		const pending = it.next().finally(() => (settled = true));
		await expect.poll(() => wire.sent.filter((r) => r.path.endsWith("/poll")).length, UNTIL_SEEN).toBeGreaterThan(pollsBefore + 1);
		expect(settled, "the iteration goes on while a partition is paused").toBe(false);
		consumer.resume([other]);
		const resumed = [(await pending).value as ConsumerRecord, ...(await take(it, 9))];
		expect(resumed.map((r) => [r.partition, r.offset])).toEqual(Array.from({ length: 10 }, (_, i) => [other.partition, i]));
		expect(await it.next(), "once nothing is paused, the first empty poll ends it").toEqual({ done: true, value: undefined });
	});

	it("a paused partition taken by a rebalance is no longer paused (Kafka drops the pause of a partition no longer assigned)", async () => {
		const { topic, group } = await filled(2, 10);
		const wire = wiredClient();
		const options = { group, topics: [topic], from: "earliest" as const, maxRecords: 4, waitMs: 50 };
		const consumer = wire.client.consumer(options);
		const it = consumer[Symbol.asyncIterator]();
		await take(it, 1);
		const both = [0, 1].map((partition) => ({ topic, partition }));
		consumer.pause(both);
		const pending = it.next(); // polls on, reading nothing, until the rebalance below
		const other = wire.client.consumer(options);
		await other.join();
		await expect.poll(() => consumer.assignment.length, UNTIL_SEEN).toBe(1);
		expect(consumer.paused()).toEqual(consumer.assignment);
		await Promise.all([consumer.close(), other.close()]);
		await pending;
	});
});
