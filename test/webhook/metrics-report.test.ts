/**
 * What a webhook dispatcher's metrics report costs it in SQLite rows (the figures Cloudflare bills, from the
 * cursors' own counters). The reporter sends one a second after any change (src/metrics/reporter.ts), so every
 * second while deliveries move: a report that read every lane with its staged batch read S x P rows, and up to S x P
 * batches of text, for S subscriptions of a topic of P partitions.
 */

import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { MetricsHub } from "../../src/metrics/metrics-hub.ts";
import type { MetricsReport } from "../../src/metrics/types.ts";
import { RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";
import { metricsHub } from "../../src/shared/stubs.ts";
import { uniqueTopic } from "../support/names.ts";
import { nextReportRows } from "../support/sql-rows.ts";
import { dispatcherStub } from "../support/stubs.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { createTopic, fetchRecords, json, produce } from "../support/worker.ts";

useReceiver();

/** What the hub holds from `stub`'s latest report: its lanes, and the oldest staged record's time by series. */
async function reported(stub: DurableObjectStub): Promise<Pick<MetricsReport, "since"> & { lanes: number | undefined }> {
	return runInDurableObject(metricsHub(env) as DurableObjectStub<MetricsHub>, (hub) => {
		const held = (hub as unknown as { sources: Map<string, { report: MetricsReport }> }).sources.get(stub.id.toString());
		return { lanes: held?.report.webhook?.lanes.length, since: held?.report.since };
	});
}

describe("a webhook dispatcher's metrics report", () => {
	it("reads as many rows with 160 lanes holding staged batches as with 2", { timeout: 60_000 }, async () => {
		/** A topic's dispatcher with `subscriptions` x `partitions` lanes, each holding a staged batch of 100 records. */
		async function staged(subscriptions: number, partitions: number) {
			const topic = uniqueTopic("whr");
			await createTopic(topic, partitions);
			const produced = await produce(
				topic,
				Array.from({ length: 100 }, (_, i) => ({ value: `record ${i}`, partition: 0 })),
			);
			const records = (await fetchRecords(topic, 0, "max_records=100")).records;
			expect(records).toHaveLength(100);
			const batch = records.map((r) => JSON.stringify(r)).join(RECORD_SEPARATOR);
			const oldest = produced.offsets[0]?.timestamp;
			const sub = await json<{ id: string }>("POST", `/v1/topics/${topic}/subscriptions`, 201, {
				body: { url: "https://receiver.test/never-called", start: "latest" },
			});
			await json("PATCH", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200, { body: { status: "paused" } });
			const stub = await dispatcherStub(topic);
			await runInDurableObject(stub, (_, state) => {
				// Paused subscriptions whose every lane holds a staged batch, as a failing receiver leaves them.
				for (let s = 0; s < subscriptions; s++) {
					const id = s === 0 ? sub.id : `sub_staged_${s}`;
					if (s > 0)
						state.storage.sql.exec(
							"INSERT INTO subscriptions (id, url, secret, status, start, batch_max_records, batch_max_wait_ms, max_attempts, retry_schedule_ms, dead_letter_topic, created_at_ms, updated_at_ms) SELECT ?, url, secret, status, start, batch_max_records, batch_max_wait_ms, max_attempts, retry_schedule_ms, dead_letter_topic || ?, created_at_ms, updated_at_ms FROM subscriptions WHERE id = ?",
							id,
							`-${s}`,
							sub.id,
						);
					for (let partition = 0; partition < partitions; partition++)
						state.storage.sql.exec(
							"INSERT INTO lanes (subscription_id, partition, next_offset, batch_id, batch_first_offset, batch_last_offset, batch_next_offset, batch_record_count, batch_records, attempts, next_attempt_at_ms) VALUES (?1, ?2, 0, 'msg_staged', 0, 99, 100, 100, ?3, 1, ?4) ON CONFLICT (subscription_id, partition) DO UPDATE SET next_offset = 0, batch_id = 'msg_staged', batch_first_offset = 0, batch_last_offset = 99, batch_next_offset = 100, batch_record_count = 100, batch_records = ?3, attempts = 1, next_attempt_at_ms = ?4",
							id,
							partition,
							batch,
							Date.now() + 3_600_000,
						);
				}
			});
			return { topic, sub, stub, oldest, lanes: subscriptions * partitions, subscriptions };
		}
		/** Rows read by the report that follows an update of the staged dispatcher's first subscription. */
		async function reportRows({ topic, sub, stub, oldest, lanes, subscriptions }: Awaited<ReturnType<typeof staged>>): Promise<number> {
			const update = (batchMaxRecords: number) => () =>
				json("PATCH", `/v1/topics/${topic}/subscriptions/${sub.id}`, 200, { body: { batch_max_records: batchMaxRecords } });
			// The first report after the restart may load what a running dispatcher keeps; the next one is the steady cost.
			await nextReportRows(stub, update(50));
			const rows = await nextReportRows(stub, update(60));
			const held = await reported(stub);
			expect(held.lanes, "every lane reported").toBe(lanes);
			expect(Object.values(held.since ?? {}), "each subscription's oldest staged record").toEqual(
				Array.from({ length: subscriptions }, () => oldest),
			);
			console.log(`dispatcher rows per metrics report with ${lanes} staging lanes: ${rows} read`);
			return rows;
		}
		const few = await staged(1, 2);
		const many = await staged(16, 10);
		// Written behind the dispatchers' backs: a restart makes them read what they keep in memory again.
		await abortAllDurableObjects();
		expect(await reportRows(many)).toBe(await reportRows(few));
	});
});
