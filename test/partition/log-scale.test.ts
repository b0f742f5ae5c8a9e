/**
 * The log at scale: a tail fetch, a wake-up and a retention pass read the same number of rows on a long log as on
 * a short one. Measured with the SQL cursors' own `rowsRead` (what Cloudflare bills): a `PartitionLog` is built
 * on a context whose `sql.exec` keeps every cursor it returns, over the real object's storage.
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { loadTotals } from "../../src/partition/log-store.ts";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { PARTITION_SCHEMA_VERSION } from "../../src/partition/schema.ts";
import type { AppendOutcome, AppendRequest } from "../../src/partition/types.ts";
import { OFFLOAD_SEGMENTS_PER_RUN, SEGMENT_BATCHES_MAX } from "../../src/shared/limits.ts";
import { compactionKeyId, type EncodedRecord } from "../../src/shared/record-codec.ts";
import { partitionObjectName } from "../../src/topic/types.ts";
import { uniqueTopic } from "../support/names.ts";
import { countRows, countRowsSync } from "../support/sql-rows.ts";
import { createTopic, json, produce } from "../support/worker.ts";

const SHORT_LOG_BATCHES = 2_000;
const LONG_LOG_BATCHES = 20_000;
const FETCH_RECORDS = 10;
const WAKE_UP_ROWS_MAX = 32;
const HOUR_MS = 60 * 60 * 1000;
/** Batches old enough for retention.ms = 1 h in the retention test. */
const EXPIRED_BATCHES = 10;
/** Filling 22,000 batches takes a second or two on an idle machine; a busy one needs more. */
const FILL_TIMEOUT_MS = 120_000;

async function topicOf(name: string) {
	const meta = await env.TOPIC_REGISTRY.getByName("global").getTopic(name);
	if (!meta.ok) throw new Error(`topic ${name} missing`);
	return meta.value;
}

function record(key: string | null, timestampMs: number | null): EncodedRecord {
	const tail = `"key":${JSON.stringify(key)},"value":"v","headers":[]}`;
	return { timestampMs, tail, bytes: tail.length, keyId: compactionKeyId(key, "json"), tombstone: false };
}

/**
 * A partition's group-commit writer (private): one call writes one group, here of one append, without the queue's
 * wait for each commit, so 20,000 batches fill in seconds.
 */
interface GroupWriter {
	writeGroup(entries: readonly { kind: "append"; request: AppendRequest }[]): AppendOutcome[];
}

/**
 * A partition holding `batches` stored batches of one record each, appended straight to the object's writer (one
 * group per batch, as small producers arriving one at a time would write them; far faster than HTTP requests).
 */
async function filledPartition(batches: number, options: { config?: Record<string, unknown>; oldBatches?: number } = {}) {
	const name = uniqueTopic("scale");
	await createTopic(name, 1, options.config);
	const oldMs = Date.now() - 2 * HOUR_MS;
	const firstTimestamp = (options.oldBatches ?? 0) > 0 ? oldMs : Date.now();
	await produce(name, [{ key: "k-0", value: "configures the partition", timestamp: firstTimestamp }]);
	const meta = await topicOf(name);
	const stub = env.PARTITION_LOG.getByName(partitionObjectName(meta.topicId, 0));
	await runInDurableObject(stub, (instance: PartitionLog) => {
		const writer = instance as unknown as GroupWriter;
		for (let i = 1; i < batches; i++) {
			const request: AppendRequest = {
				topicId: meta.topicId,
				configVersion: meta.configVersion,
				records: [record(`k-${i}`, i < (options.oldBatches ?? 0) ? oldMs : null)],
			};
			const [result] = writer.writeGroup([{ kind: "append", request }]);
			if (result === undefined) throw new Error(`append ${i} answered nothing`);
			if (!("ok" in result) || !result.ok) throw new Error(`append ${i} failed: ${JSON.stringify(result)}`);
		}
	});
	return { meta, stub };
}

