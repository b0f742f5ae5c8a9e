/**
 * Retention, compaction and partition-full, driven through the partition's alarm (never by sleeping).
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { AssertionError } from "../../src/shared/assert.ts";
import { ALARM_AT_MS_MAX, ALARM_RETRIES_MAX, ALARM_RETRY_MS_MIN, EXPIRY_ROWS_PER_STEP } from "../../src/shared/limits.ts";
import { recordEnds } from "../../src/shared/record-scan.ts";
import { DEFAULT_TOPIC_CONFIG, type TopicConfig } from "../../src/shared/topic-config.ts";
import { expectAlarmFailure } from "../support/alarm.ts";
import { uniqueTopic } from "../support/names.ts";
import { countRowsSync, failingStatement } from "../support/sql-rows.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { call, createTopic, expectError, fetchRecords, json, produce } from "../support/worker.ts";

const HOUR_MS = 60 * 60 * 1000;

/** Compaction waits COMPACTION_DELAY_MS after an append; tests say that time has passed. */
async function compactNow(topic: string) {
	const stub = await partitionStub(topic);
	await runInDurableObject(stub, (_, state) => state.storage.sql.exec("UPDATE partition_state SET compaction_due_ms = 0"));
	await runDurableObjectAlarm(stub);
}

async function alarmAt(topic: string): Promise<number | null> {
	return runInDurableObject(await partitionStub(topic), (_, state) => state.storage.getAlarm());
}

describe("retention by time", () => {
	it("arms the alarm for when the head batch leaves the window", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": HOUR_MS });
		const now = Date.now();
		await produce(topic, [
			{ value: "a", timestamp: now - 40 * 60_000 },
			{ value: "b", timestamp: now - 30 * 60_000 },
		]);
		await produce(topic, [{ value: "c" }]);
		// The head batch's newest record + retention.ms.
		expect(await alarmAt(topic)).toBe(now - 30 * 60_000 + HOUR_MS);
	});

	it("deletes only batches whose newest record has left the window", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		const now = Date.now();
		await produce(topic, [
			{ value: "old-1", timestamp: now - 3 * HOUR_MS },
			{ value: "old-2", timestamp: now - 2 * HOUR_MS },
		]);
		await produce(topic, [
			{ value: "straddling-old", timestamp: now - 5 * HOUR_MS },
			{ value: "straddling-new", timestamp: now - HOUR_MS / 2 },
		]);
		await produce(topic, [{ value: "fresh" }]);
		// Changing the config takes effect without a restart: the partition re-arms its alarm at once.
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "retention.ms": HOUR_MS } } });
		await runDurableObjectAlarm(await partitionStub(topic)); // (the runtime may already have run it: it was due)
		const fetched = await fetchRecords(topic, 0);
		// The second batch holds a record inside the window, so it stays whole, old record included.
		expect(fetched.log_start_offset).toBe(2);
		expect(fetched.records.map((r) => r.value)).toEqual(["straddling-old", "straddling-new", "fresh"]);
		expect(await json("GET", `/v1/topics/${topic}`, 200)).toMatchObject({
			partitions: [{ partition: 0, log_start_offset: 2, high_watermark: 5 }],
		});
		const error = await expectError("GET", `/v1/topics/${topic}/partitions/0/records?offset=1`, 416, "offset_out_of_range");
		expect(error).toMatchObject({ log_start_offset: 2, high_watermark: 5 });
		// The next alarm is for the new head batch.
		expect(await alarmAt(topic)).toBe(now - HOUR_MS / 2 + HOUR_MS);
	});

	it("keeps offsets after the log empties, and after eviction", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": 1000 });
		await produce(topic, [
			{ value: 1, timestamp: Date.now() - 10_000 },
			{ value: 2, timestamp: Date.now() - 10_000 },
		]);
		await runDurableObjectAlarm(await partitionStub(topic));
		expect(await fetchRecords(topic, 0)).toEqual({ records: [], high_watermark: 2, log_start_offset: 2, next_offset: 2 });
		await abortAllDurableObjects();
		expect(await fetchRecords(topic, 0)).toEqual({ records: [], high_watermark: 2, log_start_offset: 2, next_offset: 2 });
		const next = await produce(topic, [{ value: 3 }]);
		expect(next.offsets[0]?.offset).toBe(2);
	});
});

