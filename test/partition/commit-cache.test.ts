/**
 * What a commit leaves in the batch cache (src/partition/partition-log.ts, `followed`): a log only written keeps its
 * commits as UTF-8 bytes for a reader to come (`committedAhead`), so a fresh backlog's first reader runs no SQL;
 * once a reader follows the tail (it read lately, or it waits there for the next append), its commits as stored.
 * Observed by the SQL rows a read at the tail takes.
 */

import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { BatchCache } from "../../src/partition/batch-cache.ts";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { heldBatches } from "../support/held-batches.ts";
import { untilWaiting } from "../support/long-poll.ts";
import { uniqueTopic } from "../support/names.ts";
import { countRows } from "../support/sql-rows.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { createTopic, fetchRecords, produce } from "../support/worker.ts";

async function tailRead(topic: string, offset: number, waitMs = 0) {
	const topicId = await topicIdOf(topic);
	return runInDurableObject(await partitionStub(topic), (instance: PartitionLog, state) =>
		countRows(state.storage.sql, () => instance.read({ topicId, offset, maxRecords: 10, maxBytes: 1 << 20, waitMs }), true),
	);
}

describe("a commit and the batch cache", () => {
	it("keeps a log only written as UTF-8 bytes, so its first reader runs no SQL", async () => {
		const topic = uniqueTopic("commit-cache");
		await createTopic(topic);
		await produce(topic, [{ value: "a" }, { value: "b€" }]);
		await produce(topic, [{ value: "c" }]);
		// Nobody read: the commits are held as bytes (the writer's text is not kept).
		const held = await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) =>
			heldBatches((instance as unknown as { hot: BatchCache }).hot).map((b) => b.utf8 instanceof Uint8Array),
		);
		expect(held).toEqual([true, true]);
		const first = await tailRead(topic, 1);
		expect(first.rowsRead).toBe(0);
		expect(first.result).toMatchObject({ ok: true, value: { recordCount: 2, nextOffset: 3 } });
		expect((await fetchRecords(topic, 0, "offset=0")).records.map((r: { value: unknown }) => r.value)).toEqual(["a", "b€", "c"]);
		// The reader follows now: the next commit joins the window too.
		await produce(topic, [{ value: "d" }]);
		const second = await tailRead(topic, 3);
		expect(second.rowsRead).toBe(0);
		expect(second.result).toMatchObject({ ok: true, value: { recordCount: 1, nextOffset: 4 } });
	});

	it("keeps the commit a long poll at the tail waits for", async () => {
		const topic = uniqueTopic("commit-cache-wait");
		await createTopic(topic);
		await produce(topic, [{ value: "a" }]);
		// The cache's own counters (a batch taken from memory, or read from a row): the append's statements run
		// while the poll waits, so SQL rows alone would not say which the poll did.
		const taken = async () =>
			runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => {
				const { hits, misses } = (instance as unknown as { hot: BatchCache }).hot;
				return { hits, misses };
			});
		const before = await taken();
		// A long poll at the high watermark of a log nobody has read: the window is empty until the append it waits for.
		const waiting = tailRead(topic, 1, 10_000);
		await untilWaiting(topic);
		await produce(topic, [{ value: "b" }]);
		expect((await waiting).result).toMatchObject({ ok: true, value: { recordCount: 1, nextOffset: 2 } });
		const after = await taken();
		expect({ hits: after.hits - before.hits, misses: after.misses - before.misses }).toEqual({ hits: 1, misses: 0 });
		expect((await fetchRecords(topic, 0, "offset=0")).records.map((r: { value: unknown }) => r.value)).toEqual(["a", "b"]);
	});
});