/** Rows read by a tail fetch (the last `FETCH_RECORDS` records), on a partition object woken up afresh. */
async function tailFetchRows(
	batches: number,
): Promise<{ wakeUp: number; tail: number; head: number; scan: number; seekEnd: number; seekStart: number }> {
	const { meta, stub } = await filledPartition(batches);
	return runInDurableObject(stub, async (_, state) => {
		// A second instance over the same storage runs the constructor's load, as after an eviction.
		const woken = countRowsSync(state.storage.sql, () => new PartitionLog(state, env));
		const log = woken.result;
		const { highWatermark } = log.offsets();
		expect(highWatermark).toBe(batches);
		const request = { topicId: meta.topicId, maxRecords: FETCH_RECORDS, maxBytes: 1024 * 1024, waitMs: 0 };
		const tail = countRowsSync(state.storage.sql, () => log.read({ ...request, offset: highWatermark - FETCH_RECORDS }));
		const tailRead = await tail.result;
		if (!tailRead.ok || "remote" in tailRead.value) throw new Error("expected a local read");
		expect(tailRead.value.recordCount).toBe(FETCH_RECORDS);
		expect(tailRead.value.nextOffset).toBe(highWatermark);
		const head = countRowsSync(state.storage.sql, () => log.read({ ...request, offset: 0 }));
		const headRead = await head.result;
		if (!headRead.ok || "remote" in headRead.value) throw new Error("expected a local read");
		expect(headRead.value.recordCount).toBe(FETCH_RECORDS);
		// The control: the query fetch used before, without an index on last_offset, walks the log before the tail.
		const scan = countRowsSync(state.storage.sql, () =>
			state.storage.sql
				.exec(
					"SELECT base_offset FROM batches WHERE last_offset >= ? ORDER BY base_offset LIMIT ?",
					highWatermark - FETCH_RECORDS,
					FETCH_RECORDS,
				)
				.toArray(),
		);
		// Timestamp seeks: past every record (the high watermark) and before the first (offset 0).
		const seekEnd = countRowsSync(state.storage.sql, () => log.offsetForTimestamp(meta.topicId, Date.now() + HOUR_MS));
		expect(await seekEnd.result).toEqual({ ok: true, value: { offset: highWatermark } });
		const seekStart = countRowsSync(state.storage.sql, () => log.offsetForTimestamp(meta.topicId, 0));
		expect(await seekStart.result).toEqual({ ok: true, value: { offset: 0 } });
		return {
			wakeUp: woken.rowsRead,
			tail: tail.rowsRead,
			head: head.rowsRead,
			scan: scan.rowsRead,
			seekEnd: seekEnd.rowsRead,
			seekStart: seekStart.rowsRead,
		};
	});
}

describe("the log at scale", () => {
	it(
		"reads as many rows for a tail fetch and a wake-up on 20,000 stored batches as on 2,000",
		async () => {
			const short = await tailFetchRows(SHORT_LOG_BATCHES);
			const long = await tailFetchRows(LONG_LOG_BATCHES);
			console.log(`rows read: short log ${JSON.stringify(short)}, long log ${JSON.stringify(long)}`);
			// The meter sees a scan: the old query reads (nearly) the whole log to reach its tail.
			expect(long.scan).toBeGreaterThanOrEqual(LONG_LOG_BATCHES - FETCH_RECORDS);
			expect(long.scan).toBeGreaterThan(5 * short.scan);
			// A fetch reads one row per batch it returns, plus the seek: the same at the tail and the head, on either log.
			expect(long.tail).toBeLessThanOrEqual(FETCH_RECORDS + 2);
			expect(long.tail).toBe(short.tail);
			expect(long.head).toBe(short.head);
			// A wake-up reads the schema catalogue (about 20 rows: one per table and index), the schema version, the
			// state row, the newest batch and the append watchers: a constant.
			expect(long.wakeUp).toBeLessThanOrEqual(WAKE_UP_ROWS_MAX);
			expect(long.wakeUp).toBe(short.wakeUp);
			// A timestamp seek is a binary search on the primary key: a seek (a row or two) per halving of the log.
			const probes = 2 * Math.ceil(Math.log2(LONG_LOG_BATCHES)) + 2;
			expect(long.seekEnd).toBeLessThanOrEqual(probes);
			expect(long.seekStart).toBeLessThanOrEqual(probes + 1);
		},
		FILL_TIMEOUT_MS,
	);
});

interface Totals {
	bytes: number;
	batches: number;
	records: number;
}

/** The running totals as a wake-up loads them, and the same figures summed from the batches (a scan: tests only). */
function totals(sql: SqlStorage): { kept: Totals; summed: Totals } {
	const loaded = loadTotals(sql).totals;
	const kept = { bytes: loaded.totalBytes, batches: loaded.storedBatches, records: loaded.storedRecords };
	const summed = sql
		.exec<{ bytes: number; batches: number; records: number }>(
			"SELECT COALESCE(SUM(bytes), 0) AS bytes, COUNT(*) AS batches, COALESCE(SUM(record_count), 0) AS records FROM batches",
		)
		.one();
	return { kept: { ...kept }, summed: { ...summed } };
}

