/**
 * Tiered storage, write side: offload of closed batches to R2 segments through the partition's alarm, with a crash
 * or a failure at each step (R2 is the real simulated bucket; a failure is injected by wrapping it), retention of
 * remote segments, the orphan sweep and topic deletion. Every test checks that each offset is held exactly once,
 * locally or in one segment named by the manifest, with the records as produced.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { parseSegmentIndex, segmentBodyBytes, segmentPrefix } from "../../src/partition/tiering/segment.ts";
import { OFFLOAD_CHECK_INTERVAL_MS, OFFLOAD_RETRY_MS } from "../../src/shared/limits.ts";
import { RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";
import { DEFAULT_TOPIC_CONFIG, type TopicConfig } from "../../src/shared/topic-config.ts";
import { expectAlarmFailure } from "../support/alarm.ts";
import { uniqueTopic } from "../support/names.ts";
import { failingStatement } from "../support/sql-rows.ts";
import { partitionStub, partitionStubById, topicIdOf } from "../support/stubs.ts";
import { limitPartitionBytes } from "../support/tiering.ts";
import { call, createTopic, expectError, json, produce } from "../support/worker.ts";

const REMOTE = { "remote.storage.enable": true, "local.retention.bytes": 1 };

interface Described {
	partitions: {
		log_start_offset: number;
		local_log_start_offset: number;
		high_watermark: number;
		bytes: number;
		remote_bytes: number;
		records: number;
		remote_records: number;
	}[];
}

async function describePartition(topic: string) {
	const described = await json<Described>("GET", `/v1/topics/${topic}`, 200);
	return described.partitions[0] as Described["partitions"][number];
}

/** `count` produce requests of one record each: as many stored batches. Values are `v<offset>`. */
async function produceBatches(topic: string, from: number, count: number) {
	for (let i = from; i < from + count; i++) await produce(topic, [{ value: `v${i}`, key: `k${i}` }]);
}

/** Runs the partition's alarm handler now (the runtime may run it too, when it is due: it is idempotent). */
async function alarm(topic: string) {
	await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => instance.alarm());
}

async function listKeys(topicId: string): Promise<string[]> {
	const listed = await env.SEGMENTS.list({ prefix: segmentPrefix(topicId, 0) });
	return listed.objects.map((o) => o.key).sort();
}

interface ManifestRow extends Record<string, SqlStorageValue> {
	base_offset: number;
	last_offset: number;
	object_key: string;
	bytes: number;
	record_count: number;
	batch_index: string;
}

/**
 * A wake-up (the view rebuilt from SQLite, as after an eviction) finds the offsets and totals the object held in
 * memory, and those totals are the local batches' sums: the offload's totals in the state row, marked with the high
 * watermark, win over the ones the newest batch row carries from before the offload.
 */
async function expectWakeUpTotals(stub: Awaited<ReturnType<typeof partitionStub>>): Promise<void> {
	await runInDurableObject(stub, (instance: PartitionLog, s) => {
		const inMemory = instance.offsets();
		(instance as unknown as { load(): void }).load();
		expect(instance.offsets()).toEqual(inMemory);
		const summed = s.storage.sql
			.exec<{ bytes: number; records: number }>(
				"SELECT COALESCE(SUM(bytes), 0) AS bytes, COALESCE(SUM(record_count), 0) AS records FROM batches",
			)
			.one();
		expect({ bytes: inMemory.bytes, records: inMemory.records }).toEqual(summed);
	});
}

/**
 * Every record the partition holds, read from where it is: the segments named by the manifest (fetched from R2 and
 * cut by their index) and the local batches. Asserts the manifest is gapless from the log start to the local log
 * start, and the totals in the state row match.
 */
