/**
 * The group commit (commit-queue.ts) answers every request it was given, whatever fails in it: a request whose weight
 * cannot be taken (a bug in it) and a group whose writer answered a result too few (a bug in the writer) are answered
 * as a failed write's are (a bug's 500), never a rejection, and the queue goes on writing the next group.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { BUG, settled } from "../support/rpc-failure.ts";
import { partitionWithOneRecord } from "../support/stubs.ts";
import { call, fetchRecords } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

/** The writer's group, as the queue calls it (`PartitionLog.writeGroup`, private). */
type Writer = { writeGroup(entries: readonly unknown[]): unknown[] };

describe("the group commit", () => {
	it("answers an append whose weight throws (a bug) a 500, not a rejection", async () => {
		const { topic, topicId, stub } = await partitionWithOneRecord();
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const record = {
			timestampMs: null,
			tail: `"key":null,"value":"b","headers":[]}`,
			keyId: null,
			tombstone: false,
			get bytes(): number {
				throw new TypeError("no size");
			},
		};
		const request = { topicId, configVersion: 1, producer: null, idempotency: null, expectedOffset: null, textAnswer: true };
		const answer = await runInDurableObject(stub, (instance: PartitionLog) =>
			settled(Promise.resolve().then(() => instance.append({ ...request, records: [record] }))),
		);
		expect(answer).toEqual(BUG);
		expect((await fetchRecords(topic, 0, "offset=0")).records.map((r) => r.value)).toEqual(["a"]);
	});

	it("answers every request of a group whose writer answered too few a 500, and writes the next group", async () => {
		const { topic, stub } = await partitionWithOneRecord();
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const restore = await runInDurableObject(stub, (instance: PartitionLog) => {
			const writer = instance as unknown as Writer;
			const write = writer.writeGroup;
			writer.writeGroup = (entries) => write.call(writer, entries).slice(1);
			return () => Object.assign(writer, { writeGroup: write });
		});
		const path = `/v1/topics/${topic}/records`;
		// The first is written alone at once; the second, arriving while it commits, is the next group.
		const answers = await Promise.all(
			["b", "c"].map(async (value) => {
				const answer = await call("POST", path, { body: { records: [{ value }] } });
				return [answer.status, ((await answer.json()) as { error?: { code?: string } }).error?.code];
			}),
		);
		expect(answers).toEqual([
			[500, "internal"],
			[500, "internal"],
		]);
		await runInDurableObject(stub, () => restore());
		expect((await call("POST", path, { body: { records: [{ value: "d" }] } })).status).toBe(200);
	});
});