/** Rows read by one retention pass deleting `EXPIRED_BATCHES` batches (and their keys) from a compacted topic. */
async function retentionRows(batches: number): Promise<{ pass: number; keyScan: number }> {
	const { meta, stub } = await filledPartition(batches, {
		config: { "cleanup.policy": "compact,delete", "retention.ms": -1 },
		oldBatches: EXPIRED_BATCHES,
	});
	return runInDurableObject(stub, async (_, state) => {
		const log = new PartitionLog(state, env);
		// Retention is switched on now, and its pass run at once, before the runtime could run the alarm it arms.
		const configured = await log.configure({
			topic: meta.name,
			topicId: meta.topicId,
			partition: 0,
			configVersion: meta.configVersion + 1,
			config: { ...meta.config, "retention.ms": HOUR_MS },
		});
		expect(configured.ok).toBe(true);
		// Measure retention alone: a fill slower than COMPACTION_DELAY_MS (a busy machine) has made compaction due too.
		state.storage.sql.exec("UPDATE partition_state SET compaction_due_ms = NULL WHERE id = 1");
		const pass = countRowsSync(state.storage.sql, () => log.alarm());
		expect(log.offsets().logStartOffset).toBe(EXPIRED_BATCHES);
		const sql = state.storage.sql;
		expect(sql.exec("SELECT COUNT(*) AS n FROM record_keys WHERE offset < ?", EXPIRED_BATCHES).one().n).toBe(0);
		expect(sql.exec("SELECT COUNT(*) AS n FROM record_keys").one().n).toBe(batches - EXPIRED_BATCHES);
		const { kept, summed } = totals(sql);
		expect(kept).toEqual(summed);
		expect(kept.batches).toBe(batches - EXPIRED_BATCHES);
		// The control: the delete retention ran before this index existed read every key.
		const keyScan = countRowsSync(state.storage.sql, () =>
			sql.exec("SELECT COUNT(*) FROM record_keys NOT INDEXED WHERE offset < 0").toArray(),
		);
		return { pass: pass.rowsRead, keyScan: keyScan.rowsRead };
	});
}

/**
 * Rows read by an alarm run of a partition with remote storage: first with nothing due (local bytes under
 * `local.retention.bytes`), then with everything due (one run offloads `OFFLOAD_SEGMENTS_PER_RUN` segments).
 */
async function offloadRows(batches: number): Promise<{ idle: number; due: number; offloaded: number }> {
	const { meta, stub } = await filledPartition(batches, { config: { "remote.storage.enable": true, "retention.ms": -1 } });
	return runInDurableObject(stub, async (instance: PartitionLog, state) => {
		const idle = await countRows(state.storage.sql, () => instance.alarm());
		expect(instance.offsets().localLogStartOffset).toBe(0);
		const configured = await instance.configure({
			topic: meta.name,
			topicId: meta.topicId,
			partition: 0,
			configVersion: meta.configVersion + 1,
			config: { ...meta.config, "local.retention.bytes": 1 },
		});
		expect(configured.ok).toBe(true);
		const due = await countRows(state.storage.sql, () => instance.alarm());
		const offloaded = instance.offsets().localLogStartOffset;
		expect(totals(state.storage.sql).kept).toEqual(totals(state.storage.sql).summed);
		return { idle: idle.rowsRead, due: due.rowsRead, offloaded };
	});
}