async function heldRecords(topic: string): Promise<{ offsets: number[]; values: unknown[]; manifest: ManifestRow[] }> {
	const stub = await partitionStub(topic);
	await expectWakeUpTotals(stub);
	const { manifest, local, state } = await runInDurableObject(stub, (_, s) => ({
		manifest: s.storage.sql.exec<ManifestRow>("SELECT * FROM remote_segments ORDER BY base_offset").toArray(),
		local: s.storage.sql.exec<{ records: string }>("SELECT records FROM batches ORDER BY base_offset").toArray(),
		state: s.storage.sql
			.exec<{ log_start_offset: number; local_log_start_offset: number; remote_bytes: number; remote_records: number }>(
				"SELECT log_start_offset, local_log_start_offset, remote_bytes, remote_records FROM partition_state",
			)
			.one(),
	}));
	let expected = state.log_start_offset;
	const texts: string[] = [];
	for (const row of manifest) {
		expect(row.base_offset).toBe(expected);
		expected = row.last_offset + 1;
		const object = await env.SEGMENTS.get(row.object_key);
		expect(object, `segment ${row.object_key} exists`).not.toBeNull();
		const body = new Uint8Array(await (object as R2ObjectBody).arrayBuffer());
		const index = parseSegmentIndex(row.batch_index);
		expect(body.byteLength).toBe(segmentBodyBytes(index));
		// A segment weighs what its batches weighed locally: the object plus the separator each batch's text ends without.
		expect(row.bytes).toBe(body.byteLength + index.length * RECORD_SEPARATOR.length);
		for (const entry of index) {
			texts.push(new TextDecoder().decode(body.subarray(entry.byteStart, entry.byteStart + entry.byteLength)));
		}
	}
	expect(expected).toBe(state.local_log_start_offset);
	expect(state.remote_bytes).toBe(manifest.reduce((n, r) => n + r.bytes, 0));
	expect(state.remote_records).toBe(manifest.reduce((n, r) => n + r.record_count, 0));
	texts.push(...local.map((r) => r.records));
	const records = texts.flatMap((t) => t.split(RECORD_SEPARATOR)).map((line) => JSON.parse(line) as { offset: number; value: unknown });
	return { offsets: records.map((r) => r.offset), values: records.map((r) => r.value), manifest };
}