describe("alarm times past the latest date workerd's setAlarm takes", () => {
	/** The alarm as stored, and as the partition believes it set. */
	async function alarmState(topic: string) {
		return runInDurableObject(await partitionStub(topic), async (instance, state) => ({
			stored: await state.storage.getAlarm(),
			believed: (instance as unknown as { lifecycle: { alarmAtMs: number | null } }).lifecycle.alarmAtMs,
		}));
	}

	// Both are accepted by the API, and both put retention's due time after 2262, where setAlarm refused it (an
	// unhandled rejection, and a partition that believed in an alarm it did not have).
	it.each([
		{ name: "a record timestamped in microseconds", config: {}, timestamp: 1_767_225_600_000_000 },
		{ name: "retention.ms at its largest", config: { "retention.ms": Number.MAX_SAFE_INTEGER }, timestamp: undefined },
	])("sets the alarm for that latest date instead, for $name, and runs it harmlessly", async ({ config, timestamp }) => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, config);
		await produce(topic, [{ value: 1, timestamp }]);
		expect(await alarmState(topic)).toEqual({ stored: ALARM_AT_MS_MAX, believed: ALARM_AT_MS_MAX });
		// Run early (as it will, in 2262, for a record stamped later): nothing is due, so it keeps the record and the alarm.
		expect(await runDurableObjectAlarm(await partitionStub(topic))).toBe(true);
		expect(await alarmState(topic)).toEqual({ stored: ALARM_AT_MS_MAX, believed: ALARM_AT_MS_MAX });
		expect((await fetchRecords(topic, 0)).records).toHaveLength(1);
	});
});

describe("retention by size", () => {
	it("deletes head batches while the log would keep at least retention.bytes", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.bytes": 2500, "retention.ms": -1 });
		for (let i = 0; i < 5; i++) await produce(topic, [{ value: "x".repeat(900), key: `${i}` }]);
		await runDurableObjectAlarm(await partitionStub(topic));
		const fetched = await fetchRecords(topic, 0);
		// Each batch is ~1 KB: five make ~5 KB; keeping ≥ 2500 bytes leaves the newest two or three.
		expect(fetched.log_start_offset).toBeGreaterThanOrEqual(2);
		expect(fetched.log_start_offset).toBeLessThanOrEqual(3);
		expect(fetched.records.at(-1)?.key).toBe("4");
	});

	it("forgets the key rows below the new log start in bounded steps, keeping the rows of records still held", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact,delete", "retention.ms": -1 });
		for (const key of ["a", "b", "c"]) await produce(topic, [{ key, value: "x".repeat(900) }]);
		const stub = await partitionStub(topic);
		const fillers = EXPIRY_ROWS_PER_STEP + 500;
		const described = await runInDurableObject(stub, async (instance: PartitionLog, state) => {
			const sql = state.storage.sql;
			const keyRows = () => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM record_keys").one().n;
			// Many more keys in the head batch than one step forgets: rows naming its offset, as a batch of that many keys leaves.
			sql.exec(
				`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
				INSERT INTO record_keys (key_id, offset, tombstone, appended_at_ms) SELECT 'j:"f' || i || '"', 0, 0, ? FROM n`,
				fillers,
				Date.now(),
			);
			// Retention by size that drops the head batch, due now: in memory only, so the runtime's alarm cannot run it first.
			const log = instance as unknown as { config: Record<string, unknown> };
			log.config = { ...log.config, "retention.bytes": 1500 };
			const before = keyRows();
			await instance.alarm();
			const firstRun = before - keyRows();
			const logStartOffset = instance.offsets().logStartOffset;
			for (let run = 0; run < 3 && keyRows() > 2; run++) await instance.alarm();
			const left = sql.exec<{ offset: number }>("SELECT offset FROM record_keys ORDER BY offset").toArray();
			return { firstRun, logStartOffset, left: left.map((row) => row.offset) };
		});
		expect(described.logStartOffset).toBe(1);
		expect(described.firstRun).toBe(EXPIRY_ROWS_PER_STEP);
		expect(described.left).toEqual([1, 2]);
	});

	it("never deletes anything under cleanup.policy=compact alone", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact", "retention.ms": 1 });
		await produce(topic, [{ key: "a", value: 1, timestamp: 1000 }]);
		await runDurableObjectAlarm(await partitionStub(topic));
		expect((await fetchRecords(topic, 0)).log_start_offset).toBe(0);
	});
});

