/**
 * Seeded simulation of group commit: random appends — plain, conditional (`expected_offset`), idempotent producer
 * sequences (new, retried, out of order), `Idempotency-Key`s (new, replayed, reused with another body), records
 * too large — are submitted to one partition in waves that share commits, with awaits at random points so the
 * groups fall differently on every seed. Each answer must equal what a model applying the same requests one by
 * one answers (a refused request never fails its neighbours), and the log must hold exactly the model's records
 * at the model's offsets. Prints its seed; set SIM_SEED to replay one.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import type { AppendRequest } from "../../src/partition/types.ts";
import { type AppendAnswer, appendOutcome } from "../../src/shared/append-answer.ts";
import { PRODUCER_SNAPSHOT_ROWS } from "../../src/shared/limits.ts";
import type { EncodedRecord } from "../../src/shared/record-codec.ts";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { countGroupWrites } from "../support/group-writes.ts";
import { uniqueTopic } from "../support/names.ts";
import { seededRandom, seedsToRun } from "../support/seed.ts";
import { countRows } from "../support/sql-rows.ts";
import { partitionStubById } from "../support/stubs.ts";
import { createTopic, fetchRecords, produce } from "../support/worker.ts";

const MAX_MESSAGE_BYTES = 2_000;
const PRODUCERS = 3;
const KEYS = 4;
const REQUESTS = 160;

/** What the model expects a request to be answered: offsets, or a refusal's code. */
type Expected = { base: number; duplicate: boolean } | { code: string };

interface ModelProducer {
	lastSequence: number;
	recent: { baseSequence: number; count: number; base: number }[];
}

/** The partition's rules applied one request at a time (the behaviour before group commit). */
class Model {
	readonly log: string[] = [];
	readonly producers = new Map<number, ModelProducer>();
	readonly keys = new Map<string, { hash: string; count: number; base: number }>();

	apply(request: AppendRequest, values: readonly string[]): Expected {
		const count = request.records.length;
		const producer = request.producer ?? null;
		const state = producer === null ? undefined : this.producers.get(producer.producerId);
		if (producer !== null && state !== undefined) {
			const retried = state.recent.find((b) => b.baseSequence === producer.baseSequence);
			if (retried !== undefined) {
				return retried.count === count ? { base: retried.base, duplicate: true } : { code: "out_of_order_sequence" };
			}
			if (producer.baseSequence !== state.lastSequence + 1) return { code: "out_of_order_sequence" };
		}
		const claim = request.idempotency ?? null;
		const seen = claim === null ? undefined : this.keys.get(claim.key);
		if (claim !== null && seen !== undefined) {
			return seen.hash === claim.requestHash && seen.count === count
				? { base: seen.base, duplicate: true }
				: { code: "idempotency_key_reused" };
		}
		if ((request.expectedOffset ?? null) !== null && request.expectedOffset !== this.log.length) return { code: "offset_mismatch" };
		if (request.records.some((r) => r.bytes > MAX_MESSAGE_BYTES)) return { code: "record_too_large" };
		const base = this.log.length;
		this.log.push(...values);
		if (producer !== null) {
			const next = { baseSequence: producer.baseSequence, count, base };
			const recent = [...(state?.recent ?? []), next].slice(-5);
			this.producers.set(producer.producerId, { lastSequence: producer.baseSequence + count - 1, recent });
		}
		if (claim !== null) this.keys.set(claim.key, { hash: claim.requestHash, count, base });
		return { base, duplicate: false };
	}
}

function encoded(value: string, padding = 0): EncodedRecord {
	const tail = `"key":null,"value":${JSON.stringify(value + "x".repeat(padding))},"headers":[]}`;
	return { timestampMs: null, tail, bytes: tail.length, keyId: null, tombstone: false };
}

