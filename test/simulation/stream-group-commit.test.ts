/**
 * Seeded simulation of Durable Streams' writes sharing the partition's group commit with ordinary appends: one
 * random sequence of stream appends (idempotent producers — new, retried, out of order, fenced epochs —,
 * `Stream-Seq`, a wrong content type, a close) and log appends (Kafka producers, `expected_offset`) is run twice:
 * on one stream submitted without waiting, so requests share groups, and on an identical stream one request at a
 * time, each awaited (the behaviour before group commit). Every answer and both logs must be equal: decided in
 * arrival order, a refused request never failing its neighbours. Prints its seed; set SIM_SEED to replay one.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import type { StreamAppendRequest } from "../../src/partition/stream-types.ts";
import type { AppendRequest } from "../../src/partition/types.ts";
import { appendOutcome } from "../../src/shared/append-answer.ts";
import type { EncodedRecord } from "../../src/shared/record-codec.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { countGroupWrites } from "../support/group-writes.ts";
import { uniqueTopic } from "../support/names.ts";
import { seededRandom, seedsToRun } from "../support/seed.ts";
import { partitionStubById } from "../support/stubs.ts";
import { call, fetchRecords } from "../support/worker.ts";

const REQUESTS = 150;
const STREAM_PRODUCERS = ["p-a", "p-b"];

function encoded(value: string): EncodedRecord {
	const tail = `"key":null,"value":${JSON.stringify(value)},"headers":[]}`;
	return { timestampMs: null, tail, bytes: tail.length, keyId: null, tombstone: false };
}

type Op =
	| { kind: "stream"; request: Omit<StreamAppendRequest, "topicId" | "configVersion"> }
	| { kind: "log"; request: Omit<AppendRequest, "topicId" | "configVersion"> };

/** A random sequence of operations; producers' sequences are drawn near what they have sent, so retries and gaps hit. */
function randomOps(random: () => number): Op[] {
	const sent = new Map<string, { epoch: number; seq: number }>();
	let kafkaSequence = 0;
	let streamSeq = 0;
	let offsetGuess = 0;
	const ops: Op[] = [];
	for (let n = 0; n < REQUESTS; n++) {
		const records = [encoded(`v${n}`)];
		const roll = random();
		if (roll < 0.25) {
			const producer =
				random() < 0.5
					? {
							producerId: 7,
							epoch: 0,
							baseSequence: kafkaSequence + ((([0, 0, 0, -1, 2] as const)[Math.floor(random() * 5)] ?? 0) as number),
						}
					: undefined;
			if (producer !== undefined && producer.baseSequence === kafkaSequence) kafkaSequence++;
			const expectedOffset = random() < 0.3 ? offsetGuess + Math.floor(random() * 3) - 1 : undefined;
			ops.push({
				kind: "log",
				request: {
					records,
					...(producer ? { producer } : {}),
					...(expectedOffset !== undefined && expectedOffset >= 0 ? { expectedOffset } : {}),
				},
			});
			offsetGuess++;
			continue;
		}
		let producer: { producerId: string; epoch: number; seq: number } | null = null;
		if (roll < 0.75) {
			const producerId = STREAM_PRODUCERS[Math.floor(random() * STREAM_PRODUCERS.length)] as string;
			const last = sent.get(producerId) ?? { epoch: 0, seq: -1 };
			const pick = random();
			if (pick < 0.1) producer = { producerId, epoch: last.epoch + 1, seq: 0 };
			else if (pick < 0.15) producer = { producerId, epoch: Math.max(0, last.epoch - 1), seq: last.seq + 1 };
			else if (pick < 0.3) producer = { producerId, epoch: last.epoch, seq: Math.max(0, last.seq) };
			else if (pick < 0.4) producer = { producerId, epoch: last.epoch, seq: last.seq + 3 };
			else producer = { producerId, epoch: last.epoch, seq: last.seq + 1 };
			if (producer.epoch >= last.epoch)
				sent.set(producerId, { epoch: producer.epoch, seq: Math.max(producer.seq, producer.epoch > last.epoch ? 0 : last.seq) });
		}
		const seqRoll = random();
		const seq =
			seqRoll < 0.2 ? String(++streamSeq).padStart(6, "0") : seqRoll < 0.25 ? String(Math.max(0, streamSeq - 1)).padStart(6, "0") : null;
		const contentType = random() < 0.05 ? "application/json" : "text/plain";
		if (n === REQUESTS - 10) {
			// A close without a producer: every stream append after it is refused, log appends are not.
			ops.push({ kind: "stream", request: { contentType: null, records: [], seq: null, producer: null, close: true } });
			continue;
		}
		ops.push({ kind: "stream", request: { contentType, records, seq, producer, close: false } });
		offsetGuess++;
	}
	return ops;
}