describe("an alarm run whose transaction fails", () => {
	it("leaves the partition as SQLite has it: what the run changed in memory is read back, and the next run does it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		for (let i = 0; i < 5; i++) await produce(topic, [{ value: "x".repeat(900), key: `${i}` }]);
		await runInDurableObject(await partitionStub(topic), async (instance: PartitionLog, state) => {
			// Retention by size, due now: set in memory only, so the runtime's own alarm cannot run it first.
			const log = instance as unknown as { config: Record<string, unknown> };
			log.config = { ...log.config, "retention.bytes": 2500 };
			const sql = state.storage.sql;
			// Retention has moved the log start (in memory too) when the run's last statement fails.
			await failingStatement(sql, "DELETE FROM idempotency_keys", "SQLITE_FULL: database or disk is full", () =>
				expectAlarmFailure(() => instance.alarm(), "SQLITE_FULL"),
			);
			expect(sql.exec<{ start: number }>("SELECT log_start_offset AS start FROM partition_state").one().start).toBe(0);
			expect(instance.offsets()).toMatchObject({ logStartOffset: 0, records: 5 });
			log.config = { ...log.config, "retention.bytes": 2500 }; // read back from SQLite with the rest
			await instance.alarm();
			expect(instance.offsets().logStartOffset).toBeGreaterThanOrEqual(2);
			expect(sql.exec<{ start: number }>("SELECT log_start_offset AS start FROM partition_state").one().start).toBe(
				instance.offsets().logStartOffset,
			);
		});
	});
});

