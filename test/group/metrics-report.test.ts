/**
 * What a coordinator's metrics report costs it in SQLite rows (the figures Cloudflare bills, from the cursors' own
 * counters). The reporter sends one a second after any change (src/metrics/reporter.ts), so a group that commits
 * every poll sends one every second: a report that read every committed offset, member and assignment read ~1,000
 * rows a second for a group with 1,000 committed partitions, against ~2 for the commit itself.
 */

import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { MetricsHub } from "../../src/metrics/metrics-hub.ts";
import type { MetricsReport } from "../../src/metrics/types.ts";
import { metricsHub } from "../../src/shared/stubs.ts";
import { commit, join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { nextReportRows } from "../support/sql-rows.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { createTopic, produce } from "../support/worker.ts";

/** The committed offsets the hub holds from `stub`'s latest report. */
async function reportedCommits(stub: DurableObjectStub): Promise<number | undefined> {
	return runInDurableObject(metricsHub(env) as DurableObjectStub<MetricsHub>, (hub) => {
		const held = (hub as unknown as { sources: Map<string, { report: MetricsReport }> }).sources.get(stub.id.toString());
		return held?.report.group?.committed.length;
	});
}

describe("a coordinator's metrics report", () => {
	it("reads as many rows with 1,000 committed partitions as with 10", async () => {
		/** Rows read by the report that follows a member's commit, in a group holding `partitions` committed offsets. */
		async function reportRows(partitions: number): Promise<number> {
			const topic = uniqueTopic();
			await createTopic(topic, 1);
			await produce(topic, [{ value: 0 }, { value: 1 }, { value: 2 }]);
			const group = uniqueGroup();
			const member = await join(group, { topics: [topic] });
			const stub = coordinatorStub(group);
			await runInDurableObject(stub, (instance, state) => {
				// Offsets of a topic the group no longer reads, kept as offsets are (until the retention expires them).
				for (let partition = 1; partition < partitions; partition++)
					state.storage.sql.exec(
						"INSERT INTO commits (topic, partition, committed_offset, generation, committed_at_ms) VALUES (?, ?, 0, 1, ?)",
						`${topic}-earlier`,
						partition,
						Date.now(),
					);
				// Written behind the store's back: what it keeps in memory is read again, as after a restart.
				(instance as unknown as { store: { forgetLiveState(): void } }).store.forgetLiveState();
			});
			const commitOf = (offset: number) => () => commit(group, member.member_id, member.generation, [{ topic, partition: 0, offset }]);
			// The first report after the inserts may load what a running coordinator keeps; the next one is the steady cost.
			await nextReportRows(stub, commitOf(1));
			const rows = await nextReportRows(stub, commitOf(2));
			expect(await reportedCommits(stub), "every committed offset reported").toBe(partitions);
			console.log(`coordinator rows per metrics report with ${partitions} committed partitions: ${rows} read`);
			return rows;
		}
		const few = await reportRows(10);
		const many = await reportRows(1_000);
		expect(many).toBe(few);
	});

	it("leaves out a commit its transaction rolled back", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: 0 }, { value: 1 }]);
		const group = uniqueGroup();
		const member = await join(group, { topics: [topic] });
		await commit(group, member.member_id, member.generation, [{ topic, partition: 0, offset: 1 }]);
		type Coordinator = {
			transact(work: () => void): void;
			store: { offsets: { writeCommit(c: object, generation: number, nowMs: number): void } };
			figures(): { group?: { committed: unknown[] } };
		};
		const committed = await runInDurableObject(coordinatorStub(group), (instance) => {
			const coordinator = instance as unknown as Coordinator;
			expect(coordinator.figures().group?.committed).toEqual([{ topic, partition: 0, offset: 1 }]);
			expect(() =>
				coordinator.transact(() => {
					coordinator.store.offsets.writeCommit({ topic, partition: 0, offset: 2, metadata: null }, member.generation, Date.now());
					throw new Error("a later statement failed");
				}),
			).toThrow("a later statement failed");
			return coordinator.figures().group?.committed;
		});
		expect(committed).toEqual([{ topic, partition: 0, offset: 1 }]);
	});
});