/** A random request, shaped by what the model holds now so that retries and conditions can hit. */
function randomRequest(random: () => number, model: Model, n: number, topicId: string, configVersion: number) {
	const count = 1 + Math.floor(random() * 3);
	const values = Array.from({ length: count }, (_, k) => `r${n}-${k}`);
	const records = values.map((v) => encoded(v));
	// Half read their answers as text, as the edge does; half as objects, as an edge of the version before.
	const base: AppendRequest = { topicId, configVersion, records, textAnswer: n % 2 === 0 };
	const roll = random();
	if (roll < 0.3) return { request: base, values };
	if (roll < 0.45) {
		const delta = [0, 0, 1, -1][Math.floor(random() * 4)] as number;
		return { request: { ...base, expectedOffset: Math.max(0, model.log.length + delta) }, values };
	}
	if (roll < 0.7) {
		const producerId = 1 + Math.floor(random() * PRODUCERS);
		const state = model.producers.get(producerId);
		const pick = random();
		const old = state?.recent[Math.floor(random() * (state?.recent.length ?? 0))];
		if (pick < 0.2 && old !== undefined) {
			// A retry of a batch already written: same sequence and count (its values are the retried ones).
			const retry = Array.from({ length: old.count }, (_, k) => `retry-${n}-${k}`);
			const producer = { producerId, epoch: 0, baseSequence: old.baseSequence };
			return { request: { ...base, records: retry.map((v) => encoded(v)), producer }, values: retry };
		}
		const next = (state?.lastSequence ?? -1) + 1;
		const baseSequence = pick < 0.3 && state !== undefined ? next + 2 : next;
		return { request: { ...base, producer: { producerId, epoch: 0, baseSequence } }, values };
	}
	if (roll < 0.9) {
		const key = `key-${Math.floor(random() * KEYS)}-${Math.floor(n / 40)}`;
		const seen = model.keys.get(key);
		const sameBody = seen !== undefined && random() < 0.6;
		const requestHash = sameBody ? seen.hash : `hash-${n}`;
		const length = sameBody ? seen.count : count;
		const replay = Array.from({ length }, (_, k) => `idem-${n}-${k}`);
		return { request: { ...base, records: replay.map((v) => encoded(v)), idempotency: { key, requestHash } }, values: replay };
	}
	// One record over max.message.bytes: refused, its neighbours not.
	return { request: { ...base, records: [encoded(values[0] as string, MAX_MESSAGE_BYTES)] }, values: values.slice(0, 1) };
}

/** A created topic's metadata and the object of its partition 0, for appends made inside it. */
async function partition0(topic: string) {
	const meta = await topicRegistry(env).getTopic(topic);
	if (!meta.ok) throw new Error(`topic ${topic} missing`);
	return { meta: meta.value, stub: partitionStubById(meta.value.topicId) };
}

function answered(answer: AppendAnswer): Expected {
	const outcome = appendOutcome(answer);
	if ("needsConfig" in outcome) return { code: "needs_config" };
	if (!outcome.ok) return { code: outcome.error.code };
	return { base: outcome.value.baseOffset, duplicate: outcome.value.duplicate };
}

const seeds = seedsToRun([11, 12, 13, 14]);

