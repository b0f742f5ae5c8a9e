/**
 * The log at scale: a tail fetch, a wake-up and a retention pass read the same number of rows on a long log as on
 * a short one. Measured with the SQL cursors' own `rowsRead` (what Cloudflare bills): a `PartitionLog` is built
 * on a context whose `sql.exec` keeps every cursor it returns, over the real object's storage.
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { PARTITION_SCHEMA_VERSION } from "../../src/partition/schema.ts";
import type { AppendRequest } from "../../src/partition/types.ts";
import { OFFLOAD_SEGMENTS_PER_RUN, SEGMENT_BATCHES_MAX } from "../../src/shared/limits.ts";
import { compactionKeyId, type EncodedRecord } from "../../src/shared/record-codec.ts";
import { partitionObjectName } from "../../src/topic/types.ts";
import { uniqueTopic } from "../support/names.ts";
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

/**
 * Runs `work` with every `sql.exec` in the isolate counted (the storage API's prototype is wrapped for that long),
 * and sums what the cursors it opened read. `work` runs synchronously, so nothing else runs meanwhile; an async
 * method's body up to its first await counts, which is all of a fetch that does not wait.
 */
function rowsReadBy<T>(state: DurableObjectState, work: () => T): { result: T; rowsRead: number } {
	const prototype = Object.getPrototypeOf(state.storage.sql) as SqlStorage;
	const exec = prototype.exec;
	const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
	prototype.exec = function countedExec(this: SqlStorage, query: string, ...bindings: unknown[]) {
		const cursor = exec.call(this, query, ...bindings);
		cursors.push(cursor);
		return cursor;
	} as SqlStorage["exec"];
	try {
		const result = work();
		return { result, rowsRead: cursors.reduce((n, c) => n + c.rowsRead, 0) };
	} finally {
		prototype.exec = exec;
	}
}

/** `rowsReadBy` across the awaits of `work` (nothing else runs in the isolate meanwhile in these tests). */
async function rowsReadByAsync<T>(state: DurableObjectState, work: () => Promise<T>): Promise<{ result: T; rowsRead: number }> {
	const prototype = Object.getPrototypeOf(state.storage.sql) as SqlStorage;
	const exec = prototype.exec;
	const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
	prototype.exec = function countedExec(this: SqlStorage, query: string, ...bindings: unknown[]) {
		const cursor = exec.call(this, query, ...bindings);
		cursors.push(cursor);
		return cursor;
	} as SqlStorage["exec"];
	try {
		const result = await work();
		return { result, rowsRead: cursors.reduce((n, c) => n + c.rowsRead, 0) };
	} finally {
		prototype.exec = exec;
	}
}

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
 * A partition holding `batches` stored batches of one record each, appended straight to the object (one append
 * per batch, as many small producers would write them; far faster than as many HTTP requests).
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
		for (let i = 1; i < batches; i++) {
			const request: AppendRequest = {
				topicId: meta.topicId,
				configVersion: meta.configVersion,
				records: [record(`k-${i}`, i < (options.oldBatches ?? 0) ? oldMs : null)],
			};
			const result = instance.append(request);
			if (!("ok" in result) || !result.ok) throw new Error(`append ${i} failed: ${JSON.stringify(result)}`);
		}
	});
	return { meta, stub };
}

/** Rows read by a tail fetch (the last `FETCH_RECORDS` records), on a partition object woken up afresh. */
async function tailFetchRows(batches: number): Promise<{ wakeUp: number; tail: number; head: number; scan: number }> {
	const { meta, stub } = await filledPartition(batches);
	return runInDurableObject(stub, async (_, state) => {
		// A second instance over the same storage runs the constructor's load, as after an eviction.
		const woken = rowsReadBy(state, () => new PartitionLog(state, env));
		const log = woken.result;
		const { highWatermark } = log.offsets();
		expect(highWatermark).toBe(batches);
		const request = { topicId: meta.topicId, maxRecords: FETCH_RECORDS, maxBytes: 1024 * 1024, waitMs: 0 };
		const tail = rowsReadBy(state, () => log.read({ ...request, offset: highWatermark - FETCH_RECORDS }));
		const tailRead = await tail.result;
		if (!tailRead.ok || "remote" in tailRead.value) throw new Error("expected a local read");
		expect(tailRead.value.recordCount).toBe(FETCH_RECORDS);
		expect(tailRead.value.nextOffset).toBe(highWatermark);
		const head = rowsReadBy(state, () => log.read({ ...request, offset: 0 }));
		const headRead = await head.result;
		if (!headRead.ok || "remote" in headRead.value) throw new Error("expected a local read");
		expect(headRead.value.recordCount).toBe(FETCH_RECORDS);
		// The control: the query fetch used before, without an index on last_offset, walks the log before the tail.
		const scan = rowsReadBy(state, () =>
			state.storage.sql
				.exec(
					"SELECT base_offset FROM batches WHERE last_offset >= ? ORDER BY base_offset LIMIT ?",
					highWatermark - FETCH_RECORDS,
					FETCH_RECORDS,
				)
				.toArray(),
		);
		return { wakeUp: woken.rowsRead, tail: tail.rowsRead, head: head.rowsRead, scan: scan.rowsRead };
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
		},
		FILL_TIMEOUT_MS,
	);
});

