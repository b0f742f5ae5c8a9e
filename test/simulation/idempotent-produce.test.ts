/**
 * Seeded simulation: idempotent producers retry through lost requests and lost replies; the log must equal
 * an in-memory model — every batch exactly once, each producer's batches in sequence order. Prints its seed;
 * set SIM_SEED to replay one.
 */
import { describe, expect, it } from "vitest";
import { uniqueTopic } from "../support/names.ts";
import { seededRandom, seedsToRun } from "../support/seed.ts";
import { call, createTopic, fetchRecords, json } from "../support/worker.ts";

interface Pending {
	readonly body: unknown;
	readonly headers: Record<string, string>;
	readonly values: string[];
	/** Whether some earlier attempt of this request reached the partition. */
	written: boolean;
}

interface SimProducer {
	readonly name: string;
	readonly id: number;
	readonly epoch: number;
	readonly mode: "sequence" | "idempotency-key";
	nextSequence: number;
	batchCount: number;
	pending: Pending | null;
}

const PARTITION = 0;
const seeds = seedsToRun([1, 2, 3]);

describe("simulation: retried produces", () => {
	it.each(seeds)(
		"seed %i: the log equals the model",
		async (seed) => {
			console.log(`simulation seed ${seed} (replay with SIM_SEED=${seed})`);
			const random = seededRandom(seed);
			const topic = uniqueTopic("sim");
			await createTopic(topic, 1);
			const producers: SimProducer[] = [];
			for (let i = 0; i < 4; i++) {
				const { producer_id, epoch } = await json<{ producer_id: number; epoch: number }>("POST", "/v1/producers", 200, { body: {} });
				producers.push({
					name: `p${i}`,
					id: producer_id,
					epoch,
					mode: i % 2 === 0 ? "sequence" : "idempotency-key",
					nextSequence: 0,
					batchCount: 0,
					pending: null,
				});
			}
			const model: string[] = [];
			for (let step = 0; step < 120; step++) {
				const producer = producers[Math.floor(random() * producers.length)] as SimProducer;
				if (producer.pending === null) {
					const size = 1 + Math.floor(random() * 3);
					const values = Array.from({ length: size }, (_, k) => `${producer.name}-b${producer.batchCount}-r${k}`);
					const records = values.map((value) => ({ value, partition: PARTITION }));
					const body =
						producer.mode === "sequence"
							? { producer_id: producer.id, epoch: producer.epoch, sequence: producer.nextSequence, records }
							: { records };
					const headers: Record<string, string> =
						producer.mode === "idempotency-key" ? { "Idempotency-Key": `${topic}-${producer.name}-${producer.batchCount}` } : {};
					producer.pending = { body, headers, values, written: false };
					producer.batchCount++;
				}
				const pending = producer.pending;
				const fate = random();
				if (fate < 0.25) continue; // the request is lost before it reaches Tributary: retried later
				const response = await call("POST", `/v1/topics/${topic}/records`, { body: pending.body, headers: pending.headers });
				expect(response.status, await response.clone().text()).toBe(200);
				const { offsets } = (await response.json()) as { offsets: { offset: number }[] };
				if (!pending.written) {
					expect(offsets.map((o) => o.offset)).toEqual(pending.values.map((_, k) => model.length + k));
					model.push(...pending.values);
					pending.written = true;
				}
				if (fate < 0.5) continue; // the reply is lost: the producer retries the same request
				producer.nextSequence += pending.values.length;
				producer.pending = null;
			}
			const fetched = await fetchRecords(topic, PARTITION, "offset=0&max_records=10000");
			expect(fetched.records.map((r) => r.value)).toEqual(model);
			expect(new Set(model).size).toBe(model.length);
		},
		60_000,
	);
});