/** An answer without what depends on the clock. */
function comparable(answer: unknown): unknown {
	return JSON.parse(JSON.stringify(answer, (key, value) => (key === "appendTimeMs" ? undefined : value)));
}

async function makeStream(path: string) {
	const created = await call("PUT", `/ds/v1/stream/${path}`, { headers: { "Content-Type": "text/plain" } });
	expect(created.status).toBe(201);
	const meta = await topicRegistry(env).getTopic(streamTopic(path));
	if (!meta.ok) throw new Error("the stream's topic is missing");
	return { topic: streamTopic(path), topicId: meta.value.topicId, configVersion: meta.value.configVersion };
}

/** Runs `ops` on a stream: all submitted at once with random awaits between (grouped), or each awaited (one by one). */
async function run(ops: readonly Op[], stream: { topicId: string; configVersion: number }, random: (() => number) | null) {
	return runInDurableObject(partitionStubById(stream.topicId), async (log: PartitionLog) => {
		const counting = countGroupWrites(log);
		const answers: Promise<unknown>[] = [];
		for (const op of ops) {
			const ids = { topicId: stream.topicId, configVersion: stream.configVersion };
			const answer: Promise<unknown> =
				op.kind === "log" ? log.append({ ...ids, ...op.request }).then(appendOutcome) : log.streamAppend({ ...ids, ...op.request });
			answers.push(answer);
			if (random === null) await answer;
			else if (random() < 0.1) await Promise.all(answers);
		}
		const settled = (await Promise.all(answers)).map(comparable);
		return { answers: settled, groups: counting.groups, requests: counting.requests };
	});
}

const seeds = seedsToRun([21, 22, 23]);

describe("simulation: Durable Streams writes in the group commit", () => {
	it.each(seeds)("seed %i: grouped answers and log equal one-by-one ones", async (seed) => {
		console.log(`stream group commit simulation seed ${seed} (replay with SIM_SEED=${seed})`);
		const ops = randomOps(seededRandom(seed));
		const grouped = await makeStream(`sim/${uniqueTopic("grouped")}`);
		const alone = await makeStream(`sim/${uniqueTopic("alone")}`);
		const together = await run(ops, grouped, seededRandom(seed + 1000));
		const oneByOne = await run(ops, alone, null);
		console.log(`seed ${seed}: ${together.requests} writes in ${together.groups} groups (one by one: ${oneByOne.groups})`);
		expect(together.requests).toBe(ops.length);
		expect(together.groups).toBeLessThan(ops.length / 2);
		expect(oneByOne.groups).toBe(ops.length);
		together.answers.forEach((answer, i) => {
			expect(answer, `request ${i}: ${JSON.stringify(ops[i])}`).toEqual(oneByOne.answers[i]);
		});
		// Some of every kind of answer happened, so the comparison covered them.
		const kinds = new Set(
			oneByOne.answers.map(
				(a) =>
					JSON.stringify(a)
						.match(/"kind":"(\w+)"|"code":"(\w+)"|"duplicate":(true)/)
						?.slice(1)
						.find(Boolean) ?? "ok",
			),
		);
		for (const kind of ["ok", "true", "sequence_gap", "closed"]) expect(kinds, `answers include ${kind}`).toContain(kind);
		const [a, b] = await Promise.all([
			fetchRecords(grouped.topic, 0, "offset=0&max_records=1000"),
			fetchRecords(alone.topic, 0, "offset=0&max_records=1000"),
		]);
		expect(a.records.map((r) => [r.offset, r.value])).toEqual(b.records.map((r) => [r.offset, r.value]));
		expect(a.high_watermark).toBe(b.high_watermark);
		expect(a.records.map((r) => r.offset)).toEqual(a.records.map((_, i) => i));
	});
});