function range(from: number, to: number): number[] {
	return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Tiered storage's timers, which a test resets instead of waiting out `OFFLOAD_RETRY_MS` or the orphan grace. */
interface TieringTimers {
	retryAtMs: number | null;
	sweepDueMs: number | null;
	sweepNeeded: boolean;
	orphanGraceMs: number;
}

function timersOf(instance: PartitionLog): TieringTimers {
	// biome-ignore lint/complexity/useLiteralKeys: a private member, reached on purpose
	return instance["tiering"] as unknown as TieringTimers;
}

/** The real bucket with `put` and/or `delete` replaced (a fault injected), everything else passed through. */
function wrapBucket(real: R2Bucket, overrides: Partial<Pick<R2Bucket, "put" | "delete">>): R2Bucket {
	return new Proxy(real, {
		get(target, property) {
			const override = overrides[property as keyof typeof overrides];
			if (override !== undefined) return override;
			const value = Reflect.get(target, property) as unknown;
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
}

describe("offload", () => {
	it("moves closed batches oldest first to one R2 segment, keeping the newest local, and describes both sides", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, REMOTE);
		await produceBatches(topic, 0, 6);
		const before = await describePartition(topic);
		expect(before).toMatchObject({ log_start_offset: 0, local_log_start_offset: 0, remote_bytes: 0, high_watermark: 6 });
		await alarm(topic);
		const after = await describePartition(topic);
		expect(after).toMatchObject({ log_start_offset: 0, local_log_start_offset: 5, high_watermark: 6 });
		expect(after.remote_bytes).toBeGreaterThan(0);
		expect(after.bytes).toBeLessThan(before.bytes);
		// Records are counted in both tiers: the five offloaded ones in R2, the newest one local.
		expect(before).toMatchObject({ records: 6, remote_records: 0 });
		expect(after).toMatchObject({ records: 1, remote_records: 5 });
		const held = await heldRecords(topic);
		expect(held.offsets).toEqual(range(0, 6));
		expect(held.values).toEqual(range(0, 6).map((i) => `v${i}`));
		expect(held.manifest).toHaveLength(1);
		expect(held.manifest[0]).toMatchObject({ base_offset: 0, last_offset: 4, record_count: 5 });
		expect(await listKeys(await topicIdOf(topic))).toEqual([held.manifest[0]?.object_key]);
	});

	it("leaves the log's bytes across both tiers as they were: retention.bytes weighs a batch the same in R2 as locally", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, REMOTE);
		await produceBatches(topic, 0, 6);
		const before = await describePartition(topic);
		await alarm(topic);
		const after = await describePartition(topic);
		expect(after.local_log_start_offset).toBe(5);
		expect(after.bytes + after.remote_bytes).toBe(before.bytes + before.remote_bytes);
		// A log exactly at retention.bytes keeps everything, wherever its batches lie.
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "retention.bytes": before.bytes } } });
		await alarm(topic);
		expect((await describePartition(topic)).log_start_offset).toBe(0);
	});

	it("arms the alarm within OFFLOAD_CHECK_INTERVAL_MS of an append that crosses the local limit, and not before", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "remote.storage.enable": true, "local.retention.bytes": 10_000, "retention.ms": -1 });
		await produceBatches(topic, 0, 2);
		const stub = await partitionStub(topic);
		// Under the local limit, the alarm is for the orphan sweep at most (an hour away), not for an offload.
		const idle = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
		if (idle !== null) expect(idle).toBeGreaterThan(Date.now() + OFFLOAD_CHECK_INTERVAL_MS);
		await produce(topic, [{ value: "x".repeat(12_000) }]);
		const due = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
		// The runtime may already have run it; then the offload it did shows.
		if (due === null) expect((await describePartition(topic)).local_log_start_offset).toBeGreaterThan(0);
		else expect(due).toBeLessThanOrEqual(Date.now() + OFFLOAD_CHECK_INTERVAL_MS);
	});

	it("keeps a partition with remote storage below partition_full's limit locally while it holds more in total", async () => {
		const limited = uniqueTopic();
		const control = uniqueTopic();
		const limitBytes = 20_000;
		await createTopic(limited, 1, { "remote.storage.enable": true, "local.retention.bytes": 4_000 });
		await createTopic(control, 1);
		for (const topic of [limited, control]) await produce(topic, [{ value: "seed" }]);
		const value = "y".repeat(1_000);
		for (let i = 0; i < 40; i++) {
			await limitPartitionBytes(limited, limitBytes);
			await produce(limited, [{ value }]);
			await alarm(limited);
		}
		const described = await describePartition(limited);
		expect(described.high_watermark).toBe(41);
		expect(described.bytes + described.remote_bytes).toBeGreaterThan(limitBytes);
		expect(described.bytes).toBeLessThan(limitBytes);
		expect((await heldRecords(limited)).offsets).toEqual(range(0, 41));
		// The control: the same appends without remote storage hit the limit.
		let refused = 0;
		for (let i = 0; i < 40 && refused === 0; i++) {
			await limitPartitionBytes(control, limitBytes);
			const response = await call("POST", `/v1/topics/${control}/records`, { body: { records: [{ value }] } });
			if (response.status === 507) refused++;
			else expect(response.status).toBe(200);
			await response.arrayBuffer();
		}
		expect(refused).toBe(1);
	});
});