describe("simulation: group commit", () => {
	it.each(seeds)("seed %i: every answer and the log equal one-by-one appends", async (seed) => {
		console.log(`group commit simulation seed ${seed} (replay with SIM_SEED=${seed})`);
		const random = seededRandom(seed);
		const topic = uniqueTopic("gc");
		await createTopic(topic, 1, { "max.message.bytes": MAX_MESSAGE_BYTES });
		const first = await produce(topic, [{ value: "r-first" }]);
		expect(first.offsets[0]?.offset).toBe(0);
		const { meta, stub } = await partition0(topic);
		const model = new Model();
		model.apply({ topicId: meta.topicId, configVersion: 1, records: [encoded("r-first")] }, ["r-first"]);
		const stats = await runInDurableObject(stub, async (log: PartitionLog) => {
			const counting = countGroupWrites(log);
			const pending: { outcome: Promise<AppendAnswer>; expected: Expected; n: number }[] = [];
			for (let n = 0; n < REQUESTS; n++) {
				const { request, values } = randomRequest(random, model, n, meta.topicId, meta.configVersion);
				// Submitted without awaiting: everything queued behind a commit in flight forms the next group.
				pending.push({ outcome: log.append(request), expected: model.apply(request, values), n });
				if (random() < 0.08) await Promise.all(pending.map((p) => p.outcome));
			}
			for (const { outcome, expected, n } of pending) expect(answered(await outcome), `request ${n}`).toEqual(expected);
			return { requests: counting.requests, groups: counting.groups };
		});
		console.log(`seed ${seed}: ${stats.requests} appends in ${stats.groups} groups`);
		expect(stats.requests).toBe(REQUESTS);
		// Requests submitted while a commit was in flight shared groups.
		expect(stats.groups).toBeLessThan(stats.requests / 2);
		const fetched = await fetchRecords(topic, 0, `offset=0&max_records=${model.log.length + 10}`);
		expect(fetched.records.map((r) => r.value)).toEqual(model.log);
		expect(fetched.records.map((r) => r.offset)).toEqual(model.log.map((_, i) => i));
		expect(fetched.high_watermark).toBe(model.log.length);
		// Evicted, the partition rebuilds its producers from their snapshot and the rows written since, which hold
		// several producers' batches each: every remembered batch is still answered at its offsets, and each
		// producer's next sequence is still the only one it takes.
		await abortAllDurableObjects();
		const woken = await partition0(topic);
		await runInDurableObject(woken.stub, async (log: PartitionLog) => {
			const append = (producer: AppendRequest["producer"], count: number) =>
				log.append({
					topicId: meta.topicId,
					configVersion: meta.configVersion,
					records: Array.from({ length: count }, (_, k) => encoded(`again-${k}`)),
					producer,
				});
			for (const [producerId, state] of model.producers) {
				for (const batch of state.recent) {
					const answer = await append({ producerId, epoch: 0, baseSequence: batch.baseSequence }, batch.count);
					expect(answered(answer), `producer ${producerId}, sequence ${batch.baseSequence}`).toEqual({ base: batch.base, duplicate: true });
				}
				const gap = await append({ producerId, epoch: 0, baseSequence: state.lastSequence + 2 }, 1);
				expect(answered(gap), `producer ${producerId} after a gap`).toEqual({ code: "out_of_order_sequence" });
			}
		});
		expect((await fetchRecords(topic, 0, "offset=0&max_records=1")).high_watermark).toBe(model.log.length);
	});
});