describe("an alarm run that keeps failing", () => {
	const SQLITE_FULL = "SQLITE_FULL: database or disk is full";

	/** A partition with records and no alarm set: what a failing run does to the alarm is all that sets one. */
	async function quietPartition() {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		for (let i = 0; i < 3; i++) await produce(topic, [{ value: "x".repeat(900), key: `${i}` }]);
		return partitionStub(topic);
	}

	/** Runs the alarm handler with `fail` in place of the run's last statement; answers the outcome and the alarm set. */
	async function failingRun(stub: DurableObjectStub<PartitionLog>, fail: () => never) {
		return runInDurableObject(stub, async (instance: PartitionLog, state) => {
			await state.storage.deleteAlarm();
			const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
			const exec = state.storage.sql.exec;
			state.storage.sql.exec = ((query: string, ...bindings: SqlStorageValue[]) =>
				query.startsWith("DELETE FROM idempotency_keys") ? fail() : exec.call(state.storage.sql, query, ...bindings)) as typeof exec;
			const startMs = Date.now();
			try {
				const thrown = await instance.alarm().then(
					() => null,
					(cause: unknown) => String(cause),
				);
				const alarm = await state.storage.getAlarm();
				return { thrown, logged: logged.mock.calls.length, delayMs: alarm === null ? null : alarm - startMs };
			} finally {
				state.storage.sql.exec = exec;
				logged.mockRestore();
			}
		});
	}

	const full = (): never => {
		throw new Error(SQLITE_FULL);
	};

	it("sets the alarm again itself, backing off, instead of leaving it to the runtime's few retries", async () => {
		const stub = await quietPartition();
		const delays: (number | null)[] = [];
		for (let run = 0; run < 3; run++) {
			const outcome = await failingRun(stub, full);
			expect(outcome).toMatchObject({ thrown: null, logged: 1 });
			delays.push(outcome.delayMs);
		}
		expect(delays[0]).toBeGreaterThanOrEqual(ALARM_RETRY_MS_MIN);
		expect(delays[1]).toBeGreaterThanOrEqual(2 * ALARM_RETRY_MS_MIN);
		expect(delays[2]).toBeGreaterThanOrEqual(4 * ALARM_RETRY_MS_MIN);
		// A run that succeeds: the next failure backs off from the start again.
		await runInDurableObject(stub, (instance: PartitionLog) => instance.alarm());
		expect((await failingRun(stub, full)).delayMs).toBeLessThan(2 * ALARM_RETRY_MS_MIN);
	});

	it(`stops after ${ALARM_RETRIES_MAX} failures in a row: the next one throws, to the runtime's own retries`, async () => {
		const stub = await quietPartition();
		for (let run = 0; run < ALARM_RETRIES_MAX; run++) expect((await failingRun(stub, full)).thrown).toBeNull();
		expect(await failingRun(stub, full)).toEqual({ thrown: `Error: ${SQLITE_FULL}`, logged: 0, delayMs: null });
	});

	it("counts failures across restarts: an instance evicted between them does not count from zero", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		await produce(topic, [{ value: "x".repeat(900), key: "k" }]);
		// A stub does not outlive the abort: each run asks for a new one, and meets a new instance.
		const restarted = async () => {
			await abortAllDurableObjects();
			return partitionStub(topic);
		};
		for (let run = 0; run < ALARM_RETRIES_MAX; run++) expect((await failingRun(await restarted(), full)).thrown).toBeNull();
		expect(await failingRun(await restarted(), full)).toEqual({ thrown: `Error: ${SQLITE_FULL}`, logged: 0, delayMs: null });
		// A run that succeeds clears the count, for the next instance too.
		await runInDurableObject(await restarted(), (instance: PartitionLog) => instance.alarm());
		expect(await failingRun(await restarted(), full)).toMatchObject({ thrown: null, logged: 1 });
	});

	it("writes nothing of its count while runs succeed: only a failure writes it, and the next success deletes it", async () => {
		const stub = await quietPartition();
		const writes = async () =>
			runInDurableObject(stub, async (instance: PartitionLog, state) => {
				const put = vi.spyOn(state.storage.kv, "put");
				const deleted = vi.spyOn(state.storage.kv, "delete");
				try {
					await instance.alarm();
					return { puts: put.mock.calls.length, deletes: deleted.mock.calls.length, stored: state.storage.kv.get("alarm_failures") };
				} finally {
					put.mockRestore();
					deleted.mockRestore();
				}
			});
		expect(await writes()).toEqual({ puts: 0, deletes: 0, stored: undefined });
		await failingRun(stub, full);
		expect(await writes()).toEqual({ puts: 0, deletes: 1, stored: undefined });
		expect(await writes()).toEqual({ puts: 0, deletes: 0, stored: undefined });
	});

	it("throws a failed assertion at once: a bug meets it again on every run, so no retry is set", async () => {
		const stub = await quietPartition();
		const outcome = await failingRun(stub, () => {
			throw new AssertionError("invariant violated: injected");
		});
		expect(outcome).toEqual({ thrown: "AssertionError: invariant violated: injected", logged: 0, delayMs: null });
	});

	it("throws, logging nothing and setting no alarm, when its storage takes no transaction (an object reset or aborted)", async () => {
		const stub = await quietPartition();
		const outcome = await runInDurableObject(stub, async (instance: PartitionLog, state) => {
			await state.storage.deleteAlarm();
			const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
			// What an aborted instance does: its reads still answer, every transaction throws.
			const transactionSync = state.storage.transactionSync;
			state.storage.transactionSync = () => {
				throw new Error("injected: the object was aborted");
			};
			try {
				const thrown = await instance.alarm().then(
					() => null,
					(cause: unknown) => String(cause),
				);
				return { thrown, logged: logged.mock.calls.length, alarm: await state.storage.getAlarm() };
			} finally {
				state.storage.transactionSync = transactionSync;
				logged.mockRestore();
			}
		});
		expect(outcome).toEqual({ thrown: "Error: injected: the object was aborted", logged: 0, alarm: null });
	});
});