describe("a crash or a failure at each step", () => {
	it("R2 PUT failing: nothing is deleted locally, and the offload is retried later", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, REMOTE);
		await produce(topic, [{ value: "seed" }]);
		const stub = await partitionStub(topic);
		let attempts = 0;
		await runInDurableObject(stub, (instance: PartitionLog) => {
			instance.segments = wrapBucket(instance.segments, {
				put: async () => {
					attempts++;
					throw new Error("injected: R2 unavailable");
				},
			});
		});
		await produceBatches(topic, 1, 4);
		await alarm(topic);
		expect(attempts).toBeGreaterThanOrEqual(1);
		expect(await describePartition(topic)).toMatchObject({ local_log_start_offset: 0, remote_bytes: 0, high_watermark: 5 });
		expect((await heldRecords(topic)).offsets).toEqual(range(0, 5));
		expect(await listKeys(await topicIdOf(topic))).toEqual([]);
		const retryAt = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
		expect(retryAt).toBeGreaterThan(Date.now() + OFFLOAD_RETRY_MS / 2);
		// R2 is back; the retry offloads.
		await runInDurableObject(stub, (instance: PartitionLog) => {
			instance.segments = env.SEGMENTS;
			timersOf(instance).retryAtMs = null;
		});
		await alarm(topic);
		expect((await describePartition(topic)).local_log_start_offset).toBe(4);
		expect((await heldRecords(topic)).offsets).toEqual(range(0, 5));
	});

	it("PUT done, crash before the manifest commit: the object is an orphan the sweep deletes; nothing is lost", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, REMOTE);
		await produce(topic, [{ value: "seed" }]);
		const stub = await partitionStub(topic);
		await runInDurableObject(stub, (instance: PartitionLog) => {
			const real = instance.segments;
			instance.segments = wrapBucket(real, {
				put: async (...args: Parameters<R2Bucket["put"]>) => {
					await real.put(...args);
					throw new Error("injected: the object died after R2 confirmed the write");
				},
			});
		});
		await produceBatches(topic, 1, 4);
		await alarm(topic);
		const topicId = await topicIdOf(topic);
		const orphans = await listKeys(topicId);
		expect(orphans.length).toBeGreaterThanOrEqual(1);
		expect((await heldRecords(topic)).manifest).toEqual([]);
		expect((await heldRecords(topic)).offsets).toEqual(range(0, 5));
		// Younger than the grace, an orphan is left alone: it could be an offload still in flight.
		await runInDurableObject(stub, (instance: PartitionLog) => {
			instance.segments = env.SEGMENTS;
			timersOf(instance).retryAtMs = null;
			timersOf(instance).sweepDueMs = null;
		});
		await alarm(topic);
		const held = await heldRecords(topic);
		expect(held.offsets).toEqual(range(0, 5));
		expect(held.manifest).toHaveLength(1);
		const keys = await listKeys(topicId);
		for (const orphan of orphans) expect(keys).toContain(orphan);
		// Past the grace, the sweep deletes every object the manifest does not name, and only those.
		await runInDurableObject(stub, (instance: PartitionLog) => {
			timersOf(instance).orphanGraceMs = 0;
			timersOf(instance).sweepDueMs = null;
		});
		await alarm(topic);
		expect(await listKeys(topicId)).toEqual(held.manifest.map((r) => r.object_key));
		expect((await heldRecords(topic)).offsets).toEqual(range(0, 5));
		// One more pass finds nothing unknown: the sweep stops, so an idle partition is not woken for it.
		const needed = await runInDurableObject(stub, async (instance: PartitionLog) => {
			const before = timersOf(instance).sweepNeeded;
			timersOf(instance).sweepDueMs = null;
			await instance.alarm();
			return [before, timersOf(instance).sweepNeeded];
		});
		expect(needed).toEqual([true, false]);
	});

	it("an offload commit that rolls back leaves the partition's view as SQLite holds it: every offset still reads", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, REMOTE);
		await produceBatches(topic, 0, 6);
		const before = await describePartition(topic);
		const stub = await partitionStub(topic);
		const topicId = await topicIdOf(topic);
		await runInDurableObject(stub, async (instance: PartitionLog, state) => {
			await failingStatement(state.storage.sql, "UPDATE partition_state SET local_log_start_offset", "injected: the commit fails", () =>
				expectAlarmFailure(() => instance.alarm(), "injected"),
			);
			expect(instance.offsets()).toMatchObject({ localLogStartOffset: 0, remoteBytes: 0, bytes: before.bytes });
			const read = await instance.read({ topicId, offset: 0, maxRecords: 10, maxBytes: 1 << 20, waitMs: 0 });
			expect(read.ok && "records" in read.value ? read.value.recordCount : read).toBe(6);
		});
		expect((await heldRecords(topic)).offsets).toEqual(range(0, 6));
	});

	it("retention racing an offload: the commit sees the batches gone and deletes its own object", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, REMOTE);
		await produce(topic, [{ value: "seed" }]);
		const stub = await partitionStub(topic);
		const topicId = await topicIdOf(topic);
		let raced = false;
		await runInDurableObject(stub, (instance: PartitionLog) => {
			const real = instance.segments;
			instance.segments = wrapBucket(real, {
				put: async (...args: Parameters<R2Bucket["put"]>) => {
					const written = await real.put(...args);
					if (!raced) {
						raced = true;
						// While the PUT is in flight, every batch passes retention.ms and the alarm runs again.
						const meta = await env.TOPIC_REGISTRY.getByName("global").getTopic(topic);
						if (!meta.ok) throw new Error("topic missing");
						const { name, configVersion, config } = meta.value;
						instance.configure({
							topic: name,
							topicId,
							partition: 0,
							configVersion: configVersion + 1,
							config: { ...config, "retention.ms": 1 },
						});
						await new Promise((resolve) => setTimeout(resolve, 5));
						await instance.alarm();
					}
					return written;
				},
			});
		});
		await produceBatches(topic, 1, 4);
		await alarm(topic);
		expect(raced).toBe(true);
		const described = await describePartition(topic);
		expect(described).toMatchObject({ log_start_offset: 5, local_log_start_offset: 5, high_watermark: 5, remote_bytes: 0, bytes: 0 });
		expect((await heldRecords(topic)).manifest).toEqual([]);
		expect(await listKeys(topicId)).toEqual([]);
	});
});