interface Totals {
	bytes: number;
	batches: number;
	records: number;
}

/** The running totals in the state row, and the same figures summed from the batches (a scan: tests only). */
function totals(sql: SqlStorage): { kept: Totals; summed: Totals } {
	const kept = sql
		.exec<{ bytes: number; batches: number; records: number }>(
			"SELECT stored_bytes AS bytes, stored_batches AS batches, stored_records AS records FROM partition_state WHERE id = 1",
		)
		.one();
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
	return runInDurableObject(stub, (_, state) => {
		const log = new PartitionLog(state, env);
		// Retention is switched on now, and its pass run at once, before the runtime could run the alarm it arms.
		const configured = log.configure({
			topic: meta.name,
			topicId: meta.topicId,
			partition: 0,
			configVersion: meta.configVersion + 1,
			config: { ...meta.config, "retention.ms": HOUR_MS },
		});
		expect(configured.ok).toBe(true);
		const pass = rowsReadBy(state, () => log.alarm());
		expect(log.offsets().logStartOffset).toBe(EXPIRED_BATCHES);
		const sql = state.storage.sql;
		expect(sql.exec("SELECT COUNT(*) AS n FROM record_keys WHERE offset < ?", EXPIRED_BATCHES).one().n).toBe(0);
		expect(sql.exec("SELECT COUNT(*) AS n FROM record_keys").one().n).toBe(batches - EXPIRED_BATCHES);
		const { kept, summed } = totals(sql);
		expect(kept).toEqual(summed);
		expect(kept.batches).toBe(batches - EXPIRED_BATCHES);
		// The control: the delete retention ran before this index existed read every key.
		const keyScan = rowsReadBy(state, () => sql.exec("SELECT COUNT(*) FROM record_keys NOT INDEXED WHERE offset < 0").toArray());
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
		const idle = await rowsReadByAsync(state, () => instance.alarm());
		expect(instance.offsets().localLogStartOffset).toBe(0);
		const configured = instance.configure({
			topic: meta.name,
			topicId: meta.topicId,
			partition: 0,
			configVersion: meta.configVersion + 1,
			config: { ...meta.config, "local.retention.bytes": 1 },
		});
		expect(configured.ok).toBe(true);
		const due = await rowsReadByAsync(state, () => instance.alarm());
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
	});

	it(
		"upgrades a partition stored before the totals existed: sums its batches once, then wakes up cheaply",
		async () => {
			const { stub } = await filledPartition(SHORT_LOG_BATCHES);
			await runInDurableObject(stub, (_, state) => {
				const sql = state.storage.sql;
				const before = totals(sql).summed;
				// Back to schema v2: no totals, no key index, no tiered storage.
				sql.exec("DROP INDEX record_keys_by_offset");
				sql.exec("DROP TABLE remote_segments");
				for (const column of ["stored_bytes", "stored_batches", "stored_records", "local_log_start_offset", "remote_bytes"])
					sql.exec(`ALTER TABLE partition_state DROP COLUMN ${column}`);
				sql.exec("UPDATE schema_version SET version = 2");
				const upgrade = rowsReadBy(state, () => new PartitionLog(state, env));
				expect(upgrade.rowsRead).toBeGreaterThanOrEqual(SHORT_LOG_BATCHES);
				expect(totals(sql).kept).toEqual(before);
				expect(sql.exec("SELECT version FROM schema_version").one().version).toBe(PARTITION_SCHEMA_VERSION);
				expect(upgrade.result.offsets().highWatermark).toBe(SHORT_LOG_BATCHES);
				const next = rowsReadBy(state, () => new PartitionLog(state, env));
				expect(next.rowsRead).toBeLessThanOrEqual(WAKE_UP_ROWS_MAX);
			});
		},
		FILL_TIMEOUT_MS,
	);
});

afterAll(() => abortAllDurableObjects());
