/**
 * A partition rebuilds its view and batch cache from SQLite after a transaction rolled back (a group of appends, an
 * alarm run, an offload's commit) and after a topic deletion wiped it. When that rebuild throws too (storage failing),
 * the caller still sees the transaction's own error, and nothing is served from the half-rebuilt view: the rebuild
 * runs again before any other event (`PartitionLog.rebuild`). Served from the view the rolled-back transaction left,
 * a produce would be numbered past offsets never written, and a read would find records gone that SQLite still
 * holds; served from the view a wipe left, a stale producer would write into the deleted partition.
 */

import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { expectAlarmFailure } from "../support/alarm.ts";
import { uniqueTopic } from "../support/names.ts";
import { failingStatement } from "../support/sql-rows.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";
import { call, createTopic, fetchRecords, produce } from "../support/worker.ts";

/** The parts of PartitionLog these tests replace (private; tests only). */
interface RebuildParts {
	load(): void;
	readonly producers: { rowsWritten(rows: number, bytes: number): void };
	config: Record<string, unknown>;
}

const partsOf = (instance: PartitionLog) => instance as unknown as RebuildParts;

/** What a read from offset 0 finds: each record's offset and value, and the high watermark. */
async function readAll(topic: string) {
	const read = await fetchRecords(topic, 0, "offset=0");
	return { records: read.records.map((r) => [r.offset, r.value]), highWatermark: read.high_watermark };
}

describe("a rebuild from storage that throws once", () => {
	afterEach(() => vi.restoreAllMocks());

	it("after a group of appends rolled back: the produce is refused with the transaction's error, the next produce and reads are dense", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: 1 }]);
		await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => {
			// The group's rows are written and the view moved when its transaction's last part fails.
			throwOnce(partsOf(instance).producers, "rowsWritten");
			throwOnce(partsOf(instance), "load");
		});
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const refused = await call("POST", `/v1/topics/${topic}/records`, { body: { records: [{ value: 2 }, { value: 3 }] } });
		expect(refused.status).toBe(503);
		expect(await refused.json()).toMatchObject({ error: { code: "partition_unavailable", retriable: true } });
		const lines = logged.mock.calls.map((args) => args.map(String).join(" "));
		expect
			.soft(
				lines.some((line) => line.includes("writing a group: Error: rowsWritten broke")),
				"the transaction's error is logged",
			)
			.toBe(true);
		expect.soft(lines).toContain("rebuilding from storage: Error: load broke");
		expect((await produce(topic, [{ value: 4 }])).offsets[0]?.offset).toBe(1);
		expect(await readAll(topic)).toEqual({
			records: [
				[0, 1],
				[1, 4],
			],
			highWatermark: 2,
		});
	});

	it("after an alarm run rolled back: the run fails with its own error, and the log start retention moved in memory is read back", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		for (let i = 0; i < 5; i++) await produce(topic, [{ value: i, key: `${i}` }]);
		const stub = await partitionStub(topic);
		await runInDurableObject(stub, async (instance: PartitionLog, state) => {
			// Retention by size, due now: set in memory only, so the runtime's own alarm cannot run it first.
			const parts = partsOf(instance);
			parts.config = { ...parts.config, "retention.bytes": 1 };
			throwOnce(parts, "load");
			// Retention has moved the log start (in memory too) when the run's last statement fails.
			await failingStatement(state.storage.sql, "DELETE FROM idempotency_keys", "SQLITE_FULL: database or disk is full", () =>
				expectAlarmFailure(() => instance.alarm(), "SQLITE_FULL"),
			);
		});
		// A later event: the rebuild has run again before it.
		expect(await runInDurableObject(stub, (instance: PartitionLog) => instance.offsets())).toMatchObject({ logStartOffset: 0, records: 5 });
		expect((await readAll(topic)).records.map(([offset]) => offset)).toEqual([0, 1, 2, 3, 4]);
	});

	it("after an offload's commit rolled back: the run fails with its own error, and every offset still reads locally", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "remote.storage.enable": true, "local.retention.bytes": 1 });
		for (let i = 0; i < 6; i++) await produce(topic, [{ value: i, key: `${i}` }]);
		const stub = await partitionStub(topic);
		await runInDurableObject(stub, async (instance: PartitionLog, state) => {
			throwOnce(partsOf(instance), "load");
			// The commit has moved the local log start (in memory too) when its last statement fails.
			await failingStatement(state.storage.sql, "UPDATE partition_state SET local_log_start_offset", "injected: the commit fails", () =>
				expectAlarmFailure(() => instance.alarm(), "injected: the commit fails"),
			);
		});
		expect(await runInDurableObject(stub, (instance: PartitionLog) => instance.offsets())).toMatchObject({
			localLogStartOffset: 0,
			remoteBytes: 0,
			records: 6,
		});
		expect((await readAll(topic)).records.map(([offset]) => offset)).toEqual([0, 1, 2, 3, 4, 5]);
	});

	it("after a topic deletion's wipe: the wipe completes, and a stale producer's append is refused, writing nothing", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: 1 }]);
		const topicId = await topicIdOf(topic);
		const stub = await partitionStub(topic);
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		// The registry retries a wipe that throws; this one did its work, only the rebuild after it failed.
		const destroyed = await runInDurableObject(stub, (instance: PartitionLog) => {
			throwOnce(partsOf(instance), "load");
			return instance.destroy(topicId).then((answer) => (answer.ok ? "destroyed" : answer.error.message), String);
		});
		expect.soft(destroyed).toBe("destroyed");
		expect.soft(logged.mock.calls.map(String)).toContain("rebuilding from storage: Error: load broke");
		// The topic is still in the registry, as for a producer whose edge cached it: the partition decides.
		const refused = await call("POST", `/v1/topics/${topic}/records`, { body: { records: [{ value: 2 }] } });
		expect(refused.status).toBe(404);
		const stored = await runInDurableObject(stub, (_, state) => state.storage.sql.exec("SELECT * FROM batches").toArray());
		expect(stored).toEqual([]);
	});
});