describe("topic deletion racing an offload", () => {
	it("leaves no object behind when the topic is deleted while a segment PUT is in flight", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, REMOTE);
		await produce(topic, [{ value: "seed" }]);
		const stub = await partitionStub(topic);
		const topicId = await topicIdOf(topic);
		let destroyed: Promise<unknown> | null = null;
		await runInDurableObject(stub, (instance: PartitionLog) => {
			const real = instance.segments;
			instance.segments = wrapBucket(real, {
				put: async (...args: Parameters<R2Bucket["put"]>) => {
					// The registry's wipe arrives while R2 is writing: the object appears after the wipe began.
					destroyed ??= instance.destroy(topicId);
					return real.put(...args);
				},
			});
		});
		await produceBatches(topic, 1, 3);
		await alarm(topic);
		expect(destroyed).not.toBeNull();
		expect(await runInDurableObject(stub, async () => await destroyed)).toEqual({ ok: true, value: undefined });
		expect(await listKeys(topicId)).toEqual([]);
		const state = await runInDurableObject(stub, (_, s) => ({
			status: s.storage.sql.exec<{ status: string }>("SELECT status FROM partition_state").one().status,
			manifest: s.storage.sql.exec("SELECT * FROM remote_segments").toArray().length,
		}));
		expect(state).toEqual({ status: "deleted", manifest: 0 });
	});
});

/** A topic with remote storage whose offsets 0–5 are in three R2 segments of two batches each, and 6 is local. */
async function threeSegments(): Promise<string> {
	const topic = uniqueTopic();
	await createTopic(topic, 1, REMOTE);
	// Offload after every second batch.
	for (let i = 0; i < 6; i += 2) {
		await produceBatches(topic, i, 2);
		await alarm(topic);
	}
	await produceBatches(topic, 6, 1);
	await alarm(topic);
	return topic;
}

