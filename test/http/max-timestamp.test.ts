/**
 * ListOffsets' max timestamp (`at=max_timestamp`, Kafka's MAX_TIMESTAMP, KIP-734) once the record that set the
 * log's largest timestamp is gone. The partition keeps a running maximum per stored batch, not the largest left
 * (keeping that would cost every append, or a scan of the log at each removal): so the answer is then -1 and -1,
 * where a broker answers the largest timestamp its segments still hold. Never an offset whose record lacks it.
 */

import { describe, expect, it } from "vitest";
import { TIMESTAMP_LOOKUP_BATCHES_MAX } from "../../src/shared/limits.ts";
import { uniqueTopic } from "../support/names.ts";
import { createTopic, json, produce } from "../support/worker.ts";

const maxTimestamp = (topic: string) =>
	json<{ offset: number; timestamp: number }>("GET", `/v1/topics/${topic}/partitions/0/offsets?at=max_timestamp`, 200);

describe("at=max_timestamp after the record holding the maximum is removed", () => {
	it("answers -1 and -1 after DeleteRecords, however many batches follow, never an offset without that timestamp", async () => {
		const topic = uniqueTopic("max-ts-deleted");
		await createTopic(topic, 1, { "retention.ms": -1 });
		await produce(topic, [{ value: "future", timestamp: 9_000_000 }]);
		// One request each: one batch each, more than a timestamp walk reads.
		for (let i = 0; i <= TIMESTAMP_LOOKUP_BATCHES_MAX; i++) await produce(topic, [{ value: i, timestamp: 1000 + i }]);
		expect(await maxTimestamp(topic)).toEqual({ offset: 0, timestamp: 9_000_000 });
		await json("POST", `/v1/topics/${topic}/partitions/0/delete-records`, 200, { body: { before_offset: 1 } });
		expect(await maxTimestamp(topic)).toEqual({ offset: -1, timestamp: -1 });
	});
});