describe("group commit: rows written", () => {
	it("writes one row per group of one-record appends: its stored batch", async () => {
		const topic = uniqueTopic("gc-rows");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "configures the partition" }]);
		const { meta, stub } = await partition0(topic);
		const { waves, rowsWritten, groups, batches } = await runInDurableObject(stub, async (log: PartitionLog, state) => {
			const counting = countGroupWrites(log);
			const batchesBefore = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM batches").one().n;
			const waves = 4;
			const counted = await countRows(state.storage.sql, async () => {
				for (let w = 0; w < waves; w++) {
					const appends = Array.from({ length: 32 }, (_, i) =>
						log.append({ topicId: meta.topicId, configVersion: meta.configVersion, records: [encoded(`w${w}-${i}`, 1000)] }),
					);
					for (const outcome of await Promise.all(appends)) expect(answered(outcome)).toMatchObject({ duplicate: false });
				}
			});
			const batchesAfter = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM batches").one().n;
			return {
				waves,
				rowsWritten: counted.rowsWritten,
				groups: counting.groups,
				batches: batchesAfter - batchesBefore,
			};
		});
		const records = waves * 32;
		console.log(
			`${records} one-record appends: ${groups} groups, ${batches} stored batches, ${rowsWritten} rows written (${(rowsWritten / records).toFixed(3)} per record)`,
		);
		// The first wave's first append is written at once (nothing says producers are concurrent yet) and the others
		// share the next group; later waves find the queue idle but linger for as many as recent groups held, so a
		// drained queue is not followed by a group of one per wave.
		expect(groups).toBeGreaterThanOrEqual(waves);
		expect(groups).toBeLessThanOrEqual(waves + 1);
		expect(rowsWritten / records).toBeLessThanOrEqual(0.1);
		expect(batches).toBe(groups);
		// Per group: the stored batch alone (it carries the running totals; no secondary index on batches).
		expect(rowsWritten).toBe(groups);
	});

	it("many producers coming back one at a time to an idle queue (as from an edge under load) share groups: one a round", async () => {
		const topic = uniqueTopic("gc-staggered");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "configures the partition" }]);
		const { meta, stub } = await partition0(topic);
		const producers = 32;
		const rounds = 8;
		const { rowsWritten, groups, largestGroup, offsets } = await runInDurableObject(stub, async (log: PartitionLog, state) => {
			const counting = countGroupWrites(log);
			const offsets: number[] = [];
			// The commit the queue waits for after each group (its `durable`), so that a producer comes back only once
			// its group is durable, as the output gate releases an answer to the edge: the queue has drained and gone
			// idle by then (its own reaction to the commit, set first, runs first). Each comes back a different number of microtasks later, one at a
			// time, and all within the turn the commit ended in: no timer, the linger's among them, can run between
			// two arrivals, however loaded the machine, so the groups are the same on every run.
			const sync = state.storage.sync.bind(state.storage);
			let commit: Promise<void> = Promise.resolve();
			state.storage.sync = () => {
				commit = sync();
				return commit;
			};
			try {
				const counted = await countRows(state.storage.sql, async () => {
					const loop = async (p: number) => {
						for (let r = 0; r < rounds; r++) {
							const request = {
								topicId: meta.topicId,
								configVersion: meta.configVersion,
								records: [encoded(`p${p}-${r}`, 1000)],
							};
							const outcome = answered(await log.append(request));
							if (!("base" in outcome)) throw new Error(`append refused: ${outcome.code}`);
							offsets.push(outcome.base);
							await commit; // this answer's group's commit: set when the group was written, before any answer ran
							for (let yields = 0; yields <= p % 4; yields++) await Promise.resolve();
						}
					};
					await Promise.all(Array.from({ length: producers }, (_, p) => loop(p)));
				});
				return { rowsWritten: counted.rowsWritten, groups: counting.groups, largestGroup: counting.largestGroup, offsets };
			} finally {
				state.storage.sync = sync;
			}
		});
		const records = producers * rounds;
		console.log(
			`${records} staggered one-record appends: ${groups} groups, ${rowsWritten} rows written (${(rowsWritten / records).toFixed(3)} per record)`,
		);
		expect(offsets.sort((a, b) => a - b)).toEqual(Array.from({ length: records }, (_, i) => i + 1));
		// The first round's first append is written at once (nothing says producers are concurrent yet) and the other
		// 31 once its commit ends; from then on, the first producer back finds the queue idle and lingers for as many as
		// the last group held, and the group of each round holds every producer: one group a round, and one more.
		expect(largestGroup).toBe(producers);
		expect(groups).toBe(rounds + 1);
		expect(rowsWritten).toBe(groups);
		expect(rowsWritten / records).toBeLessThanOrEqual(0.1);
	});

	it("idempotent producers' appends write their group's batch row and no state row until the snapshot is due", async () => {
		const topic = uniqueTopic("gc-rows-idem");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "configures the partition" }]);
		const { meta, stub } = await partition0(topic);
		const waves = 4;
		const producers = 32;
		const { rowsWritten, groups, saved } = await runInDurableObject(stub, async (log: PartitionLog, state) => {
			const counting = countGroupWrites(log);
			const counted = await countRows(state.storage.sql, async () => {
				for (let w = 0; w < waves; w++) {
					const appends = Array.from({ length: producers }, (_, p) =>
						log.append({
							topicId: meta.topicId,
							configVersion: meta.configVersion,
							records: [encoded(`w${w}-p${p}`, 1000)],
							producer: { producerId: 1 + p, epoch: 0, baseSequence: w },
						}),
					);
					for (const outcome of await Promise.all(appends)) expect(answered(outcome)).toMatchObject({ duplicate: false });
				}
			});
			const saved = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM producer_state").one().n;
			return { rowsWritten: counted.rowsWritten, groups: counting.groups, saved };
		});
		const records = waves * producers;
		console.log(`${records} idempotent one-record appends: ${groups} groups, ${rowsWritten} rows written`);
		// Fewer groups than PRODUCER_SNAPSHOT_ROWS: no snapshot yet, so per group its batch row, and once the state
		// row saying where a replay starts.
		expect(groups).toBeLessThan(PRODUCER_SNAPSHOT_ROWS);
		expect(saved).toBe(0);
		expect(rowsWritten).toBe(groups + 1);
		expect(rowsWritten / records).toBeLessThanOrEqual(0.1);
	});
});