describe("retention and deletion of remote segments", () => {
	it("drops whole remote segments, oldest first, by retention.bytes over local and remote bytes; objects go after the commit", async () => {
		const topic = await threeSegments();
		const held = await heldRecords(topic);
		expect(held.offsets).toEqual(range(0, 7));
		expect(held.manifest.length).toBeGreaterThanOrEqual(3);
		const [first, second] = held.manifest as [ManifestRow, ManifestRow];
		const described = await describePartition(topic);
		// Keep at least everything but the first segment: exactly it goes, at segment granularity.
		const keep = described.bytes + described.remote_bytes - first.bytes;
		let failDeletes = true;
		await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => {
			const real = instance.segments;
			instance.segments = wrapBucket(real, {
				delete: async (keys) => {
					if (failDeletes) throw new Error("injected: crash after the manifest commit");
					return real.delete(keys);
				},
			});
		});
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "retention.bytes": keep } } });
		await alarm(topic);
		const after = await describePartition(topic);
		expect(after.log_start_offset).toBe(second.base_offset);
		expect(after.remote_bytes).toBe(described.remote_bytes - first.bytes);
		expect(after.remote_records).toBe(described.remote_records - first.record_count);
		expect(after.records + after.remote_records).toBe(7 - first.record_count);
		const remaining = await heldRecords(topic);
		expect(remaining.offsets).toEqual(range(second.base_offset, 7));
		await expectError("GET", `/v1/topics/${topic}/partitions/0/records?offset=0`, 416, "offset_out_of_range");
		// The delete failed: the object is an orphan now, and the sweep removes it.
		const topicId = await topicIdOf(topic);
		expect(await listKeys(topicId)).toContain(first.object_key);
		failDeletes = false;
		await runInDurableObject(await partitionStub(topic), (instance: PartitionLog) => {
			timersOf(instance).orphanGraceMs = 0;
			timersOf(instance).sweepDueMs = null;
		});
		await alarm(topic);
		expect(await listKeys(topicId)).toEqual(remaining.manifest.map((r) => r.object_key).sort());
	});

	it("a run whose transaction rolls back deletes none of the segments it dropped: the manifest still names them", async () => {
		const topic = await threeSegments();
		const held = await heldRecords(topic);
		const [first] = held.manifest as [ManifestRow];
		const described = await describePartition(topic);
		await runInDurableObject(await partitionStub(topic), async (instance: PartitionLog, state) => {
			// Retention that drops the first segment, due now: set in memory only, so the runtime's alarm cannot run it.
			const log = instance as unknown as { config: Record<string, unknown> };
			log.config = { ...log.config, "retention.bytes": described.bytes + described.remote_bytes - first.bytes };
			await failingStatement(state.storage.sql, "DELETE FROM idempotency_keys", "injected: the run's last statement fails", () =>
				expectAlarmFailure(() => instance.alarm(), "injected"),
			);
			// The next run (the config read back from SQLite: no such retention) deletes what is dropped, and only that.
			await instance.alarm();
		});
		expect(await listKeys(await topicIdOf(topic))).toContain(first.object_key);
		expect((await heldRecords(topic)).offsets).toEqual(range(0, 7));
	});

	it("keeps a tombstone past delete.retention.ms while older records of its key are in R2 (turned compact before remote-off was refused)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, REMOTE);
		await produce(topic, [{ key: "a", value: "a1" }]);
		await produceBatches(topic, 1, 2);
		await alarm(topic);
		expect((await describePartition(topic)).local_log_start_offset).toBe(2);
		// The registry now refuses turning remote storage off here; a partition configured so before it did is reached
		// by pushing the config to it directly.
		const config: TopicConfig = {
			...DEFAULT_TOPIC_CONFIG,
			...REMOTE,
			"remote.storage.enable": false,
			"cleanup.policy": "compact",
			"delete.retention.ms": 0,
		};
		await expectError("PATCH", `/v1/topics/${topic}`, 400, "invalid_config", { body: { config: { "remote.storage.enable": false } } });
		const topicId = await topicIdOf(topic);
		expect(await (await partitionStub(topic)).configure({ topic, topicId, partition: 0, configVersion: 2, config })).toMatchObject({
			ok: true,
		});
		await produce(topic, [{ key: "a", value: null }]);
		await produce(topic, [{ key: "z", value: "tail" }]);
		const stub = await partitionStub(topic);
		await runInDurableObject(stub, (_, state) => state.storage.sql.exec("UPDATE partition_state SET compaction_due_ms = 0"));
		await alarm(topic);
		// The segment holding a1 cannot be compacted: without the tombstone a reader from the start sees a1 alive.
		const values = (await heldRecords(topic)).values;
		const read = await json<{ records: { key: string; value: unknown }[] }>(
			"GET",
			`/v1/topics/${topic}/partitions/0/records?offset=0`,
			200,
		);
		expect(values).toContain("a1");
		expect(read.records.filter((r) => r.key === "a").map((r) => r.value)).toEqual(["a1", null]);
		// Nor is a pass scheduled for a tombstone that cannot go yet: the alarm would come back at once, forever.
		const due = await runInDurableObject(stub, (_, state) =>
			state.storage.sql.exec<{ due: number | null }>("SELECT compaction_due_ms AS due FROM partition_state").one(),
		);
		expect(due.due).toBeNull();
	});

	it("offloads and reads back a log compaction left gaps in, once the topic turned from compact to tiered delete", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "cleanup.policy": "compact", "delete.retention.ms": 3_600_000 });
		await produce(topic, [{ key: "a", value: "a1" }]);
		await produce(topic, [
			{ key: "b", value: "b1" },
			{ key: "a", value: "a2" },
		]);
		await produce(topic, [{ key: "b", value: "b2" }]);
		await produce(topic, [{ key: "z", value: "tail" }]);
		const stub = await partitionStub(topic);
		await runInDurableObject(stub, (_, state) => state.storage.sql.exec("UPDATE partition_state SET compaction_due_ms = 0"));
		await alarm(topic);
		// Compaction deleted the batch at offset 0 and cut b1 from the front of the next one.
		const expected = [
			[2, "a2"],
			[3, "b2"],
			[4, "tail"],
		];
		const read = async (offset: number) =>
			(
				await json<{ records: { offset: number; value: unknown }[] }>(
					"GET",
					`/v1/topics/${topic}/partitions/0/records?offset=${offset}`,
					200,
				)
			).records.map((r) => [r.offset, r.value]);
		expect(await read(0)).toEqual(expected);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "cleanup.policy": "delete", ...REMOTE } } });
		await alarm(topic);
		expect((await describePartition(topic)).local_log_start_offset).toBe(4);
		for (const offset of [0, 1, 2, 3]) expect(await read(offset)).toEqual(expected.filter(([o]) => (o as number) >= offset));
	});

	it("a partition offloaded before remote records were counted sums its manifest once, at the upgrade", async () => {
		const topic = await threeSegments();
		const held = await heldRecords(topic);
		const offloaded = held.manifest.reduce((n, r) => n + r.record_count, 0);
		const upgraded = await runInDurableObject(await partitionStub(topic), (_, state) => {
			const sql = state.storage.sql;
			sql.exec("ALTER TABLE partition_state DROP COLUMN remote_records");
			sql.exec("ALTER TABLE partition_state DROP COLUMN record_keys_from");
			sql.exec("UPDATE schema_version SET version = 9");
			return new PartitionLog(state, env).offsets();
		});
		expect(upgraded.remoteRecords).toBe(offloaded);
		expect(upgraded.records + upgraded.remoteRecords).toBe(7);
	});

	it("a partition offloaded when segments weighed their objects' size weighs them as local batches, at the upgrade", async () => {
		const topic = await threeSegments();
		const before = await describePartition(topic);
		const upgraded = await runInDurableObject(await partitionStub(topic), (_, state) => {
			const sql = state.storage.sql;
			const separators = `${RECORD_SEPARATOR.length} * json_array_length(batch_index)`;
			sql.exec(`UPDATE remote_segments SET bytes = bytes - ${separators}`);
			sql.exec("UPDATE partition_state SET remote_bytes = (SELECT SUM(bytes) FROM remote_segments)");
			sql.exec("ALTER TABLE partition_state DROP COLUMN record_keys_from");
			sql.exec("UPDATE schema_version SET version = 10");
			return new PartitionLog(state, env).offsets();
		});
		expect(upgraded.remoteBytes).toBe(before.remote_bytes);
		await heldRecords(topic);
	});

	it("deletes the partition's objects when the topic is deleted", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, REMOTE);
		await produceBatches(topic, 0, 4);
		await alarm(topic);
		const topicId = await topicIdOf(topic);
		// An orphan too (as left by a crash): deletion lists the prefix, not the manifest.
		await env.SEGMENTS.put(`${segmentPrefix(topicId, 0)}00000000000000000099-orphan.seg`, "x");
		expect((await listKeys(topicId)).length).toBe(2);
		const other = uniqueTopic();
		await createTopic(other, 1, REMOTE);
		await produceBatches(other, 0, 3);
		await alarm(other);
		const otherKeys = await listKeys(await topicIdOf(other));
		expect(otherKeys.length).toBe(1);
		const response = await call("DELETE", `/v1/topics/${topic}`);
		expect(response.status).toBe(204);
		expect(await listKeys(topicId)).toEqual([]);
		expect(await listKeys(await topicIdOf(other))).toEqual(otherKeys);
		// A repeated wipe (the registry retries one that threw) is harmless.
		await partitionStubById(topicId).destroy(topicId);
		expect(await listKeys(topicId)).toEqual([]);
	});
});