describe("partition full", () => {
	it("refuses appends with 507 partition_full near the storage limit, writing nothing", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: "seed" }]);
		await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => {
			instance.partitionBytesMax = 1;
		});
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 507, "partition_full", { body: { records: [{ value: 1 }] } });
		expect(error.partition_bytes_max).toBe(1);
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(1);
	});
});

describe("compaction", () => {
	it("rejects records without a key on a compacted topic", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact" });
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_record", {
			body: { records: [{ key: "a", value: 1 }, { value: 2 }] },
		});
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(0);
	});

	it("keeps the latest value per key with offsets unchanged, leaving the active tail alone", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact", "delete.retention.ms": HOUR_MS });
		await produce(topic, [
			{ key: "a", value: "a1" },
			{ key: "b", value: "b1" },
			{ key: "a", value: "a2" },
		]);
		await produce(topic, [
			{ key: "c", value: "c1" },
			{ key: "b", value: null },
		]);
		await produce(topic, [{ key: "a", value: "a3" }]); // active tail
		await produce(topic, [{ key: "a", value: "a4" }]); // now the tail; the a3 batch may be compacted
		const due = await alarmAt(topic);
		expect(due).toBeGreaterThan(Date.now()); // a pass is scheduled, COMPACTION_DELAY_MS ahead
		await compactNow(topic);
		const fetched = await fetchRecords(topic, 0);
		expect(fetched.records.map((r) => [r.offset, r.key, r.value])).toEqual([
			[3, "c", "c1"],
			[4, "b", null], // the tombstone stays for delete.retention.ms
			[6, "a", "a4"],
		]);
		expect(fetched.high_watermark).toBe(7);
		expect(fetched.log_start_offset).toBe(0);
		expect(fetched.next_offset).toBe(7);
		// Fetching from inside a gap continues at the next surviving record.
		expect((await fetchRecords(topic, 0, "offset=1")).records.map((r) => r.offset)).toEqual([3, 4, 6]);
		const page = await fetchRecords(topic, 0, "offset=0&max_records=1");
		expect(page.records.map((r) => r.offset)).toEqual([3]);
		expect(page.next_offset).toBe(4);
		// Describing the topic counts the records left, not the offset range.
		const described = await json<{ partitions: { records: number; high_watermark: number }[] }>("GET", `/v1/topics/${topic}`, 200);
		expect(described.partitions).toMatchObject([{ records: 3, high_watermark: 7 }]);
	});

	it("rewrites a compacted row's record ends with its records, so a poll's read cuts and splices it right", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact", "delete.retention.ms": HOUR_MS });
		await produce(topic, [
			{ key: "a", value: "a1" },
			{ key: "b", value: "b1" },
			{ key: "c", value: "c1" },
		]);
		await produce(topic, [{ key: "a", value: "a2" }]);
		await produce(topic, [{ key: "z", value: "tail" }]);
		const stub = await partitionStub(topic);
		// As the append wrote them: where a search of the row finds its records end.
		const before = await runInDurableObject(stub, (_, state) =>
			state.storage.sql
				.exec<{ utf8: ArrayBuffer; ends: ArrayBuffer }>(
					"SELECT CAST(records AS BLOB) AS utf8, record_ends AS ends FROM batches WHERE base_offset = 0",
				)
				.one(),
		);
		expect([...new Uint32Array(before.ends)]).toEqual([...recordEnds(new Uint8Array(before.utf8))]);
		expect(new Uint32Array(before.ends).length).toBe(3);
		await compactNow(topic);
		const rows = await runInDurableObject(stub, (_, state) =>
			state.storage.sql
				.exec<{ base: number; utf8: ArrayBuffer; ends: ArrayBuffer }>(
					"SELECT base_offset AS base, CAST(records AS BLOB) AS utf8, record_ends AS ends FROM batches ORDER BY base_offset",
				)
				.toArray(),
		);
		expect(rows.map((r) => r.base)).toEqual([0, 3, 4]);
		for (const row of rows) expect([...new Uint32Array(row.ends)]).toEqual([...recordEnds(new Uint8Array(row.utf8))]);
		expect(new Uint32Array((rows[0] as { ends: ArrayBuffer }).ends).length).toBe(2);
		// A poll's read of the rewritten rows, cut after the first record: each part's ends are its records'.
		const read = await stub.readUtf8({ topicId: await topicIdOf(topic), offset: 2, maxRecords: 10, maxBytes: 1 << 20, waitMs: 0 });
		if (!read.ok || "remote" in read.value) throw new Error("a local read");
		const { records, recordEnds: ends } = read.value;
		expect(records.map((part) => [...recordEnds(part)])).toEqual(ends?.map((e) => [...(e ?? [])]));
		expect(ends?.map((e) => e?.length)).toEqual([1, 1, 1]);
	});

	it("keys a record by its bytes, however they were sent, as Kafka compacts", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact", "delete.retention.ms": HOUR_MS });
		await produce(topic, [
			{ key: "user-1", value: "text" },
			{ key: btoa("user-1"), key_encoding: "base64", value: "bytes" }, // a Kafka client's key: the same bytes
			{ key: 42, value: "number" },
			{ key: "42", value: "string" }, // the partitioner hashes both as the bytes "42"
			{ key: "/w==", key_encoding: "base64", value: "ff" },
			{ key: "/x==", key_encoding: "base64", value: "ff again" }, // non-canonical base64 of the byte 0xff
			{ key: "/g==", key_encoding: "base64", value: "fe" },
		]);
		await produce(topic, [{ key: "z", value: "tail" }]);
		await compactNow(topic);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["bytes", "string", "ff again", "fe", "tail"]);
	});

	it("upgrades key rows stored by their encoding to their bytes, keeping each key's newest offset", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact", "delete.retention.ms": HOUR_MS });
		await produce(topic, [
			{ key: btoa("user"), key_encoding: "base64", value: "u" },
			{ key: 42, value: "number" },
			{ key: "42", value: "string" },
			{ key: "/w==", key_encoding: "base64", value: "ff" },
		]);
		await produce(topic, [{ key: "z", value: "tail" }]);
		const stub = await partitionStub(topic);
		const rows = await runInDurableObject(stub, (_, state) => {
			const sql = state.storage.sql;
			// The rows as a partition before schema v9 wrote them: `b:`/`j:` and the key's JSON text as sent.
			sql.exec("DELETE FROM record_keys");
			const old = [`b:"${btoa("user")}"`, "j:42", 'j:"42"', 'b:"/w=="', 'j:"z"'];
			old.forEach((id, offset) => {
				sql.exec("INSERT INTO record_keys (key_id, offset, tombstone, appended_at_ms) VALUES (?, ?, 0, ?)", id, offset, Date.now());
			});
			// …and without the columns of the versions after it.
			sql.exec("ALTER TABLE partition_state DROP COLUMN remote_records");
			sql.exec("ALTER TABLE partition_state DROP COLUMN record_keys_from");
			sql.exec("UPDATE schema_version SET version = 8");
			new PartitionLog(state, env);
			return sql.exec<{ key_id: string; offset: number }>("SELECT key_id, offset FROM record_keys ORDER BY offset").toArray();
		});
		expect(rows).toEqual([
			{ key_id: 'j:"user"', offset: 0 },
			{ key_id: 'j:"42"', offset: 2 },
			{ key_id: 'b:"/w=="', offset: 3 },
			{ key_id: 'j:"z"', offset: 4 },
		]);
		await compactNow(topic);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["u", "string", "ff", "tail"]);
	});

	it("keeps a key's newest value after cleanup.policy went to delete and back to compact", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact", "delete.retention.ms": HOUR_MS });
		await produce(topic, [{ key: "a", value: "a1" }]);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "cleanup.policy": "delete" } } });
		// Written while the topic does not compact: no key row is kept for it.
		await produce(topic, [{ key: "a", value: "a2" }]);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "cleanup.policy": "compact" } } });
		await produce(topic, [{ key: "z", value: "tail" }]);
		await compactNow(topic);
		const records = (await fetchRecords(topic, 0)).records.filter((r) => r.key === "a");
		// Compaction keeps at least the newest record of every key, whatever it learnt of the older ones.
		expect(records.at(-1)).toMatchObject({ offset: 1, value: "a2" });
	});

	it("forgets the key rows of an earlier compacting period in bounded steps, acting on none of them meanwhile", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact", "delete.retention.ms": HOUR_MS });
		await produce(topic, [{ key: "a", value: "a1" }]);
		const stub = await partitionStub(topic);
		const fillers = EXPIRY_ROWS_PER_STEP + 500;
		const keyRows = () =>
			runInDurableObject(stub, (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM record_keys").one().n);
		// More keys of that period than one step forgets.
		await runInDurableObject(stub, (_, state) =>
			state.storage.sql.exec(
				`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
				INSERT INTO record_keys (key_id, offset, tombstone, appended_at_ms) SELECT 'j:"f' || i || '"', 0, 0, ? FROM n`,
				fillers,
				Date.now(),
			),
		);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "cleanup.policy": "delete" } } });
		await produce(topic, [{ key: "a", value: "a2" }]); // no key row: the topic does not compact
		await produce(topic, [{ key: "z", value: "tail" }]);
		const config: TopicConfig = { ...DEFAULT_TOPIC_CONFIG, "cleanup.policy": "compact", "delete.retention.ms": HOUR_MS };
		const assignment = { topic, topicId: await topicIdOf(topic), partition: 0, configVersion: 3, config };
		await runInDurableObject(stub, async (instance: PartitionLog, state) => {
			const sql = state.storage.sql;
			// The config change itself deletes no key row: that is the alarm's work, a step per run.
			expect(countRowsSync(sql, () => instance.configure(assignment)).rowsWritten).toBeLessThan(EXPIRY_ROWS_PER_STEP);
			// A compaction pass in the first run (synchronous up to its first await: the runtime's alarm cannot come first).
			sql.exec("UPDATE partition_state SET compaction_due_ms = 0");
			await instance.alarm();
			expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM record_keys").one().n).toBe(fillers + 1 - EXPIRY_ROWS_PER_STEP);
		});
		// The pass took a's row (offset 0, from before) for unknown: a2, its newest record, stays, and a1 with it.
		const a = (await fetchRecords(topic, 0)).records.filter((r) => r.key === "a");
		expect(a.map((r) => [r.offset, r.value])).toEqual([
			[0, "a1"],
			[1, "a2"],
		]);
		await runDurableObjectAlarm(stub); // (the runtime may already have run it: it was due now)
		expect(await keyRows()).toBe(0);
	});

	it("names a number key a double cannot hold by its digits, so it never stands for another key", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact" });
		// As a double, 1e400 is Infinity (JSON "null") and 12345678901234567891 is 12345678901234567000.
		for (const body of ['{"records":[{"key":1e400,"value":"huge"}]}', '{"records":[{"key":12345678901234567891,"value":"long"}]}']) {
			const response = await call("POST", `/v1/topics/${topic}/records`, { raw: body, headers: { "Content-Type": "application/json" } });
			expect(response.status, await response.text()).toBe(200);
		}
		await produce(topic, [
			{ key: "null", value: "the string null" },
			{ key: 12345678901234567000, value: "the double" },
		]);
		await produce(topic, [{ key: "z", value: "tail" }]);
		await compactNow(topic);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["huge", "long", "the string null", "the double", "tail"]);
	});

	it("removes a tombstone only after delete.retention.ms", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact", "delete.retention.ms": HOUR_MS });
		await produce(topic, [{ key: "gone", value: "v" }]);
		await produce(topic, [{ key: "gone", value: null }]);
		await produce(topic, [{ key: "other", value: "tail" }]);
		await compactNow(topic);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.key)).toEqual(["gone", "other"]);
		// A pass is scheduled for when the tombstone may go; pretend that time has come.
		const stub = await partitionStub(topic);
		await runInDurableObject(stub, (_, state) => {
			state.storage.sql.exec("UPDATE record_keys SET appended_at_ms = appended_at_ms - ?", 2 * HOUR_MS);
			state.storage.sql.exec("UPDATE partition_state SET compaction_due_ms = 0");
		});
		await runDurableObjectAlarm(stub);
		expect((await fetchRecords(topic, 0)).records.map((r) => [r.offset, r.key])).toEqual([[2, "other"]]);
	});
});