describe("background passes at scale", () => {
	it(
		"reads as many rows for a retention pass on a compacted topic of 20,000 keys as of 2,000",
		async () => {
			const short = await retentionRows(SHORT_LOG_BATCHES);
			const long = await retentionRows(LONG_LOG_BATCHES);
			console.log(`retention rows read: short log ${JSON.stringify(short)}, long log ${JSON.stringify(long)}`);
			expect(long.keyScan).toBeGreaterThanOrEqual(LONG_LOG_BATCHES - EXPIRED_BATCHES);
			// The batches it deletes and one more, their keys, the state row and the alarm's own look-ups.
			expect(long.pass).toBeLessThanOrEqual(5 * EXPIRED_BATCHES + WAKE_UP_ROWS_MAX);
			expect(long.pass).toBe(short.pass);
		},
		FILL_TIMEOUT_MS,
	);

	it(
		"reads as many rows for the offload check on 20,000 stored batches as on 2,000, and a bounded number to offload",
		async () => {
			const short = await offloadRows(SHORT_LOG_BATCHES);
			const long = await offloadRows(LONG_LOG_BATCHES);
			console.log(`offload rows read: short log ${JSON.stringify(short)}, long log ${JSON.stringify(long)}`);
			// Not due: the head batch, the newest batch, the state row and the alarm's own look-ups.
			expect(long.idle).toBeLessThanOrEqual(WAKE_UP_ROWS_MAX);
			expect(long.idle).toBe(short.idle);
			// Due: each segment reads its batches a few times (plan, records, re-check, delete), never the rest of the log.
			expect(long.offloaded).toBe(OFFLOAD_SEGMENTS_PER_RUN * SEGMENT_BATCHES_MAX);
			expect(long.due).toBeLessThanOrEqual(6 * long.offloaded + WAKE_UP_ROWS_MAX);
			expect(long.due).toBeLessThan(LONG_LOG_BATCHES);
		},
		FILL_TIMEOUT_MS,
	);

	it("keeps the running totals equal to the batches through appends, compaction and retention", async () => {
		const name = uniqueTopic("totals");
		await createTopic(name, 1, { "cleanup.policy": "compact,delete", "retention.bytes": 1_000_000 });
		for (const value of ["a1", "a2", "b1", "a3", "tail"]) await produce(name, [{ key: value[0], value }]);
		const stub = env.PARTITION_LOG.getByName(partitionObjectName((await topicOf(name)).topicId, 0));
		await runInDurableObject(stub, (_, state) => state.storage.sql.exec("UPDATE partition_state SET compaction_due_ms = 0"));
		await runDurableObjectAlarm(stub);
		await runInDurableObject(stub, (_, state) => {
			const { kept, summed } = totals(state.storage.sql);
			expect(kept).toEqual(summed);
			// a1 and a2 are superseded by a3: their batches are gone.
			expect(kept).toMatchObject({ batches: 3, records: 3 });
		});
		await json("PATCH", `/v1/topics/${name}`, 200, { body: { config: { "retention.bytes": 1 } } });
		await runDurableObjectAlarm(stub);
		await runInDurableObject(stub, (_, state) => {
			const { kept, summed } = totals(state.storage.sql);
			expect(kept).toEqual(summed);
			expect(kept).toMatchObject({ batches: 1, records: 1 });
		});
		// An append after retention: its batch carries the totals retention left, plus itself.
		await produce(name, [{ key: "c", value: "after" }]);
		await runInDurableObject(stub, (_, state) => {
			const { kept, summed } = totals(state.storage.sql);
			expect(kept).toEqual(summed);
			expect(kept.batches).toBeGreaterThanOrEqual(1);
			expect(kept.records).toBe(kept.batches);
		});
	});

	it(
		"upgrades a partition stored before the totals and record ends existed: sums its batches once, then wakes up cheaply",
		async () => {
			const { stub } = await filledPartition(SHORT_LOG_BATCHES);
			await runInDurableObject(stub, (_, state) => {
				const sql = state.storage.sql;
				const before = totals(sql).summed;
				// Back to schema v2: no totals, no key index, no tiered storage, the timestamp index.
				sql.exec("DROP INDEX record_keys_by_offset");
				sql.exec("DROP TABLE remote_segments");
				for (const column of [
					"stored_bytes",
					"stored_batches",
					"stored_records",
					"local_log_start_offset",
					"remote_bytes",
					"remote_records",
					"totals_next_offset",
					"producers_replay_from",
					"record_keys_from",
				])
					sql.exec(`ALTER TABLE partition_state DROP COLUMN ${column}`);
				for (const column of ["log_bytes", "log_batches", "log_records", "record_ends", "producers"])
					sql.exec(`ALTER TABLE batches DROP COLUMN ${column}`);
				sql.exec("CREATE INDEX batches_by_timestamp_high ON batches (timestamp_high)");
				sql.exec("UPDATE schema_version SET version = 2");
				const upgrade = countRowsSync(state.storage.sql, () => new PartitionLog(state, env));
				expect(upgrade.rowsRead).toBeGreaterThanOrEqual(SHORT_LOG_BATCHES);
				expect(totals(sql).kept).toEqual(before);
				expect(sql.exec("SELECT version FROM schema_version").one().version).toBe(PARTITION_SCHEMA_VERSION);
				expect(sql.exec("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'batches_by_timestamp_high'").one().n).toBe(0);
				expect(upgrade.result.offsets().highWatermark).toBe(SHORT_LOG_BATCHES);
				// Rows written before v7 have no record ends: their readers search them, as before.
				expect(sql.exec("SELECT COUNT(*) AS n FROM batches WHERE record_ends IS NULL").one().n).toBe(SHORT_LOG_BATCHES);
				const next = countRowsSync(state.storage.sql, () => new PartitionLog(state, env));
				expect(next.rowsRead).toBeLessThanOrEqual(WAKE_UP_ROWS_MAX);
			});
		},
		FILL_TIMEOUT_MS,
	);
});

afterAll(() => abortAllDurableObjects());
