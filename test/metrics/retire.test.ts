/**
 * A deleted topic's partitions leave the metrics hub: each was a source the hub held (a row, its figures, a place
 * under `METRICS_SOURCES_MAX`) for as long as the hub lived, so a cluster whose topics come and go (a test suite's,
 * a tenant's scratch topics) filled the hub with the dead. Retiring keeps every class total (rows read and written
 * never go down) and drops the series labelled with the deleted topic.
 */

import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { series } from "../../src/metrics/catalog.ts";
import type { MetricsHub } from "../../src/metrics/metrics-hub.ts";
import type { MetricsReport } from "../../src/metrics/types.ts";
import { metricsHub } from "../../src/shared/stubs.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStubById, topicIdOf } from "../support/stubs.ts";
import { call, createTopic, produce } from "../support/worker.ts";
import { scrape, scrapeUntil } from "./exposition.ts";

type HubStub = DurableObjectStub<MetricsHub>;

const ROWS = series("tributary_storage_rows_written_total", { class: "PartitionLog" });

/** Whether the hub holds `source`, in memory or in its table. */
async function holds(stub: HubStub, source: string): Promise<boolean> {
	return runInDurableObject(stub, (instance, state) => {
		const inMemory = (instance as unknown as { sources: Map<string, unknown> }).sources.has(source);
		const stored = state.storage.sql.exec("SELECT 1 FROM sources WHERE source = ?", source).toArray().length > 0;
		return inMemory || stored;
	});
}

describe("retiring a source", () => {
	const stub = env.METRICS_HUB.getByName("retire-unit") as HubStub;
	const topicBytes = series("tributary_partition_bytes_appended_total", { topic: "gone", partition: "0" });

	/** A report with the class's rows and, when given, bytes appended to the topic `gone`. */
	function report(source: string, incarnation: string, rows: number, bytes?: number): MetricsReport {
		return { source, incarnation, counters: { [ROWS]: rows, ...(bytes === undefined ? {} : { [topicBytes]: bytes }) }, gauges: {} };
	}

	it("keeps the class totals, drops the topic's series and the source, and ignores the incarnation's late reports", async () => {
		await stub.report(report("kept", "kept-1", 5));
		await stub.report(report("gone", "gone-1", 7, 100));
		await stub.report(report("gone", "gone-2", 3, 40)); // a restart: the first incarnation's counts are retired into the source
		const before = await stub.scrape();
		expect(before).toContain(`${ROWS} 15`);
		expect(before).toContain(`${topicBytes} 140`);

		await stub.retire("gone", "gone-2");
		expect(await holds(stub, "gone")).toBe(false);
		const after = await stub.scrape();
		expect(after).toContain(`${ROWS} 15`);
		expect(after).not.toContain(topicBytes);

		await stub.report(report("gone", "gone-2", 9, 60)); // sent before the retirement, delivered after it
		expect(await holds(stub, "gone")).toBe(false);
		expect(await stub.scrape()).toContain(`${ROWS} 15`);
	});
});

describe("deleting a topic", () => {
	it("retires its partitions from the hub; the class totals do not go down", async () => {
		const topic = uniqueTopic("retired");
		await createTopic(topic, 2);
		await produce(topic, [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 1 },
		]);
		const topicId = await topicIdOf(topic);
		const sources = [0, 1].map((p) => partitionStubById(topicId, p).id.toString());
		const hw = series("tributary_partition_high_watermark", { topic, partition: "0" });
		const alive = await scrapeUntil((s) => s.has(hw));
		expect(alive.has(hw)).toBe(true);
		for (const source of sources) expect(await holds(metricsHub(env), source)).toBe(true);
		const rowsBefore = alive.get(ROWS) as number;

		expect((await call("DELETE", `/v1/topics/${topic}`)).status).toBe(204);
		for (const source of sources) expect(await holds(metricsHub(env), source)).toBe(false);
		const after = await scrape();
		expect([...after.keys()].filter((key) => key.includes(`topic="${topic}"`))).toEqual([]);
		expect(after.get(ROWS)).toBeGreaterThanOrEqual(rowsBefore);

		// A deleted partition woken by a stale caller does not come back as a source.
		await call("GET", `/v1/topics/${topic}/partitions/0/records?offset=0`);
		await partitionStubById(topicId, 0).destroy(topicId);
		await scrape();
		for (const source of sources) expect(await holds(metricsHub(env), source)).toBe(false);
	});
});
